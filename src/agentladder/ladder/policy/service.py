"""The ladder policy as a service: parse and validate YAML (every problem named by its key),
hash its canonical content, resolve its gates on metrics, and keep the versions applied."""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Language, get_settings
from agentladder.db import (
    current_revision,
    database_missing,
    head_revision,
    scratch_session,
    session_scope,
    utcnow,
)
from agentladder.errors import InvalidInput
from agentladder.i18n import N_
from agentladder.ladder.models import PolicyVersion
from agentladder.ladder.policy.schemas import (
    TRIGGER_ACTIONS,
    WEIGHT_TOLERANCE,
    DemotionSpec,
    EntrySpec,
    LadderPolicy,
    MetricGate,
    PolicyError,
    PolicyProblem,
    SampleMinimum,
    SufficiencySpec,
    Trigger,
    _WithShorthands,
)
from agentladder.metrics import service as metrics_service
from agentladder.metrics.schemas import SUMMED_UNITS
from agentladder.org.schemas import LEVELS
from agentladder.periods import Period
from agentladder.tabular import decode_csv_bytes
from agentladder.validation import UNKNOWN_KEY, validation_problem

if TYPE_CHECKING:
    from agentladder.org.models import User

DEFAULT_POLICY_PATH = Path(__file__).parent / "default_policy.yaml"
# The same policy with its name and comments in Chinese; a test keeps the two identical.
DEFAULT_POLICY_PATHS: dict[str, Path] = {
    "en": DEFAULT_POLICY_PATH,
    "zh_Hans": Path(__file__).parent / "default_policy.zh_Hans.yaml",
}


UNKNOWN_METRIC = N_("unknown metric")


def _validation_problem(error: Any) -> PolicyProblem:
    """A pydantic error as a problem in our words (agentladder.validation)."""
    problem = validation_problem(error)
    return PolicyProblem(problem.key, problem.message, problem.params)


def _cross_checks(
    policy: LadderPolicy, known_metrics: set[str], known_certifications: set[str]
) -> list[PolicyProblem]:
    problems: list[PolicyProblem] = []

    def problem(key: str, message: str, **params: Any) -> None:
        problems.append(PolicyProblem(key, message, params))

    expected = [level.id for level in LEVELS]
    if policy.level_ids() != expected:
        problem(
            "levels",
            N_("the nine levels bottom to top, in this order: {levels}"),
            levels=", ".join(expected),
        )
    total = sum(component.weight for component in policy.components.values())
    if abs(total - 100) > WEIGHT_TOLERANCE:
        shares = ", ".join(f"{name} {c.weight:g}" for name, c in policy.components.items())
        problem(
            "components",
            N_("weights sum to {total}, not 100 ({shares})"),
            total=f"{total:g}",
            shares=shares,
        )
    for name, component in policy.components.items():
        inner = sum(component.metrics.values())
        if abs(inner - 100) > WEIGHT_TOLERANCE:
            problem(
                f"components.{name}.metrics",
                N_("weights of {component} sum to {total}, not 100"),
                component=name,
                total=f"{inner:g}",
            )
        for metric in component.metrics:
            if metric not in known_metrics:
                problem(f"components.{name}.metrics.{metric}", UNKNOWN_METRIC)
            elif metric not in policy.scoring:
                problem(
                    f"scoring.{metric}",
                    N_("missing: {component} weighs {metric}"),
                    component=name,
                    metric=metric,
                )
    for metric in policy.scoring:
        if metric not in known_metrics:
            problem(f"scoring.{metric}", UNKNOWN_METRIC)
    for section, metrics in (
        ("shrink", policy.evidence.shrink),
        ("spread", policy.evidence.spread),
        ("window", policy.evidence.window),
    ):
        for metric in metrics:
            if metric not in known_metrics:
                problem(f"evidence.{section}.{metric}", UNKNOWN_METRIC)
    for metric, spread in policy.evidence.spread.items():
        if spread <= 0:
            problem(f"evidence.spread.{metric}", N_("must be above 0"))
    levels = policy.level_ids()
    for level_id in policy.promotion.entry:
        if level_id not in levels:
            problem(f"promotion.entry.{level_id}", N_("unknown level"))
        elif level_id == levels[0]:
            problem(f"promotion.entry.{level_id}", N_("the first level has no entry"))
    for level_id in levels[1:]:
        if level_id not in policy.promotion.entry:
            problem(f"promotion.entry.{level_id}", N_("missing: how to enter this level"))
    for level_id, entry in policy.promotion.entry.items():
        for certification in entry.certifications:
            if certification not in known_certifications:
                problem(
                    f"promotion.entry.{level_id}.certifications",
                    N_("unknown certification {certification}"),
                    certification=certification,
                )
        problems.extend(_shorthand_problems(f"promotion.entry.{level_id}", "entry", entry))
        for index, gate in enumerate(entry.gates):
            if gate.metric not in known_metrics:
                problem(f"promotion.entry.{level_id}.gates.{index}.metric", UNKNOWN_METRIC)
    problems.extend(_shorthand_problems("evidence", "evidence", policy.evidence))
    for metric in policy.evidence.min_samples:
        if metric not in known_metrics:
            problem(f"evidence.min_samples.{metric}", UNKNOWN_METRIC)
    problems.extend(_shorthand_problems("demotion", "demotion", policy.demotion))
    for index, trigger in enumerate(policy.demotion.triggers):
        if trigger.metric not in known_metrics:
            problem(f"demotion.triggers.{index}.metric", UNKNOWN_METRIC)
    return problems


def _shorthand_value(kind: str, value: Any) -> Any:
    """A shorthand's value as its kind reads it, or ValueError naming what it must be."""
    if kind == "trigger":
        if value not in TRIGGER_ACTIONS:
            raise ValueError(
                N_("must be one of {choices}"), {"choices": ", ".join(TRIGGER_ACTIONS)}
            )
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(N_("must be a number"), {})
    if kind == "min_value":
        return float(value)
    if value != int(value):
        raise ValueError(N_("must be a whole number"), {})
    least = 0 if kind == "min_samples" else 1
    if value < least:
        raise ValueError(N_("must be at least {least}"), {"least": least})
    return int(value)


def _shorthand_problems(where: str, section: str, spec: _WithShorthands) -> list[PolicyProblem]:
    known = metrics_service.policy_keys(section)
    problems = []
    for key, value in spec.shorthands().items():
        if key not in known:
            problems.append(PolicyProblem(f"{where}.{key}", UNKNOWN_KEY))
            continue
        definition, shorthand = known[key]
        try:
            number = _shorthand_value(shorthand.kind, value)
        except ValueError as exc:
            message, params = exc.args
            problems.append(PolicyProblem(f"{where}.{key}", message, params))
            continue
        low, high = definition.bounds or (None, None)
        if shorthand.kind == "min_value" and (
            (low is not None and number < low) or (high is not None and number > high)
        ):
            problems.append(
                PolicyProblem(
                    f"{where}.{key}",
                    N_("must be within {low}..{high}"),
                    {"low": f"{low:g}", "high": "∞" if high is None else f"{high:g}"},
                )
            )
    return problems


# Resolved once per section object: the rules read them for every agent.
_RESOLVED: dict[int, tuple[object, Any]] = {}


def _resolved(section: object, resolve: Any) -> Any:
    cached = _RESOLVED.get(id(section))
    if cached is None or cached[0] is not section:
        if len(_RESOLVED) > 256:
            _RESOLVED.clear()
        cached = (section, resolve(section))
        _RESOLVED[id(section)] = cached
    return cached[1]


def entry_gates(entry: EntrySpec) -> list[MetricGate]:
    """An entry's gates on metrics, shorthands first, in the policy's order."""
    gates: list[MetricGate] = _resolved(entry, _entry_gates)
    return gates


def _entry_gates(entry: EntrySpec) -> list[MetricGate]:
    known = metrics_service.policy_keys("entry")
    gates = []
    for key, value in entry.shorthands().items():
        definition, shorthand = known[key]
        number = _shorthand_value(shorthand.kind, value)
        minimum, maximum, window = {
            "min_value": (number, None, 1),
            "no_events": (None, 0, number),
            "min_window": (number, None, definition.window_months),
        }[shorthand.kind]
        gates.append(
            MetricGate(
                shorthand.gate,
                definition.id,
                shorthand.kind,
                minimum,
                maximum,
                window,
                shorthand.gap,
                counts=definition.unit in SUMMED_UNITS,
                gap_plural=shorthand.gap_plural,
            )
        )
    for spec in entry.gates:
        declared = metrics_service.metric_definition(spec.metric)
        gates.append(
            MetricGate(
                spec.metric,
                spec.metric,
                "bounds",
                spec.min,
                spec.max,
                spec.window_months or (declared.window_months if declared else 1),
                counts=declared is not None and declared.unit in SUMMED_UNITS,
            )
        )
    return gates


def sample_minimums(policy: LadderPolicy) -> list[SampleMinimum]:
    """The evidence minimums: shorthands (in the policy's order), then `min_samples`."""
    minimums: list[SampleMinimum] = _resolved(policy.evidence, _sample_minimums)
    return minimums


def _sample_minimums(sufficiency: SufficiencySpec) -> list[SampleMinimum]:
    known = metrics_service.policy_keys("evidence")
    minimums = []
    for key, value in sufficiency.shorthands().items():
        definition, shorthand = known[key]
        minimums.append(
            SampleMinimum(
                shorthand.gate,
                definition.id,
                _shorthand_value(shorthand.kind, value),
                shorthand.gap,
                shorthand.gap_plural,
            )
        )
    minimums += [
        SampleMinimum(f"min_samples:{metric}", metric, required)
        for metric, required in sufficiency.min_samples.items()
    ]
    return [minimum for minimum in minimums if minimum.required > 0]


def demotion_triggers(policy: LadderPolicy) -> list[Trigger]:
    """The triggers: each declared shorthand (given, or at its default), then `triggers`."""
    triggers: list[Trigger] = _resolved(policy.demotion, _demotion_triggers)
    return triggers


def _demotion_triggers(demotion: DemotionSpec) -> list[Trigger]:
    given = demotion.shorthands()
    triggers = []
    for key, (definition, shorthand) in metrics_service.policy_keys("demotion").items():
        action = given.get(key, shorthand.default)
        triggers.append(
            Trigger(
                definition.id,
                0,
                str(action),
                shorthand.review_reason,
                shorthand.demote_reason,
            )
        )
    triggers += [Trigger(t.metric, t.above, t.action) for t in demotion.triggers]
    return [trigger for trigger in triggers if trigger.action != "none"]


def window_months(policy: LadderPolicy) -> dict[str, int]:
    """The metrics the gates and triggers read over months, with how many months back."""
    windows: dict[str, int] = {}
    for entry in policy.promotion.entry.values():
        for gate in entry_gates(entry):
            if gate.window_months > 1:
                windows[gate.metric] = max(windows.get(gate.metric, 1), gate.window_months)
    for trigger in demotion_triggers(policy):
        windows.setdefault(trigger.metric, 1)
    return windows


def parse_policy(
    text: str,
    *,
    known_metrics: set[str],
    known_certifications: set[str],
) -> LadderPolicy:
    """A validated policy from YAML text, or a PolicyError listing every problem by key."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        detail = str(getattr(exc, "problem", exc))
        problem = (
            PolicyProblem("(yaml)", N_("not valid YAML: {detail}"), {"detail": detail})
            if mark is None
            else PolicyProblem(
                f"line {mark.line + 1}",
                N_("not valid YAML on line {line}: {detail}"),
                {"line": mark.line + 1, "detail": detail},
            )
        )
        raise PolicyError([problem]) from exc
    if not isinstance(document, dict):
        raise PolicyError(
            [PolicyProblem("(top)", N_("a policy is a mapping of keys (name, levels, ...)"))]
        )
    try:
        policy = LadderPolicy.model_validate(document)
    except ValidationError as exc:
        raise PolicyError([_validation_problem(error) for error in exc.errors()]) from exc
    problems = _cross_checks(policy, known_metrics, known_certifications)
    if problems:
        raise PolicyError(problems)
    return policy


def _canonical_section(dumped: dict[str, Any], section: str, empty_keys: tuple[str, ...]) -> None:
    # Shorthands at their typed value (or their default), new keys only when used: a policy
    # written before the registry keeps its hash.
    for key in empty_keys:
        if not dumped.get(key):
            dumped.pop(key, None)
    for key, (_, shorthand) in metrics_service.policy_keys(section).items():
        if key in dumped:
            dumped[key] = _shorthand_value(shorthand.kind, dumped[key])
        else:
            dumped[key] = shorthand.default


def canonical(policy: LadderPolicy) -> str:
    """The policy as canonical JSON: what its hash covers."""
    dumped = policy.model_dump(mode="json")
    for entry in dumped["promotion"]["entry"].values():
        _canonical_section(entry, "entry", ("gates",))
    _canonical_section(dumped["evidence"], "evidence", ("min_samples",))
    _canonical_section(dumped["demotion"], "demotion", ("triggers",))
    return json.dumps(dumped, sort_keys=True, ensure_ascii=False)


def policy_hash(policy: LadderPolicy) -> str:
    """The content hash that identifies a policy version (sha256 of its canonical form)."""
    return hashlib.sha256(canonical(policy).encode()).hexdigest()


def read_policy_file(path: Path) -> str:
    """A policy file's text in any common encoding (UTF-8 with or without BOM, GB18030 as
    Chinese Notepad saves it, what charset detection finds); a file that is not text is a
    TableFileError naming it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput("cannot read {file}: {error}", file=str(path), error=str(exc)) from exc
    text, _ = decode_csv_bytes(data, None)
    return text


# One sentence per kind, so that the kind reads as a word of the reader's language.
_PERIOD_MISMATCH = {
    "month": N_("the policy evaluates by month; give a month such as 2026-10"),
    "quarter": N_("the policy evaluates by quarter; give a quarter such as 2026-Q4"),
}


def check_period_kind(policy: LadderPolicy, *periods: Period) -> None:
    """Refuse (InvalidInput) a period of another kind than the policy evaluates by."""
    if any(period.kind != policy.period for period in periods):
        raise InvalidInput(_PERIOD_MISMATCH[policy.period])


def default_policy_text(language: Language = "en") -> str:
    """The shipped default policy (YAML), its name and comments in the reader's language."""
    return DEFAULT_POLICY_PATHS.get(language, DEFAULT_POLICY_PATH).read_text(encoding="utf-8")


def policy_summary(policy: LadderPolicy) -> dict[str, Any]:
    """A few figures about a policy for lists and logs."""
    return {
        "name": policy.name,
        "period": policy.period,
        "components": {name: c.weight for name, c in policy.components.items()},
        "approval": policy.promotion.approval,
    }


# --- policies --------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy with its text and hash."""

    policy: LadderPolicy
    text: str
    content_hash: str
    version_id: int | None = None  # None: the shipped default, never applied


def known_metrics() -> set[str]:
    """Metric ids a policy may name: every metric of the registry."""
    return set(metrics_service.metric_definitions())


def known_certifications(*, session: Session) -> set[str]:
    """Certification codes a policy may name: every provider's."""
    return {
        code
        for provider in metrics_service.evidence_providers()
        for code in provider.certification_types(session=session)
    }


def load_policy_text(*, session: Session, text: str) -> LoadedPolicy:
    """Validate policy YAML against the metrics and certification types this centre has."""
    policy = parse_policy(
        text,
        known_metrics=known_metrics(),
        known_certifications=known_certifications(session=session),
    )
    return LoadedPolicy(policy, text, policy_hash(policy))


def check_policy_text(text: str) -> tuple[LoadedPolicy, bool]:
    """Validate policy YAML against this centre's database when a current one exists, else
    against the shipped metrics and certification types; the flag says which was used."""
    url = get_settings().resolved_database_url
    if not database_missing(url) and current_revision(url) == head_revision():
        with session_scope() as session:
            return load_policy_text(session=session, text=text), True
    metrics_service.evidence_providers()  # every provider's tables join the scratch schema
    with scratch_session() as session:
        return load_policy_text(session=session, text=text), False


def current_policy(*, session: Session) -> LoadedPolicy:
    """The policy in force: the latest applied version, else the shipped default."""
    version = session.scalar(
        select(PolicyVersion)
        .where(PolicyVersion.applied_at.is_not(None))
        .order_by(PolicyVersion.applied_at.desc(), PolicyVersion.id.desc())
        .limit(1)
    )
    if version is None:
        language = get_settings().default_language
        return load_policy_text(session=session, text=default_policy_text(language))
    return replace(load_policy_text(session=session, text=version.yaml_text), version_id=version.id)


def apply_policy(
    *, session: Session, text: str, applied_by: User | None = None, note: str = ""
) -> PolicyVersion:
    """Make a policy the one in force (stored once per content hash; history kept)."""
    loaded = load_policy_text(session=session, text=text)
    version = session.scalar(
        select(PolicyVersion).where(PolicyVersion.content_hash == loaded.content_hash)
    )
    if version is None:
        version = PolicyVersion(
            content_hash=loaded.content_hash,
            name=loaded.policy.name,
            yaml_text=text,
            created_by_user_id=applied_by.id if applied_by else None,
        )
        session.add(version)
    version.applied_at = utcnow()
    version.applied_by_user_id = applied_by.id if applied_by else None
    version.note = note
    session.flush()
    return version


def policy_versions(*, session: Session) -> list[PolicyVersion]:
    """Every stored policy version, newest applied first."""
    return list(
        session.scalars(
            select(PolicyVersion).order_by(
                PolicyVersion.applied_at.desc().nulls_last(), PolicyVersion.id.desc()
            )
        )
    )


def policy_diff(old_text: str, new_text: str) -> list[str]:
    """A unified diff between two policy texts, line by line."""
    return list(
        difflib.unified_diff(
            old_text.splitlines(), new_text.splitlines(), "current", "proposed", lineterm=""
        )
    )
