"""Load: find the .isf files of each program, read them (with their imports and data files) and parse.

A *program* is one definition version: every ``.isf`` file directly inside one folder, plus the files
they import. A file named on its own is a program with its imports. The program's folder is its
*definitions folder*: every file the compiler reads for it is resolved and confined by :func:`open_source`
(inside that folder, subfolders included; a regular file; at most :data:`isfdsl.limits.FILE_BYTES`).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from isfdsl import limits
from isfdsl.diagnostics import Collector, Diagnostic, Span, source_lines
from isfdsl.syntax import ast
from isfdsl.syntax.parse import parse_module


@dataclass(slots=True)
class Program:
    """The parsed modules of one definition version and the text of every file read."""

    root: str
    modules: list[ast.Module] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory where it lies below it, else absolute."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except ValueError:
        return str(path)


def discover(paths: list[str]) -> list[tuple[str, list[Path]]]:
    """Group the ``.isf`` files under ``paths`` into programs: one per folder, one per named file. The
    subfolders of a program's folder are not programs of their own: they hold files it may import."""
    programs: dict[str, list[Path]] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for folder, dirs, names in os.walk(p):
                dirs.sort()
                files = sorted(Path(folder) / n for n in names if n.endswith(".isf"))
                if files:
                    programs.setdefault(display_path(Path(folder)), []).extend(files)
                    dirs.clear()
        else:
            programs.setdefault(display_path(p), []).append(p)
    return sorted(programs.items())


class Refused(Exception):
    """A file the compiler will not read: ``code`` (ISF104, ISF106 or ISF107) and the reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def open_source(root: Path, path: Path) -> str:
    """The text of ``path`` (UTF-8, an optional byte-order mark), the one way the compiler reads a file.
    ``path`` must resolve (symbolic links followed) to a regular file inside the folder ``root`` of at
    most :data:`isfdsl.limits.FILE_BYTES` bytes; otherwise :class:`Refused` says why. The file is opened
    without blocking and checked on the open descriptor, so a FIFO or a device is never read from and a
    file that grows while it is read is cut at the limit."""
    target = path.resolve()
    if not target.is_relative_to(root.resolve()):
        raise Refused("ISF106", f"it lies outside the definitions folder `{display_path(root)}`")
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO or socket with no writer
            raise Refused("ISF106", "it is not a regular file") from None
        raise Refused("ISF104", exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("ISF106", "it is a folder" if stat.S_ISDIR(info.st_mode) else "it is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limits.FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > limits.FILE_BYTES:
        raise Refused("ISF107", f"it is larger than {limits.FILE_BYTES // (1024 * 1024)} MiB, the largest file the compiler reads")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused("ISF104", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_text(root: Path, path: Path, diags: Collector, span: Span | None) -> str | None:
    """Read a source or data file through :func:`open_source`; a file refused is reported (ISF104 when
    missing or unreadable, ISF106 outside the folder or not a regular file, ISF107 too large) at ``span``."""
    try:
        return open_source(root, path)
    except Refused as refused:
        where = span or Span(display_path(path), 1, 1)
        diags.report(refused.code, where, f"cannot read `{display_path(path)}`: {refused.reason}")
        return None


T = TypeVar("T")

#: A parser of one file: text, display name and the collector of its diagnostics (see :func:`parse_module`).
Parse = Callable[[str, str, Collector], ast.Module]

#: Parsed files remembered by (display name, text), with the diagnostics parsing them gave: a long-lived
#: caller (the language server) parses only the files that changed since its last run.
Memo = MutableMapping[tuple[str, str], tuple[object, tuple[Diagnostic, ...]]]


def load_program(root: str, files: list[Path], diags: Collector, overlay: Mapping[Path, str] | None = None,
                 memo: Memo | None = None, parse: Parse = parse_module) -> Program:
    """Parse ``files`` and everything they import (each file once), resolving data files of tables. The
    program's folder (``root``, or the folder of ``root`` when it names a file) confines every file read.
    ``overlay`` gives the text of files (by resolved path) that differs from the disk, e.g. an editor's
    unsaved buffers; ``memo`` remembers parsed files and data files across calls; ``parse`` parses one file
    (as :func:`parse_module` does; the language server's remembers the pieces of its last parse)."""
    program = Program(root)
    folder = Path(root) if Path(root).is_dir() else Path(root).parent
    seen: set[Path] = set()
    queue: list[tuple[Path, Span | None]] = [(f, None) for f in files]
    while queue:
        path, span = queue.pop(0)
        key = path.resolve()
        if key in seen and key.is_relative_to(folder.resolve()):  # a file refused is refused where named
            continue
        seen.add(key)
        text = overlay[key] if overlay is not None and key in overlay else read_text(folder, path, diags, span)
        if text is None:
            continue
        name = display_path(path)
        program.sources[name] = text
        module = _remembered(memo, name, text, diags, parse)
        items: list[ast.Decl] = []
        for item in module.items:
            if isinstance(item, ast.Import):
                queue.append((path.parent / item.path, item.span))
            elif isinstance(item, ast.Table) and item.source is not None:
                item = replace(item, rows=_read_rows(folder, path.parent / item.source, item, diags, program, memo))
            items.append(item)
        program.modules.append(replace(module, items=tuple(items)))
    return program


def _remembered(memo: Memo | None, name: str, text: str, diags: Collector,
                make: Callable[[str, str, Collector], T], key: str = "") -> T:
    """``make(text, name, diags)``, or what it gave (and reported) for the same file and text before."""
    if memo is None:
        return make(text, name, diags)
    if (key or name, text) not in memo:
        fresh = Collector()
        memo[key or name, text] = (make(text, name, fresh), tuple(fresh.items))
    value, reported = memo[key or name, text]
    diags.items.extend(reported)
    return value  # type: ignore[return-value]


def _read_rows(folder: Path, path: Path, table: ast.Table, diags: Collector,
               program: Program, memo: Memo | None = None) -> tuple[ast.TableRow, ...]:
    """Rows of a table's TSV data file: a header naming ``key`` (or ``code``), optionally ``second``,
    and ``value``; then one row per (key, value) pair. Bad rows are reported with row and column."""
    text = read_text(folder, path, diags, table.span)
    if text is None:
        return ()
    name = display_path(path)
    program.sources[name] = text
    return _remembered(memo, name, text, diags, _rows, key=f"{name}\0rows")


def _rows(text: str, name: str, diags: Collector) -> tuple[ast.TableRow, ...]:
    lines = source_lines(text)
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        diags.report("ISF301", Span(name, 1, 1), "data file is empty; expected a header `key<TAB>value`")
        return ()
    header = [h.strip().lower() for h in lines[0].split("\t")]
    if header not in (["key", "value"], ["code", "value"], ["key", "second", "value"], ["code", "second", "value"]):
        diags.report("ISF301", Span(name, 1, 1, 1, len(lines[0]) + 1),
                     f"unexpected header {lines[0]!r}; expected `key<TAB>value` or `key<TAB>second<TAB>value`")
        return ()
    width = len(header)
    rows: list[ast.TableRow] = []
    for lineno, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != width:
            diags.report("ISF301", Span(name, lineno, 1, lineno, len(line) + 1),
                         f"row has {len(cells)} field{'s' if len(cells) != 1 else ''}; the header names {width}")
            continue
        key = cells[0].strip()
        second = cells[1].strip() or None if width == 3 else None
        value = cells[-1].strip()
        if not key or not value:
            col = 1 if not key else len(line) - len(cells[-1]) + 1
            diags.report("ISF301", Span(name, lineno, col), f"row has an empty {'key' if not key else 'value'}")
            continue
        col = len(line) - len(cells[-1]) + 1
        rows.append(ast.TableRow(Span(name, lineno, 1, lineno, col), key, second, (value,)))
    return tuple(rows)
