"""Call detail records: the FreeSWITCH mod_cdr_csv corpus (Master.csv and per-account files),
the PBXware export of its Asterisk cdr table, hand-built cdr_csv Master.csv files, and property
tests of the reader.

Counts checked independently of the adapter (shell, on the corpus):
* freeswitch/Master.csv: `wc -l` 82; answer_stamp empty and duration "0" (grep
  '","","[^"]*","0",' on the 6th/8th fields): 70; answer_stamp set: 11; the remaining line is
  the 1-second probe 7fb42fbd (USER_BUSY). awk -F'","' NF: 68 lines of 13 fields, 3 of 14,
  11 of 15 (the anonymised tails of the "Caller 1" rows lost their last columns).
* freeswitch/2001.csv: 12 lines, 3 zero-second never answered, 9 answered; 1008.csv: 2 answered.
* pbxware/cdr.csv: 1001 lines = header + 1000; ANSWERED 646, NO ANSWER/BUSY/FAILED 354 of
  which 153 last 0 seconds.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.errors import InvalidInput
from agentladder.ingest import cdr
from agentladder.ingest import service as ingest_service
from agentladder.ingest.adapters import AdapterInput, ParsedFile
from agentladder.ingest.datasets import caller_hash
from agentladder.ingest.models import ImportBatch, RejectedRow
from agentladder.ingest.service import load_mapping, shipped_mapping
from tests.conftest import corpus_path

SETTINGS = Settings(secret_key="cdr-tests", database_url="sqlite://", timezone="Asia/Shanghai")
FREESWITCH_MAPPING = "freeswitch_example"
PBXWARE_MAPPING = "asterisk_pbxware"


def freeswitch(data: str | bytes, mapping: dict[str, Any] | None = None) -> ParsedFile:
    raw = data.encode() if isinstance(data, str) else data
    return cdr.parse_freeswitch(AdapterInput(raw, "Master.csv", SETTINGS, mapping))


def asterisk(data: str | bytes, mapping: dict[str, Any] | None = None) -> ParsedFile:
    raw = data.encode() if isinstance(data, str) else data
    return cdr.parse_asterisk(AdapterInput(raw, "Master.csv", SETTINGS, mapping))


def accounted(parsed: ParsedFile) -> bool:
    return parsed.rows_read == parsed.rows_accepted + len(parsed.rejected) + parsed.rows_ignored


def by_call(parsed: ParsedFile) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in parsed.datasets["interactions"].to_pylist()}


def one(parsed: ParsedFile, callid: str) -> dict[str, Any]:
    [row] = [r for r in parsed.datasets["interactions"].to_pylist() if r["callid"] == callid]
    return row


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


def mapping(name: str, **extra: Any) -> dict[str, Any]:
    return {**load_mapping(shipped_mapping(name)), **extra}


def corpus_bytes(*parts: str) -> bytes:
    return corpus_path("cdr", *parts).read_bytes()


# --- the FreeSWITCH corpus -----------------------------------------------------------------

# file -> (read, accepted, rejected, ignored, answered)
FREESWITCH_COUNTS = {
    "Master.csv": (82, 12, 0, 70, 11),
    "1008.csv": (2, 2, 0, 0, 2),
    "2001.csv": (12, 9, 0, 3, 9),
}


@pytest.mark.parametrize("name", sorted(FREESWITCH_COUNTS))
@pytest.mark.parametrize("shipped", [True, False])
def test_freeswitch_corpus_counts(name: str, shipped: bool) -> None:
    # The "example" template extends the stock default one by two codec columns, so the
    # files read the same with the shipped mapping and without any.
    parsed = freeswitch(
        corpus_bytes("freeswitch", name), mapping(FREESWITCH_MAPPING) if shipped else None
    )
    read, accepted, rejected, ignored, answered = FREESWITCH_COUNTS[name]
    assert (parsed.rows_read, parsed.rows_accepted, len(parsed.rejected)) == (
        read,
        accepted,
        rejected,
    )
    assert parsed.rows_ignored == ignored
    assert accounted(parsed)
    outcomes = parsed.datasets["interactions"]["outcome"].to_pylist()
    assert outcomes.count("answered") == answered
    assert parsed.notes.get("zero-second calls never answered (ignored)", 0) == ignored


def test_freeswitch_master_fields() -> None:
    parsed = freeswitch(corpus_bytes("freeswitch", "Master.csv"), mapping(FREESWITCH_MAPPING))
    assert parsed.notes["rows by number of columns"] == {13: 68, 14: 3, 15: 11}
    # Line 6: 2001 calls 3500 in "default", 15 s, NORMAL_CLEARING.
    row = one(parsed, "d5810052-e9a2-eae4-c599-75e127f55602")
    assert row["key"] == "d5810052-e9a2-eae4-c599-75e127f55602|2016-02-15T21:55:27.000000"
    assert (row["outcome"], row["talk_s"], row["wait_s"], row["direction"]) == (
        "answered",
        15.0,
        0.0,
        "inbound",
    )
    assert row["agent_identity"] == "3500"
    assert row["event_at"] == shanghai("2016-02-16 05:55:27")
    assert row["end_at"] == shanghai("2016-02-16 05:55:42")
    assert row["caller_hash"] == caller_hash("2001", SETTINGS)
    # Line 1: talked 137 s and ended by a session timer: still answered.
    timer = one(parsed, "4824c308-0099-971d-1890-157b0d8308f3")
    assert (timer["outcome"], timer["talk_s"]) == ("answered", 137.0)
    # Line 8: the 1-second scanner probe is kept (only zero-second ones are noise).
    probe = one(parsed, "7fb42fbd-1307-4c55-a178-b7880a6d64d3")
    assert (probe["outcome"], probe["talk_s"], probe["wait_s"], probe["answer_at"]) == (
        "unanswered",
        None,
        None,
        None,
    )
    assert probe["end_at"] - probe["event_at"] == timedelta(seconds=1)
    assert sorted(parsed.identities.items()) == [
        ("3500", 7),
        ("3501", 3),
        ("3502", 1),
        ("52501354097", 1),
    ]


def test_freeswitch_outbound_contexts_credit_the_account() -> None:
    parsed = freeswitch(
        corpus_bytes("freeswitch", "2001.csv"),
        mapping(FREESWITCH_MAPPING, outbound_contexts=["default"]),
    )
    # Line 12: account 2001 on a softphone whose caller id is a SIP user name.
    row = one(parsed, "f5def074-11ec-e636-9f32-daf7b10d6d9e")
    assert (row["direction"], row["agent_identity"], row["talk_s"], row["ring_s"]) == (
        "outbound",
        "2001",
        204.0,
        0.0,
    )
    assert row["wait_s"] is None
    assert row["caller_hash"] == caller_hash("3501", SETTINGS)  # the number called
    assert dict(parsed.identities) == {"2001": 9}


def test_freeswitch_per_account_file_and_time_zone() -> None:
    parsed = freeswitch(
        corpus_bytes("freeswitch", "1008.csv"), mapping(FREESWITCH_MAPPING, timezone="UTC")
    )
    # Line 2: user 1008 presenting caller id 1001.
    row = one(parsed, "de59f263-d679-67f2-e1e8-f49a70ef2509")
    assert (row["talk_s"], row["outcome"]) == (184.0, "answered")
    assert row["event_at"] == datetime(2016, 2, 16, 3, 45, 59, tzinfo=UTC)
    assert row["caller_hash"] == caller_hash("1001", SETTINGS)


def test_freeswitch_keep_zero_second_calls() -> None:
    parsed = freeswitch(
        corpus_bytes("freeswitch", "Master.csv"),
        mapping(FREESWITCH_MAPPING, keep_zero_second=True),
    )
    assert (parsed.rows_accepted, parsed.rows_ignored) == (82, 0)
    outcomes = parsed.datasets["interactions"]["outcome"].to_pylist()
    assert outcomes.count("unanswered") == 71


def test_freeswitch_template_as_a_list_and_other_templates() -> None:
    template = (
        '"${caller_id_name}","${caller_id_number}","${destination_number}","${context}",'
        '"${start_stamp}","${answer_stamp}","${end_stamp}","${duration}","${billsec}",'
        '"${hangup_cause}","${uuid}","${bleg_uuid}","${accountcode}","${read_codec}",'
        '"${write_codec}"'
    )
    columns = [part.strip('"') for part in template.split(",")]
    data = corpus_bytes("freeswitch", "2001.csv")
    listed = freeswitch(data, {"columns": columns})
    shipped = freeswitch(data, mapping(FREESWITCH_MAPPING))
    assert listed.datasets["interactions"].equals(shipped.datasets["interactions"])
    # The "sql" template: INSERT statements, the stock default columns, ", " before the last.
    sql = (
        'INSERT INTO cdr VALUES ("A","1001","5000","default","2026-03-02 09:00:00",'
        '"2026-03-02 09:00:07","2026-03-02 09:01:07","67","60","NORMAL_CLEARING",'
        '"u-1","", "1001");\n'
    )
    row = one(freeswitch(sql), "u-1")
    assert (row["wait_s"], row["talk_s"], row["agent_identity"]) == (7.0, 60.0, "5000")
    # Unix times and a mod_callcenter agent column.
    epoch = (
        "1772413200,1772413207,1772413267,67,60,NORMAL_CLEARING,u-2,13800138000,"
        "1001@default,support@default\n"
    )
    row = one(
        freeswitch(
            epoch,
            {
                "columns": [
                    "start_epoch",
                    "answer_epoch",
                    "end_epoch",
                    "duration",
                    "billsec",
                    "hangup_cause",
                    "uuid",
                    "caller_id_number",
                    "cc_agent",
                    "cc_queue",
                ]
            },
        ),
        "u-2",
    )
    assert row["event_at"] == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert (row["agent_identity"], row["queue"], row["wait_s"]) == (
        "1001@default",
        "support@default",
        7.0,
    )


# --- the PBXware export of the Asterisk cdr table ------------------------------------------


@pytest.fixture(scope="module")
def pbxware() -> ParsedFile:
    return asterisk(corpus_bytes("pbxware", "cdr.csv"), mapping(PBXWARE_MAPPING))


def test_pbxware_counts(pbxware: ParsedFile) -> None:
    assert pbxware.notes["columns"] == "header"
    assert (pbxware.rows_read, pbxware.rows_accepted, len(pbxware.rejected)) == (1000, 847, 0)
    assert pbxware.rows_ignored == 153
    assert accounted(pbxware)
    table = pbxware.datasets["interactions"]
    outcomes = table["outcome"].to_pylist()
    assert (outcomes.count("answered"), outcomes.count("unanswered")) == (646, 201)
    # The legs of one call share uniqueid and calldate (lines 862 and 863): both are kept.
    assert len(set(table["key"].to_pylist())) == 847
    # Without the mapping the header is read the same way; only the direction differs.
    plain = asterisk(corpus_bytes("pbxware", "cdr.csv"))
    assert (plain.rows_accepted, plain.rows_ignored) == (847, 153)
    assert set(plain.datasets["interactions"]["direction"].to_pylist()) == {"inbound"}


def test_pbxware_fields(pbxware: ParsedFile) -> None:
    connection = duckdb.connect()
    connection.register("calls", pbxware.datasets["interactions"])
    [(outbound, inbound)] = connection.sql(
        "SELECT count(*) FILTER (WHERE direction = 'outbound'), "
        "count(*) FILTER (WHERE direction = 'inbound') FROM calls"
    ).fetchall()
    assert (outbound, inbound) == (575, 272)
    # Line 3: extension 1115 dials out through the VIOrig trunk: 21 s, 20 billed.
    row = one(pbxware, "1543540817.1")
    assert (row["direction"], row["agent_identity"], row["outcome"]) == (
        "outbound",
        "PJSIP/1115",
        "answered",
    )
    assert (row["talk_s"], row["ring_s"], row["wait_s"]) == (20.0, 1.0, None)
    assert row["event_at"] == shanghai("2018-11-29 20:20:17")
    assert row["answer_at"] == shanghai("2018-11-29 20:20:18")
    assert row["end_at"] == shanghai("2018-11-29 20:20:38")
    assert row["caller_hash"] == caller_hash("5810004320", SETTINGS)
    # Lines 117 and 123: a queue call rang agent 1141 unanswered, then agent 1127 answered.
    calls = [r for r in by_call(pbxware).values() if r["callid"] == "1543602660.197"]
    rang = next(r for r in calls if r["event_at"] == shanghai("2018-11-30 13:31:16"))
    assert (rang["outcome"], rang["agent_identity"], rang["queue"], rang["talk_s"]) == (
        "unanswered",
        "Local/1141@callback-agent",
        "IT",
        None,
    )
    took = next(r for r in calls if r["event_at"] == shanghai("2018-11-30 13:32:33"))
    assert (took["outcome"], took["agent_identity"], took["talk_s"], took["wait_s"]) == (
        "answered",
        "Local/1127@stasis-dial",
        847.0,
        0.0,
    )
    assert took["direction"] == "inbound"
    assert took["caller_hash"] == caller_hash("52392342113", SETTINGS)


# --- Asterisk cdr_csv Master.csv -----------------------------------------------------------

MASTER = (
    '"","13800138000","6001","from-trunk","""Li Lei"" <13800138000>","PJSIP/trunk-00000001",'
    '"PJSIP/1001-0000002a","Queue","support,t,,,300","2026-03-02 09:00:00",'
    '"2026-03-02 09:00:12","2026-03-02 09:05:12",312,300,"ANSWERED","DOCUMENTATION",'
    '"1772413200.1",""\n'
    '"","13800138001","6001","from-trunk","13800138001","PJSIP/trunk-00000003",'
    '"PJSIP/1002-0000002c","Queue","support,t,,,300","2026-03-02 09:10:00","",'
    '"2026-03-02 09:10:25",25,0,"NO ANSWER","DOCUMENTATION","1772413800.3",""\n'
    '"","1001","013900139000","from-internal","""Agent"" <1001>","PJSIP/1001-0000002e",'
    '"PJSIP/trunk-0000002f","Dial","PJSIP/013900139000@trunk","2026-03-02 09:20:00",'
    '"2026-03-02 09:20:09","2026-03-02 09:22:09",129,120,"ANSWERED","DOCUMENTATION",'
    '"1772414400.5","","","1772414400.5","7"\n'
)


def test_asterisk_master_csv_stock_order() -> None:
    parsed = asterisk(MASTER)
    assert (parsed.rows_read, parsed.rows_accepted, parsed.notes["columns"]) == (3, 3, "stock")
    inbound = one(parsed, "1772413200.1")
    assert (inbound["direction"], inbound["agent_identity"], inbound["queue"]) == (
        "inbound",
        "PJSIP/1001",
        "support",
    )
    assert (inbound["wait_s"], inbound["talk_s"], inbound["outcome"]) == (12.0, 300.0, "answered")
    assert inbound["caller_hash"] == caller_hash("13800138000", SETTINGS)
    missed = one(parsed, "1772413800.3")
    assert (missed["outcome"], missed["wait_s"], missed["answer_at"]) == (
        "unanswered",
        None,
        None,
    )
    # newcdrcolumns (peeraccount, linkedid, sequence) follow; from-internal is outbound.
    out = one(parsed, "1772414400.5")
    assert (out["direction"], out["agent_identity"], out["ring_s"], out["talk_s"]) == (
        "outbound",
        "PJSIP/1001",
        9.0,
        120.0,
    )
    assert out["caller_hash"] == caller_hash("013900139000", SETTINGS)
    assert parsed.notes["rows by number of columns"] == {18: 2, 21: 1}


def test_asterisk_column_order_from_a_mapping_or_a_header() -> None:
    # cdr_custom-style order: uniqueid first, times, then the rest.
    columns = ["uniqueid", "start", "answer", "end", "billsec", "disposition", "src", "dstchannel"]
    line = "u1,2026-03-02 09:00:00,2026-03-02 09:00:05,2026-03-02 09:01:05,60,ANSWERED,139,SIP/7"
    listed = asterisk(line + "\n", {"columns": columns})
    header = asterisk(",".join(columns) + "\n" + line + "\n")
    numbered = asterisk(line + "\n", {"columns": {c: i for i, c in enumerate(columns, 1)}})
    titles = ["通话ID", "开始时间", "应答时间", "结束时间", "计费秒数", "状态", "主叫", "被叫通道"]
    titled = asterisk(
        (",".join(titles) + "\n" + line + "\n").encode("gb18030"),
        {"columns": dict(zip(columns, titles, strict=True))},
    )
    for parsed in (listed, header, numbered, titled):
        row = one(parsed, "u1")
        assert (row["wait_s"], row["talk_s"], row["agent_identity"]) == (5.0, 60.0, "SIP/7")
        assert row["end_at"] - row["event_at"] == timedelta(seconds=65)
    assert (header.rows_read, titled.rows_read) == (1, 1)  # the header is not a record
    assert (header.notes["columns"], titled.notes["encoding"]) == ("header", "gb18030")


def test_bad_mappings_are_clear_errors() -> None:
    with pytest.raises(InvalidInput, match="must be a list of column names"):
        asterisk(MASTER, {"columns": "uniqueid,start"})
    with pytest.raises(InvalidInput, match="must be a list of column names"):
        asterisk(MASTER, {"columns": {"start": 0}})
    with pytest.raises(InvalidInput, match="no column for disposition"):
        asterisk(MASTER, {"columns": ["uniqueid", "start"]})
    with pytest.raises(InvalidInput, match="is not in the file's header"):
        asterisk(MASTER, {"columns": {"start": "calldate"}})
    with pytest.raises(InvalidInput, match="outbound_contexts"):
        asterisk(MASTER, {"outbound_contexts": {"a": 1}})
    with pytest.raises(InvalidInput, match="unknown time zone"):
        asterisk(MASTER, {"timezone": "Mars/Olympus"})


# --- malformed rows ------------------------------------------------------------------------


def test_malformed_rows_are_rejected_with_line_field_and_reason() -> None:
    lines = corpus_bytes("freeswitch", "Master.csv").decode().splitlines(keepends=True)
    lines[5] = lines[5].replace("2016-02-16 05:55:27", "2016-02-30 05:55:27", 1)  # line 6
    lines[8] = lines[8].replace('"13","13"', '"13","x"')  # line 9: billsec
    lines[9] = '"Caller 89","2001","3502\n'  # line 10: cut short, quote left open
    lines[10] = "\n"  # line 11: blank
    parsed = freeswitch("".join(lines))
    assert [(r.line_no, r.field) for r in parsed.rejected] == [
        (6, "start_stamp"),
        (9, "billsec"),
        (10, "uuid"),
    ]
    assert parsed.rejected[2].reason == "the row has 3 columns; uuid is column 11"
    assert "2016-02-30" in parsed.rejected[0].raw
    assert (parsed.rows_read, parsed.rows_accepted, parsed.rows_ignored) == (82, 8, 71)
    assert accounted(parsed)
    broken = MASTER.replace('"NO ANSWER"', '"MAYBE"').replace("312,300", "312,-1")
    parsed = asterisk(broken)
    assert [(r.line_no, r.field) for r in parsed.rejected] == [(1, "billsec"), (2, "disposition")]
    assert "MAYBE" in parsed.rejected[1].reason


# --- through the import ledger -------------------------------------------------------------


def _import(  # type: ignore[no-untyped-def]
    settings: Settings, adapter: str, data: bytes, name: str, shipped: str | None = None
):
    with session_scope(settings) as session:
        return ingest_service.import_file(
            session=session,
            settings=settings,
            adapter=adapter,
            data=data,
            file_name=name,
            mapping=mapping(shipped) if shipped else None,
        )


@pytest.mark.parametrize(
    ("adapter", "parts", "counts"),
    [
        ("freeswitch-cdr", ("freeswitch", "Master.csv"), (82, 12, 0, 70)),
        ("freeswitch-cdr", ("freeswitch", "1008.csv"), (2, 2, 0, 0)),
        ("freeswitch-cdr", ("freeswitch", "2001.csv"), (12, 9, 0, 3)),
        ("asterisk-cdr", ("pbxware", "cdr.csv"), (1000, 847, 0, 153)),
    ],
)
def test_every_corpus_file_imports_once(
    settings: Settings, adapter: str, parts: tuple[str, ...], counts: tuple[int, ...]
) -> None:
    data = corpus_bytes(*parts)
    shipped = FREESWITCH_MAPPING if adapter == "freeswitch-cdr" else PBXWARE_MAPPING
    report = _import(settings, adapter, data, parts[-1], shipped)
    assert (
        report.rows_read,
        report.rows_accepted,
        report.rows_rejected,
        report.rows_ignored,
    ) == counts
    assert report.stored == {"interactions": counts[1]}
    assert report.rows_duplicate == 0
    again = _import(settings, adapter, data, parts[-1], shipped)
    assert again.already_imported
    assert again.batch_id == report.batch_id
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 1
        stored = ingest_service.read_dataset(
            session=session, settings=settings, dataset="interactions"
        )
    assert stored.num_rows == counts[1]


def test_per_account_file_after_master_stores_nothing_new(settings: Settings) -> None:
    _import(settings, "freeswitch-cdr", corpus_bytes("freeswitch", "Master.csv"), "Master.csv")
    report = _import(settings, "freeswitch-cdr", corpus_bytes("freeswitch", "2001.csv"), "2001.csv")
    assert not report.already_imported
    assert (report.rows_accepted, report.rows_duplicate, report.stored) == (
        9,
        9,
        {"interactions": 0},
    )


def test_rejected_rows_are_kept_in_the_ledger(settings: Settings) -> None:
    broken = MASTER.replace('"NO ANSWER"', '"MAYBE"')
    report = _import(settings, "asterisk-cdr", broken.encode(), "Master.csv")
    assert (report.rows_accepted, report.rows_rejected) == (2, 1)
    with session_scope(settings) as session:
        [row] = session.scalars(select(RejectedRow)).all()
        assert (row.line_no, row.field) == (2, "disposition")
        assert "MAYBE" in row.raw


def test_import_cli_with_the_shipped_mappings(cli_env: Settings) -> None:
    from typer.testing import CliRunner

    from agentladder.cli import app

    runner = CliRunner()
    for adapter, parts, shipped, line in (
        (
            "asterisk-cdr",
            ("pbxware", "cdr.csv"),
            PBXWARE_MAPPING,
            "read 1,000 rows = 847 accepted + 0 rejected + 153 ignored",
        ),
        (
            "freeswitch-cdr",
            ("freeswitch", "Master.csv"),
            FREESWITCH_MAPPING,
            "read 82 rows = 12 accepted + ",
        ),
    ):
        path = str(corpus_path("cdr", *parts))
        args = ["import", adapter, path, "--mapping", str(shipped_mapping(shipped))]
        result = runner.invoke(app, [*args, "--dry-run"])
        assert result.exit_code == 0, result.output
        assert line in result.output
        assert "ignored: zero-second calls never answered" in result.output


# --- properties ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_lines() -> dict[str, list[str]]:
    return {
        "freeswitch": corpus_bytes("freeswitch", "Master.csv").decode().splitlines(),
        "asterisk": corpus_bytes("pbxware", "cdr.csv").decode().splitlines()[:200],
    }


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    which=st.sampled_from(["freeswitch", "asterisk"]),
    seed=st.integers(0, 10_000),
    cut=st.floats(0.0, 1.0),
    garbage=st.lists(st.text(max_size=60), max_size=6),
)
def test_any_truncation_or_garbage_line_is_accounted_for(
    corpus_lines: dict[str, list[str]], which: str, seed: int, cut: float, garbage: list[str]
) -> None:
    rng = random.Random(seed)
    lines = list(corpus_lines[which])
    for junk in garbage:
        lines.insert(rng.randint(1, len(lines)), junk.replace("\n", " "))
    text = "\n".join(lines) + "\n"
    # A file cut anywhere after its first line (a header cut short is a file-level error),
    # even inside a value.
    keep = len(lines[0]) + 1
    text = text[: keep + int((len(text) - keep) * cut)]
    parse = freeswitch if which == "freeswitch" else asterisk
    parsed = parse(text)
    assert accounted(parsed)
    table = parsed.datasets["interactions"]
    assert isinstance(table, pa.Table)
    assert table.num_rows == parsed.rows_accepted
    physical = text.split("\n")
    if physical and physical[-1] == "":
        physical.pop()
    header = 1 if parsed.notes["columns"] == "header" else 0
    assert parsed.rows_read == len(physical) - header
    assert {r.line_no for r in parsed.rejected} <= set(range(1, len(physical) + 1))
    assert parsed.rows_accepted <= len(corpus_lines[which])


def test_a_column_list_mapping_loads_from_a_file(tmp_path: Path) -> None:
    from agentladder.ingest.service import load_mapping

    path = tmp_path / "m.yaml"
    path.write_text("columns: [accountcode, src, dst]\n", encoding="utf-8")
    assert load_mapping(path)["columns"] == ["accountcode", "src", "dst"]
