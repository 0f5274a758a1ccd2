"""Analyse, remembered: the analysis' findings kept on disk by a hash of what the analysis reads, so that
`isf check`, `isf build` and `isf lsp` do not analyse an unchanged program again.

The key is a SHA-256 over the cache format (:data:`FORMAT`), isfdsl's version and a fingerprint of its own
code (a development checkout changes without a new version number), whether witness episodes were searched,
and a canonical form of the lowered program (:class:`isfdsl.ir.model.Program`: the decision tables with
their rows' positions, the code lists, code tables, derivations and attributes they read). The key never
depends on the hash seed or on the order a dictionary was filled in. Comments and layout that move no row
keep the key; anything the analysis can see changes it.

An entry is one JSON file ``<64 hex digits>.json`` in the folder :func:`cache_folder` names, written
through :func:`isfdsl.files.replace_file` (a reader never sees half a file). The folder is trimmed,
least recently used first, when its entries pass :data:`LIMIT` bytes. Entries are read as hostile input:
a file that is not JSON, is cut short, is of another format, version or key, or holds a finding of the
wrong shape or with an unknown code is ignored (the analysis runs again and replaces it), never a crash.
The cache is an optimisation only: a folder that cannot be created or written leaves every command working.

A report read back holds the findings and the summary (enough for diagnostics), not the regions a
witness search needs (:mod:`isfdsl.analysis.witnesses`); its witnesses hold the JSON values the notes print.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from isfdsl import __version__
from isfdsl.analysis.analyse import Finding, Report, analyse
from isfdsl.diagnostics import CODES
from isfdsl.files import replace_file
from isfdsl.ir import model as ir

#: The layout of an entry; raise it when that changes, so that no entry of the old layout is read.
FORMAT = 1
#: The most bytes of entries the folder keeps; past it the least recently used are removed.
LIMIT = 256 * 1024 * 1024
#: The largest entry read (a bigger file is not one this module wrote).
ENTRY_BYTES = 16 * 1024 * 1024
#: The environment variable naming the folder.
ENV = "ISF_CACHE_DIR"

_ENTRY = re.compile(r"[0-9a-f]{64}\.json")
_PART = re.compile(r"\.[0-9a-f]{64}\.json\..*\.part")


def cache_folder() -> Path:
    """Where entries live: the folder ``analysis`` in isfdsl's cache folder, which is ``$ISF_CACHE_DIR``,
    else ``$XDG_CACHE_HOME/isfdsl``, else ``~/.cache/isfdsl``."""
    named = os.environ.get(ENV)
    if named:
        return Path(named) / "analysis"
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base and os.path.isabs(base) else Path.home() / ".cache") / "isfdsl" / "analysis"


@functools.cache
def code_fingerprint() -> str:
    """A hash of isfdsl's own modules as installed: a changed analysis never reads an entry of the old one."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def program_key(program: ir.Program, episodes: bool) -> str:
    """The key of ``program``'s analysis (with or without the search for witness episodes)."""
    h = hashlib.sha256(f"isfdsl analysis cache {FORMAT}\0{__version__}\0{code_fingerprint()}\0{episodes}\0".encode())
    h.update(_canonical(program).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _canonical(program: ir.Program) -> str:
    """One text per program, the same in every process: JSON with sorted keys, sets sorted, dataclasses
    as their class and fields. ``TypeError`` for a value of another kind (the program is then not cached)."""
    return json.dumps(program, default=_plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _plain(v: object) -> object:
    """What JSON cannot hold itself, as what it can (tagged with a character no name holds)."""
    if isinstance(v, Decimal):
        return ["\0D", str(v)]
    if isinstance(v, frozenset | set):
        if all(type(x) is str for x in v):
            return ["\0S", *sorted(v)]
        return ["\0S", *sorted(json.dumps(x, default=_plain, sort_keys=True) for x in v)]
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return ["\0" + type(v).__name__, *(getattr(v, f.name) for f in dataclasses.fields(v))]
    raise TypeError(f"{type(v).__name__} has no canonical form")


# ---------------------------------------------------------------------- entries


def _encode(key: str, report: Report) -> bytes:
    body = {"format": FORMAT, "isfdsl": __version__, "key": key, "rows": report.rows, "tables": report.tables,
            "summary": [list(s) for s in report.summary], "findings": [f.as_dict() for f in report.findings]}
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _decode(key: str, data: bytes) -> Report | None:
    """The report an entry holds, or None when the entry is not a well-formed one for ``key``."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(body, dict) or body.get("format") != FORMAT or body.get("isfdsl") != __version__ \
            or body.get("key") != key:
        return None
    rows, tables, summary, findings = (body.get(k) for k in ("rows", "tables", "summary", "findings"))
    if not (_is_int(rows) and _is_int(tables) and isinstance(summary, list) and isinstance(findings, list)):
        return None
    report = Report(rows=rows, tables=tables)  # type: ignore[arg-type]
    for s in summary:
        if not (isinstance(s, list) and len(s) == 5 and _strs(s[:2]) and _is_int(s[2]) and _is_int(s[3])
                and isinstance(s[4], int | float) and not isinstance(s[4], bool)):
            return None
        report.summary.append((s[0], s[1], s[2], s[3], float(s[4])))
    for f in findings:
        finding = _finding(f)
        if finding is None:
            return None
        report.findings.append(finding)
    return report


def _finding(f: object) -> Finding | None:
    if not isinstance(f, dict) or set(f) != {"code", "table", "rule", "where", "message", "rows", "witness",
                                             "episode", "notes"}:
        return None
    code, table, rule, where, message = f["code"], f["table"], f["rule"], f["where"], f["message"]
    if not (_strs([code, table, where, message]) and (rule is None or isinstance(rule, str)) and code in CODES):
        return None
    rows, notes, witness, episode = f["rows"], f["notes"], f["witness"], f["episode"]
    if not (isinstance(rows, list) and _strs(rows) and isinstance(notes, list) and _strs(notes)):
        return None
    if not all(w is None or (isinstance(w, dict) and _strs(list(w))) for w in (witness, episode)):
        return None
    return Finding(code, table, rule, where, message, tuple(rows), witness, episode, tuple(notes))


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _strs(values: list[object]) -> bool:
    return all(isinstance(x, str) for x in values)


# ---------------------------------------------------------------------- the cache


class AnalysisCache:
    """Reports by key in ``folder`` (default :func:`cache_folder`), at most ``limit`` bytes of them.
    ``hits``, ``misses`` and ``analysed`` count what this object did (tests and timings read them)."""

    def __init__(self, folder: Path | None = None, limit: int = LIMIT) -> None:
        self.folder = folder if folder is not None else cache_folder()
        self.limit = limit
        self.hits = 0
        self.misses = 0
        self.analysed = 0

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def load(self, key: str) -> Report | None:
        """The report kept under ``key``, or None (absent, unreadable or not a well-formed entry)."""
        path = self.path(key)
        try:
            with path.open("rb") as f:
                data = f.read(ENTRY_BYTES + 1)
        except OSError:
            return None
        report = _decode(key, data) if len(data) <= ENTRY_BYTES else None
        if report is not None:
            try:
                os.utime(path)  # recently used: trimmed last
            except OSError:
                pass
        return report

    def save(self, key: str, report: Report) -> bool:
        """Keep ``report`` under ``key``; False when it could not be (a value JSON cannot hold, a folder
        that cannot be written): the cache is then simply not used."""
        try:
            data = _encode(key, report)
        except (TypeError, ValueError):
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            replace_file(self.path(key), data)
        except OSError:
            return False
        self.trim()
        return True

    def trim(self) -> None:
        """Remove entries, least recently used first, until they take at most ``limit`` bytes (and the
        temporary files of writes interrupted over an hour ago)."""
        entries: list[tuple[float, int, Path]] = []
        try:
            listing = list(os.scandir(self.folder))
        except OSError:
            return
        now = time.time()
        for e in listing:
            try:
                if _ENTRY.fullmatch(e.name) and e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    entries.append((st.st_mtime, st.st_size, Path(e.path)))
                elif _PART.fullmatch(e.name) and e.stat(follow_symlinks=False).st_mtime < now - 3600:
                    Path(e.path).unlink(missing_ok=True)
            except OSError:
                continue
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.limit:
                break
            try:
                path.unlink(missing_ok=True)
            except OSError:
                continue
            total -= size

    def analyse(self, program: ir.Program, episodes: bool, run: Callable[[ir.Program], Report] | None = None) -> Report:
        """The analysis of ``program`` from the cache, or run (``run``, default
        :func:`isfdsl.analysis.analyse.analyse`) and kept."""
        try:
            key = program_key(program, episodes)
        except (TypeError, RecursionError):
            key = None
        if key is not None:
            report = self.load(key)
            if report is not None:
                self.hits += 1
                return report
            self.misses += 1
        report = analyse(program, episodes=episodes) if run is None else run(program)
        self.analysed += 1
        if key is not None:
            self.save(key, report)
        return report
