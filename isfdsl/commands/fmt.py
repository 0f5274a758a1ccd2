"""``isf fmt``: rewrite .isf files in the canonical layout (or, with ``--check``, show what would change).

The layout is :func:`isfdsl.syntax.format.format_module`'s: one element per line inside blocks, two
spaces of indentation, every comment kept where it was, at most one blank line between elements. A file
with syntax errors is never rewritten: its diagnostics are printed and the run fails."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from isfdsl.diagnostics import Collector, render_text
from isfdsl.files import replace_file
from isfdsl.syntax.format import format_module
from isfdsl.syntax.parse import parse_module

#: A source file larger than this is not read (no .isf file is anywhere near it; a data file is not source).
MAX_SOURCE_BYTES = 64 * 1024 * 1024


@dataclass
class FmtResult:
    """What a run found: files looked at, files (to be) changed, and the problems that stopped a file."""

    files: int = 0
    changed: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def source_files(paths: list[str]) -> Iterator[Path]:
    """The .isf files named by ``paths`` (files, or folders searched recursively), sorted, each once."""
    seen: set[Path] = set()
    for p in map(Path, paths):
        found = sorted(p.rglob("*.isf")) if p.is_dir() else [p]
        for f in found:
            if f.resolve() not in seen:
                seen.add(f.resolve())
                yield f


def formatted(text: str, path: str) -> tuple[str | None, Collector]:
    """The canonical text of one file, or None when it has syntax errors (then in the collector)."""
    diags = Collector()
    module = parse_module(text, path, diags)
    if diags.errors:
        return None, diags
    return format_module(module, text), diags


def run_fmt(paths: list[str], check: bool, say: Callable[[str], None]) -> FmtResult:
    """Format (or with ``check`` only compare) every .isf file under ``paths``."""
    result = FmtResult()
    for f in source_files(paths):
        result.files += 1
        if not f.is_file():
            result.problems.append(f"{f}: not a regular file")
            continue
        if f.stat().st_size > MAX_SOURCE_BYTES:
            result.problems.append(f"{f}: larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB; not read")
            continue
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.problems.append(f"{f}: cannot be read as UTF-8 text ({exc})")
            continue
        new, diags = formatted(text, str(f))
        if new is None:
            result.problems.append(render_text(diags.sorted(), {str(f): text}, color=False))
            continue
        if new == text:
            continue
        result.changed.append(str(f))
        if check:
            result.diffs.append("".join(difflib.unified_diff(
                text.splitlines(keepends=True), new.splitlines(keepends=True), str(f), f"{f} (formatted)")))
        else:
            replace_file(f, new.encode("utf-8"))
            say(f"reformatted {f}")
    return result
