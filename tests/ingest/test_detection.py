"""Which adapter reads a file, told from its first lines: each corpus file, and refusals."""

from __future__ import annotations

import pytest

from agentladder.errors import InvalidInput
from agentladder.ingest.detection import detect_adapter
from agentladder.ingest.service import MAPPINGS_DIR
from tests.conftest import corpus_path

CORPUS_ADAPTERS = [
    (("queue_log", "pbxware", "queue_log.csv"), "queue_log", None),
    (("cdr", "pbxware", "cdr.csv"), "asterisk-cdr", "asterisk_pbxware"),
    (("cdr", "freeswitch", "Master.csv"), "freeswitch-cdr", None),
    (("cdr", "freeswitch", "2001.csv"), "freeswitch-cdr", None),
    (("cdr", "freeswitch", "1008.csv"), "freeswitch-cdr", None),
    (("calls_table", "Call-Center-Dataset.csv"), "calls-table", "call_center_dataset"),
]


def detect(data: bytes, file_name: str = "upload.csv") -> tuple[str, str | None]:
    found = detect_adapter(head=data, file_name=file_name, mappings_dir=MAPPINGS_DIR)
    return found.adapter, found.mapping_name


@pytest.mark.parametrize(("parts", "adapter", "mapping"), CORPUS_ADAPTERS)
def test_each_corpus_file_gets_its_adapter(
    parts: tuple[str, ...], adapter: str, mapping: str | None
) -> None:
    assert detect(corpus_path(*parts).read_bytes()[:65536]) == (adapter, mapping)


def test_flat_queue_log_and_asterisk_master_csv() -> None:
    flat = (
        b"1760000000|c1|support|NONE|ENTERQUEUE||138|1\n"
        b"1760000003|c1|support|Agent/1|CONNECT|3|c1.2|2\n"
    )
    assert detect(flat, "queue_log") == ("queue_log", None)
    master = (
        b'"","1001","100","default","""Alice"" <1001>","SIP/1001-00000001","SIP/100-00000002",'
        b'"Dial","SIP/100,30","2026-10-08 09:00:00","2026-10-08 09:00:05",'
        b'"2026-10-08 09:01:05",65,60,"ANSWERED","DOCUMENTATION","1760000000.1",""\n'
    )
    assert detect(master, "Master.csv") == ("asterisk-cdr", None)


def test_a_chinese_daily_report_takes_the_shipped_mapping() -> None:
    header = (
        "日期,工号,登录时长,通话时长,保持时长,话后处理时长,示闲时长,示忙时长,"
        "接听量,呼入量,转接量,平均应答时长,外呼量,外呼接通量\n"
    )
    assert detect(header.encode("gb18030")) == ("daily-stats", "daily_stats_zh")


def test_a_mapping_naming_its_adapter_decides() -> None:
    found = detect_adapter(
        head=b"anything\n",
        file_name="x.csv",
        mappings_dir=MAPPINGS_DIR,
        mapping={"adapter": "tickets", "columns": {}},
    )
    assert (found.adapter, found.params) == ("tickets", {"adapter": "tickets"})


@pytest.mark.parametrize(
    "parts", [("queue_log", "pbxware", "queues.csv"), ("cdr", "freeswitch", "cdr_csv.conf.xml")]
)
def test_a_file_no_adapter_reads_is_refused_by_name(parts: tuple[str, ...]) -> None:
    with pytest.raises(InvalidInput) as refused:
        detect(corpus_path(*parts).read_bytes(), parts[-1])
    assert f"cannot tell which adapter reads {parts[-1]}" in str(refused.value)


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidInput):
        detect(b"", "empty.csv")
