"""The table component's arithmetic: paging bounds, sort links, group headers, the pager."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from agentladder.web.datatable import (
    Column,
    ColumnGroup,
    DataTable,
    chosen_sort,
    paginate,
)

COLUMNS = [
    Column("subject", "No.", fixed=True),
    Column("name", "Name"),
    Column("calls", "Calls", group="volume", numeric=True),
    Column("offers", "Offers", group="volume", numeric=True, shown=False),
    Column("aht", "AHT", group="time", numeric=True),
    Column("why", "Why", sortable=False),
]
GROUPS = [ColumnGroup("volume", "Volume"), ColumnGroup("time", "Time")]


def _table(page: int = 1, total: int = 120, sort: str = "subject", desc: bool = False) -> DataTable:
    return DataTable(
        table_id="t",
        path="/kpis/agents",
        columns=COLUMNS,
        groups=GROUPS,
        sort=sort,
        desc=desc,
        query={"period": "2026-10", "team": ""},
        page=paginate(list(range(total)), page),
    )


def _params(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@pytest.mark.parametrize(
    ("page", "total", "expected_page", "first", "last", "rows"),
    [
        (1, 120, 1, 1, 50, 50),
        (3, 120, 3, 101, 120, 20),
        (4, 120, 3, 101, 120, 20),  # past the last page: the last page
        (999_999, 120, 3, 101, 120, 20),
        (0, 120, 1, 1, 50, 50),
        (1, 0, 1, 0, 0, 0),
        (2, 50, 1, 1, 50, 50),
        (2, 51, 2, 51, 51, 1),
    ],
)
def test_paginate_keeps_the_page_inside_the_list(
    page: int, total: int, expected_page: int, first: int, last: int, rows: int
) -> None:
    slice_ = paginate(list(range(total)), page)
    assert (slice_.page, slice_.first_row, slice_.last_row, len(slice_.rows)) == (
        expected_page,
        first,
        last,
        rows,
    )
    assert slice_.pages == max(1, -(-total // 50))


def test_an_unknown_or_unsortable_column_falls_back_to_the_default() -> None:
    assert chosen_sort("aht", COLUMNS, "subject") == "aht"
    assert chosen_sort("why", COLUMNS, "subject") == "subject"
    assert chosen_sort("drop_table", COLUMNS, "subject") == "subject"
    assert chosen_sort(None, COLUMNS, "subject") == "subject"


def test_sort_links_flip_the_order_and_go_back_to_the_first_page() -> None:
    table = _table(page=2, sort="aht", desc=True)
    calls, aht, name = COLUMNS[2], COLUMNS[4], COLUMNS[1]
    assert _params(table.sort_url(aht)) == {
        "period": "2026-10",
        "sort": "aht",
        "desc": "false",
        "page": "1",
    }
    assert _params(table.sort_url(calls))["desc"] == "true"  # numbers: largest first
    assert _params(table.sort_url(name))["desc"] == "false"  # text: A to Z
    assert table.aria_sort(aht) == "descending"
    assert table.aria_sort(calls) == "none"
    page_three = _params(table.page_url(3))
    assert (page_three["page"], page_three["sort"]) == ("3", "aht")
    export = _params(table.export_url("csv"))
    assert (export["export"], export["sort"]) == ("csv", "aht")
    assert "page" not in export


def test_group_headers_span_their_runs_of_columns() -> None:
    cells = [
        (cell.group.key if cell.group else None, [c.key for c in cell.columns])
        for cell in _table().header_cells()
    ]
    assert cells == [
        (None, ["subject"]),
        (None, ["name"]),
        ("volume", ["calls", "offers"]),
        ("time", ["aht"]),
        (None, ["why"]),
    ]
    chooser = [(g.key if g else None, [c.key for c in cs]) for g, cs in _table().chooser_groups()]
    assert chooser == [(None, ["name", "why"]), ("volume", ["calls", "offers"]), ("time", ["aht"])]
    described = json.loads(_table().columns_json())
    assert [c["key"] for c in described] == [c.key for c in COLUMNS]
    assert described[3] == {"key": "offers", "group": "volume", "shown": False, "fixed": False}


def test_the_pager_skips_far_pages() -> None:
    assert _table(page=1, total=120).pager_numbers() == [1, 2, 3]
    assert _table(page=10, total=1000).pager_numbers() == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert _table(page=1, total=0).pager_numbers() == [1]
