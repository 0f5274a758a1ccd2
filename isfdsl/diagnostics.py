"""Diagnostics: source spans, the catalogue of stable diagnostic codes, a collector, and rendering."""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file. Lines and columns count from 1; ``end_*`` is inclusive-exclusive."""

    file: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


#: Every diagnostic code with its severity and a one-line summary. ISF1xx syntax and files,
#: ISF2xx names and types, ISF25x warnings, ISF3xx data files, ISF4xx the analyses of
#: decision tables (ISF40x errors, ISF45x warnings). docs/language.md documents each and
#: tests/diagnostics/ holds a fixture for each (a test keeps the three in step).
CODES: dict[str, tuple[Severity, str]] = {
    "ISF101": (Severity.ERROR, "unexpected token"),
    "ISF102": (Severity.ERROR, "unexpected character"),
    "ISF103": (Severity.ERROR, "unexpected end of file"),
    "ISF104": (Severity.ERROR, "file not found or unreadable"),
    "ISF105": (Severity.ERROR, "malformed code or code range"),
    "ISF106": (Severity.ERROR, "file outside the definitions folder or not a regular file"),
    "ISF107": (Severity.ERROR, "a limit of the compiler exceeded"),
    "ISF201": (Severity.ERROR, "unknown name"),
    "ISF202": (Severity.ERROR, "duplicate name"),
    "ISF203": (Severity.ERROR, "type error"),
    "ISF204": (Severity.ERROR, "empty or inverted range"),
    "ISF205": (Severity.ERROR, "code outside its code system's syntax"),
    "ISF206": (Severity.ERROR, "group missing from the catalogue"),
    "ISF207": (Severity.ERROR, "table used on the wrong code system"),
    "ISF208": (Severity.ERROR, "duplicate rule id"),
    "ISF209": (Severity.ERROR, "invalid code system syntax pattern"),
    "ISF210": (Severity.ERROR, "missing or repeated version header"),
    "ISF211": (Severity.ERROR, "invalid date or validity period"),
    "ISF212": (Severity.ERROR, "cyclic derivation"),
    "ISF213": (Severity.ERROR, "wrong number of arguments"),
    "ISF214": (Severity.ERROR, "unknown enumeration member"),
    "ISF215": (Severity.ERROR, "invalid value for its type"),
    "ISF216": (Severity.ERROR, "misplaced construct"),
    "ISF217": (Severity.ERROR, "rule condition with too many alternatives"),
    "ISF250": (Severity.WARNING, "unused code list"),
    "ISF251": (Severity.WARNING, "unused group"),
    "ISF252": (Severity.WARNING, "unused table or derived attribute"),
    "ISF253": (Severity.WARNING, "deprecated syntax that `isf fmt` rewrites"),
    "ISF301": (Severity.ERROR, "malformed data file row"),
    "ISF401": (Severity.ERROR, "overlapping rows in a unique table"),
    "ISF402": (Severity.ERROR, "gap: episodes no row takes"),
    "ISF451": (Severity.WARNING, "row shadowed by earlier rows"),
    "ISF452": (Severity.WARNING, "condition that can never hold"),
    "ISF453": (Severity.WARNING, "group no row can produce"),
    "ISF454": (Severity.WARNING, "code-list entry no rule can reach"),
    "ISF455": (Severity.WARNING, "analysis gave up on a row"),
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a stable ``code``, a ``span`` where it applies, a message and optional notes."""

    code: str
    span: Span
    message: str
    notes: tuple[str, ...] = ()

    @property
    def severity(self) -> Severity:
        return CODES[self.code][0]

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.col,
            "end_line": self.span.end_line or self.span.line,
            "end_column": self.span.end_col or self.span.col + 1,
            "message": self.message,
            "notes": list(self.notes),
        }


@dataclass(slots=True)
class Collector:
    """Gathers diagnostics from every stage so that one run reports every independent problem."""

    items: list[Diagnostic] = field(default_factory=list)

    def report(self, code: str, span: Span, message: str, *notes: str) -> None:
        if code not in CODES:
            raise KeyError(f"unregistered diagnostic code {code}")
        self.items.append(Diagnostic(code, span, message, tuple(n for n in notes if n)))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    def sorted(self) -> list[Diagnostic]:
        return sorted(set(self.items), key=lambda d: (d.span.file, d.span.line, d.span.col, d.code, d.message))


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return a "did you mean" note for a misspelt ``name``, or an empty string."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else ""


def source_lines(text: str) -> list[str]:
    """The lines of a source file as the parser numbers them: only ``\\n`` ends a line (a ``\\r`` before
    it is dropped), so a form feed, ``\\x85`` or U+2028 inside a line never shifts the line shown for a
    position. Every stage that turns text into line numbers uses this."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def _shown(line: str) -> str:
    """A source line for display: a tab or any other control or separator character becomes one space,
    so the caret below stays under its column and nothing moves the terminal's cursor."""
    return "".join(" " if ch != " " and unicodedata.category(ch)[0] in "CZ" else ch for ch in line)


def render_text(diags: Iterable[Diagnostic], sources: dict[str, str], color: bool = False) -> str:
    """Render diagnostics as ``path:line:col: severity[CODE]: message`` with the line and a caret."""
    out: list[str] = []
    for d in diags:
        sev = d.severity.value
        head = f"{d.span}: {sev}[{d.code}]: {d.message}"
        if color:
            tint = "\x1b[1;31m" if d.severity is Severity.ERROR else "\x1b[1;33m"
            head = f"\x1b[1m{d.span}:\x1b[0m {tint}{sev}[{d.code}]\x1b[0m\x1b[1m: {d.message}\x1b[0m"
        out.append(head)
        lines = source_lines(sources[d.span.file]) if sources.get(d.span.file) else []
        if 1 <= d.span.line <= len(lines):
            text = _shown(lines[d.span.line - 1])
            width = 1
            if d.span.end_line == d.span.line and d.span.end_col > d.span.col:
                width = d.span.end_col - d.span.col
            gutter = f"{d.span.line:>5} | "
            out.append(gutter + text)
            out.append(" " * (len(gutter) + d.span.col - 1) + "^" * max(1, width))
        out.extend(f"      = note: {n}" for n in d.notes)
    return "\n".join(out)


def render_json(diags: Iterable[Diagnostic]) -> str:
    """Render diagnostics as one JSON document (a list of objects), for editors and CI."""
    return json.dumps([d.as_dict() for d in diags], ensure_ascii=False, indent=2)
