"""Load: find the .isf files of each program, read them (with their imports and data files) and parse.

A *program* is one definition version: every ``.isf`` file directly inside one folder, plus the files
they import. A file named on its own is a program with its imports.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from isfdsl.diagnostics import Collector, Diagnostic, Span
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
    """Group the ``.isf`` files under ``paths`` into programs: one per folder, one per named file."""
    programs: dict[str, list[Path]] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for folder, _dirs, names in sorted(os.walk(p)):
                files = sorted(Path(folder) / n for n in names if n.endswith(".isf"))
                if files:
                    programs.setdefault(display_path(Path(folder)), []).extend(files)
        else:
            programs.setdefault(display_path(p), []).append(p)
    return sorted(programs.items())


def read_text(path: Path, diags: Collector, span: Span | None) -> str | None:
    """Read a source file as UTF-8; a missing or unreadable file is reported as ISF104."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        where = span or Span(display_path(path), 1, 1)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        diags.report("ISF104", where, f"cannot read `{display_path(path)}`: {reason}")
        return None


T = TypeVar("T")

#: Parsed files remembered by (display name, text), with the diagnostics parsing them gave: a long-lived
#: caller (the language server) parses only the files that changed since its last run.
Memo = MutableMapping[tuple[str, str], tuple[object, tuple[Diagnostic, ...]]]


def load_program(root: str, files: list[Path], diags: Collector, overlay: Mapping[Path, str] | None = None,
                 memo: Memo | None = None) -> Program:
    """Parse ``files`` and everything they import (each file once), resolving data files of tables.
    ``overlay`` gives the text of files (by resolved path) that differs from the disk, e.g. an editor's
    unsaved buffers; ``memo`` remembers parsed files and data files across calls."""
    program = Program(root)
    seen: set[Path] = set()
    queue: list[tuple[Path, Span | None]] = [(f, None) for f in files]
    while queue:
        path, span = queue.pop(0)
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        text = overlay[key] if overlay is not None and key in overlay else read_text(path, diags, span)
        if text is None:
            continue
        name = display_path(path)
        program.sources[name] = text
        module = _remembered(memo, name, text, diags, parse_module)
        items: list[ast.Decl] = []
        for item in module.items:
            if isinstance(item, ast.Import):
                queue.append((path.parent / item.path, item.span))
            elif isinstance(item, ast.Table) and item.source is not None:
                item = replace(item, rows=_read_rows(path.parent / item.source, item, diags, program, memo))
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


def _read_rows(path: Path, table: ast.Table, diags: Collector, program: Program,
               memo: Memo | None = None) -> tuple[ast.TableRow, ...]:
    """Rows of a table's TSV data file: a header naming ``key`` (or ``code``), optionally ``second``,
    and ``value``; then one row per (key, value) pair. Bad rows are reported with row and column."""
    text = read_text(path, diags, table.span)
    if text is None:
        return ()
    name = display_path(path)
    program.sources[name] = text
    return _remembered(memo, name, text, diags, _rows, key=f"{name}\0rows")


def _rows(text: str, name: str, diags: Collector) -> tuple[ast.TableRow, ...]:
    lines = text.splitlines()
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
