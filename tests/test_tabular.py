"""Reading exported tables: both were bugs once (times dropped from XLSX cells; an apostrophe
taken for the quote character joined lines)."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook

from agentladder.tabular import TableFileError, decode_csv_bytes, read_table


def test_xlsx_datetime_cells_keep_their_time() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["时间", "日期"])
    sheet.append([datetime(2026, 10, 8, 9, 30, 5), datetime(2026, 10, 8)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "x.xlsx")
    assert table.rows == [(2, ["2026-10-08 09:30:05", "2026-10-08"])]


def test_apostrophes_do_not_join_lines() -> None:
    text = "agent,comment,score\nLi,'urgent',4\nWang,'s fine,5\nZhao,ok,3\n"
    table = read_table(text.encode(), "x.csv")
    assert [number for number, _ in table.rows] == [2, 3, 4]
    assert table.rows[1][1] == ["Wang", "'s fine", "5"]


def test_semicolon_and_tab_delimiters_are_still_found() -> None:
    assert read_table(b"a;b\n1;2\n", "x.csv").rows == [(2, ["1", "2"])]
    assert read_table(b"a\tb\n1\t2\n", "x.tsv").rows == [(2, ["1", "2"])]


@pytest.mark.parametrize("encoding", ["u\x00x", "no-such-codec", "utf-8\x00"])
def test_an_encoding_no_codec_has_is_a_file_error(encoding: str) -> None:
    with pytest.raises(TableFileError, match="cannot be read as"):
        decode_csv_bytes("工号\n100001\n".encode(), encoding)


def test_an_unrecognised_encoding_quotes_no_command_flag() -> None:
    # Shown on the import pages too, which have no command line: no "--encoding" there.
    with pytest.raises(TableFileError) as caught:
        decode_csv_bytes(bytes([0x81, 0x30, 0xFF, 0x00, 0xFE]) * 3, None)
    assert "--" not in caught.value.translated("zh_Hans")
    assert "--" not in str(caught.value)
