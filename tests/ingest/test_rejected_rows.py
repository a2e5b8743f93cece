"""Rejected rows are kept with their line, field and reason, but without the caller numbers
their raw text may hold: numbers are stored only as salted hashes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.ingest import service as ingest_service
from agentladder.ingest.datasets import hide_phone_numbers
from agentladder.ingest.models import RejectedRow

mobile_numbers = st.from_regex(r"\A1[3-9]\d{9}\Z")
landlines = st.from_regex(r"\A0\d{2,3}\d{7,8}\Z")
international = st.from_regex(r"\A\+?86(1[3-9]\d{9}|\d{9,11})\Z")
unix_times = st.integers(min_value=1_000_000_000, max_value=3_999_999_999).map(str)
short_numbers = st.integers(min_value=0, max_value=999_999).map(str)  # extensions, durations


@given(
    number=st.one_of(mobile_numbers, landlines, international),
    at=unix_times,
    extension=short_numbers,
    separator=st.sampled_from(["|", ",", ";", " ", "\t", '"', "<"]),
)
def test_numbers_are_hidden_and_times_and_extensions_kept(
    number: str, at: str, extension: str, separator: str
) -> None:
    line = separator.join([f"{at}.17", "support", f"SIP/{extension}", number, at, extension])
    hidden = hide_phone_numbers(line)
    assert number.lstrip("+") not in hidden
    assert "*" * len(number) in hidden
    assert hidden.startswith(f"{at}.17{separator}support{separator}SIP/{extension}{separator}")
    assert hidden.endswith(f"{separator}{at}{separator}{extension}")
    assert len(hidden) == len(line)


def _rejected(settings: Settings, adapter: str, text: str) -> list[tuple[int, str, str]]:
    with session_scope(settings) as session:
        report = ingest_service.import_file(
            session=session,
            settings=settings,
            adapter=adapter,
            data=text.encode(),
            file_name=f"{adapter}.log",
        )
        assert report.rows_rejected == 1
    with session_scope(settings) as session:
        rows = session.scalars(select(RejectedRow).order_by(RejectedRow.line_no)).all()
        return [(row.line_no, row.reason, row.raw) for row in rows]


def test_a_rejected_queue_log_line_is_kept_without_the_caller(settings: Settings) -> None:
    text = (
        "1760000000|a1|support|NONE|ENTERQUEUE||13800000001|1\n"
        "x1760000101|s9|support|NONE|ENTERQUEUE||13912345678|1\n"
        "1760000010|a1|support|SIP/1001|CONNECT|10|x|3\n"
        "1760000100|a1|support|SIP/1001|COMPLETECALLER|10|90|1\n"
    )
    [(line_no, _reason, raw)] = _rejected(settings, "queue_log", text)
    assert line_no == 2
    assert raw == "x1760000101|s9|support|NONE|ENTERQUEUE||***********|1"


def test_a_rejected_cdr_line_is_kept_without_its_numbers(settings: Settings) -> None:
    good = (
        '"","13800000001","8001","from-pstn","""Zhang"" <13800000001>","SIP/trunk-00000001",'
        '"SIP/8001-00000002","Dial","SIP/8001","2025-10-09 09:00:00","2025-10-09 09:00:05",'
        '"2025-10-09 09:01:35",95,90,"ANSWERED","DOCUMENTATION","1760000000.1",""\n'
    )
    bad = good.replace('"2025-10-09 09:00:00"', '"yesterday"').replace("13800000001", "13912345678")
    [(line_no, reason, raw)] = _rejected(settings, "asterisk-cdr", good + bad)
    assert line_no == 2
    assert "13912345678" not in raw + reason
    assert '"***********","8001"' in raw
    assert "1760000000.1" in raw  # the uniqueid, a Unix time, stays for the diagnosis
