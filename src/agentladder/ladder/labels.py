"""Names of the ladder's decisions, statuses, gates, components, metrics and groups in the
reader's language: one table for the pages, the reports and the exports. Metrics and the gates
on them are named by the metric registry, so a new subsystem's metrics need nothing here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agentladder import formatting
from agentladder.config import Language
from agentladder.i18n import N_, translate
from agentladder.metrics import service as metrics_service

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Between the items of a list inside a sentence ("、" in Chinese).
LIST_SEPARATOR = N_(", ")

DECISION_NAMES = {
    "promote": N_("Promote"),
    "hold": N_("Hold"),
    "demote": N_("Demote"),
    "insufficient_evidence": N_("Insufficient evidence"),
}
STATUS_NAMES = {
    "final": N_("Final"),
    "pending": N_("Waiting for approval"),
    "approved": N_("Approved"),
    "applied": N_("Applied"),
    "rejected": N_("Rejected"),
}
# The gates every policy has; a metric's gates are named by its shorthand or by the metric.
GATE_NAMES = {
    "score": N_("Composite score"),
    "score_lower_bound": N_("Composite score, lower bound"),
    "tenure_months": N_("Tenure (months)"),
    "certification": N_("Certification"),
    "quota": N_("Quota"),
    "current_certifications": N_("Certifications of the current level"),
}
SAMPLES_OF = N_("Sample size of {metric}")
APPEAL_NAMES = {"open": N_("Open"), "upheld": N_("Upheld"), "denied": N_("Denied")}
DIMENSION_NAMES = {
    "team": N_("Team"),
    "skill_group": N_("Skill group"),
    "tenure": N_("Tenure (months)"),
    "evaluator_group": N_("Evaluator group"),
}
# Where an agent's QA evidence came from, by the source its facts carry: the product's own
# evaluations (the quality provider); an import is named by its file's source as given.
SOURCE_NAMES = {"quality": N_("QA evaluations in the product")}
COMPONENT_NAMES = {
    "service": N_("Service statistics"),
    "quality": N_("Service quality"),
    "training": N_("Training and certification"),
    "knowledge": N_("Knowledge library"),
}


def name(names: dict[str, str], key: str, language: Language) -> str:
    """A key's name from one of the tables above; the key itself when it has none."""
    return translate(language, names[key]) if key in names else key


def metric_name(metric_id: str, language: Language) -> str:
    """A metric's name from the registry (a queue KPI's from the catalog; else the id)."""
    definition = metrics_service.metric_definition(metric_id)
    if definition is not None:
        return definition.name(language)
    kpi = metrics_service.BY_ID.get(metric_id)
    return kpi.name(language) if kpi else metric_id


def metric_unit(metric_id: str) -> str:
    """A metric's unit (count, s, rate, score)."""
    definition = metrics_service.metric_definition(metric_id)
    return definition.unit if definition else "score"


def gate_name(gate: str, language: Language) -> str:
    """A gate's name: the policy's own gates, a metric's shorthand gate, a sample minimum
    (`min_samples:<metric>`), or the metric a gate is on."""
    if gate in GATE_NAMES:
        return translate(language, GATE_NAMES[gate])
    for section in ("entry", "evidence", "demotion"):
        for _, shorthand in metrics_service.policy_keys(section).values():
            if shorthand.gate == gate:
                return translate(language, shorthand.label)
    if gate.startswith("min_samples:"):
        metric = metric_name(gate.split(":", 1)[1], language)
        return translate(language, SAMPLES_OF, metric=metric)
    return metric_name(gate, language)


# Certification types are named by the subsystem that attests them; a centre may add types, so
# the names are read again whenever decisions are loaded. A code without a name shows as is.
_certification_names: dict[str, tuple[str, str]] = {}


def learn_certification_names(session: Session) -> None:
    """Read the certification types' names from every evidence provider."""
    for provider in metrics_service.evidence_providers():
        _certification_names.update(provider.certification_names(session=session))


def certification_name(code: str, language: Language) -> str:
    """A certification type's name in the reader's language."""
    names = _certification_names.get(code)
    if names is None:
        return code
    return names[0] if language == "zh_Hans" else names[1]


def _names_list(
    keys: str | list[str], name_of: Callable[[str, Language], str], language: Language
) -> str:
    # Decisions store such lists comma-separated ("score_lower_bound, certification").
    items = keys.split(",") if isinstance(keys, str) else keys
    names = [name_of(key.strip(), language) for key in items if key.strip()]
    return translate(language, LIST_SEPARATOR).join(names)


def certification_list(codes: str | list[str], language: Language) -> str:
    """Certification codes as a list of their names."""
    return _names_list(codes, certification_name, language)


def gate_names_list(gates: str | list[str], language: Language) -> str:
    """Gate keys as a list of their names."""
    return _names_list(gates, gate_name, language)


def metric_names_list(metrics: str | list[str], language: Language) -> str:
    """Metric ids as a list of their names."""
    return _names_list(metrics, metric_name, language)


def gate_text(value: str, language: Language) -> str:
    """A gate's required or actual value that is text: certification codes, or "valid"."""
    if value == "valid":
        return translate(language, N_("valid"))
    return certification_list(value, language)


def gate_value_text(value: object, language: Language) -> str:
    """A gate's required or actual value as a reader sees it: ✓/✗, a number, names."""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if value is None:
        return formatting.MISSING
    if isinstance(value, int | float):
        return formatting.format_number(value, "plain", language)
    return gate_text(str(value), language)


NAMES = {
    "decisions": DECISION_NAMES,
    "statuses": STATUS_NAMES,
    "appeals": APPEAL_NAMES,
    "dimensions": DIMENSION_NAMES,
    "components": COMPONENT_NAMES,
    "sources": SOURCE_NAMES,
}
