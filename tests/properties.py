"""The invariants of DESIGN.md §5 as reusable checks, applied to every bundled version
(tests/test_properties.py) and to the imported official tables (tests/test_norddrg.py)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from types import ModuleType

import pyarrow as pa

from isfdsl import interpret
from isfdsl.ir.model import Program
from isfdsl.runtime.contract import round_refund

#: Rows reached per (program label, table): printed in the test session's summary.
COVERAGE: dict[tuple[str, str], tuple[set[str], int]] = {}


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
