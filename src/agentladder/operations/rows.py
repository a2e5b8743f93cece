"""The portable database format: every table's rows as JSON lines, one file per table.

A line is a JSON array in the order of the table's columns; values JSON cannot hold (moments,
dates, decimals, bytes) are written as text and read back by the column's recorded kind, so
a dump made on PostgreSQL loads into SQLite and the other way round. Tables are dumped and
loaded in dependency order (referenced tables first), read from the database itself, so a
dump holds the schema revision it was made at, whatever this version's models say.

Moments are stored in UTC (`db.UtcDateTime`): a moment without a zone (SQLite keeps none) is
UTC, and a column without a zone receives UTC without one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, MetaData, Table, func, insert, select, text
from sqlalchemy.types import TypeEngine

from agentladder.errors import InvalidInput
from agentladder.operations.schemas import ColumnKind, DumpedTable

VERSION_TABLE = "alembic_version"
INSERT_BATCH_ROWS = 1000
# Called with (tables done, tables in all) as a dump or load goes.
TableProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class TableRows:
    """One table's rows from a dump or a database, columns in the order of each row."""

    name: str
    columns: list[str]
    rows: Iterable[tuple[Any, ...]]


def column_kind(column_type: TypeEngine[Any]) -> ColumnKind:
    """How values of a column type are written in a dump."""
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return "plain"
    kinds: list[tuple[type, ColumnKind]] = [
        (datetime, "datetime"),
        (date, "date"),
        (time, "time"),
        (timedelta, "interval"),
        (Decimal, "decimal"),
        (bytes, "bytes"),
        (dict, "json"),
        (list, "json"),
    ]
    for known, kind in kinds:
        if issubclass(python_type, known):
            return kind
    return "plain"


def _encode(value: Any, kind: ColumnKind) -> Any:
    if value is None or kind in ("plain", "json"):
        return value
    if kind in ("datetime", "date", "time"):
        return value.isoformat()
    if kind == "interval":
        return value.total_seconds()
    if kind == "decimal":
        return str(value)
    return base64.b64encode(value).decode("ascii")


def _decode(value: Any, kind: ColumnKind) -> Any:
    if value is None or kind in ("plain", "json"):
        return value
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "time":
        return time.fromisoformat(value)
    if kind == "interval":
        return timedelta(seconds=value)
    if kind == "decimal":
        return Decimal(value)
    return base64.b64decode(value)


def reflected_tables(connection: Connection) -> list[Table]:
    """The database's own tables in dependency order, without Alembic's version table."""
    metadata = MetaData()
    metadata.reflect(connection)
    return [table for table in metadata.sorted_tables if table.name != VERSION_TABLE]


def _table_rows(connection: Connection, table: Table) -> TableRows:
    ordered = select(table).order_by(*table.primary_key.columns)
    result = connection.execution_options(yield_per=5000).execute(ordered)
    names = [column.name for column in table.columns]
    return TableRows(table.name, names, (tuple(row) for row in result))


def read_tables(connection: Connection) -> Iterator[TableRows]:
    """Every table's rows straight from a database, in dependency order."""
    for table in reflected_tables(connection):
        yield _table_rows(connection, table)


def dump_tables(
    connection: Connection, folder: Path, progress: TableProgress | None = None
) -> list[DumpedTable]:
    """Write every table of the database as JSON lines into `folder`; return what was written."""
    tables = reflected_tables(connection)
    dumped: list[DumpedTable] = []
    for index, table in enumerate(tables):
        source = _table_rows(connection, table)
        kinds = [column_kind(column.type) for column in table.columns]
        path = folder / f"{table.name}.jsonl"
        count = 0
        with path.open("w", encoding="utf-8") as file:
            for row in source.rows:
                encoded = [_encode(value, kind) for value, kind in zip(row, kinds, strict=True)]
                file.write(json.dumps(encoded, ensure_ascii=False) + "\n")
                count += 1
        dumped.append(
            DumpedTable(
                name=table.name,
                path=path.name,
                rows=count,
                columns=dict(zip(source.columns, kinds, strict=True)),
            )
        )
        if progress is not None:
            progress(index + 1, len(tables))
    return dumped


def dumped_rows(table: DumpedTable, file: IO[bytes]) -> TableRows:
    """A dumped table's rows read back from its file, typed by the recorded column kinds."""
    kinds = list(table.columns.values())

    def rows() -> Iterator[tuple[Any, ...]]:
        for number, line in enumerate(file, start=1):
            try:
                values = json.loads(line)
            except ValueError as exc:
                raise InvalidInput(
                    "{path}, line {line}: not a row of the backup", path=table.path, line=number
                ) from exc
            if not isinstance(values, list) or len(values) != len(kinds):
                raise InvalidInput(
                    "{path}, line {line}: not a row of the backup", path=table.path, line=number
                )
            yield tuple(_decode(value, kind) for value, kind in zip(values, kinds, strict=True))

    return TableRows(table.name, list(table.columns), rows())


def _adapter(table: Table, columns: list[str]) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    """Turns a row into insert parameters, moments given the target column's zone handling."""
    zoned = [getattr(table.columns[name].type, "timezone", None) for name in columns]

    def adapt(row: tuple[Any, ...]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value, has_zone in zip(columns, row, zoned, strict=True):
            if isinstance(value, datetime):
                if has_zone and value.tzinfo is None:
                    value = value.replace(tzinfo=UTC)
                elif not has_zone and value.tzinfo is not None:
                    value = value.astimezone(UTC).replace(tzinfo=None)
            values[name] = value
        return values

    return adapt


def load_tables(
    connection: Connection,
    sources: Iterable[TableRows],
    *,
    revision: str | None,
    progress: TableProgress | None = None,
    table_count: int = 0,
) -> int:
    """Insert the rows into the (empty) tables of the connection's schema; return how many."""
    targets = {table.name: table for table in reflected_tables(connection)}
    loaded = 0
    for index, source in enumerate(sources):
        table = targets.get(source.name)
        missing = [name for name in source.columns if table is None or name not in table.columns]
        if table is None or missing:
            raise InvalidInput(
                "the backup's table {table} does not match schema revision {revision}",
                table=source.name,
                revision=revision or "-",
            )
        adapt = _adapter(table, source.columns)
        batch: list[dict[str, Any]] = []
        for row in source.rows:
            batch.append(adapt(row))
            if len(batch) == INSERT_BATCH_ROWS:
                connection.execute(insert(table), batch)
                loaded += len(batch)
                batch = []
        if batch:
            connection.execute(insert(table), batch)
            loaded += len(batch)
        if progress is not None:
            progress(index + 1, table_count)
    if connection.dialect.name == "postgresql":
        _advance_sequences(connection, list(targets.values()))
    return loaded


def _advance_sequences(connection: Connection, tables: list[Table]) -> None:
    """Set each serial column's sequence past the restored ids (rows came with their ids)."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = connection.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": f'"{table.name}"', "column": column.name},
            )
            if sequence is None:
                continue
            highest = connection.scalar(select(func.max(column)))
            connection.execute(
                text("SELECT setval(:sequence, :value, :called)"),
                {"sequence": sequence, "value": highest or 1, "called": highest is not None},
            )


def row_count(connection: Connection) -> int:
    """How many rows the database's tables hold (Alembic's version table aside)."""
    return sum(
        connection.scalar(select(func.count()).select_from(table)) or 0
        for table in reflected_tables(connection)
    )
