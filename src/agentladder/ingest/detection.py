"""Which adapter reads a file, told from its first lines, so that a person uploading an export
need not know the name of its format.

Rules, first match wins:
* a mapping that names its adapter (`adapter:` in every shipped mapping) decides;
* a header row: PBXware's or a realtime table's queue_log columns; four or more Asterisk CDR
  columns (PBXware's `AcctId`/`tenant` export takes the shipped PBXware mapping); every column
  title of a shipped mapping of a table adapter (the one naming most columns wins);
* no header (judged by most of the first lines): `epoch|callid|queue|agent|EVENT` lines are a
  flat queue_log; quoted CSV lines with
  the start, answer and end stamps and a disposition where cdr_csv writes them are an Asterisk
  Master.csv; with the stamps and a UUID where mod_cdr_csv's default template writes them, a
  FreeSWITCH CDR.
Anything else is refused with the list of adapters to choose from: a guess that picks the wrong
adapter would store wrong calls.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from agentladder.errors import InvalidInput
from agentladder.i18n import N_
from agentladder.ingest import cdr, queue_log

# Enough for a header and a few records of any format we read; large files are never read whole.
HEAD_BYTES = 64 * 1024
LINES_LOOKED_AT = 5
PBXWARE_CDR_COLUMNS = {"acctid", "tenant"}
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_FLAT_QUEUE_LOG = re.compile(r"^\d{9,11}(\.\d+)?\|[^|]*\|[^|]*\|[^|]*\|[A-Z_]+")
_DISPOSITIONS = {*cdr.DISPOSITIONS, "NO ANSWER"}


@dataclass(frozen=True)
class Detection:
    """The adapter a file is read with, the shipped mapping it needs (if any), and why: `reason`
    is an English msgid with `params`, translated on display."""

    adapter: str
    mapping_name: str | None
    reason: str
    params: dict[str, str] = field(default_factory=dict)


@cache
def _shipped_mappings(folder: Path) -> tuple[tuple[str, str, frozenset[str]], ...]:
    """(name, adapter, column titles) of each shipped mapping that reads columns by title."""
    found = []
    for path in sorted(folder.glob("*.yaml")):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        columns = loaded.get("columns") if isinstance(loaded, dict) else None
        if not isinstance(columns, dict) or not isinstance(loaded.get("adapter"), str):
            continue
        titles = frozenset(
            _fold(title) for title in columns.values() if isinstance(title, str) and title.strip()
        )
        if titles:
            found.append((path.stem, loaded["adapter"], titles))
    return tuple(found)


def _fold(text: str) -> str:
    return text.strip().strip('"').casefold()


def _text(head: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return head.decode(encoding)
        except UnicodeDecodeError:
            continue
    # The head may end inside a character: what decodes is enough to judge by.
    return head.decode("utf-8-sig", errors="replace")


def _xlsx_header(path: Path) -> list[str]:
    """The first row of an XLSX workbook's first sheet (read-only: rows are not loaded)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return []
    try:
        sheet = workbook.worksheets[0]
        first = next(sheet.iter_rows(max_row=1, values_only=True), ())
        return ["" if cell is None else str(cell) for cell in first]
    finally:
        workbook.close()


def _lines(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip()]
    # The last line of a head cut mid-file may be incomplete.
    return lines[:LINES_LOOKED_AT] if len(lines) > 1 else lines


def _by_header(header: list[str], mappings_dir: Path) -> Detection | None:
    names = {_fold(cell) for cell in header}
    layout = queue_log.detect_layout(",".join(header).encode())
    if layout == "pbxware":
        return Detection(
            "queue_log", None, N_("the header names the columns of a PBXware queue_log export")
        )
    if layout == "table":
        return Detection(
            "queue_log", None, N_("the header names the columns of a queue_log table export")
        )
    known_cdr = set(cdr.ASTERISK_COLUMNS) | set(cdr.ASTERISK.header_aliases)
    if len(names & known_cdr) >= cdr.HEADER_MIN_KNOWN and "disposition" in names:
        if names >= PBXWARE_CDR_COLUMNS:
            return Detection(
                "asterisk-cdr",
                "asterisk_pbxware",
                N_("the header names the columns of a PBXware CDR export"),
            )
        return Detection("asterisk-cdr", None, N_("the header names Asterisk CDR columns"))
    matches = [
        (len(titles), name, adapter)
        for name, adapter, titles in _shipped_mappings(mappings_dir)
        if titles <= names and adapter not in {"asterisk-cdr", "freeswitch-cdr"}
    ]
    if matches:
        _, name, adapter = max(matches)
        return Detection(
            adapter,
            name,
            N_("the header has every column of the shipped mapping {mapping}"),
            {"mapping": name},
        )
    return None


def _most(matches: Iterable[bool]) -> bool:
    """More than half: one malformed line among the first few does not hide the format."""
    flags = list(matches)
    return sum(flags) * 2 > len(flags)


def _by_records(lines: list[str]) -> Detection | None:
    if lines and _most(bool(_FLAT_QUEUE_LOG.match(line)) for line in lines):
        return Detection(
            "queue_log",
            None,
            N_("the lines are queue_log events (time|call id|queue|agent|event)"),
        )
    rows = [next(csv.reader(io.StringIO(line), skipinitialspace=True), []) for line in lines]
    if not rows:
        return None

    def asterisk(cells: list[str]) -> bool:
        return (
            len(cells) >= 16
            and bool(_STAMP.match(cells[9]))
            and bool(_STAMP.match(cells[11]))
            and cells[14].upper() in _DISPOSITIONS
        )

    def freeswitch(cells: list[str]) -> bool:
        return len(cells) >= 11 and bool(_STAMP.match(cells[4])) and bool(_UUID.match(cells[10]))

    if _most(asterisk(cells) for cells in rows):
        return Detection(
            "asterisk-cdr", None, N_("the lines are Asterisk cdr_csv records (Master.csv)")
        )
    if _most(freeswitch(cells) for cells in rows):
        return Detection("freeswitch-cdr", None, N_("the lines are FreeSWITCH mod_cdr_csv records"))
    return None


def detect_adapter(
    *,
    head: bytes,
    file_name: str,
    mappings_dir: Path,
    path: Path | None = None,
    mapping: dict[str, Any] | None = None,
) -> Detection:
    """The adapter for a file from its first bytes (and, for a workbook, its path); a mapping
    that names its adapter decides. InvalidInput when nothing fits."""
    named = mapping.get("adapter") if mapping else None
    if isinstance(named, str) and named.strip():
        return Detection(
            named.strip(), None, N_("the mapping names its adapter {adapter}"), {"adapter": named}
        )
    if head.startswith(b"PK\x03\x04"):
        header = _xlsx_header(path) if path is not None else []
        found = _by_header(header, mappings_dir) if header else None
    else:
        lines = _lines(_text(head[:HEAD_BYTES]))
        header = next(csv.reader(io.StringIO(lines[0]))) if lines else []
        found = _by_header(header, mappings_dir) or _by_records(lines)
    if found is None:
        raise InvalidInput(
            "cannot tell which adapter reads {file}: choose the adapter (and, for a table, "
            "its mapping)",
            file=Path(file_name).name,
        )
    return found
