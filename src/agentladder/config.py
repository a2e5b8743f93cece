"""Settings: the one place that reads the environment (AGENTLADDER_*) and the optional file."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

Language = Literal["zh_Hans", "en"]
LANGUAGES: tuple[Language, ...] = ("zh_Hans", "en")

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name
# Under the data directory: what the product rebuilds by itself when it is missing (compiled
# queries); backups leave it out.
CACHE_DIR = "cache"


# Days after a decision during which the agent may appeal it, unless configured otherwise.
DEFAULT_APPEAL_WINDOW_DAYS = 30


class Settings(BaseSettings):
    """Everything configurable. Environment variables win over `agentladder.toml`."""

    model_config = SettingsConfigDict(
        env_prefix="AGENTLADDER_",
        toml_file="agentladder.toml",
        extra="ignore",
    )

    data_dir: Path = Field(default=Path("agentladder-data"))
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the data directory"
    )
    timezone: str = "Asia/Shanghai"
    default_language: Language = "zh_Hans"
    secret_key: str | None = Field(
        default=None,
        description="Signs cookies; default: generated once into <data_dir>/secret_key",
        repr=False,
    )
    cookie_secure: bool = Field(
        default=False, description="Send cookies only over HTTPS (turn on behind TLS)"
    )
    session_hours: int = Field(default=12, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    # A whole floor may sit behind one NAT address: an address is slowed down, never locked.
    login_address_max_failures: int = Field(
        default=20,
        ge=1,
        description="Failed logins from one address within the lockout window before it waits",
    )
    login_address_backoff_s: float = Field(
        default=2.0, gt=0, description="First wait for an address past its failures; doubles"
    )
    recordings_dir: Path | None = Field(
        default=None, description="Where call recordings are kept; none: <data_dir>/recordings"
    )
    recording_path_template: str = Field(
        default="{date:%Y/%m/%d}/{uniqueid}.wav",
        description="A recording's path under recordings_dir (Asterisk MixMonitor style)",
    )
    qa_drift_threshold: float = Field(
        default=5.0,
        gt=0,
        description="Points an evaluator's mean deviation from the anchor may move between months",
    )
    qa_dispute_window_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="Days after a QA evaluation's submission during which the agent may dispute",
    )
    qa_show_evaluator: bool = Field(
        default=True, description="Agents see who evaluated their calls"
    )
    appeal_window_days: int = Field(
        default=DEFAULT_APPEAL_WINDOW_DAYS,
        ge=1,
        le=3650,
        description="Days after a decision (or its last change) during which the agent may appeal",
    )
    login_address_backoff_max_s: float = Field(
        default=120.0, gt=0, description="Longest wait an address is given between tries"
    )
    trusted_proxies: list[str] = Field(
        default=[],
        description=(
            "Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client"
        ),
    )
    # Sign-in through a directory (OpenLDAP, Active Directory); off while ldap_url is empty.
    ldap_url: str | None = Field(
        default=None, description="ldap://host:389 or ldaps://host:636; empty: local sign-in only"
    )
    ldap_bind_dn: str | None = Field(
        default=None, description="Service account that searches the directory; empty: anonymous"
    )
    ldap_bind_password: str | None = Field(default=None, repr=False)
    ldap_user_base: str = ""
    # {username} is what the person typed, escaped: a username or an employee number.
    ldap_user_filter: str = "(|(uid={username})(employeeNumber={username}))"
    ldap_username_attribute: str = "uid"
    ldap_employee_no_attribute: str = "employeeNumber"
    ldap_display_name_attribute: str = "cn"
    ldap_group_base: str | None = None
    ldap_group_filter: str = "(|(member={user_dn})(uniqueMember={user_dn})(memberUid={username}))"
    # Group (DN, or its cn) -> agentladder roles; a person holds the roles of all their groups.
    ldap_role_groups: dict[str, list[str]] = Field(default={})
    ldap_start_tls: bool = False
    ldap_ca_file: Path | None = None
    ldap_timeout_s: float = Field(default=5.0, gt=0)
    service_level_s: float = Field(default=20.0, gt=0)
    short_abandon_s: float = Field(default=5.0, ge=0)
    short_call_s: float = Field(default=10.0, ge=0)
    fcr_window_days: int = Field(default=7, ge=1, le=90)
    fcr_method: Literal["auto", "survey", "repeat_contact"] = "auto"
    # Pauses with these reasons (any case) are after-call work, not pause: many centres pause
    # agents to wrap up a call, as Asterisk does not log its own wrap-up time.
    acw_pause_reasons: list[str] = Field(
        default=[
            "ACW",
            "After call work",
            "After-call work",
            "Wrap up",
            "Wrap-up",
            "Wrapup",
            "话后处理",
            "话后整理",
            "事后处理",
        ]
    )
    # Files uploaded on the import pages: the largest accepted, and how long one waits between
    # its preview and its apply before it is deleted (applied or not).
    upload_max_mb: int = Field(default=20, ge=1, le=2048)
    upload_retention_hours: int = Field(default=24, ge=1)
    # The period close on a schedule (`agentladder serve --scheduler`): the previous month is
    # closed on this day of the month, at this hour of the centre's time zone.
    cycle_scheduler: bool = Field(
        default=False, description="Close the previous period on a schedule while serving"
    )
    cycle_close_day: int = Field(default=3, ge=1, le=28)
    cycle_close_hour: int = Field(default=2, ge=0, le=23)
    # argon2id cost; the defaults are RFC 9106's second recommended profile.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxy_ranges(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                ip_network(text.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"not an address or CIDR range: {text!r}") from exc
        return value

    @field_validator("ldap_user_filter")
    @classmethod
    def _user_filter_names_the_user(cls, value: str) -> str:
        if "{username}" not in value:
            raise ValueError("the LDAP user filter must contain {username}")
        return value

    @property
    def ldap_enabled(self) -> bool:
        """Whether people sign in through the directory."""
        return bool(self.ldap_url and self.ldap_url.strip())

    @property
    def tz(self) -> ZoneInfo:
        """The centre's time zone, in which periods and dates are read."""
        return ZoneInfo(self.timezone)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'agentladder.db').resolve()}"

    @property
    def recordings_root(self) -> Path:
        """Where call recordings are read from: the configured folder, else `recordings` in
        the data directory (where the demo writes its synthetic ones)."""
        return self.recordings_dir or self.data_dir / "recordings"

    def today(self) -> date:
        """Today's date in the centre's time zone."""
        return datetime.now(self.tz).date()

    def ensure_data_dir(self) -> Path:
        """Create the data directory when missing and return it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def resolved_secret_key(self) -> str:
        """The configured secret, or the one generated into the data directory on first use."""
        if self.secret_key:
            return self.secret_key
        path = self.ensure_data_dir() / SECRET_KEY_FILE
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48), encoding="ascii")
        return path.read_text(encoding="ascii").strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
