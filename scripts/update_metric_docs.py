"""Regenerate docs/metrics.md from the KPI catalog."""

from __future__ import annotations

from pathlib import Path

from agentladder.metrics.catalog import CATALOG

DOC = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"


def main() -> None:
    lines = [
        "# Metrics",
        "",
        "Every KPI agentladder computes, from `src/agentladder/metrics/catalog.py` (regenerate",
        "with `python scripts/update_metric_docs.py`). Values are numerator / denominator over",
        "the period (a ratio of sums, never a mean of daily ratios); a metric without data is",
        "null. Each value is stored with its sample size. Thresholds are settings",
        "(docs/configuration.md).",
        "",
        "| id | 中文 | English | unit | better | scope | sources | definition |",
        "|---|---|---|---|---|---|---|---|",
    ]
    better = {"up": "higher", "down": "lower", "neutral": "context"}
    for kpi in CATALOG:
        lines.append(
            f"| `{kpi.id}` | {kpi.zh} | {kpi.en} | {kpi.unit} | {better[kpi.direction]} | "
            f"{kpi.scope} | {', '.join(kpi.sources)} | {kpi.definition} |"
        )
    DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{DOC}: {len(CATALOG)} metrics")


if __name__ == "__main__":
    main()
