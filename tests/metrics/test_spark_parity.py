"""The same KPI definitions on PySpark (local mode) give the same numbers as on DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.ingest import service as ingest_service
from agentladder.ingest.service import load_mapping, shipped_mapping
from agentladder.metrics import service as metrics_service
from agentladder.periods import parse_period
from tests.conftest import corpus_path, make_settings
from tests.ingest.test_stitching import FIRST, SECOND
from tests.metrics.test_engine import ACW_STATES, DAILY, NPS_SURVEYS, SURVEYS, nps_mapping
from tests.metrics.test_metrics import REGISTERS, SCENARIO, STATES

pyspark = pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("agentladder-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


def _rows(
    settings: Settings, engine: str, period: str, spark: Any, identities: dict[str, str]
) -> dict[tuple[str, str, str], Any]:
    with session_scope(settings) as session:
        files = ingest_service.dataset_files(session=session, settings=settings)
    start, end = parse_period(period).bounds_utc(settings.tz)
    rows = metrics_service.compute_rows(
        files=files,
        start=start,
        end=end,
        identities=identities,
        config=metrics_service.metric_config(settings),
        engine=engine,
        spark=spark,
    )
    return {
        (r.scope, r.subject, r.metric_id): (r.numerator, r.denominator, r.sample_size) for r in rows
    }


def test_duckdb_and_spark_agree(settings: Settings, spark: Any) -> None:
    utc = make_settings(settings.data_dir, settings.resolved_database_url, timezone="UTC")

    def shipped(name: str) -> dict[str, Any]:
        return load_mapping(shipped_mapping(name))

    sources: list[tuple[str, bytes, dict[str, Any] | None]] = [
        ("queue_log", corpus_path("queue_log", "pbxware", "queue_log.csv").read_bytes(), None),
        ("queue_log", SCENARIO.encode(), None),
        ("queue_log", STATES.encode(), None),
        ("queue_log", ACW_STATES.encode(), None),  # pauses for after-call work
        # A rotation: the first file stores c1 open, the second completes it (the open copy is
        # superseded and must not count on either engine).
        ("queue_log", FIRST.encode(), None),
        ("queue_log", SECOND.encode(), None),
        (
            "calls-table",
            corpus_path("calls_table", "Call-Center-Dataset.csv").read_bytes(),
            shipped("call_center_dataset"),
        ),
        # Daily reports beside call-level data, a roster checked against logins, surveys.
        ("daily-stats", DAILY.encode("gb18030"), shipped("daily_stats_zh")),
        ("surveys", SURVEYS.encode("gb18030"), shipped("surveys_zh")),
        ("surveys", NPS_SURVEYS.encode("gb18030"), nps_mapping()),
        (
            "schedules",
            "工号,日期,班次,上班时间,下班时间,请假类型\n"
            "SIP/7,2025-10-09,早班,08:00,17:00,\n"
            "SIP/7,2025-10-10,早班,08:00,17:00,\n"
            "SIP/1001,2025-10-09,早班,,,\n".encode("gb18030"),
            shipped("schedules_zh"),
        ),
        *(
            (adapter, text.encode("gb18030"), shipped(mapping))
            for adapter, (text, mapping) in REGISTERS.items()
            if adapter != "schedules"
        ),
    ]
    for adapter, data, mapping in sources:
        with session_scope(utc) as session:
            ingest_service.import_file(
                session=session,
                settings=utc,
                adapter=adapter,
                data=data,
                file_name="f",
                mapping=mapping,
            )
    # An alias maps a PBXware agent to an employee number; their calls count under it.
    identities = {"Agent/1109": "9001"}
    compared: dict[tuple[str, str, str], Any] = {}
    for period in ("2018-Q4", "2021-02", "2025-10-09", "2025-10"):
        on_duckdb = _rows(utc, "duckdb", period, spark, identities)
        on_spark = _rows(utc, "spark", period, spark, identities)
        assert on_duckdb, period
        assert on_duckdb.keys() == on_spark.keys()
        compared.update(on_duckdb)
        for key, (numerator, denominator, sample) in on_duckdb.items():
            other = on_spark[key]
            assert other[2] == sample, key
            assert other[0] == pytest.approx(numerator), key
            assert other[1] == pytest.approx(denominator), key
    # The registers, NPS and the alias took part, with values, not only as keys.
    for metric_id in ("complaints", "ticket_validity_rate", "sales_lead_rate", "nps", "avg_acw_s"):
        assert compared[("agent", "SIP/1001", metric_id)][2] > 0, metric_id
    assert compared[("agent", "9001", "handled_calls")][0] == 16
    assert ("agent", "Agent/1109", "handled_calls") not in compared
