"""Names of the ladder's decisions, statuses, gates, components, metrics and groups in the
reader's language: one table for the pages, the reports and the exports."""

from __future__ import annotations

from agentladder.config import Language
from agentladder.i18n import N_, translate
from agentladder.metrics import service as metrics_service

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
GATE_NAMES = {
    "score": N_("Composite score"),
    "score_lower_bound": N_("Composite score, lower bound"),
    "tenure_months": N_("Tenure (months)"),
    "certification": N_("Certification"),
    "qa_score": N_("QA score"),
    "fatal_errors": N_("Fatal errors in the window"),
    "kb_adopted": N_("Adopted knowledge contributions"),
    "min_handled_calls": N_("Handled calls"),
    "min_qa_evaluations": N_("QA evaluations"),
    "min_surveys": N_("Survey answers"),
    "quota": N_("Quota"),
    "current_certifications": N_("Certifications of the current level"),
}
APPEAL_NAMES = {"open": N_("Open"), "upheld": N_("Upheld"), "denied": N_("Denied")}
DIMENSION_NAMES = {
    "team": N_("Team"),
    "skill_group": N_("Skill group"),
    "tenure": N_("Tenure (months)"),
    "evaluator_group": N_("Evaluator group"),
}
COMPONENT_NAMES = {
    "service": N_("Service statistics"),
    "quality": N_("Service quality"),
    "training": N_("Training and certification"),
    "knowledge": N_("Knowledge library"),
}
LADDER_METRICS = {  # the ladder's own evidence metrics: name and unit
    "qa_score": (N_("QA score"), "score"),
    "qa_fatal_errors": (N_("Fatal errors"), "count"),
    "exam_score": (N_("Exam score"), "score"),
    "kb_contribution_points": (N_("Knowledge contribution points"), "count"),
    "kb_adopted": (N_("Adopted knowledge contributions"), "count"),
}


def name(names: dict[str, str], key: str, language: Language) -> str:
    """A key's name from one of the tables above; the key itself when it has none."""
    return translate(language, names[key]) if key in names else key


def metric_name(metric_id: str, language: Language) -> str:
    """A metric's name: the ladder's own evidence metrics', else the KPI catalog's."""
    if metric_id in LADDER_METRICS:
        return translate(language, LADDER_METRICS[metric_id][0])
    kpi = metrics_service.BY_ID.get(metric_id)
    return kpi.name(language) if kpi else metric_id


def metric_unit(metric_id: str) -> str:
    """A metric's unit (count, s, rate, score)."""
    if metric_id in LADDER_METRICS:
        return LADDER_METRICS[metric_id][1]
    kpi = metrics_service.BY_ID.get(metric_id)
    return kpi.unit if kpi else "score"


NAMES = {
    "decisions": DECISION_NAMES,
    "statuses": STATUS_NAMES,
    "gates": GATE_NAMES,
    "appeals": APPEAL_NAMES,
    "dimensions": DIMENSION_NAMES,
    "components": COMPONENT_NAMES,
}
