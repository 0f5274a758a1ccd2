"""Benchmark workloads (not a test): synthetic episodes shaped like a year of hospital activity.

    python bench/workload.py norddrg DEFS -n 200000 [--uniform] [--seed 1] > strings.txt
    python bench/workload.py isf2025 [definitions/isf2025] -n 200000 [--uniform] > episodes.jsonl

A year of activity is skewed: a few hundred diagnoses and procedures make most of it, and the long
tail is long. The *realistic* workload draws every code by a Zipf-like popularity — the code at rank
r (in a seeded random order of the codes the definitions' tables and lists know) has weight
1 / (r + 1) — so that the most common tenth of the codes makes about 70 % of the draws; the *uniform*
workload draws every code with the same weight, the worst case for anything remembered per code.
Both draw the same counts:

* secondary diagnoses: none in 45 % of episodes, else 1 + a geometric number (mean 2.2), at most 29;
* procedures: none in 35 %, else 1 + a geometric number (mean 1.0);
* a principal diagnosis in 99.5 % of episodes; 3 % of diagnosis slots a (dagger, asterisk) pair taken
  from the combination rows of the tables, where there are such rows;
* age: 3 % newborns (0-27 days), else years from a beta distribution leaning old (median ~55);
* length of stay: 0 days in 45 %, else 1 + a geometric number (mean 4.5), at most 365;
* sex 1 / 2 / unknown, discharge home / transferred / died / not died / empty in plausible shares.

Every function takes a seed and is deterministic. ``distinct`` keeps drawing until it has N distinct
cases (the first pass of a year: cases almost never repeat as a whole).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Popularity:
    """Draws items by a Zipf-like popularity over a seeded random order of ``items`` (rank r has weight
    ``1 / (r + 1) ** s``), or uniformly. ``items`` are sorted first, so the order depends on the seed
    only."""

    def __init__(self, items: Iterable[str], rng: random.Random, *, uniform: bool = False, s: float = 1.0) -> None:
        self.items = sorted(set(items))
        if not self.items:
            raise ValueError("no items to draw from")
        rng.shuffle(self.items)
        self.rng = rng
        self.uniform = uniform
        self.cumulative = list(itertools.accumulate(1.0 / (r + 1) ** s for r in range(len(self.items))))

    def draw(self) -> str:
        if self.uniform:
            return self.items[int(self.rng.random() * len(self.items))]
        x = self.rng.random() * self.cumulative[-1]
        return self.items[min(bisect.bisect_right(self.cumulative, x), len(self.items) - 1)]

    def draw_distinct(self, k: int) -> list[str]:
        """``k`` different items (fewer when there are not so many), in the order drawn."""
        k = min(k, len(self.items))
        seen: dict[str, None] = {}
        while len(seen) < k:
            seen[self.draw()] = None
        return list(seen)


def geometric(rng: random.Random, mean: float) -> int:
    """A geometric number of failures before the first success, with the given mean."""
    p = 1.0 / (1.0 + mean)
    n = 0
    while rng.random() >= p:
        n += 1
    return n


def secondary_count(rng: random.Random) -> int:
    return 0 if rng.random() < 0.45 else min(29, 1 + geometric(rng, 2.2))


def procedure_count(rng: random.Random, most: int = 99) -> int:
    return 0 if rng.random() < 0.35 else min(most, 1 + geometric(rng, 1.0))


def age_days(rng: random.Random) -> int:
    if rng.random() < 0.03:
        return rng.randrange(28)
    return int(rng.betavariate(2.2, 1.8) * 100) * 365 + rng.randrange(365)


def stay(rng: random.Random) -> int:
    return 0 if rng.random() < 0.45 else min(365, 1 + geometric(rng, 4.5))


def pick(rng: random.Random, shares: Sequence[tuple[str, float]]) -> str:
    x = rng.random() * sum(w for _, w in shares)
    for value, w in shares:
        x -= w
        if x < 0:
            return value
    return shares[-1][0]


SEX = (("1", 0.48), ("2", 0.51), ("9", 0.005), ("", 0.005))
DISCHARGE = (("H", 0.92), ("R", 0.04), ("E", 0.02), ("N", 0.01), ("", 0.01))


def distinct(make: Callable[[], str], n: int, *, tries: int = 20) -> list[str]:
    """``n`` distinct results of ``make()`` in the order first made (``tries`` × n calls at most)."""
    seen: dict[str, None] = {}
    for _ in range(n * tries):
        seen[make()] = None
        if len(seen) == n:
            break
    return list(seen)


# ---------------------------------------------------------------------- NordDRG grouping strings


def table_codes(program: object, system: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The keys of a program's code tables of one code system, and its (first, second) pairs: the
    combination rows ``second & key`` read as a slot (second, key)."""
    codes: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for table in program.tables.values():  # type: ignore[attr-defined]
        if table.key_system != system:
            continue
        for key, rows in table.rows.items():
            codes.add(key)
            pairs.update((s, key) for s, _ in rows if s is not None)
    return sorted(codes), sorted(pairs)


def norddrg_strings(program: object, n: int, *, seed: int = 1, uniform: bool = False) -> list[str]:
    """``n`` distinct 165-field grouping strings (see ``isfdsl.inputs.grouping_string``) over the codes
    of an imported NordDRG year (``program``: its IR, the tables keyed by ICD10 and NCSP)."""
    rng = random.Random(seed)
    diagnoses, pairs = table_codes(program, "ICD10")
    procedures, _ = table_codes(program, "NCSP")
    dx = Popularity(diagnoses, rng, uniform=uniform)
    asterisk = Popularity([f"{a}&{b}" for a, b in pairs], rng, uniform=uniform) if pairs else None
    px = Popularity(procedures, rng, uniform=uniform)

    def slot() -> tuple[str, str]:
        if asterisk is not None and rng.random() < 0.03:
            first, _, second = asterisk.draw().partition("&")
            return first, second
        return dx.draw(), ""

    def make() -> str:
        fields = [pick(rng, SEX), str(age_days(rng)), pick(rng, DISCHARGE), str(stay(rng)), ""]
        slots = [slot() if rng.random() < 0.995 else ("", "")]
        seen = {slots[0][0]}
        for _ in range(secondary_count(rng)):
            s = slot()
            if s[0] not in seen:
                seen.add(s[0])
                slots.append(s)
        slots += [("", "")] * (30 - len(slots))
        fields += [f for s in slots for f in s]
        procs = px.draw_distinct(procedure_count(rng, 99))
        fields += procs + [""] * (100 - len(procs))
        return ",".join(fields)

    return distinct(make, n)


# ---------------------------------------------------------------------- episodes of the bundled model


def expand(program: object, system: str) -> list[str]:
    """The codes a program knows for a code system, written as users write them: exact codes; under a
    prefix the prefix with a digit; a range ``A00-A09`` of letter and number each code in it and, for
    three-character ICD-10 codes, their subcodes ``A00.0``-``A00.9``."""
    found: set[str] = set()
    for cs in program.codesets.values():  # type: ignore[attr-defined]
        if cs.system != system:
            continue
        found |= cs.codes
        found.update(p + d for p in cs.prefixes for d in "0189")
        for lo, hi in cs.ranges:
            if len(lo) == len(hi) and lo[0] == hi[0] and lo[1:].isdigit() and hi[1:].isdigit():
                found.update(f"{lo[0]}{k:0{len(lo) - 1}d}" for k in range(int(lo[1:]), int(hi[1:]) + 1))
            else:
                found.update((lo, hi))
    for table in program.tables.values():  # type: ignore[attr-defined]
        if table.key_system == system:
            found.update(table.rows)
    if system == "ICD10":
        found |= {f"{c}.{d}" for c in found if len(c) == 3 for d in "0189"}
    return sorted(found)


def isf2025_episodes(program: object, n: int, *, seed: int = 1, uniform: bool = False) -> list[dict[str, object]]:
    """``n`` distinct episodes (attribute -> value as a CSV or JSON reader gives them) of the bundled
    model's schema, codes drawn from what its lists and tables know."""
    rng = random.Random(seed)
    pools = {s: Popularity(expand(program, s), rng, uniform=uniform) for s in ("ICD10", "NCSP", "ATC")}
    care = (("1", 0.25), ("2", 0.15), ("3", 0.6))
    contact = (("1", 0.8), ("11", 0.07), ("12", 0.08), ("26", 0.03), ("40", 0.02))
    personnel = Popularity(["LE", "SP", "PS", "AN"], rng)

    def make() -> str:
        level = pick(rng, care)
        episode = {
            "sex": pick(rng, SEX), "age": str(age_days(rng) // 365), "care_level": level,
            "sector": pick(rng, (("S", 0.85), ("P", 0.1), ("T", 0.05))), "contact": pick(rng, contact),
            "los": str(stay(rng)) if level == "1" else "0",
            "pdx": pools["ICD10"].draw() if rng.random() < 0.995 else "",
            "sdx": pools["ICD10"].draw_distinct(secondary_count(rng)),
            "procedures": pools["NCSP"].draw_distinct(procedure_count(rng, 20)),
            "drugs": pools["ATC"].draw_distinct(0 if rng.random() < 0.85 else 1 + geometric(rng, 0.3)),
            "self_administered": "1" if rng.random() < 0.02 else "",
            "personnel": personnel.draw_distinct(0 if rng.random() < 0.5 else 1 + geometric(rng, 0.4)),
        }
        return json.dumps(episode, sort_keys=True, ensure_ascii=False)

    return [json.loads(line) for line in distinct(make, n)]


# ---------------------------------------------------------------------- command line


def load(defs: str) -> object:
    """The IR of one version folder (raises SystemExit with the errors)."""
    from isfdsl.commands.pipeline import check_paths
    from isfdsl.ir.model import lower

    checked = check_paths([defs], analyse=False, episodes=False)
    if not checked.ok or len(checked.models) != 1:
        raise SystemExit(f"{defs}: does not check")
    return lower(checked.models[0])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=("norddrg", "isf2025"))
    ap.add_argument("defs", nargs="?", default=str(ROOT / "definitions" / "isf2025"))
    ap.add_argument("-n", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--uniform", action="store_true", help="every code equally likely (the worst case)")
    args = ap.parse_args(argv)
    program = load(args.defs)
    lines: Iterator[str]
    if args.kind == "norddrg":
        lines = iter(norddrg_strings(program, args.n, seed=args.seed, uniform=args.uniform))
    else:
        lines = (json.dumps(e, ensure_ascii=False) for e in isf2025_episodes(program, args.n, seed=args.seed, uniform=args.uniform))
    out = sys.stdout
    for line in lines:
        out.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
