"""A private OpenLDAP server (Debian's slapd) for the sign-in tests.

Each `ldap_directory` starts its own slapd on a free local port in a temporary directory
(mdb backend, schemas core, cosine, nis, inetorgperson, the memberof overlay as Active
Directory has it), loads the people and groups below with `ldapadd`, and stops it after the
test. Without slapd or ldap-utils the tests are skipped, unless AGENTLADDER_REQUIRE_LDAP=1
(as in CI), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_ENV = "AGENTLADDER_REQUIRE_LDAP"
SUFFIX = "dc=example,dc=com"
ROOT_DN = f"cn=root,{SUFFIX}"
ROOT_PASSWORD = "root-secret-for-tests"
SERVICE_DN = f"cn=agentladder,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-secret-for-tests"
PEOPLE_BASE = f"ou=people,{SUFFIX}"
GROUPS_BASE = f"ou=groups,{SUFFIX}"
USER_PASSWORD = "directory-password-1"
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
_SLAPD_CANDIDATES = ("/usr/sbin/slapd", "/usr/local/sbin/slapd", "/usr/local/libexec/slapd")


def person_dn(uid: str) -> str:
    """The DN of a person of the test directory."""
    return f"uid={uid},{PEOPLE_BASE}"


def group_dn(cn: str) -> str:
    """The DN of a group of the test directory."""
    return f"cn={cn},{GROUPS_BASE}"


def _person(uid: str, name: str, surname: str, employee_no: str | None) -> str:
    lines = [
        f"dn: {person_dn(uid)}",
        "objectClass: inetOrgPerson",
        f"uid: {uid}",
        f"cn: {name}",
        f"sn: {surname}",
        f"userPassword: {USER_PASSWORD}",
    ]
    if employee_no:
        lines.append(f"employeeNumber: {employee_no}")
    return "\n".join(lines)


def _group(cn: str, member_dns: list[str]) -> str:
    members = [f"member: {dn}" for dn in member_dns]
    return "\n".join([f"dn: {group_dn(cn)}", "objectClass: groupOfNames", f"cn: {cn}", *members])


# li.na is an agent (employee A100), zhao.lei leads a team and does quality checks (the qa
# role comes from a POSIX group, as NIS-style directories keep them), chen.jie is in the
# directory without any agentladder group.
INITIAL_LDIF = "\n\n".join(
    [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example",
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people",
        f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: agentladder\nuserPassword: {SERVICE_PASSWORD}",
        _person("li.na", "李娜", "李", "A100"),
        _person("zhao.lei", "赵磊", "赵", "A200"),
        _person("chen.jie", "陈杰", "陈", None),
        _group("agentladder-agents", [person_dn("li.na"), person_dn("zhao.lei")]),
        _group("agentladder-leads", [person_dn("zhao.lei")]),
        # A groupOfNames needs a member: the service account holds the place.
        _group("agentladder-admins", [SERVICE_DN]),
        f"dn: {group_dn('quality')}\nobjectClass: posixGroup\ncn: quality\ngidNumber: 5001\n"
        "memberUid: zhao.lei",
    ]
)


def _slapd_conf(root: Path) -> str:
    schemas = "\n".join(
        f"include {SCHEMA_DIR / name}.schema" for name in ("core", "cosine", "nis", "inetorgperson")
    )
    return f"""{schemas}
modulepath {MODULE_DIR}
moduleload back_mdb
moduleload memberof
pidfile {root / "slapd.pid"}
argsfile {root / "slapd.args"}

database mdb
maxsize 16777216
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {root / "data"}
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf

# Passwords only for binding; everything else only for bound users (the service account):
# the application must search with its service account, as most directories require.
access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by users read
    by * none
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but the LDAP tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def _slapd_binary() -> str | None:
    found = shutil.which("slapd")
    if found:
        return found
    return next((path for path in _SLAPD_CANDIDATES if Path(path).exists()), None)


@dataclass
class LdapDirectory:
    """A running test directory: where it listens and how to change it."""

    url: str
    root: Path
    process: subprocess.Popen[bytes]

    def ldap_tool(self, tool: str, ldif: str) -> None:
        """Run ldapadd/ldapmodify as the directory's root with this LDIF."""
        result = subprocess.run(
            [tool, "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD],
            input=ldif.encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stderr.decode(errors='replace')}")

    def add_member(self, group_cn: str, uid: str) -> None:
        """Put a person into a groupOfNames."""
        self.ldap_tool(
            "ldapmodify",
            f"dn: {group_dn(group_cn)}\nchangetype: modify\nadd: member\n"
            f"member: {person_dn(uid)}\n",
        )

    def remove_member(self, group_cn: str, uid: str) -> None:
        """Take a person out of a groupOfNames."""
        self.ldap_tool(
            "ldapmodify",
            f"dn: {group_dn(group_cn)}\nchangetype: modify\ndelete: member\n"
            f"member: {person_dn(uid)}\n",
        )

    def stop(self) -> None:
        """Stop the server (the directory is then unreachable)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _wait_until_listening(directory: LdapDirectory, port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if directory.process.poll() is not None:
            log = (directory.root / "slapd.log").read_text(errors="replace")
            raise RuntimeError(f"slapd exited with {directory.process.returncode}:\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("slapd did not start listening within 20 s")


def start_directory(root: Path) -> LdapDirectory:
    """Start slapd with the people and groups of INITIAL_LDIF in `root` (a new directory)."""
    slapd = _slapd_binary()
    if slapd is None:
        raise FileNotFoundError("slapd is not installed (Debian: apt-get install slapd)")
    (root / "data").mkdir(parents=True)
    (root / "slapd.conf").write_text(_slapd_conf(root), encoding="utf-8")
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    with (root / "slapd.log").open("wb") as log:
        # -d 0 keeps slapd in the foreground, so that this process owns it and can stop it.
        process = subprocess.Popen(
            [slapd, "-d", "0", "-f", str(root / "slapd.conf"), "-h", url + "/"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    directory = LdapDirectory(url=url, root=root, process=process)
    try:
        _wait_until_listening(directory, port)
        directory.ldap_tool("ldapadd", INITIAL_LDIF + "\n")
    except BaseException:
        directory.stop()
        raise
    return directory


@pytest.fixture
def ldap_directory(tmp_path: Path) -> Iterator[LdapDirectory]:
    """A fresh slapd with the people and groups of INITIAL_LDIF; stopped after the test."""
    if _slapd_binary() is None:
        _unavailable("slapd is not installed (Debian: apt-get install slapd ldap-utils)")
    if shutil.which("ldapadd") is None:
        _unavailable("ldapadd is not installed (Debian: apt-get install ldap-utils)")
    directory = start_directory(tmp_path / "slapd")
    try:
        yield directory
    finally:
        directory.stop()
