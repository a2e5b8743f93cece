"""What every adapter returns, and the registry of adapters by name."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentladder.config import Settings

if TYPE_CHECKING:
    import pyarrow as pa

    from agentladder.ingest.datasets import Stage, StagedRows


@dataclass
class Rejected:
    """A source row that could not be used: where it is, which field, why."""

    line_no: int
    field: str
    reason: str
    raw: str = ""


@dataclass
class ParsedFile:
    """One file turned into normalized rows, with every source row accounted for:
    rows_read = rows_accepted + len(rejected) + rows_ignored."""

    datasets: dict[str, pa.Table]
    rows_read: int
    rows_accepted: int
    rows_ignored: int
    rejected: list[Rejected] = field(default_factory=list)
    identities: Counter[str] = field(default_factory=Counter)
    notes: dict[str, Any] = field(default_factory=dict)
    # Rows that complete calls an earlier file left open (rotated logs), counted as ignored
    # until the importer finds the open call they belong to (see `ingest.stitching`).
    continuations: pa.Table | None = None
    # Datasets the adapter gives one row per key already (the importer need not check).
    unique_keys: set[str] = field(default_factory=set)
    # Datasets the adapter wrote as Parquet itself (given a `Stage`), instead of `datasets`.
    staged: dict[str, StagedRows] = field(default_factory=dict)
    # Of a growing file (`AdapterInput.growing`): the lines of what was still in progress at
    # its end, left out of the rows, to be read again before the lines that follow them.
    carry: bytes = b""

    def rows_of(self, dataset: str) -> int:
        """How many rows of a dataset the file gave, in `datasets` and staged."""
        table = self.datasets.get(dataset)
        staged = self.staged.get(dataset)
        return (table.num_rows if table is not None else 0) + (staged.rows if staged else 0)


@dataclass(frozen=True)
class AdapterInput:
    """What an adapter is given: the bytes (or the file), the name, the optional mapping, the
    settings."""

    data: bytes
    file_name: str
    settings: Settings
    mapping: dict[str, Any] | None = None
    encoding: str | None = None
    # The file on disk, for adapters that read large files from it (`data` is then empty).
    path: Path | None = None
    # Where an adapter may write its large datasets as Parquet itself; None: hand back Arrow.
    stage: Stage | None = None
    # The lines read so far of a log still being written: what is in progress at their end
    # (a call not ended yet, an agent still paused) is handed back as `ParsedFile.carry`.
    growing: bool = False


Adapter = Callable[[AdapterInput], ParsedFile]


@dataclass(frozen=True)
class AdapterInfo:
    """An adapter as the CLI and the imports page list it."""

    name: str
    parser: str  # module:function, loaded when a file is parsed
    needs_mapping: bool
    description: str
    # Reads `AdapterInput.path` itself, so a file of gigabytes is never held in memory.
    reads_path: bool = False

    def parse(self, source: AdapterInput) -> ParsedFile:
        """Parse one file with this adapter."""
        module, function = self.parser.split(":")
        adapter: Adapter = getattr(import_module(module), function)
        return adapter(source)
