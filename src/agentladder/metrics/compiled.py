"""The metrics engine's DuckDB path as the product runs it: the catalog's queries compiled to
SQL once by Ibis (`engine.compiled_queries`) and kept in the data directory, then run by DuckDB
alone for any period, which reads the period's bounds from session variables.

The SQL names the data, not the files: views `al_<dataset>` over the stored Parquet, the
identity mapping `al_identities`, and what the probes found (`al_superseded`, `al_days`).
So the same queries serve any files of the same shape (which datasets hold files, what the
probes found, the thresholds, the catalog and this code), and a command that computes a period
loads neither Ibis nor SQLGlot once they are kept: compiling cost 0.3-0.5 s, loading Ibis as
much again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from dataclasses import asdict
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa

from agentladder.ingest import service as ingest_service
from agentladder.metrics.catalog import CATALOG, Kpi, MetricConfig
from agentladder.metrics.rows import (
    PERIOD_END,
    PERIOD_START,
    MetricRow,
    calendar_days,
    identity_table,
    metric_rows,
)

# Datasets every frame query may read, given a view even when nothing is stored.
ALWAYS_READ = ("interactions", "agent_states")
_SOURCES = ("engine.py", "catalog.py", "compiled.py", "rows.py")

# A query's SQL and the Arrow schema its result is cast to.
Compiled = dict[str, tuple[str, pa.Schema]]


@lru_cache(maxsize=1)
def _code_version() -> str:
    """What kept SQL depends on besides the data's shape: the code that writes it, and the
    DuckDB that runs it."""
    digest = hashlib.sha256(duckdb.__version__.encode())
    here = Path(__file__).parent
    for name in _SOURCES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


class KpiQueries:
    """The catalog's queries over one set of stored files, on a DuckDB connection of their own,
    ready for any period. `cache_dir` keeps compiled SQL between processes (None: in memory)."""

    def __init__(
        self,
        files: dict[str, list[Path]],
        identities: dict[str, str],
        config: MetricConfig,
        kpis: tuple[Kpi, ...] = CATALOG,
        cache_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.kpis = kpis
        self.cache_dir = cache_dir
        # Seconds of each query of the last period run, for the benchmarks' profile.
        self.timings: dict[str, float] = {}
        # One period at a time on the connection: its session variables are the period's.
        self._lock = threading.Lock()
        self.connection = duckdb.connect()
        self.connection.execute("SET TimeZone = 'UTC'")
        self.present = sorted(name for name, paths in files.items() if paths)
        for name in self.present:
            paths = [str(path) for path in files[name]]
            self.connection.read_parquet(paths).create_view(f"al_{name}")
        for name in ALWAYS_READ:
            if name not in self.present:
                empty = ingest_service.dataset_schema(name).empty_table()
                self.connection.register(f"al_{name}", empty)
        self.connection.register("al_identities", identity_table(identities))
        # The columns each view reads decide the SQL as much as which views there are.
        columns = {}
        for name in sorted({*self.present, *ALWAYS_READ}):
            view = self.connection.table(f"al_{name}")
            pairs = zip(view.columns, view.types, strict=True)
            columns[name] = [f"{column} {kind}" for column, kind in pairs]
        shape: dict[str, object] = {
            "datasets": self.present,
            "columns": columns,
            "config": asdict(config),
            "kpis": [kpi.id for kpi in kpis],
        }
        probes = self._compiled("probes", shape, None)
        answers = {name: self._result(sql, schema) for name, (sql, schema) in probes.items()}
        found = self._register_answers(answers)
        self.frames = self._compiled("frames", {**shape, "found": found}, answers)

    def _register_answers(self, answers: dict[str, pa.Table]) -> dict[str, bool]:
        """Register what the frames read of the probes' answers; what was found."""
        superseded = answers.get("superseded")
        has_superseded = superseded is not None and superseded.num_rows > 0
        if has_superseded:
            self.connection.register("al_superseded", superseded)
        span = answers["days"].to_pylist()[0] if "days" in answers else {}
        has_days = span.get("first") is not None
        if has_days:
            days = calendar_days(span["first"], span["last"], self.config.timezone)
            self.connection.register("al_days", days)
        has_acw = "acw" in answers and answers["acw"].num_rows > 0
        return {"superseded": has_superseded, "acw": has_acw, "days": has_days}

    def _compiled(
        self, kind: str, shape: dict[str, object], answers: dict[str, pa.Table] | None
    ) -> Compiled:
        """The kept SQL for this shape, else compiled by Ibis (and kept)."""
        text = json.dumps({"kind": kind, "shape": shape, "code": _code_version()}, sort_keys=True)
        key = hashlib.sha256(text.encode()).hexdigest()[:32]
        kept = self.cache_dir / f"{kind}-{key}.json" if self.cache_dir else None
        if kept is not None and kept.exists():
            try:
                stored = json.loads(kept.read_text())
                return {
                    name: (sql, pa.ipc.read_schema(pa.py_buffer(base64.b64decode(schema))))
                    for name, (sql, schema) in stored.items()
                }
            except (ValueError, TypeError, pa.ArrowInvalid):
                pass  # unreadable (a damaged disk, a hand edit): compiled again and replaced
        from agentladder.metrics.engine import compiled_queries  # Ibis loads here

        compiled = compiled_queries(self.connection, self.present, self.config, self.kpis, answers)
        if kept is not None:
            kept.parent.mkdir(parents=True, exist_ok=True)
            stored = {
                name: [sql, base64.b64encode(schema.serialize().to_pybytes()).decode()]
                for name, (sql, schema) in compiled.items()
            }
            # Written whole, then renamed: a reader never sees half a file.
            partial = kept.with_name(f"{kept.name}.{os.getpid()}.partial")
            partial.write_text(json.dumps(stored))
            partial.replace(kept)
        return compiled

    def _result(self, sql: str, schema: pa.Schema) -> pa.Table:
        return self.connection.sql(sql).to_arrow_table().cast(schema)

    def run(self, start: datetime, end: datetime) -> list[MetricRow]:
        """Every metric of the catalog for every subject with data in [start, end)."""
        with self._lock:
            # Our own datetimes, written as ISO text: no outside text reaches the SQL.
            for variable, bound in ((PERIOD_START, start), (PERIOD_END, end)):
                self.connection.execute(
                    f"SET VARIABLE {variable} = TIMESTAMPTZ '{bound.isoformat()}'"
                )
            results = {}
            for name, (sql, schema) in self.frames.items():
                started = time.perf_counter()
                results[name] = self._result(sql, schema)
                self.timings[name] = time.perf_counter() - started
        return metric_rows(results, self.kpis, self.config)


# The last queries built, with what they were built from: the demo and a period close compute
# many periods over the same files.
_last: tuple[object, KpiQueries] | None = None
_last_lock = threading.Lock()


def kpi_queries(
    files: dict[str, list[Path]],
    identities: dict[str, str],
    config: MetricConfig,
    cache_dir: Path | None,
) -> KpiQueries:
    """The queries for these files, identities and thresholds: the last ones again when
    nothing changed (each file's size and modification time included), else new ones."""
    global _last
    key = (
        tuple(
            (name, tuple(_file_key(path) for path in paths))
            for name, paths in sorted(files.items())
        ),
        tuple(sorted(identities.items())),
        config,
        cache_dir,
    )
    with _last_lock:
        if _last is None or _last[0] != key:
            _last = (key, KpiQueries(files, identities, config, cache_dir=cache_dir))
        return _last[1]


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path), stat.st_mtime_ns, stat.st_size)
