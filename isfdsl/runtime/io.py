"""Reading episode files, and the command line of a generated package (``python -m PACKAGE``): lines
decoded (UTF-8, else Windows-1252 or ISO-8859-1), CSV read by physical records (a stray quote's
line read alone), the results written as CSV."""

from __future__ import annotations

import codecs
import csv
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, NamedTuple

from isfdsl.runtime.contract import RESULT_FIELDS
from isfdsl.runtime.grouper import Grouper, unknown_columns

#: The field separators ``sniff_delimiter`` chooses among, the first winning a tie.
DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(header: str) -> str:
    """The separator of a CSV header line: the one of :data:`DELIMITERS` that occurs most often
    outside quotes (a comma when none does). Norwegian spreadsheets write semicolons."""
    outside = "".join(header.split('"')[::2])
    counts = [outside.count(d) for d in DELIMITERS]
    return DELIMITERS[counts.index(max(counts))] if max(counts) else ","


class Line(NamedTuple):
    """One physical line of an input file: its number (1 = the first), its text (line break kept) and,
    when some of its bytes could not be decoded, what was wrong (the text holds U+FFFD for them)."""

    number: int
    text: str
    problem: str = ""


#: Bytes Windows-1252 leaves undefined: a file holding them is read as ISO-8859-1.
_NOT_CP1252 = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")


def legacy_encoding(sample: bytes) -> str:
    """The 8-bit encoding of text that is not UTF-8: Windows-1252 (what Norwegian Excel writes: ``–``
    and ``€`` are bytes 0x96 and 0x80), or ISO-8859-1 when a byte Windows-1252 leaves undefined occurs."""
    return "iso-8859-1" if any(b in sample for b in _NOT_CP1252) else "cp1252"


def sniff_encoding(sample: bytes) -> str:
    """The encoding of a file from its start (64 KiB are plenty): ``auto`` (see :func:`text_lines`)
    when it is valid UTF-8 or opens with a UTF-8 byte-order mark, else :func:`legacy_encoding`."""
    if sample.startswith(_BOM):
        return "auto"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return legacy_encoding(sample)
    return "auto"


def text_lines(data: IO[bytes], encoding: str = "auto", universal: bool = False) -> Iterator[Line]:
    """The lines of a binary file, split at line feeds only (a carriage return inside a line stays in
    it: JSON allows one between tokens) or, with ``universal``, also at a carriage return alone (CSV
    as old spreadsheets save it). A UTF-8 byte-order mark before the first line is dropped. ``encoding``
    ``auto``: UTF-8 (for certain after a byte-order mark); when a line is not UTF-8 and every line before it was ASCII (which reads the
    same in all three), the file is Windows-1252 from that line on, or ISO-8859-1 (see
    :func:`legacy_encoding`). A line that cannot be decoded keeps its place: its text decoded with
    replacement characters, its problem naming the first byte that was wrong."""
    auto = encoding == "auto"
    codec = "utf-8" if auto else encoding
    for number, line in enumerate(_split_cr(data) if universal else data, 1):
        if number == 1 and line.startswith(_BOM):
            line = line[len(_BOM):]
            auto = False  # a byte-order mark: UTF-8 for certain
        try:
            text = line.decode(codec)
        except UnicodeDecodeError:
            if auto:  # every line before was ASCII: an 8-bit file
                codec, auto = legacy_encoding(line), False
            yield _undecodable(number, line, codec)
            continue
        if auto and not line.isascii():
            auto = False  # beyond ASCII and valid: a UTF-8 file
        yield _new(Line, (number, text, ""))


_BOM = "\ufeff".encode()
#: Builds a named tuple from a tuple of all its fields, without the keyword ``__new__`` (a third of the cost).
_new = tuple.__new__


def _undecodable(number: int, line: bytes, codec: str) -> Line:
    try:
        return Line(number, line.decode(codec))
    except UnicodeDecodeError as exc:
        name = "UTF-8" if codec.replace("_", "-").lower().startswith("utf-8") else codec
        return Line(number, line.decode(codec, "replace"), f"not {name} text: byte {line[exc.start]:#04x} at "
                                                            f"position {exc.start + 1} of the line ({exc.reason})")


def _split_cr(data: Iterable[bytes]) -> Iterator[bytes]:
    """Lines ended by a line feed, a carriage return and line feed, or a carriage return alone."""
    for line in data:
        cr = line.find(b"\r")
        if cr < 0 or cr == len(line) - 2 and line[-1] == 0x0A:  # no carriage return, or only before the line feed
            yield line
            continue
        start = 0
        while (cr := line.find(b"\r", start)) >= 0:
            end = cr + 2 if line[cr + 1: cr + 2] == b"\n" else cr + 1
            yield line[start:end]
            start = end
        if start < len(line):
            yield line[start:] if start else line


#: A quoted field may run over at most this many lines: a quote still open after them is a stray one.
RECORD_LINES = 1000


class CsvRow(NamedTuple):
    """One record of a CSV file: its number (1 = the first after the header), the line it starts on,
    its fields, and what was wrong with it (empty when nothing)."""

    row: int
    line: int
    fields: list[str]
    problem: str


class _Feed:
    """The lines a ``csv.reader`` pulls, one record's at a time: blank lines before a record skipped,
    at most :data:`RECORD_LINES` per record, and lines given back when a record turns out to be a
    stray quote's (``ended``: the record ran into the end of the input or the limit)."""

    __slots__ = ("back", "ended", "lines", "taken")

    def __init__(self, lines: Iterator[Line]) -> None:
        self.lines = lines
        self.back: list[Line] = []
        self.taken: list[Line] = []
        self.ended = False

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        if len(self.taken) >= RECORD_LINES:
            self.ended = True
            raise StopIteration
        while True:
            line = self.back.pop() if self.back else next(self.lines, None)
            if line is None:
                self.ended = True
                raise StopIteration
            if self.taken or line.text.strip():
                self.taken.append(line)
                return line.text

    def peek(self) -> Line | None:
        """The next line that is not blank, left to be read."""
        for line in self.lines:
            if line.text.strip():
                self.back.append(line)
                return line
        return None


def csv_rows(lines: Iterable[Line], delimiter: str = "auto") -> tuple[list[str], str, Iterator[CsvRow]]:
    """The header (empty for a file without one), the field separator (``delimiter``, or when ``auto``
    the one :func:`sniff_delimiter` finds in the header line) and the records of CSV text.

    Every physical record gives exactly one row, and blank lines none (a line of separators and
    spaces alone, as a spreadsheet writes after its last row, is blank too). A quoted field may run over
    several lines only when the record it is part of is well-formed CSV with as many fields as the
    header; otherwise the quote that opened it is a stray one (``"unbalanced``): its line alone is
    the row, flagged, and reading goes on at the next line — one stray quote never swallows the rest
    of the file."""
    feed = _Feed(iter(lines))
    first = feed.peek()
    if first is None:
        return [], "," if delimiter == "auto" else delimiter, iter(())
    if delimiter == "auto":
        delimiter = sniff_delimiter(first.text)
    reader = csv.reader(feed, delimiter=delimiter)
    head = _csv_record(reader, feed, None, delimiter)
    header = head[1] if head is not None else []

    def rows() -> Iterator[CsvRow]:
        n, width, back, lines = 0, len(header), feed.back, feed.lines
        while True:
            line = back.pop() if back else next(lines, None)
            if line is None:
                return
            text = line.text
            if '"' in text:  # quoted fields: the csv module's work, over as many lines as they take
                back.append(line)
                record = _csv_record(reader, feed, width, delimiter)
                if record is None:
                    return
                n += 1
                yield CsvRow(n, *record)
                continue
            text = text.rstrip("\r\n")
            # no quote: the fields are what lies between separators; a line of separators alone (what
            # a spreadsheet writes after its last row) is blank, like an empty line
            if text and not text.isspace() and (delimiter not in text or text.replace(delimiter, "").strip()):
                n += 1
                yield _new(CsvRow, (n, line.number, text.split(delimiter), line.problem))
    return header, delimiter, rows()


def _csv_record(reader: Any, feed: _Feed, expected: int | None, delimiter: str) -> tuple[int, list[str], str] | None:
    """The next record: (line it starts on, fields, problem), or None at the end."""
    feed.taken, feed.ended = [], False
    fields: list[str] | None
    try:
        fields, problem = next(reader), ""
    except StopIteration:
        return None
    except csv.Error as exc:
        fields, problem = None, f"unreadable CSV: {exc}"
    taken = feed.taken
    if len(taken) == 1 and not feed.ended and fields is not None:  # the common case: one line, read whole
        return taken[0].number, fields, taken[0].problem
    if not taken:
        return None
    if feed.ended or (len(taken) > 1 and not _well_formed(taken, fields, expected, delimiter)):
        feed.back.extend(reversed(taken[1:]))
        taken = taken[:1]
        fields = _fields(taken[0].text, delimiter)
        problem = "a quote opened in this line is not closed (a stray quote?): the line is read alone"
    problems = [problem, *(line.problem for line in taken)]
    return taken[0].number, fields if fields is not None else [], "; ".join(p for p in problems if p)


def _well_formed(taken: Sequence[Line], fields: list[str] | None, expected: int | None, delimiter: str) -> bool:
    """Whether a record over several lines is one well-formed CSV record with ``expected`` fields."""
    if fields is None or (expected is not None and len(fields) != expected):
        return False
    try:
        return len(list(csv.reader([line.text for line in taken], delimiter=delimiter, strict=True))) == 1
    except csv.Error:
        return False


def _fields(text: str, delimiter: str) -> list[str] | None:
    """The fields of one line read alone (an open quote ending with the line)."""
    try:
        return next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:
        return None


def csv_main(grouper: Grouper, label: str, argv: Sequence[str] | None = None, attributes: Iterable[str] = ()) -> int:
    """Group CSV (a header row of attribute names) from a file or standard input to standard output:
    every input column, then the result columns; one output row per input record (blank lines are
    none). A malformed record — the wrong number of fields, a stray quote, bytes not of the encoding
    — is still grouped, and flagged in ``problems``. When no column is one of ``attributes``, says so
    on standard error (a wrong separator or file: every row would be grouped as if empty)."""
    import argparse

    parser = argparse.ArgumentParser(description=f"Group episodes with the {label} grouper (CSV in, CSV out).")
    parser.add_argument("input", nargs="?", default="-", help="CSV file with a header row (default: standard input)")
    parser.add_argument("--table", default=None, help=f"decision table (default: {grouper.default})")
    parser.add_argument("--delimiter", default="auto",
                        help="field separator (default: auto, the most frequent of , ; tab | in the header row)")
    parser.add_argument("--encoding", default="auto",
                        help="input encoding, e.g. iso-8859-1 (default: auto: UTF-8, with or without a byte-order "
                             "mark, else Windows-1252)")
    args = parser.parse_args(argv)
    if args.input == "-":
        source: IO[bytes] = sys.stdin.buffer
    else:
        try:
            source = open(args.input, "rb", buffering=1 << 16)  # noqa: SIM115
        except OSError as exc:
            print(f"error: cannot read {args.input}: {exc.strerror}", file=sys.stderr)
            return 2
    with source:
        peek = getattr(source, "peek", None)
        encoding = sniff_encoding(peek(1 << 16) if peek else b"") if args.encoding == "auto" else args.encoding
        header, delimiter, records = csv_rows(text_lines(source, encoding, universal=True), args.delimiter)
        if not header:
            print("warning: the input holds no rows", file=sys.stderr)
            return 0
        names = list(attributes) or list(grouper.attributes or ())
        known = set(names)
        if known and not known.intersection(header):
            print(f"warning: no column of the header {header!r} (separated by {delimiter!r}) is an attribute of the "
                  f"{label} grouper; every row is grouped as if empty. Attributes: {', '.join(sorted(known))}",
                  file=sys.stderr)
        # Only the attribute columns are grouped; the others (an id, …) pass through, noted once here
        # rather than as a problem in every row.
        other = [c for c in header if known and c not in known]
        if other and known.intersection(header):
            print(f"note: {len(other)} column(s) are no attribute and pass through unused: "
                  f"{unknown_columns(other, names)}", file=sys.stderr)
        grouped = [(k, c) for k, c in enumerate(header) if not known or c in known]
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([*header, *RESULT_FIELDS])
        rows = 0
        for rows, record in enumerate(records, 1):
            fields = record.fields
            width = len(fields)
            episode: dict[str, object] = {c: fields[k] for k, c in grouped if k < width}
            result = grouper.group(episode, args.table)
            extra = [f"line {record.line}: {p}" for p in (record.problem, _shape_problem(len(header), len(fields))) if p]
            out = result.as_dict()
            if extra:
                out["problems"] = "; ".join(p for p in (*extra, str(out["problems"])) if p)
            writer.writerow([*fields[: len(header)], *([""] * (len(header) - len(fields))), *(out[f] for f in RESULT_FIELDS)])
        if not rows:
            print("warning: the input holds no rows", file=sys.stderr)
    return 0


def _shape_problem(expected: int, found: int) -> str:
    if found == expected:
        return ""
    return f"{found} fields where the header has {expected}"
