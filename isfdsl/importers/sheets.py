"""Read NordDRG definition data as the directorate publishes it today: an .xlsx workbook with a sheet
per table (read streaming with openpyxl), or a folder of CSV/TSV files with a file per table; and
:func:`read`, which picks the format (these two, or the JSON of :mod:`isfdsl.importers.tables`) from the path. A sheet
or file that is no table may be a cover giving the year and release (``DefinitionData DRG PR1a 2025``).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from isfdsl.importers import tables as _tables
from isfdsl.importers.tables import (
    SPECS,
    Definition,
    ImportError_,
    cover_text,
    csv_records,
    located,
    norm,
    release_from_lines,
    tabular,
)


def open_workbook(path: Path) -> Any:
    """An .xlsx workbook opened for streaming (read-only, cached values of formulas), its archive
    checked first; the caller closes it."""
    check_archive(path)
    import openpyxl  # type: ignore[import-untyped]

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises many kinds of exception for a damaged file
        raise ImportError_(f"{path}: not a readable .xlsx workbook: {type(exc).__name__}: {str(exc)[:200]}") from None


def first_sheet_records(path: Path) -> Iterator[tuple[int, Sequence[object]]]:
    """The rows of a workbook's first sheet with their numbers."""
    book = open_workbook(path)
    try:
        title = book.sheetnames[0]
        yield from sheet_records(path, book[title], title)
    finally:
        book.close()


def read_workbook(path: Path) -> Definition:
    """The six tables of an .xlsx workbook, a sheet each, found by name (case and accents aside)."""
    book = open_workbook(path)
    try:
        sheets: dict[str, str] = {}
        others: list[str] = []
        for title in book.sheetnames:
            name = norm(title)
            if name not in SPECS:
                others.append(title)
            elif name in sheets:
                raise ImportError_(f"{path}: the sheets {sheets[name]!r} and {title!r} are both the table {name!r}")
            else:
                sheets[name] = title
        missing = [t for t in SPECS if t not in sheets]
        if missing:
            raise ImportError_(f"{path}: no sheet {', '.join(map(repr, missing))} (expected a sheet per table: "
                               f"{', '.join(SPECS)}; found {', '.join(map(repr, book.sheetnames)) or 'none'})")
        tables = {name: tabular(str(path), name, title, "sheet", sheet_records(path, book[title], title))
                  for name, title in sheets.items()}
        year, release = release_from_lines(line for title in others if hasattr(book[title], "iter_rows")
                                           for line in cover_text(sheet_records(path, book[title], title)))
    finally:
        book.close()
    notes = [f"sheets not read (no table of the definition data): {', '.join(map(repr, others))}"] if others else []
    return Definition(path, path.name, tables, year, release, notes)


def check_archive(path: Path) -> None:
    """A workbook is a zip archive: every member within ``tables.MAX_BYTES`` before anything is read."""
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.file_size > _tables.MAX_BYTES:
                    raise ImportError_(f"{path}: the member {info.filename!r} holds {info.file_size:,} bytes; "
                                       f"at most {_tables.MAX_BYTES:,} are read")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise ImportError_(f"{path}: not a readable .xlsx workbook (an .xlsx file is a zip archive): {exc}") from None


def sheet_records(path: Path, sheet: Any, title: str) -> Iterator[tuple[int, Sequence[object]]]:
    """The rows of a sheet with their spreadsheet row numbers, all of them (the dimension a file
    records is not trusted: some writers get it wrong, and rows past it would be lost)."""
    if not hasattr(sheet, "iter_rows"):
        raise located(path, "a chart sheet, not a table", title, what="sheet")
    sheet.reset_dimensions()
    n = 0
    try:
        for n, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1):
            yield n, values
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises many kinds of exception for a damaged sheet
        raise located(path, f"cannot be read: {type(exc).__name__}: {str(exc)[:200]}", title, n + 1, what="sheet") from None


def read_folder(path: Path) -> Definition:
    """The six tables of a folder of CSV/TSV files, a file each, named after its table
    (``drglogic.csv``, ``DG.tsv``)."""
    try:
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".tsv") and p.is_file())
    except OSError as exc:
        raise ImportError_(f"{path}: cannot be read: {exc.strerror or exc}") from None
    found: dict[str, Path] = {}
    others: list[Path] = []
    for f in files:
        name = norm(f.stem)
        if name not in SPECS:
            others.append(f)
        elif name in found:
            raise ImportError_(f"{path}: the files {found[name].name!r} and {f.name!r} are both the table {name!r}")
        else:
            found[name] = f
    missing = [t for t in SPECS if t not in found]
    if missing:
        raise ImportError_(f"{path}: no file for the table {', '.join(map(repr, missing))} (expected a .csv or .tsv file "
                           f"per table: {', '.join(SPECS)}; found {', '.join(f.name for f in files) or 'none'})")
    tables = {name: tabular(str(f), name, f.stem, "table", csv_records(f)) for name, f in found.items()}
    year, release = release_from_lines(line for f in others for line in cover_text(csv_records(f)))
    notes = [f"files not read (no table of the definition data): {', '.join(f.name for f in others)}"] if others else []
    return Definition(path, path.name, tables, year, release, notes)


def read(path: Path) -> Definition:
    """The definition data at ``path``: a folder of CSV/TSV files, an .xlsx workbook, a .zip holding
    one .json, or a .json file. The format follows from the path."""
    if path.is_dir():
        defn = read_folder(path)
    elif not path.is_file():  # a FIFO or a device would block or never end
        raise ImportError_(f"{path}: not a regular file or folder")
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        defn = read_workbook(path)
    elif path.suffix.lower() in (".zip", ".json"):
        defn = _tables.read_json(path)
    else:
        raise ImportError_(f"{path}: cannot tell the format: expected an .xlsx workbook, a .zip or .json file, "
                           "or a folder of .csv/.tsv files (one per table)")
    for name in (defn.path.name, defn.source):
        year, release = _tables.release_of(name)
        defn.year = defn.year or year
        defn.release = defn.release or release
    for table in defn.tables.values():
        _tables.check_cells(table)
        if table.unknown:
            defn.notes.append(f"{table.where}: columns not read (not part of the {table.name} table the importer "
                              f"knows): {', '.join(map(repr, table.unknown))}")
    return defn
