"""Batch input and output for ``isf group``: episodes from CSV (UTF-8 or ISO-8859-1), JSON Lines or
Parquet, results to the same formats. Every input row gives exactly one record; a row that cannot be
read whole still gives one, carrying a problem that names its row, field and reason."""

from __future__ import annotations

import codecs
import csv
import importlib
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from isfdsl.runtime import csv_reader

FORMATS = ("csv", "jsonl", "parquet", "norddrg-string")


@dataclass(slots=True)
class Record:
    """One input row: its number (1 = the first data row), its values and what was wrong with it."""

    row: int
    values: dict[str, object]
    problems: list[str] = field(default_factory=list)


class BatchError(Exception):
    """The input or output cannot be used at all (missing file, unknown format, missing pyarrow)."""


def detect_format(path: str, given: str | None) -> str:
    if given:
        return given
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"csv": "csv", "txt": "csv", "tsv": "csv", "jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl",
           "parquet": "parquet", "pq": "parquet"}.get(suffix)
    if fmt is None:
        raise BatchError(f"{path}: cannot tell the format from the extension; use --input-format / --output-format")
    return fmt


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` when the start of the file is valid UTF-8, else ``iso-8859-1``."""
    with path.open("rb") as f:
        sample = f.read(1 << 16)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "iso-8859-1"
    return "utf-8-sig"


class _Counting(io.RawIOBase):
    """A binary file that counts the bytes read (for the progress bar)."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.f.read(len(b))
        b[: len(data)] = data
        self.count += len(data)
        return len(data)


@dataclass(slots=True)
class Reader:
    """Records from one input file, with its column names, size in bytes and bytes read so far."""

    columns: list[str]
    records: Iterator[Record]
    size: int
    position: Callable[[], int]
    #: whether ``columns`` are the file's own (a CSV header, a Parquet schema), not guessed from a record
    header: bool = False
    #: the CSV field separator used (None for other formats)
    delimiter: str | None = None


def read(path: str, fmt: str | None = None, encoding: str = "auto", delimiter: str = "auto") -> Reader:
    """Open ``path`` and stream its records. A CSV file's ``delimiter`` is read from its header line
    when ``auto`` (a tab for ``.tsv``)."""
    p = Path(path)
    if not p.is_file():
        raise BatchError(f"{path}: no such file")
    fmt = detect_format(path, fmt)
    size = p.stat().st_size
    if fmt == "parquet":
        return _read_parquet(p, size)
    enc = detect_encoding(p) if encoding == "auto" else encoding
    raw = _Counting(p.open("rb"))
    text = io.TextIOWrapper(io.BufferedReader(raw), encoding=enc, newline="")
    if fmt == "norddrg-string":
        return Reader(["string"], _grouping_strings(text), size, lambda: raw.count)
    if fmt == "csv":
        return _read_csv(text, delimiter, p.suffix.lower() == ".tsv", size, raw)
    return Reader([], _jsonl(text), size, lambda: raw.count)


def _read_csv(text: io.TextIOWrapper, delimiter: str, tsv: bool, size: int, raw: _Counting) -> Reader:
    try:
        reader, delimiter = csv_reader(text, "\t" if tsv and delimiter == "auto" else delimiter)
        header: list[str] = next(reader, [])
    except (csv.Error, UnicodeDecodeError) as exc:
        raise BatchError(f"cannot read the header row: {exc}") from None
    return Reader(list(header), _csv_records(reader, header, text), size, lambda: raw.count, True, delimiter)


def _csv_records(reader: Any, header: Sequence[str], text: io.TextIOWrapper) -> Iterator[Record]:
    n = 0
    with text:
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                n += 1
                yield Record(n, {}, [f"row {n} (line {reader.line_num}): unreadable CSV: {exc}"])
                continue
            except UnicodeDecodeError as exc:
                raise BatchError(f"row {n + 1}: not {text.encoding} text ({exc.reason}); try --encoding iso-8859-1") from None
            n += 1
            record = Record(n, dict(zip(header, fields)))
            if len(fields) != len(header):
                record.problems.append(f"row {n} (line {reader.line_num}): {len(fields)} fields where the header has {len(header)}")
            yield record


def _grouping_strings(text: io.TextIOWrapper) -> Iterator[Record]:
    """NordDRG positional grouping strings, one per line; a first line ``DRGGrupperingsstreng`` is a header."""
    from isfdsl.importers.norddrg import FIELDS, parse_grouping_string

    n = 0
    with text:
        for lineno, line in enumerate(text, 1):
            line = line.rstrip("\r\n")
            if lineno == 1 and line.strip() == "DRGGrupperingsstreng":
                continue
            if not line.strip():
                continue
            n += 1
            record = Record(n, {"string": line, **parse_grouping_string(line)})
            fields = line.count(",") + 1
            if fields < FIELDS - 1:
                record.problems.append(f"row {n} (line {lineno}): {fields} fields where a grouping string has {FIELDS}")
            yield record


def _jsonl(text: io.TextIOWrapper) -> Iterator[Record]:
    n = 0
    with text:
        for line in text:
            if not line.strip():
                continue
            n += 1
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Record(n, {}, [f"row {n}: not valid JSON: {exc.msg} at column {exc.colno}"])
                continue
            except (ValueError, RecursionError) as exc:  # nested too deeply, an integer of over 4,300 digits
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
                yield Record(n, {}, [f"row {n}: not valid JSON: {reason}"])
                continue
            if not isinstance(value, dict):
                yield Record(n, {}, [f"row {n}: a JSON object was expected, not {type(value).__name__}"])
                continue
            yield Record(n, value)


def _pyarrow(what: str) -> Any:
    try:
        return importlib.import_module(what)
    except ImportError:
        raise BatchError("Parquet needs pyarrow: pip install 'isfdsl[arrow]'") from None


def _read_parquet(path: Path, size: int) -> Reader:
    pq = _pyarrow("pyarrow.parquet")
    f = pq.ParquetFile(path)
    done = [0]
    total_rows = f.metadata.num_rows or 1

    def records() -> Iterator[Record]:
        n = 0
        for batch in f.iter_batches(batch_size=8192):
            for values in batch.to_pylist():
                n += 1
                yield Record(n, values)
            done[0] = n
    return Reader(list(f.schema_arrow.names), records(), size, lambda: size * done[0] // total_rows, True)


# ---------------------------------------------------------------------- output


def cell(value: object) -> str:
    """A value as one CSV cell: lists as space-separated items, absent as empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(cell(v) for v in value)
    return str(value)


class Writer:
    """Writes output rows (dicts) to CSV, JSON Lines or Parquet."""

    def __init__(self, path: str, fmt: str | None, columns: list[str]) -> None:
        self.fmt = detect_format(path, fmt)
        self.columns = columns
        self.path = path
        self.pending: list[dict[str, object]] = []
        if self.fmt == "parquet":
            self.pa = _pyarrow("pyarrow")
            self.pq = _pyarrow("pyarrow.parquet")
            self.parquet: Any = None
            return
        self.file = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 -- closed in close()
        if self.fmt == "csv":
            self.csv = csv.writer(self.file, lineterminator="\n")
            self.csv.writerow(columns)

    def write(self, row: dict[str, object]) -> None:
        if self.fmt == "csv":
            self.csv.writerow([cell(row.get(c)) for c in self.columns])
        elif self.fmt == "jsonl":
            self.file.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        else:
            self.pending.append({c: cell(row.get(c)) if c not in ("row",) else row.get(c) for c in self.columns})
            if len(self.pending) >= 8192:
                self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        schema = self.pa.schema([(c, self.pa.int64() if c == "row" else self.pa.string()) for c in self.columns])
        table = self.pa.Table.from_pylist(self.pending, schema=schema)
        if self.parquet is None:
            self.parquet = self.pq.ParquetWriter(self.path, schema)
        self.parquet.write_table(table)
        self.pending = []

    def close(self) -> None:
        if self.fmt == "parquet":
            self._flush()
            if self.parquet is None:  # no rows: still write a file with the schema
                schema = self.pa.schema([(c, self.pa.int64() if c == "row" else self.pa.string()) for c in self.columns])
                self.pq.write_table(self.pa.Table.from_pylist([], schema=schema), self.path)
            else:
                self.parquet.close()
        else:
            self.file.close()
