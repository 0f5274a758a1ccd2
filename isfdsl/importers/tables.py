"""Read NordDRG definition data — JSON (a .zip holding one .json, or the .json), an .xlsx workbook, or
a folder of CSV/TSV files, one per table — into one shape: the six tables as rows of trimmed text
cells, each row with the place it came from. Tables and columns are found by name (case, accents,
spaces and underscores do not matter), in any order. Every problem is an :class:`ImportError_` whose
message names the file and, where known, the table (sheet), row and column: nothing is guessed and
no partial table is returned.

Row numbers: the spreadsheet row in a workbook, the line in a CSV file, the entry's position (1 = the
first) in a JSON table.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from isfdsl.runtime.io import sniff_delimiter

#: The most any one file, or member of an archive (a workbook is one), may hold. A year's tables
#: are about 13 MB as JSON; the cap keeps a corrupted or hostile file from filling the memory.
MAX_BYTES = 256 * 2**20


class ImportError_(Exception):
    """The definition data cannot be read, or is not NordDRG definition data. The message names the
    file and, where known, the table, row and column."""


def located(file: object, message: str, table: str | None = None, row: int | None = None,
            column: str | None = None, what: str = "table") -> ImportError_:
    """An :class:`ImportError_` whose message starts with where the problem is."""
    place = [f"{what} {table!r}"] if table is not None else []
    if row is not None:
        place.append(f"row {row}")
    if column is not None:
        place.append(f"column {column!r}")
    return ImportError_(f"{file}: {', '.join(place) + ': ' if place else ''}{message}")


# ---------------------------------------------------------------------- what the tables hold


@dataclass(frozen=True, slots=True)
class Spec:
    """A table of the definition data: its required columns (canonical names) and whether a column
    it does not know is an error (the logic table: an unknown column could be a condition)."""

    columns: tuple[str, ...]
    strict: bool = False
    informative: tuple[str, ...] = ()


_LOGIC_COLUMNS = ("ord", "drg", "rtc", "icd", "mdc", "pdgprop", "or", "procpro1", "dgcat1", "agelim", "compl", "sex",
                  "dgprop1", "dgprop2", "dgprop3", "dgprop4", "secproc1", "disch", "dur")
#: Columns that only inform, in every table: version (country) markers, comments.
_INFORMATIVE = ("version", "versions", "country", "comment", "comments", "note", "notes", "kommentar", "merknad",
                "description", "beskrivelse")
SPECS: dict[str, Spec] = {
    "drglogic": Spec(_LOGIC_COLUMNS, strict=True, informative=("id", "loc_drg")),
    "dg": Spec(("code", "d_code", "vartype", "varval")),
    "proc": Spec(("code", "vartype", "varval")),
    "complcat": Spec(("compl", "inclprop")),
    "complexcl": Spec(("compl", "code", "d_code")),
    "drgnames": Spec(("drg", "mdc"), informative=("loc_drg",)),
}
#: A version column named after the countries whose release a row belongs to (Com = common).
_MARKERS = re.compile(r"(com|den|est|fin|ice|lat|nor|swe)+")
#: ICD+ / NCSP+ code columns of later releases (`ICD+`, `ICD+ code`, `NCSP+`, `icdplus`).
_PLUS = re.compile(r"(icd|ncsp)(\+|plus).*")

_RULE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._\-]*")
_GROUP = re.compile(r"[0-9A-Z][0-9A-Za-z]*")
_CODE = re.compile(r"[0-9A-Za-z]*")
#: Characters no cell may hold: they would break the TSV data files and the lines of the .isf.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BIG = re.compile(r"-?\d{10,}")


def norm(name: str) -> str:
    """A table or column name as compared: its first line without a trailing `(…)` note, accents
    dropped, case folded, only letters, digits and `+` kept (`D_code` = `d code` = `dcode`)."""
    name = name.split("\n")[0].split(" (")[0]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").casefold()
    return re.sub(r"[^a-z0-9+]", "", name)


_CANONICAL = {norm(c): c for spec in SPECS.values() for c in (*spec.columns, *spec.informative)}


@dataclass(slots=True)
class Table:
    """One table: rows of text cells keyed by canonical column name (columns that only inform by
    the header as written), with the row number each came from."""

    name: str  # canonical: drglogic, dg, …
    file: str
    title: str  # the table's name as written: a sheet's title, a file's stem, a JSON key
    what: str = "table"  # "sheet" in a workbook
    rows: list[dict[str, str]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # key -> the header as written
    informative: tuple[str, ...] = ()  # keys of the columns that only inform
    unknown: tuple[str, ...] = ()  # headers of columns not understood (tables other than the logic)

    @property
    def where(self) -> str:
        return f"{self.what} {self.title!r}"

    def at(self, message: str, row: int | None = None, column: str | None = None) -> ImportError_:
        """An error at source row ``row`` and the column headed ``column``."""
        return located(self.file, message, self.title, row, column, self.what)

    def error(self, message: str, index: int | None = None, column: str | None = None) -> ImportError_:
        """An error at row ``index`` (a position in ``rows``) and ``column`` (a key) of this table."""
        return self.at(message, None if index is None else self.numbers[index],
                       None if column is None else self.headers.get(column, column))


@dataclass(slots=True)
class Definition:
    """The six tables of one release, where they came from, and what the name or a cover sheet
    tells of the year and release (``2025``, ``PR1a``)."""

    path: Path
    source: str  # the name the imported files cite
    tables: dict[str, Table]
    year: int | None = None
    release: str | None = None
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------- JSON


def read_json(path: Path) -> Definition:
    """A .zip holding one .json, or the .json, read leniently (byte-order mark, trailing commas, raw
    newlines in keys) but never past a problem."""
    if path.suffix.lower() == ".zip":
        raw, name, shown = _zip_member(path)
    else:
        name, shown = path.name, str(path)
        raw = read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ImportError_(f"{shown}: not UTF-8: byte {exc.start} (line {line}) is {raw[exc.start:exc.start + 1]!r}") from None
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    try:
        data = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        raise ImportError_(f"{shown}: not valid JSON even read leniently: {exc}") from None
    except (ValueError, RecursionError) as exc:  # a number of thousands of digits, arrays nested thousands deep
        raise ImportError_(f"{shown}: not readable JSON: {type(exc).__name__}: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise ImportError_(f"{shown}: not NordDRG definition data: expected a JSON object of tables, found {_kind(data)}")
    found = {norm(k): k for k in data}
    missing = [t for t in SPECS if t not in found]
    if missing:
        raise ImportError_(f"{shown}: not NordDRG definition data: no table {', '.join(missing)} "
                           f"(expected {', '.join(SPECS)}; found {', '.join(map(repr, data)) or 'none'})")
    tables = {t: _json_table(shown, t, found[t], data[found[t]]) for t in SPECS}
    return Definition(path, name, tables)


def _zip_member(path: Path) -> tuple[bytes, str, str]:
    try:
        with zipfile.ZipFile(path) as z:
            names = [i for i in z.infolist() if i.filename.lower().endswith(".json")]
            if len(names) != 1:
                raise ImportError_(f"{path}: expected one .json file inside, found {len(names)}")
            info = names[0]
            shown = f"{path} ({info.filename})"
            if info.file_size > MAX_BYTES:
                raise ImportError_(f"{shown}: {info.file_size:,} bytes; at most {MAX_BYTES:,} are read")
            with z.open(info) as member:
                raw = member.read(MAX_BYTES + 1)
    except ImportError_:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError) as exc:
        raise ImportError_(f"{path}: not a readable zip archive: {exc}") from None
    if len(raw) > MAX_BYTES:
        raise ImportError_(f"{shown}: more than {MAX_BYTES:,} bytes; at most {MAX_BYTES:,} are read")
    return raw, info.filename, shown


def read_bytes(path: Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_BYTES`."""
    try:
        if not path.is_file():
            raise ImportError_(f"{path}: not a regular file")
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ImportError_(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise ImportError_(f"{path}: more than {MAX_BYTES:,} bytes; at most {MAX_BYTES:,} are read")
    return raw


def _kind(value: object) -> str:
    """What a value that is no cell text is, in words."""
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        return f"a date or time ({value})"
    return {dict: "an object", list: "a list", str: "text", type(None): "null", bool: f"a truth value ({value})",
            int: "a number", float: f"a number ({value})"}.get(type(value), type(value).__name__)


def _json_table(file: str, name: str, title: str, rows: object) -> Table:
    table = Table(name, file, title)
    if not isinstance(rows, list):
        raise table.error(f"expected a list of rows, found {_kind(rows)}")
    spec = SPECS[name]
    required = frozenset(spec.columns)
    keys: dict[str, str] = {}  # a key as written -> its column key
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise table.at(f"expected an object of cells, found {_kind(row)}", n)
        cells: dict[str, str] = {}
        for k, value in row.items():
            key = keys.get(k)
            if key is None:
                key = keys[k] = _column(table, spec, k, n, known=[*keys.values()])
            text = cell_text(value)
            if text is None:
                raise table.at(f"expected text or a number, found {_kind(value)}", n, k)
            if key in cells:
                raise table.at(f"two cells for column `{key}`", n, k)
            cells[key] = text
        if not required <= cells.keys():
            missing = [c for c in spec.columns if c not in cells]
            raise table.at(f"no cell for column {', '.join(missing)}", n, missing[0])
        if any(cells.values()):  # a blank row is no row, as in a sheet
            table.rows.append(cells)
            table.numbers.append(n)
    _finish(table, spec)
    return table


# ---------------------------------------------------------------------- columns and cells


def _column(table: Table, spec: Spec, header: str, row: int, known: list[str]) -> str:
    """The key of a column of ``table`` by its header: a canonical name, or the header itself for a
    column that only informs or (outside the logic table) is not understood."""
    n = norm(header)
    key = _CANONICAL.get(n)
    if key is not None and (key in spec.columns or key in spec.informative):
        if key in known:
            raise table.at(f"two columns are `{key}`", row, header)
        table.headers[key] = header
        return key
    key = header.strip()
    table.headers[key] = header
    if n in _INFORMATIVE or _MARKERS.fullmatch(n) or _PLUS.fullmatch(n):
        table.informative += (key,)
    elif spec.strict:
        raise table.at(f"a column the importer does not understand (it could be a condition; expected "
                       f"{', '.join(spec.columns)}, and columns that only inform: {', '.join(spec.informative)}, "
                       "version markers, ICD+/NCSP+ codes, comments)", row, header)
    else:
        table.unknown += (key,)
    return key


def _finish(table: Table, spec: Spec) -> None:
    for c in spec.columns:
        table.headers.setdefault(c, c)


def cell_text(value: object) -> str | None:
    """A cell as trimmed text (an empty cell or JSON null as ""), or None when it is no text: a
    truth value, a date, a nested value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value) if math.isfinite(value) else None
    return None


def tabular(file: str, name: str, title: str, what: str, records: Iterable[tuple[int, Sequence[object]]]) -> Table:
    """A table from records (row number, cells) whose first non-blank record is the header: a
    sheet of a workbook (``what`` "sheet") or a CSV file ("table")."""
    table = Table(name, file, title, what)
    spec = SPECS[name]
    keys: list[str | None] = []
    width = 0
    for n, values in records:
        texts = [cell_text(v) for v in values]
        if not keys:
            if not any(texts):
                continue
            width = len(texts)
            for i, t in enumerate(texts):
                if t is None:
                    raise table.at("a header must be text", n, _letter(i))
                keys.append(_column(table, spec, t, n, [k for k in keys if k]) if t else None)
            missing = [c for c in spec.columns if c not in keys]
            if missing:
                raise table.at(f"no column {', '.join(map(repr, missing))} (expected {', '.join(spec.columns)}; "
                               f"found {', '.join(repr(t) for t in texts if t)})", n)
            continue
        if not any(texts):
            continue
        for i, t in enumerate(texts):
            if t is None:
                raise table.at(f"expected text or a number, found {_kind(values[i])}", n,
                               table.headers[keys[i]] if i < width and keys[i] else _letter(i))  # type: ignore[index]
            if t and (i >= width or keys[i] is None):
                raise table.at(f"a value ({t[:40]!r}) in a column without a header", n, _letter(i))
        table.rows.append({k: t or "" for k, t in zip(keys, texts) if k})
        table.numbers.append(n)
        if len(texts) < width:
            table.rows[-1].update((k, "") for k in keys[len(texts):] if k)
    if not keys:
        raise table.at(f"empty: expected a header naming {', '.join(spec.columns)}")
    _finish(table, spec)
    return table


def _letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 -> A, 26 -> AA)."""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


#: (table, column) -> (pattern, what it must be): cells the importer writes as names into the .isf.
_SYNTAX: dict[tuple[str, str], tuple[re.Pattern[str], str]] = {
    ("drglogic", "ord"): (_RULE_ID, "a rule position: letters, digits, `.`, `_`, `-`"),
    ("drglogic", "id"): (_RULE_ID, "a rule id: letters, digits, `.`, `_`, `-`"),
    ("drglogic", "drg"): (_GROUP, "a DRG code: digits and letters, the first a digit or capital"),
    ("drglogic", "rtc"): (_GROUP, "a return code: digits and letters"),
    ("dg", "code"): (_CODE, "a diagnosis code: letters and digits"),
    ("dg", "d_code"): (_CODE, "a diagnosis code: letters and digits"),
    ("proc", "code"): (_CODE, "a procedure code: letters and digits"),
    ("complexcl", "code"): (_CODE, "a diagnosis code: letters and digits"),
    ("complexcl", "d_code"): (_CODE, "a diagnosis code: letters and digits"),
}
#: The forms the logic table's condition cells may take (SEMANTICS.md §4); an empty cell is no condition.
#: The official grouper reads any other form leniently (an unknown operator always holds, an unparsable
#: number is 0, an unknown letter matches everything): a typing error would silently become another
#: rule, so the importer refuses it. The official years 2015-2017 use only these forms.
_PROPERTY = r"-?[0-9A-Za-z]+"
_LOGIC_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "icd": (re.compile(r"[+-]"), "`+` (a valid PDX) or `-` (none)"),
    "mdc": (re.compile(_PROPERTY), "an MDC, or `-` and an MDC"),
    "pdgprop": (re.compile(_PROPERTY), "a property, or `-` and a property"),
    "or": (re.compile(r"[+-]|[+=-]?[SPNZ]"), "`S`, `P`, `N`, `Z` (`-` and one of them), or a bare `+` or `-`"),
    "procpro1": (re.compile(_PROPERTY + "|-"), "a property, `-` and a property, or a bare `-`"),
    "secproc1": (re.compile(_PROPERTY + "|-"), "a property, `-` and a property, or a bare `-`"),
    "dgcat1": (re.compile(_PROPERTY), "a category, or `-` and a category"),
    "agelim": (re.compile(r"[<>]\d+"), "`<n` or `>n` (n a whole number of days)"),
    "sex": (re.compile(r"[MF-]"), "`M`, `F` or `-` (unknown)"),
    **{f"dgprop{n}": (re.compile(_PROPERTY), "a property, or `-` and a property") for n in range(1, 5)},
    "disch": (re.compile(r"[=-]?[ENHR]"), "`E`, `N`, `H` or `R` (`=` or `-` and one of them)"),
    "dur": (re.compile(r"[<>]\d+"), "`<n` or `>n` (n a whole number of days)"),
}
#: The vartypes of the code tables (SEMANTICS.md §2; the official years use all of these and no other):
#: a row of another vartype would be dropped, so it is an error.
VARTYPES = {"dg": ("DGCAT", "MDC", "PDGPRO", "DGPROP", "COMPL", "OR", "PROCPR"), "proc": ("PROCPR", "DGPROP", "OR", "CC")}
#: Cells no row of a table can do without (the official tables fill them in every row).
_REQUIRED = {"drglogic": ("ord", "drg"), "dg": ("code", "vartype", "varval"), "proc": ("code", "vartype", "varval"),
             "complcat": ("compl",), "complexcl": ("compl", "code"), "drgnames": ("drg",)}


def check_cells(table: Table) -> None:
    """Every cell printable on one line; the cells written as names of the expected form; the logic
    rows complete; numbers of at most nine digits. Raises at the first problem."""
    for i, row in enumerate(table.rows):
        if _CONTROL.search("".join(row.values())):
            column = next(k for k, v in row.items() if _CONTROL.search(v))
            bad = _CONTROL.search(row[column])
            raise table.error(f"a control character ({bad.group()!r}) in the cell", i, column)  # type: ignore[union-attr]
    for (name, column), (pattern, what) in _SYNTAX.items():
        if name != table.name or column not in table.headers:
            continue
        for i, row in enumerate(table.rows):
            value = row.get(column, "")
            if value and not pattern.fullmatch(value):
                raise table.error(f"{value[:40]!r} is not {what}", i, column)
    for column in _REQUIRED.get(table.name, ()):
        for i, row in enumerate(table.rows):
            if not row[column]:
                raise table.error(f"empty; every row of {table.name} needs its `{column}`", i, column)
    for i, row in enumerate(table.rows if table.name in VARTYPES else ()):
        if row["vartype"] not in VARTYPES[table.name]:
            raise table.error(f"{row['vartype'][:40]!r} is no vartype the importer knows (expected "
                              f"{', '.join(VARTYPES[table.name])}): the row would be lost", i, "vartype")
    if table.name == "proc":  # CC levels are numbers: the CC table is typed int
        for i, row in enumerate(table.rows):
            if row["vartype"] == "CC" and row["varval"] and not re.fullmatch(r"\d{1,9}", row["varval"]):
                raise table.error(f"{row['varval'][:40]!r} is not a CC level (a number)", i, "varval")
    if table.name == "drglogic":
        for i, row in enumerate(table.rows):
            for column in ("agelim", "dur", "compl"):
                if _BIG.search(row[column]):
                    raise table.error(f"{row[column][:40]!r}: a number of more than nine digits", i, column)
        for column, (pattern, what) in _LOGIC_FORMS.items():
            for i, row in enumerate(table.rows):
                if row[column] and not pattern.fullmatch(row[column]):
                    raise table.error(f"{row[column][:40]!r} is not a condition the importer can read: expected {what}",
                                      i, column)
        _unique(table, "id" if "id" in table.headers else "ord")


def _unique(table: Table, column: str) -> None:
    seen: dict[str, int] = {}
    for i, row in enumerate(table.rows):
        key = row.get(column) or row["ord"]
        if key in seen:
            raise table.error(f"{key!r} is also the rule of row {table.numbers[seen[key]]}", i, column)
        seen[key] = i


# ---------------------------------------------------------------------- year and release


_RELEASE = re.compile(r"(?<![a-z])(p[rl])(\d{1,2})([a-z]??)n?(?![a-z0-9])", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


def release_of(text: str) -> tuple[int | None, str | None]:
    """The year and release label (``PR1a``, ``PL1b``) a name or a cover sheet's text gives."""
    year = _YEAR.search(text)
    release = _RELEASE.search(text)
    label = f"{release.group(1).upper()}{release.group(2)}{release.group(3).lower()}" if release else None
    return (int(year.group(1)) if year else None), label


def cover_text(records: Iterator[tuple[int, Sequence[object]]], rows: int = 40) -> Iterator[str]:
    """The text lines of the first ``rows`` rows of a sheet that is no table (a cover sheet)."""
    for n, values in records:
        if n > rows:
            return
        line = " ".join(t for t in map(cell_text, values) if t)
        if line:
            yield line


def release_from_lines(lines: Iterable[str]) -> tuple[int | None, str | None]:
    """The first line that names both a year and a release, else the first of each."""
    year: int | None = None
    release: str | None = None
    for line in lines:
        y, r = release_of(line)
        if y and r:
            return y, r
        year, release = year or y, release or r
    return year, release


# ---------------------------------------------------------------------- CSV


#: A record of CSV text: runs of anything but quotes and line breaks, and quoted fields (line breaks included).
_RECORD = re.compile(r'(?:[^"\n]+|"[^"]*")*')


def first_record(text: str) -> str:
    """The text of the first record of CSV text: up to the first line break outside double quotes
    (Excel saves a header cell holding a line break as `"LOC_DRG⏎(LINK TO NDMS)";MDC;DRG`)."""
    return _RECORD.match(text).group()  # type: ignore[union-attr]  # the pattern matches the empty text


def csv_records(path: Path) -> Iterator[tuple[int, Sequence[object]]]:
    """The records of a CSV or TSV file (tab for .tsv, else the separator of the header line) with
    the line each ends on; UTF-8 (with or without a byte-order mark), else Windows-1252."""
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
        if "\ufffd" in text:
            pos = text.index("\ufffd")
            raise ImportError_(f"{path}: neither UTF-8 nor Windows-1252: line {text.count(chr(10), 0, pos) + 1}") from None
    delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(first_record(text))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for fields in reader:
            yield reader.line_num, list(fields)
    except csv.Error as exc:
        raise ImportError_(f"{path}: line {reader.line_num}: not readable as CSV: {exc}") from None
