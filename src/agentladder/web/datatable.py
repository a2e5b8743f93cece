"""One table component for every list page: column groups, server-side sort, paging, a sticky
first column and the columns a user chose.

The page builds a `DataTable` (columns in the reader's language, the filters its links carry,
the sort, one page of rows) and renders it with the macros of `_datatable.html`. Sorting and
paging are query parameters, so they work without JavaScript; `static/datatable.js` adds the
column chooser, which remembers each user's choice per table in the browser.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import urlencode

Row = TypeVar("Row")

DEFAULT_PER_PAGE = 50
# How many page numbers the pager shows on each side of the current page.
PAGER_REACH = 2


@dataclass(frozen=True)
class ColumnGroup:
    """A header spanning related columns (a subsystem, a topic)."""

    key: str
    label: str  # in the reader's language


@dataclass(frozen=True)
class Column:
    """One column: its sort key, header and how it behaves."""

    key: str
    label: str  # in the reader's language
    group: str = ""  # the key of its ColumnGroup; "" for none
    numeric: bool = False  # right-aligned; sorted largest first on the first click
    sortable: bool = True
    shown: bool = True  # visible until the user chooses otherwise
    fixed: bool = False  # the row's identity: never hidden
    title: str = ""  # tooltip (a metric's definition)


@dataclass(frozen=True)
class PageSlice(Generic[Row]):
    """One page of rows and where it lies among all of them."""

    rows: list[Row]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """Pages in all (1 when there are no rows)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def first_row(self) -> int:
        """The 1-based number of the page's first row (0 when empty)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        """The 1-based number of the page's last row (0 when empty)."""
        return self.first_row + len(self.rows) - 1 if self.rows else 0


def paginate(rows: Sequence[Row], page: int, per_page: int = DEFAULT_PER_PAGE) -> PageSlice[Row]:
    """The rows of one page; a page past the last shows the last (a bookmarked page after the
    list got shorter still shows rows)."""
    page = shown_page(len(rows), page, per_page)
    start = (page - 1) * per_page
    return PageSlice(list(rows[start : start + per_page]), page, per_page, len(rows))


def shown_page(total: int, page: int, per_page: int = DEFAULT_PER_PAGE) -> int:
    """The page shown when `page` is asked of `total` rows: the last one for a page past it
    (rows read a page at a time use this, and `PageSlice` with their count)."""
    return min(max(page, 1), max(1, -(-total // per_page)))


def chosen_sort(sort: str | None, columns: Sequence[Column], default: str) -> str:
    """The sort key asked for when a sortable column has it, else the default."""
    keys = {column.key for column in columns if column.sortable}
    return sort if sort in keys else default


@dataclass(frozen=True)
class HeaderCell:
    """A cell of the group row: a group over its columns, or an ungrouped column's own header
    spanning both rows."""

    group: ColumnGroup | None
    columns: list[Column]


@dataclass
class DataTable:
    """A table as its macros render it."""

    table_id: str
    path: str  # the page's path; links keep it
    columns: list[Column]
    sort: str
    desc: bool
    groups: list[ColumnGroup] = field(default_factory=list)
    # The filters every link carries along (period, team...); empty values are dropped.
    query: dict[str, str] = field(default_factory=dict)
    page: PageSlice[object] | None = None
    # Where the browser keeps the chosen columns: per user and table.
    storage_key: str = ""

    def url(self, **changes: object) -> str:
        """This page's URL with the filters, sort and page, and some of them changed."""
        params: dict[str, object] = {**self.query, "sort": self.sort, "desc": self.desc}
        if self.page is not None:
            params["page"] = self.page.page
        params.update(changes)
        text = {
            key: ("true" if value else "false") if isinstance(value, bool) else str(value)
            for key, value in params.items()
            if value is not None and value != ""
        }
        return f"{self.path}?{urlencode(text)}"

    def sort_url(self, column: Column) -> str:
        """The link of a column's header: sorts by it, or flips the order when it sorts already;
        back to the first page."""
        desc = not self.desc if column.key == self.sort else column.numeric
        return self.url(sort=column.key, desc=desc, page=1)

    def aria_sort(self, column: Column) -> str:
        """The header's aria-sort value."""
        if column.key != self.sort:
            return "none"
        return "descending" if self.desc else "ascending"

    def page_url(self, number: int) -> str:
        """The link to another page of the same list."""
        return self.url(page=number)

    def export_url(self, fmt: str) -> str:
        """The link that downloads the whole list (every page) as CSV or XLSX."""
        return self.url(export=fmt, page=None)

    def header_cells(self) -> list[HeaderCell]:
        """The group row: runs of columns of one group under its header, the others alone."""
        by_key = {group.key: group for group in self.groups}
        cells: list[HeaderCell] = []
        for column in self.columns:
            group = by_key.get(column.group)
            if cells and group is not None and cells[-1].group == group:
                cells[-1].columns.append(column)
            else:
                cells.append(HeaderCell(group, [column]))
        return cells

    def pager_numbers(self) -> list[int | None]:
        """The page numbers the pager links, None where it skips some."""
        if self.page is None:
            return []
        last, current = self.page.pages, self.page.page
        wanted = {1, last, *range(current - PAGER_REACH, current + PAGER_REACH + 1)}
        numbers: list[int | None] = []
        for number in sorted(n for n in wanted if 1 <= n <= last):
            if numbers and numbers[-1] is not None and number - numbers[-1] > 1:
                numbers.append(None)
            numbers.append(number)
        return numbers

    def columns_json(self) -> str:
        """The columns as the chooser script reads them (order, group, default, fixed)."""
        return json.dumps(
            [
                {"key": c.key, "group": c.group, "shown": c.shown, "fixed": c.fixed}
                for c in self.columns
            ]
        )

    def chooser_groups(self) -> list[tuple[ColumnGroup | None, list[Column]]]:
        """The columns a user may hide, under their groups, for the chooser."""
        choosable = [c for c in self.columns if not c.fixed]
        result: list[tuple[ColumnGroup | None, list[Column]]] = []
        ungrouped = [c for c in choosable if not c.group]
        if ungrouped:
            result.append((None, ungrouped))
        for group in self.groups:
            members = [c for c in choosable if c.group == group.key]
            if members:
                result.append((group, members))
        return result
