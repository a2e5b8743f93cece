"""The mapping-driven adapters of per-contact records (daily stats, surveys, feedback,
tickets, leads, schedules) on small Chinese exports as centres write them: exact values,
rejected rows with line and field, and imports through the ledger that neither repeat nor
double count."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import Workbook

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.errors import InvalidInput
from agentladder.ingest import contact_records, daily_stats
from agentladder.ingest import service as ingest_service
from agentladder.ingest.adapters import Adapter, AdapterInput, ParsedFile
from agentladder.ingest.mapped import TOTALS
from agentladder.ingest.service import load_mapping, shipped_mapping

SETTINGS = Settings(secret_key="evidence-tests", database_url="sqlite://")  # Asia/Shanghai


def shipped(name: str) -> dict[str, Any]:
    return load_mapping(shipped_mapping(name))


def parse(
    adapter: Adapter, data: bytes, mapping: str | dict[str, Any], name: str = "export.csv"
) -> ParsedFile:
    loaded = shipped(mapping) if isinstance(mapping, str) else mapping
    return adapter(AdapterInput(data, name, SETTINGS, loaded))


def accounted(parsed: ParsedFile) -> bool:
    return parsed.rows_read == parsed.rows_accepted + len(parsed.rejected) + parsed.rows_ignored


def rejected(parsed: ParsedFile) -> list[tuple[int, str]]:
    return [(r.line_no, r.field) for r in parsed.rejected]


def rows(parsed: ParsedFile, dataset: str) -> list[dict[str, Any]]:
    return parsed.datasets[dataset].to_pylist()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def xlsx(table: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for values in table:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- daily statistics ---------------------------------------------------------------------

DAILY_ZH = """\
日期,工号,登录时长,通话时长,保持时长,话后处理时长,示闲时长,示忙时长,接听量,呼入量,转接量,平均应答时长,外呼量,外呼接通量
2026-10-08,1001,8:05:10,3:12:40,0:10:05,1小时2分3秒,1200,45:00,52,55,3,8.5,10,6
2026/10/8,1002,28800,2:00:00,,,,,40,41,,12,,
2026-10-08,1003,八小时,,,,,,,,,,,
2026-10-09,1001,7:30:00,2:50:00,0:05:00,0:40:00,0:20:00,0:30:00,48,50,1,6,0,0
2026-10-09,1002,8:00:00,,,,,,1.5,2,,,,
2026-02-30,1003,8:00:00,,,,,,,,,,,
,,,,,,,,,,,,,
合计,,31:35:10,8:02:40,,,,,140,146,4,,10,6
"""


def test_daily_stats_gbk_report() -> None:
    parsed = parse(daily_stats.parse, DAILY_ZH.encode("gbk"), "daily_stats_zh")
    assert parsed.notes["encoding"] == "gb18030"
    assert rejected(parsed) == [(4, "login"), (6, "answered"), (7, "date")]
    assert (parsed.rows_read, parsed.rows_accepted, parsed.rows_ignored) == (8, 3, 2)
    assert accounted(parsed)
    first, second, third = rows(parsed, "daily_stats")
    assert first == {
        "key": "2026-10-08|1001|",
        "agent_identity": "1001",
        "event_at": utc(2026, 10, 7, 16),  # local midnight in Shanghai
        "queue": None,
        "login_s": 29110.0,
        "talk_s": 11560.0,
        "hold_s": 605.0,
        "acw_s": 3723.0,
        "ready_s": 1200.0,
        "pause_s": 2700.0,
        "ring_s": None,
        "asa_s": 8.5,
        "offered": 55,
        "answered": 52,
        "missed": None,
        "transferred": 3,
        "outbound_calls": 10,
        "outbound_connected": 6,
        "outbound_talk_s": None,
    }
    assert (second["key"], second["login_s"], second["talk_s"], second["hold_s"]) == (
        "2026-10-08|1002|",
        28800.0,
        7200.0,
        None,
    )
    assert (second["answered"], second["offered"], second["asa_s"]) == (40, 41, 12.0)
    assert (third["event_at"], third["outbound_calls"]) == (utc(2026, 10, 8, 16), 0)
    assert parsed.identities == {"1001": 2, "1002": 1}
    reason = parsed.rejected[1].reason
    assert reason == "cannot read answered: 1.5 is not a count"
    assert "1.5" in parsed.rejected[1].raw


def test_daily_stats_english_xlsx_with_typed_cells() -> None:
    mapping = shipped("daily_stats_en")
    data = xlsx(
        [
            list(mapping["columns"].values()),
            [
                datetime(2026, 10, 8),
                "jsmith",
                timedelta(hours=8, minutes=2),  # [h]:mm:ss cells arrive as durations
                time(3, 10, 5),  # h:mm:ss cells arrive as clock times
                "0:12:00",
                600,
                "5m",
                "0:45:00",
                61,
                64,
                2,
                7.25,
                12,
                9,
            ],
            ["Total", None, timedelta(hours=8, minutes=2)],
        ]
    )
    parsed = parse(daily_stats.parse, data, mapping, "report.xlsx")
    assert (parsed.rows_read, parsed.rows_accepted, parsed.rows_ignored) == (2, 1, 1)
    [row] = rows(parsed, "daily_stats")
    assert row["event_at"] == utc(2026, 10, 7, 16)
    assert (row["agent_identity"], row["login_s"], row["talk_s"], row["hold_s"]) == (
        "jsmith",
        28920.0,
        11405.0,
        720.0,
    )
    assert (row["acw_s"], row["ready_s"], row["pause_s"], row["asa_s"]) == (
        600.0,
        300.0,
        2700.0,
        7.25,
    )
    assert (row["answered"], row["offered"], row["transferred"]) == (61, 64, 2)
    assert (row["outbound_calls"], row["outbound_connected"]) == (12, 9)


def test_daily_stats_per_queue_and_own_time_zone() -> None:
    mapping = {
        "timezone": "UTC",
        "columns": {"date": "日期", "agent": "坐席", "queue": "技能组", "talk": "通话时长"},
    }
    text = (
        "日期,坐席,技能组,通话时长\n"
        "2026年10月8日,王芳,售后,190秒\n"
        "2026年10月8日,王芳,售前,3分10秒\n"
    )
    parsed = parse(daily_stats.parse, text.encode("utf-8-sig"), mapping)
    assert [(r["key"], r["event_at"], r["talk_s"]) for r in rows(parsed, "daily_stats")] == [
        ("2026-10-08|王芳|售后", utc(2026, 10, 8), 190.0),
        ("2026-10-08|王芳|售前", utc(2026, 10, 8), 190.0),
    ]


# --- surveys --------------------------------------------------------------------------------

SURVEYS_ZH = """\
评价编号,通话流水号,工号,评价时间,满意度,问题是否解决
S001,C9001,1001,2026-10-08 09:12:30,非常满意,是
S002,C9002,1001,2026-10-08 09:40:00,未评价,
S003,C9003,1002,2026/10/08 10:05,3,否
S004,C9004,1002,2026-10-08 10:30:00,6,是
S005,C9005,,2026-10-08 11:00:00,4,
S006,C9006,1003,2026-10-08 11:15:00,满意,已解决
"""


def test_surveys_csat_with_worded_scores() -> None:
    parsed = parse(contact_records.parse_surveys, SURVEYS_ZH.encode(), "surveys_zh")
    assert rejected(parsed) == [(5, "score"), (6, "agent")]
    assert parsed.rejected[0].reason == "cannot read score: outside 0..5"
    assert (parsed.rows_accepted, parsed.rows_ignored) == (3, 1)  # 未评价: no answer
    assert accounted(parsed)
    assert rows(parsed, "surveys") == [
        {
            "key": "S001",
            "callid": "C9001",
            "agent_identity": "1001",
            "event_at": utc(2026, 10, 8, 1, 12, 30),
            "score": 5.0,
            "scale_max": 5.0,
            "resolved": True,
        },
        {
            "key": "S003",
            "callid": "C9003",
            "agent_identity": "1002",
            "event_at": utc(2026, 10, 8, 2, 5),
            "score": 3.0,
            "scale_max": 5.0,
            "resolved": False,
        },
        {
            "key": "S006",
            "callid": "C9006",
            "agent_identity": "1003",
            "event_at": utc(2026, 10, 8, 3, 15),
            "score": 4.0,
            "scale_max": 5.0,
            "resolved": True,
        },
    ]


def test_surveys_nps_by_date_and_time_without_survey_id() -> None:
    mapping = {
        "columns": {"agent": "坐席", "date": "日期", "time": "时间", "score": "推荐度"},
        "scale_max": 10,
    }
    text = (
        "坐席,日期,时间,推荐度\n"
        "王芳,2026-10-08,9:05,10\n"
        "王芳,2026-10-08,9:06,11\n"
        "李雷,2026-10-08,,0\n"
    )
    parsed = parse(contact_records.parse_surveys, text.encode("gbk"), mapping)
    assert rejected(parsed) == [(3, "score")]
    assert [(r["key"], r["score"], r["scale_max"]) for r in rows(parsed, "surveys")] == [
        ("|王芳|2026-10-08T01:05:00+00:00", 10.0, 10.0),
        ("|李雷|2026-10-07T16:00:00+00:00", 0.0, 10.0),
    ]
    with pytest.raises(InvalidInput, match="scale_max"):
        parse(contact_records.parse_surveys, text.encode("gbk"), {**mapping, "scale_max": "ten"})


# --- complaints and praise ------------------------------------------------------------------

FEEDBACK_ZH = """\
工单编号,通话流水号,被投诉/表扬工号,受理时间,类型,投诉等级,是否有效
TS20261008001,C9001,1001,2026-10-08 09:30:00,投诉,一般,有效
TS20261008002,C9003,1002,2026-10-08 14:00:00,表扬,,
TS20261009001,,1001,2026-10-09 10:00:00,投诉,严重,无效
TS20261009002,,1003,2026-10-09 11:00:00,咨询,,
TS20261009003,,1002,2026-10-09 11:30:00,赞许,,待定
TS20261009004,,1002,2026-10-09 11:45:00,赞许,,
"""


def test_feedback_gbk_register() -> None:
    parsed = parse(contact_records.parse_feedback, FEEDBACK_ZH.encode("gbk"), "feedback_zh")
    assert rejected(parsed) == [(5, "kind"), (6, "valid")]
    assert accounted(parsed)
    got = [
        (r["key"], r["callid"], r["agent_identity"], r["kind"], r["severity"], r["valid"])
        for r in rows(parsed, "feedback")
    ]
    assert got == [
        ("TS20261008001", "C9001", "1001", "complaint", "一般", True),
        ("TS20261008002", "C9003", "1002", "praise", None, None),
        ("TS20261009001", None, "1001", "complaint", "严重", False),
        ("TS20261009004", None, "1002", "praise", None, None),
    ]
    assert rows(parsed, "feedback")[0]["event_at"] == utc(2026, 10, 8, 1, 30)


# --- tickets and leads ----------------------------------------------------------------------

TICKETS_HEADER = ["工单编号", "创建时间", "创建人工号", "是否有效", "工单类型"]
TICKETS = [
    ["GD001", "2026-10-08 09:15:00", 1001, "有效", "咨询"],
    ["GD002", "2026-10-08 10:20:00", 1002, "无效", "投诉"],
    [None, "2026-10-08 10:25:00", 1002, "有效", "咨询"],
    ["GD004", "2026-10-08 11:00:00", 1003, "待审核", "报修"],
    ["GD005", "2026-10-09 08:05:00", 1001, None, None],
]


def test_tickets_xlsx() -> None:
    data = xlsx([TICKETS_HEADER, *TICKETS])
    parsed = parse(contact_records.parse_tickets, data, "tickets_zh", "工单.xlsx")
    assert parsed.notes["encoding"] == "xlsx"
    assert rejected(parsed) == [(4, "ticket_id"), (5, "valid")]
    assert rows(parsed, "tickets") == [
        {
            "key": "GD001",
            "agent_identity": "1001",
            "event_at": utc(2026, 10, 8, 1, 15),
            "valid": True,
            "category": "咨询",
        },
        {
            "key": "GD002",
            "agent_identity": "1002",
            "event_at": utc(2026, 10, 8, 2, 20),
            "valid": False,
            "category": "投诉",
        },
        {
            "key": "GD005",
            "agent_identity": "1001",
            "event_at": utc(2026, 10, 9, 0, 5),
            "valid": None,
            "category": None,
        },
    ]


LEADS_ZH = """\
线索编号,创建时间,坐席工号,是否有效线索,是否成交,营销活动
XS0001,2026-10-08 09:00,1001,是,已成交,双十一预热
XS0002,2026-10-08 09:30,1001,合格,未成交,双十一预热
XS0003,2026-13-01 10:00,1002,是,否,
XS0004,2026-10-08 10:10,1002,不合格,,
"""


def test_leads_utf8_bom() -> None:
    parsed = parse(contact_records.parse_leads, LEADS_ZH.encode("utf-8-sig"), "leads_zh")
    assert parsed.notes["encoding"] == "utf-8"
    assert rejected(parsed) == [(4, "datetime")]
    got = [
        (
            r["key"],
            r["agent_identity"],
            r["event_at"],
            r["qualified"],
            r["converted"],
            r["campaign"],
        )
        for r in rows(parsed, "leads")
    ]
    assert got == [
        ("XS0001", "1001", utc(2026, 10, 8, 1), True, True, "双十一预热"),
        ("XS0002", "1001", utc(2026, 10, 8, 1, 30), True, False, "双十一预热"),
        ("XS0004", "1002", utc(2026, 10, 8, 2, 10), False, None, None),
    ]


# --- rosters --------------------------------------------------------------------------------

SCHEDULES_ZH = """\
工号,日期,班次,上班时间,下班时间,请假类型
1001,2026-10-08,早班,08:00,17:00,
1001,2026-10-09,夜班,22:00,07:00,
1001,2026-10-10,休,,,
1002,2026-10-08,08:30-17:30,,,
1002,2026-10-09,早班,08:00,17:00,病假
1002,2026-10-10,,,,年假
1003,2026-10-08,早班,08:00,25:00,
1003,2026-10-09,早班,08:00,,
1003,2026-10-10,晚班,16:00,24:00,
"""


def test_schedules_gbk_roster() -> None:
    parsed = parse(contact_records.parse_schedules, SCHEDULES_ZH.encode("gbk"), "schedules_zh")
    assert rejected(parsed) == [(8, "end"), (9, "end")]
    assert (parsed.rows_accepted, parsed.rows_ignored) == (6, 1)  # 休: a day off
    assert accounted(parsed)
    got = [
        (r["agent_identity"], r["day"], r["event_at"], r["end_at"], r["shift"], r["absence"])
        for r in rows(parsed, "schedules")
    ]
    assert got == [
        ("1001", date(2026, 10, 8), utc(2026, 10, 8, 0), utc(2026, 10, 8, 9), "早班", None),
        # ends at 07:00 the next morning
        ("1001", date(2026, 10, 9), utc(2026, 10, 9, 14), utc(2026, 10, 9, 23), "夜班", None),
        # the shift cell gives the hours
        (
            "1002",
            date(2026, 10, 8),
            utc(2026, 10, 8, 0, 30),
            utc(2026, 10, 8, 9, 30),
            "08:30-17:30",
            None,
        ),
        ("1002", date(2026, 10, 9), utc(2026, 10, 9, 0), utc(2026, 10, 9, 9), "早班", "病假"),
        # a whole day's absence: local midnight, no end
        ("1002", date(2026, 10, 10), utc(2026, 10, 9, 16), None, None, "年假"),
        ("1003", date(2026, 10, 10), utc(2026, 10, 10, 8), utc(2026, 10, 10, 16), "晚班", None),
    ]
    assert all(r["planned"] for r in rows(parsed, "schedules"))
    assert len({r["key"] for r in rows(parsed, "schedules")}) == 6


def test_schedules_hours_column_next_day_marker_and_planned_flag() -> None:
    mapping = {
        "columns": {"agent": "姓名", "date": "日期", "hours": "班次时间", "planned": "是否计划内"},
    }
    text = (
        "姓名,日期,班次时间,是否计划内\n"
        "王芳,2026-10-08,22:00~次日06:00,计划内\n"
        "王芳,2026-10-09,09:00至09:00,是\n"
        "王芳,2026-10-10,18:00-22:00,计划外\n"
    )
    parsed = parse(contact_records.parse_schedules, text.encode("gbk"), mapping)
    assert rejected(parsed) == [(3, "end")]
    assert [(r["event_at"], r["end_at"], r["planned"]) for r in rows(parsed, "schedules")] == [
        (utc(2026, 10, 8, 14), utc(2026, 10, 8, 22), True),
        (utc(2026, 10, 10, 10), utc(2026, 10, 10, 14), False),
    ]


# --- mapping checks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (None, "needs --mapping"),
        ({"columns": {"agent": "工号", "ticket": "工单编号"}}, "unknown fields: ticket"),
        ({"columns": {"agent": "坐席"}}, "column 坐席 \\(for agent\\) is not in"),
        ({"columns": {"agent": "工号", "date": "日期"}}, "lacks ticket_id"),
        ({"columns": {"agent": "工号", "ticket_id": "工单编号"}}, "lacks datetime \\(or date\\)"),
        (
            {
                "columns": {"agent": "工号", "ticket_id": "工单编号", "date": "日期"},
                "values": {"agent": "x"},
            },
            "values section",
        ),
        (
            {
                "columns": {"agent": "工号", "ticket_id": "工单编号", "date": "日期"},
                "timezone": "Mars/Olympus",
            },
            "unknown time zone Mars/Olympus",
        ),
    ],
)
def test_bad_mappings_are_refused(mapping: dict[str, Any] | None, message: str) -> None:
    data = "工单编号,工号,日期\nGD1,1001,2026-10-08\n".encode("gbk")
    with pytest.raises(InvalidInput, match=message):
        contact_records.parse_tickets(AdapterInput(data, "t.csv", SETTINGS, mapping))


def test_mapping_values_translate_before_parsing() -> None:
    mapping = {
        "columns": {"ticket_id": "单号", "agent": "工号", "date": "日期", "valid": "质检"},
        "values": {"valid": {"通过": True, "不通过": False, "未质检": None}},
    }
    text = "单号,工号,日期,质检\n"
    text += "A1,1001,2026-10-08,通过\nA2,1001,2026-10-08,不通过\nA3,1001,2026-10-08,未质检\n"
    parsed = parse(contact_records.parse_tickets, text.encode(), mapping)
    assert [r["valid"] for r in rows(parsed, "tickets")] == [True, False, None]


# --- through the ledger: idempotent, overlaps not double counted ----------------------------


@dataclass(frozen=True)
class Case:
    adapter: str
    dataset: str
    mapping: str
    first: bytes
    second: bytes  # its first data row repeats the first file's last accepted row
    name: str = "export.csv"


def _overlap(text: str, repeat: str, new: str) -> str:
    return text.splitlines(keepends=True)[0] + repeat + "\n" + new + "\n"


CASES = [
    Case(
        "daily-stats",
        "daily_stats",
        "daily_stats_zh",
        DAILY_ZH.encode("gbk"),
        _overlap(
            DAILY_ZH,
            "2026-10-09,1001,7:30:00,2:50:00,0:05:00,0:40:00,0:20:00,0:30:00,48,50,1,6,0,0",
            "2026-10-10,1001,7:00:00,,,,,,45,45,,,,",
        ).encode("gbk"),
    ),
    Case(
        "surveys",
        "surveys",
        "surveys_zh",
        SURVEYS_ZH.encode(),
        _overlap(
            SURVEYS_ZH,
            "S006,C9006,1003,2026-10-08 11:15:00,满意,已解决",
            "S007,C9007,1003,2026-10-09 11:15:00,一般,是",
        ).encode(),
    ),
    Case(
        "feedback",
        "feedback",
        "feedback_zh",
        FEEDBACK_ZH.encode("gbk"),
        _overlap(
            FEEDBACK_ZH,
            "TS20261009004,,1002,2026-10-09 11:45:00,赞许,,",
            "TS20261010001,,1003,2026-10-10 09:00:00,投诉,一般,有效",
        ).encode("gbk"),
    ),
    Case(
        "tickets",
        "tickets",
        "tickets_zh",
        xlsx([TICKETS_HEADER, *TICKETS]),
        xlsx([TICKETS_HEADER, TICKETS[-1], ["GD006", "2026-10-09 09:00:00", 1002, "有效", "咨询"]]),
        "工单.xlsx",
    ),
    Case(
        "leads",
        "leads",
        "leads_zh",
        LEADS_ZH.encode("utf-8-sig"),
        _overlap(
            LEADS_ZH,
            "XS0004,2026-10-08 10:10,1002,不合格,,",
            "XS0005,2026-10-09 10:10,1002,是,是,",
        ).encode("utf-8-sig"),
    ),
    Case(
        "schedules",
        "schedules",
        "schedules_zh",
        SCHEDULES_ZH.encode("gbk"),
        _overlap(
            SCHEDULES_ZH, "1003,2026-10-10,晚班,16:00,24:00,", "1003,2026-10-11,晚班,16:00,24:00,"
        ).encode("gbk"),
    ),
]


def _import(settings: Settings, case: Case, data: bytes) -> ingest_service.ImportReport:
    with session_scope(settings) as session:
        return ingest_service.import_file(
            session=session,
            settings=settings,
            adapter=case.adapter,
            data=data,
            file_name=case.name,
            mapping=shipped(case.mapping),
        )


def rejected_of(report: ingest_service.ImportReport) -> list[tuple[int, str]]:
    return sorted((r.line_no, r.field) for r in report.rejected)


def _stored(settings: Settings, dataset: str) -> list[str]:
    with session_scope(settings) as session:
        table = ingest_service.read_dataset(session=session, settings=settings, dataset=dataset)
    return sorted(table["key"].to_pylist())


@pytest.mark.parametrize("case", CASES, ids=[case.adapter for case in CASES])
def test_imports_are_idempotent_and_overlaps_do_not_double_count(
    settings: Settings, case: Case
) -> None:
    first = _import(settings, case, case.first)
    assert first.rows_read == first.rows_accepted + first.rows_rejected + first.rows_ignored
    assert first.rows_rejected > 0
    assert first.stored == {case.dataset: first.rows_accepted}
    keys = _stored(settings, case.dataset)
    assert len(keys) == first.rows_accepted

    again = _import(settings, case, case.first)
    assert again.already_imported
    assert again.batch_id == first.batch_id
    assert _stored(settings, case.dataset) == keys

    second = _import(settings, case, case.second)
    assert (second.rows_accepted, second.rows_duplicate) == (2, 1)
    assert second.stored == {case.dataset: 1}
    after = _stored(settings, case.dataset)
    assert len(after) == len(keys) + 1
    assert set(keys) < set(after)
    with session_scope(settings) as session:
        batch = ingest_service.get_batch_or_raise(session=session, batch_id=first.batch_id or 0)
        assert sorted((r.line_no, r.field) for r in batch.rejected) == rejected_of(first)


# --- property: garbage and truncated rows never crash, every row is accounted for ------------

DAILY_HEADER = next(csv.reader(io.StringIO(DAILY_ZH)))
SAMPLES = [
    "",
    "2026-10-08",
    "2026/10/8",
    "2026年10月8日",
    "20261008",
    "2026-02-30",
    "1001",
    "8:05:10",
    "45:00",
    "1小时2分3秒",
    "99:99:99",
    "1 day, 2:00:00",
    "-3",
    "1e400",
    "nan",
    "inf",
    "1.5",
    "1,234",
    "24:00",
    *sorted(TOTALS),
]
CELL = st.one_of(
    st.sampled_from(SAMPLES),
    # No apostrophes: csv.Sniffer may take ' for the quote character, merging lines into one
    # record (tabular's sniffing; the counts still add up, the number of rows would not).
    st.text(alphabet='0123456789:-/.,年月日时分秒 合计abcdefh"', max_size=14),
)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.lists(CELL, min_size=len(DAILY_HEADER), max_size=len(DAILY_HEADER)),
            st.integers(0, len(DAILY_HEADER)),
        ),
        max_size=12,
    )
)
def test_garbage_rows_never_crash_and_are_accounted_for(
    generated: list[tuple[list[str], int]],
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DAILY_HEADER)
    for cells, keep in generated:
        writer.writerow(cells[:keep])  # truncated rows: fewer cells than the header
    parsed = parse(daily_stats.parse, out.getvalue().encode("gb18030"), "daily_stats_zh")
    assert parsed.rows_read == len(generated)
    assert accounted(parsed)
    assert parsed.datasets["daily_stats"].num_rows == parsed.rows_accepted
    assert {r.field for r in parsed.rejected} <= set(daily_stats.LAYOUT.fields)
    assert all(2 <= r.line_no <= len(generated) + 1 for r in parsed.rejected)
