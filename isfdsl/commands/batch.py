"""Batch input and output for ``isf group``: episodes from CSV (UTF-8, Windows-1252 or ISO-8859-1),
JSON Lines or Parquet, results to the same formats. Every physical input record gives exactly one
record (blank lines none); a record that cannot be read whole still gives one, carrying a problem
that names its row, field and reason. Outputs are written beside their target and renamed into place
only on success.

One piece (about 640 lines): the file formats of ``isf group``, ``isf compare`` and ``isf group-pathways``,
read and written — the reading half (to "output") and the writing half share the formats, their
detection from a file's name and the lazy import of pyarrow, and a run's output keeps its input's row
numbers and columns. The grouping itself is :mod:`isfdsl.commands.group`, the worker processes
:mod:`isfdsl.commands.parallel`.
"""

from __future__ import annotations

import codecs
import csv
import importlib
import io
import json
import os
import signal
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Self

from isfdsl.files import Replacement
from isfdsl.runtime.io import CsvRow, csv_rows, sniff_encoding, text_lines

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
    """The encoding of a file from its first 64 KiB (:func:`isfdsl.runtime.io.sniff_encoding`)."""
    with path.open("rb") as f:
        return sniff_encoding(f.read(1 << 16))


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

    def close(self) -> None:
        self.f.close()
        super().close()


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
    #: Parquet: the records as chunks of about N rows, each an :class:`ArrowRows` that becomes records
    #: where it is iterated (in a worker); read them instead of ``records``, not as well
    parts: Callable[[int], Iterator[ArrowRows]] | None = None


def read(path: str, fmt: str | None = None, encoding: str = "auto", delimiter: str = "auto") -> Reader:
    """Open ``path`` and stream its records, one per physical record: blank lines are none; a line
    that cannot be read whole (a stray quote, bytes not of the encoding, broken JSON) is one record
    with its problem. A CSV file's ``delimiter`` is read from its header line when ``auto`` (a tab
    for ``.tsv``)."""
    p = Path(path)
    if not p.is_file():
        raise BatchError(f"{path}: no such file")
    fmt = detect_format(path, fmt)
    try:
        size = p.stat().st_size
        if fmt == "parquet":
            return _read_parquet(p, size)
        enc = detect_encoding(p) if encoding == "auto" else encoding
        codecs.lookup("utf-8" if enc == "auto" else enc)
        raw = _Counting(p.open("rb"))
    except LookupError:
        raise BatchError(f"unknown encoding {encoding!r}") from None
    except OSError as exc:
        raise BatchError(f"cannot read {path}: {exc.strerror or exc}") from None
    data = io.BufferedReader(raw)
    if fmt == "norddrg-string":
        return Reader(["string"], _grouping_strings(data, enc), size, lambda: raw.count)
    if fmt == "csv":
        tab = "\t" if p.suffix.lower() == ".tsv" and delimiter == "auto" else delimiter
        header, used, rows = csv_rows(text_lines(data, enc, universal=True), tab)
        return Reader(list(header), _csv_records(rows, header, data), size, lambda: raw.count, True, used)
    return Reader([], _jsonl(data, enc), size, lambda: raw.count)


def _csv_records(rows: Iterator[CsvRow], header: Sequence[str], data: IO[bytes]) -> Iterator[Record]:
    width = len(header)
    with data:
        for n, line, fields, problem in rows:
            record = Record(n, dict(zip(header, fields)))
            if problem or len(fields) != width:
                where = f"row {n} (line {line})"
                if problem:
                    record.problems.append(f"{where}: {problem}")
                if len(fields) != width:
                    shape = f"{len(fields)} fields where the header has {width}"
                    record.problems.append(shape if problem else f"{where}: {shape}")
            yield record


def _grouping_strings(data: IO[bytes], encoding: str) -> Iterator[Record]:
    """NordDRG positional grouping strings, one per line; a first line ``DRGGrupperingsstreng`` is a header."""
    from isfdsl.inputs.grouping_string import FIELDS, parse_grouping_string

    n = 0
    with data:
        for lineno, text, problem in text_lines(data, encoding, universal=True):
            line = text.rstrip("\r\n")
            if lineno == 1 and line.strip() == "DRGGrupperingsstreng":
                continue
            if not line.strip():
                continue
            n += 1
            record = Record(n, {"string": line, **parse_grouping_string(line)})
            if problem:
                record.problems.append(f"row {n} (line {lineno}): {problem}")
            fields = line.count(",") + 1
            if fields < FIELDS - 1:
                record.problems.append(f"row {n} (line {lineno}): {fields} fields where a grouping string has {FIELDS}")
            yield record


def json_int(text: str) -> int | str:
    """A JSON integer; one Python will not read (more than 4,300 digits) stays its text, so that it is
    the invalid value it is (no attribute takes an integer of more than 28 digits) and its record keeps
    its row and other values."""
    try:
        return int(text)
    except ValueError:
        return text


def _jsonl(data: IO[bytes], encoding: str) -> Iterator[Record]:
    """One record per line that is not blank; lines end at line feeds only (JSON allows a carriage
    return between tokens)."""
    n = 0
    with data:
        for lineno, text, problem in text_lines(data, encoding):
            if not text.strip():
                continue
            n += 1
            where = f"row {n}" if n == lineno else f"row {n} (line {lineno})"
            found = [f"{where}: {problem}"] if problem else []
            try:
                value = json.loads(text, parse_int=json_int)
            except json.JSONDecodeError as exc:
                yield Record(n, {}, [*found, f"{where}: not valid JSON: {exc.msg} at column {exc.colno}"])
                continue
            except (ValueError, RecursionError) as exc:  # nested too deeply
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
                yield Record(n, {}, [*found, f"{where}: not valid JSON: {reason}"])
                continue
            if not isinstance(value, dict):
                yield Record(n, {}, [*found, f"{where}: a JSON object was expected, not {type(value).__name__}"])
                continue
            yield Record(n, value, found)


def _pyarrow(what: str) -> Any:
    try:
        return importlib.import_module(what)
    except ImportError:
        raise BatchError("Parquet needs pyarrow: pip install 'isfdsl[arrow]'") from None


#: One record as it crosses to a worker process: its row number, values and the problems found reading it.
Item = tuple[int, dict[str, object], list[str]]


@dataclass(slots=True)
class ArrowRows:
    """Records read from Parquet as one Arrow record batch, the first numbered ``first``: a chunk that
    crosses to a worker as Arrow buffers and becomes records (``(row, values, problems)``) there."""

    first: int
    batch: Any

    def __len__(self) -> int:
        return int(self.batch.num_rows)

    def __iter__(self) -> Iterator[Item]:
        for n, values in enumerate(self.batch.to_pylist(), self.first):
            yield n, values, []

    def episodes(self, attributes: Collection[str] | None = None) -> list[dict[str, object]]:
        """The values of each record; only those of ``attributes`` when given (the columns that are no
        attribute left out: a grouper would leave them out anyway)."""
        part = self.batch
        names = part.schema.names
        if attributes is not None and len(set(names)) == len(names):  # a column named twice: as to_pylist reads it
            part = part.select([k for k, name in enumerate(names) if name in attributes])
        return list(part.to_pylist())


def arrow_column(part: Any, name: str) -> bool:
    """Whether the record batch ``part`` (None: not Arrow) has one column called ``name``."""
    return part is not None and part.schema.get_field_index(name) >= 0


def _read_parquet(path: Path, size: int) -> Reader:
    pq = _pyarrow("pyarrow.parquet")
    try:
        f = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 -- pyarrow raises several kinds for a file it cannot read
        raise BatchError(f"{path}: not a Parquet file pyarrow can read ({exc})") from None
    done = [0]
    total_rows = f.metadata.num_rows or 1

    def parts(rows: int) -> Iterator[ArrowRows]:
        batches = f.iter_batches(batch_size=rows)
        while True:
            try:
                batch = next(batches, None)
            except Exception as exc:  # noqa: BLE001 -- as above: a damaged row group
                raise BatchError(f"{path}: cannot read the rows after row {done[0]:,} ({exc})") from None
            if batch is None:
                return
            yield ArrowRows(done[0] + 1, batch)
            done[0] += batch.num_rows

    def records() -> Iterator[Record]:
        for part in parts(8192):
            for n, values, _ in part:
                yield Record(n, values)
    return Reader(list(f.schema_arrow.names), records(), size, lambda: size * done[0] // total_rows, True, parts=parts)


# ---------------------------------------------------------------------- output


class Stopped(Exception):
    """The run stopped part-way (the input damaged past its start, the output not writable): nothing
    of the output is left behind, and the message says what became of the target (see :func:`fate`)."""


class OutputError(Stopped):
    """The output could not be written (a missing or read-only folder, a full disk)."""


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGTERM, SIGHUP): raised like Ctrl-C, so that the output is
    cleaned up (a BaseException: the grouper's catch-all for defects must not swallow it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def interruptible() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise :class:`Interrupted` (in the main thread only; elsewhere
    signals keep their handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def stop(signum: int, _frame: object) -> None:
        raise Interrupted(signum)
    kept = {sig: signal.signal(sig, stop) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)


_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def check_output(out: str, inputs: Sequence[str]) -> None:
    """Refuse an output that is one of the inputs (the same file, also through a symbolic or hard
    link): writing it would destroy the input as it is read."""
    for path in inputs:
        try:
            same = os.path.samefile(out, path)
        except OSError:  # one of them does not exist (yet)
            continue
        if same:
            raise BatchError(f"the output {out} is the input file {path}: write the results to another file "
                             "(the input would be overwritten while it is read)")


def fate(out: str) -> str:
    """What a run that stopped left at ``out``: the previous file (outputs are renamed into place only
    on success), or nothing."""
    target = Path(out)
    if target.exists() and not target.is_file():
        return f"the output to {out} is incomplete"
    return f"{out} is unchanged (the previous file is kept)" if target.exists() else f"no {out} was written"


class Output:
    """A file written under a temporary name in its target's folder and renamed onto the target only
    by :meth:`commit` (a :class:`isfdsl.files.Replacement`), so that a run that fails or is stopped
    leaves the previous file, or none. A target that exists and is no regular file (``/dev/stdout``, a
    pipe) is written directly. As a context manager: committed on success, removed on any exception."""

    def __init__(self, path: str, inputs: Sequence[str] = ()) -> None:
        check_output(path, inputs)
        self.path = path
        target = Path(os.path.realpath(path))  # a symbolic link: the file it points to is replaced
        self.target = target
        if target.is_dir():
            raise OutputError(f"cannot write {path}: it is a folder")
        self.replacement: Replacement | None = None
        self.file: IO[str] | None = None
        self.closed = False
        try:
            if target.exists() and not target.is_file():
                self.fd = os.open(target, os.O_WRONLY | os.O_APPEND)
                return
            self.replacement = Replacement(target)
            self.fd = self.replacement.fd
        except FileNotFoundError:
            raise OutputError(f"cannot write {path}: the folder {target.parent} does not exist") from None
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc} ({target.parent}); {fate(path)}") from None

    @property
    def writing(self) -> str:
        """The path bytes go to until the commit."""
        temporary = self.replacement.temporary if self.replacement is not None else None
        return str(temporary or self.target)

    def text(self) -> IO[str]:
        """The file as UTF-8 text (closed by :meth:`commit` or :meth:`abort`)."""
        if self.replacement is not None:
            self.file = self.replacement.text()
        else:
            self.file = open(self.fd, "w", encoding="utf-8", newline="")  # noqa: SIM115 -- closed in commit()
        return self.file

    def commit(self) -> None:
        """Flush the file to disk (also what pyarrow wrote through the path) and rename it onto the target."""
        try:
            if self.replacement is not None:
                self.closed = True
                self.replacement.commit(sync=True)
                return
            if self.file is not None:
                self.file.flush()
            self._close()
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}; {fate(self.path)}") from None

    def abort(self) -> None:
        """Close and remove the temporary file: the target stays as it was."""
        if self.replacement is not None:
            self.closed = True
            self.replacement.abort()
            return
        with suppress(OSError, ValueError):
            self._close()

    def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.file is not None:
            self.file.close()  # also closes fd
        else:
            os.close(self.fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()


def cell(value: object) -> str:
    """A value as one CSV cell: lists as space-separated items, absent as empty."""
    if type(value) is str:  # the common case first
        return value
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(cell(v) for v in value)
    return str(value)


#: Rows per row group of a Parquet output.
ROW_GROUP = 8192


class Layout:
    """How output rows (dicts) become what the writer stores: a row of CSV or JSON Lines becomes its
    line of text, a row of Parquet its values in column order (money as ``Decimal``); a chunk of rows
    (:meth:`part`) becomes their lines joined, or an Arrow record batch. Picklable, so that worker
    processes lay out their chunks (:mod:`isfdsl.commands.parallel`) and the parent only stores them."""

    def __init__(self, fmt: str, columns: Sequence[str], decimals: Sequence[str] = (), schema: Any = None) -> None:
        self.fmt = fmt
        self.columns = list(columns)
        self.decimals = list(decimals)
        #: Parquet: the output's Arrow schema
        self.schema = schema
        self._line: io.StringIO | None = None
        self._csv: Any = None
        #: Parquet: each column with what makes its value (``row`` stays an integer, money a ``Decimal``)
        self._plan: list[tuple[str, Callable[[object], object]]] = [
            (c, _same if c == "row" else _decimal if c in self.decimals else cell) for c in self.columns]

    def __getstate__(self) -> tuple[str, list[str], list[str], Any]:
        return self.fmt, self.columns, self.decimals, self.schema

    def __setstate__(self, state: tuple[str, list[str], list[str], Any]) -> None:
        self.__init__(*state)  # type: ignore[misc]

    def header(self) -> str:
        """The CSV header line."""
        return self._csv_line(self.columns)

    def prepare(self, row: dict[str, object]) -> Any:
        """The row as stored: a line of text (CSV, JSON Lines) or a tuple of values (Parquet)."""
        if self.fmt == "csv":
            return self._csv_line([cell(row.get(c)) for c in self.columns])
        if self.fmt == "jsonl":
            return json.dumps(row, ensure_ascii=False, default=str) + "\n"
        return tuple([put(row.get(c)) for c, put in self._plan])

    def part(self, rows: Sequence[dict[str, object]]) -> Any:
        """A chunk of rows as stored by :meth:`Writer.put`: their lines as one text, or (Parquet) one
        Arrow record batch."""
        if self.fmt != "parquet":
            return "".join(map(self.prepare, rows))
        return self.batch([self.prepare(row) for row in rows])

    def part_of_columns(self, values: Mapping[str, Any]) -> Any:
        """Parquet: a chunk given column by column as one Arrow record batch, the same as :meth:`part`
        of its rows. Each column of ``values`` is what :meth:`prepare` takes of each row (row numbers,
        money as ``Decimal``, any value as text), or an Arrow array of the input (a Parquet column
        passed through), made text the way :func:`cell` makes its values text."""
        pa = importlib.import_module("pyarrow")
        arrays = [_arrow_array(pa, values[f.name], f.type, put) for f, (_, put) in zip(self.schema, self._plan, strict=True)]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def batch(self, tuples: Sequence[tuple[object, ...]]) -> Any:
        """Rows laid out by :meth:`prepare` (Parquet) as one Arrow record batch."""
        pa = importlib.import_module("pyarrow")
        columns = zip(*tuples, strict=True) if tuples else ([] for _ in self.columns)
        arrays = [pa.array(values, type=f.type) for values, f in zip(columns, self.schema, strict=True)]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _csv_line(self, cells: Sequence[str]) -> str:
        if self._line is None:
            self._line = io.StringIO()
            self._csv = csv.writer(self._line, lineterminator="\n")
        self._line.seek(0)
        self._line.truncate()
        self._csv.writerow(cells)
        return self._line.getvalue()


def _arrow_array(pa: Any, values: Any, kind: Any, put: Callable[[object], object]) -> Any:
    """One output column as an Arrow array of type ``kind``: ``values`` laid out with ``put``
    (skipped where they are already what it would make), or an input column made text."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return _arrow_cells(pa, values)
    made = set(map(type, values))
    if put is cell and made <= {str}:  # text already: cell() would keep each as it is
        return pa.array(values, type=kind)
    if put is _decimal and made <= {Decimal, type(None)}:
        return pa.array(values, type=kind)
    return pa.array([put(v) for v in values], type=kind)


def _arrow_cells(pa: Any, array: Any) -> Any:
    """An input column as text, each value what :func:`cell` makes of it as pyarrow reads it into
    Python: text as it is, lists of text joined by spaces, integers in decimal digits, absent values
    empty. Columns of other types (and lists with absent items) go through :func:`cell` one by one."""
    pc = importlib.import_module("pyarrow.compute")
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.fill_null(array, "").cast(pa.string())
    if pa.types.is_integer(kind):
        return pc.fill_null(array.cast(pa.string()), "")
    if ((pa.types.is_list(kind) or pa.types.is_large_list(kind))
            and (pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type))
            and pc.list_flatten(array).null_count == 0):
        return pc.fill_null(pc.binary_join(array, " "), "").cast(pa.string())
    return pa.array([cell(v) for v in array.to_pylist()], type=pa.string())


def _decimal(value: object) -> Decimal | None:
    if type(value) is Decimal:
        return value
    text = cell(value)
    return Decimal(text) if text != "" else None


def _same(value: object) -> object:
    return value


class Writer:
    """Writes output rows (dicts) to CSV, JSON Lines or Parquet, through an :class:`Output` (renamed
    into place when the writer is closed without an exception). ``types`` gives the Arrow schema of
    the results (the grouper's ``arrow_schema``): its decimal columns (money) are decimals in Parquet
    too; other columns are text, ``row`` an integer. Parquet is written in row groups of
    :data:`ROW_GROUP` rows. :meth:`write` lays out one row and stores it; :meth:`put` stores a chunk of
    rows laid out with :attr:`layout` (in this process or another)."""

    def __init__(self, path: str, fmt: str | None, columns: list[str], inputs: Sequence[str] = (),
                 types: Callable[[], Any] | None = None) -> None:
        self.fmt = detect_format(path, fmt)
        self.columns = columns
        self.path = path
        #: Parquet: rows given to :meth:`write`, laid out, not yet a batch
        self.rows: list[tuple[object, ...]] = []
        #: Parquet: record batches not yet written, and their rows
        self.pending: list[Any] = []
        self.buffered = 0
        if self.fmt == "parquet":
            self.pa = _pyarrow("pyarrow")
            self.pq = _pyarrow("pyarrow.parquet")
            self.parquet: Any = None
            given = types() if types is not None else self.pa.schema([])
            decimals = [c for c in columns if c in given.names and self.pa.types.is_decimal(given.field(c).type)]
            schema = self.pa.schema([(c, self.pa.int64() if c == "row" else given.field(c).type
                                      if c in decimals else self.pa.string()) for c in columns])
            self.layout = Layout(self.fmt, columns, decimals, schema)
        else:
            self.layout = Layout(self.fmt, columns)
        self.output = Output(path, inputs)
        if self.fmt == "parquet":
            return
        self.file = self.output.text()
        if self.fmt == "csv":
            self.write_or_fail(self.file.write, self.layout.header())

    def write_or_fail(self, write: Callable[..., object], *args: object) -> None:
        try:
            write(*args)
        except OSError as exc:
            self.output.abort()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}; {fate(self.path)}") from None

    def write(self, row: dict[str, object]) -> None:
        """Lay out ``row`` and store it."""
        if self.fmt != "parquet":
            self.write_or_fail(self.file.write, self.layout.prepare(row))
            return
        self.rows.append(self.layout.prepare(row))
        if len(self.rows) >= ROW_GROUP:
            rows, self.rows = self.rows, []
            self.put(self.layout.batch(rows))

    def put(self, part: Any) -> None:
        """Store a chunk of rows laid out by :meth:`Layout.part`."""
        if self.fmt != "parquet":
            self.write_or_fail(self.file.write, part)
            return
        if self.rows:  # rows given one by one before: they come first
            self.pending.append(self.layout.batch(self.rows))
            self.buffered += len(self.rows)
            self.rows = []
        self.pending.append(part)
        self.buffered += part.num_rows
        if self.buffered >= ROW_GROUP:
            self.write_or_fail(self._flush, False)

    def _flush(self, last: bool) -> None:
        """Write the pending rows as row groups of :data:`ROW_GROUP` rows (with ``last``, the rest too)."""
        if self.parquet is None:
            self.parquet = self.pq.ParquetWriter(self.output.writing, self.layout.schema)
        if not self.pending:
            return
        table = self.pa.Table.from_batches(self.pending, schema=self.layout.schema)
        start = 0
        while table.num_rows - start >= ROW_GROUP or (last and start < table.num_rows):
            self.parquet.write_table(table.slice(start, ROW_GROUP).combine_chunks())
            start += ROW_GROUP
        rest = table.slice(start)
        self.pending, self.buffered = ([b for b in rest.to_batches() if b.num_rows], rest.num_rows)

    def close(self) -> None:
        """Finish the file and rename it into place."""
        if self.fmt == "parquet":
            if self.rows:
                rows, self.rows = self.rows, []
                self.put(self.layout.batch(rows))
            self.write_or_fail(self._flush, True)  # no rows: still a file with the schema
            self.write_or_fail(self.parquet.close)
        self.output.commit()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.close()
        else:
            self.output.abort()
