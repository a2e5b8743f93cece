"""`agentladder ladder evidence ...`: per-agent, per-period results brought from other tools
(the `external` evidence subsystem), mounted under the ladder's commands."""

from __future__ import annotations

import typer

from agentladder.cli_imports import add_import_commands
from agentladder.external import service as external
from agentladder.metrics import service as metrics_service

evidence_app = typer.Typer(help="Evidence brought from other tools.", no_args_is_help=True)


def _accepted_metrics_help() -> str:
    """The metric column's accepted values for `--help`: id, Chinese and English name."""
    definitions = metrics_service.metric_definitions()
    items = [
        f"{metric_id} ({definitions[metric_id].zh} | {name})"
        for metric_id, name in external.accepted_metrics().items()
    ]
    return "Accepted metrics (by id or either name): " + "; ".join(items) + "."


add_import_commands(
    evidence_app,
    external.EVIDENCE_IMPORTER,
    summary="Import per-agent, per-period results from other tools (agent, period, metric, value, "
    "sample size): QA scores, fatal errors, exam scores, knowledge contributions.\n\n"
    + _accepted_metrics_help(),
    run=external.import_evidence,
    row_fields=[
        ("employee_no", "employee no"),
        ("period", "period"),
        ("metric_id", "metric"),
        ("value", "value"),
        ("sample_size", "sample size"),
    ],
)
