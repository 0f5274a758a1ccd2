"""The invariants of DESIGN.md §5 as reusable checks, applied to every bundled version
(tests/test_properties.py) and to the imported official tables (tests/test_norddrg.py)."""

from __future__ import annotations

import importlib
import random
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import ModuleType

import pyarrow as pa

from isfdsl import interpret
from isfdsl.analysis.analyse import Report
from isfdsl.analysis.witnesses import RowWitness, row_witnesses
from isfdsl.ir.model import Program
from isfdsl.runtime.contract import round_refund

#: Rows reached per (program label, table): printed in the test session's summary.
COVERAGE: dict[tuple[str, str], tuple[set[str], int]] = {}
#: Per (program label, table): the rows whose witness episodes both groupers gave to that row, and the
#: rows the analysis proves can match. Printed in the summary; the tests assert they are equal.
ROWS: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
#: Seconds the witness search took per program label (printed in the summary).
WITNESS_SECONDS: dict[str, float] = {}


def list_attributes_as_sets(program: Program) -> list[str]:
    """List attributes whose order the definitions ignore (every list attribute of the bundled
    versions and of NordDRG; a test proves it for each)."""
    return [a.name for a in program.attributes if a.type.kind == "list"]


def check_invariants(program: Program, package: ModuleType, episode: Mapping[str, object], seed: int = 0) -> None:
    """One episode: exactly one group per table from its catalogue; compiled == interpreter; the
    same result again (determinism); the same result with list attributes reordered."""
    for table in package.TABLES:
        got = package.group(episode, table=table)  # never raises: an exception fails the test
        want = interpret.group(program, dict(episode), table)
        key = (got.group, got.rule, got.return_code, got.points, got.refund, got.problems)
        assert key == (want.group, want.rule, want.return_code, want.points, want.refund, want.problems), episode
        catalogue = program.catalogues[got.system]  # an `otherwise` table's result is of its own system
        assert got.group in catalogue, f"{got.group!r} is not a group of the catalogue"
        again = package.group(dict(episode), table=table)
        assert (again.group, again.rule, again.return_code, again.points) == key[:4]
        shuffled = dict(episode)
        rng = random.Random(seed)
        for name in list_attributes_as_sets(program):
            value = shuffled.get(name)
            if isinstance(value, list):
                value = list(value)
                rng.shuffle(value)
                shuffled[name] = value
            elif isinstance(value, str) and " " in value.strip():
                parts = value.split()
                rng.shuffle(parts)
                shuffled[name] = " ".join(parts)
        moved = package.group(shuffled, table=table)
        assert (moved.group, moved.rule, moved.return_code, moved.points) == key[:4], (episode, shuffled)
        hit, _total = COVERAGE.setdefault((program.label, got.table), (set(), len(
            next(t for t in program.decisions if t.name == got.table).rows)))
        hit.add(got.rule)


def check_arrow(program: Program, package: ModuleType, episodes: list[dict[str, object]]) -> None:
    """The Arrow batch entry gives, row for row, what ``group`` gives."""
    names = [a.name for a in program.attributes]
    texts = [{n: _text(e.get(n)) for n in names} for e in episodes]
    batch = pa.RecordBatch.from_pylist(texts, schema=pa.schema([pa.field(n, pa.string()) for n in names]))
    [out] = list(package.group_arrow([batch]))
    assert out.num_rows == len(episodes)
    rows = out.to_pylist()
    for text, row in zip(texts, rows, strict=True):
        r = package.group(text)
        assert (row["group"], row["rule"], row["return_code"]) == (r.group, r.rule, r.return_code)
        assert row["points"] == r.points and isinstance(row["points"], Decimal)  # exact, not a float
        assert row["refund"] == (None if r.refund is None else round_refund(r.refund))


def _text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, list):
        return " ".join(_text(x) or "" for x in v)
    if isinstance(v, tuple):
        return "|".join(_text(x) or "" for x in v)
    return str(v)


def witnesses(program: Program, report: Report | None = None) -> list[RowWitness]:
    """The rows' witnesses of a program (see :func:`row_witnesses`), timed into ``WITNESS_SECONDS``."""
    started = time.perf_counter()
    found = row_witnesses(program, report)
    WITNESS_SECONDS[program.label] = time.perf_counter() - started
    return found


def can_match(program: Program, report: Report) -> dict[str, set[str]]:
    """Per decision table (pathway tables too), the rows the analysis does not call unmatchable."""
    never = {(f.table, f.rule) for f in report.findings if f.code in ("ISF451", "ISF452")}
    view = program.pathway_program()
    tables = [*program.decisions, *(view.decisions if view is not None else ())]
    return {t.name: {r.id for r in t.rows if (t.name, r.id) not in never} for t in tables}


def check_rows(program: Program, package: ModuleType, found: Sequence[RowWitness],
               reachable: Mapping[str, set[str]]) -> dict[str, str]:
    """Every row's witness episode through :func:`check_invariants` (pathway records through the
    pathway tables), and the row both groupers give it recorded in ``ROWS`` against ``reachable`` (per
    table, the rows the analysis says can match). Returns the rows not reached (rule id -> why)."""
    missed: dict[str, str] = {}
    for table, rules in reachable.items():
        ROWS.setdefault((program.label, table), (set(), set()))[1].update(rules)
        for rule in rules - {w.rule for w in found if w.table == table}:
            missed[rule] = f"{table} row {rule}: the analysis says it can match, but gave no witness for it"
    pathways = importlib.import_module(package.__name__ + "._pathway") if any(w.pathway for w in found) else None
    view = program.pathway_program()
    for w in found:
        reached = ROWS.setdefault((program.label, w.table), (set(), set()))[0]
        if w.episode is None:
            missed[w.rule] = (f"{w.table} row {w.rule}: the analysis says it can match, but the search found "
                              f"no episode (features wanted: {w.features})")
            continue
        if w.pathway:
            assert pathways is not None and view is not None
            got = pathways.GROUPER.group(w.episode, w.table)
            want = interpret.group(view, dict(w.episode), w.table)
            assert (got.group, got.rule, got.return_code, got.points) == (want.group, want.rule, want.return_code,
                                                                          want.points), w
        else:
            check_invariants(program, package, w.episode)
            got = package.group(w.episode, table=w.table)
        if got.rule == w.rule:
            reached.add(w.rule)
        else:
            missed[w.rule] = f"{w.table} row {w.rule}: its witness episode went to row {got.rule} ({w.episode})"
    return missed
