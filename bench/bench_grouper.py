"""Benchmark (not a test): the compiled grouper against the reference interpreter and a floor loop.

    python bench/bench_grouper.py [DEFS] [-n EPISODES] [--seed N]

Builds DEFS (default: definitions/isf2025) into a temporary package, generates episodes from the
definitions' own codes and domains, then measures side by side in one run:

* floor       — one dictionary look-up per episode (the cost of touching the data at all);
* ceiling     — what any grouper with this API does at the least: read every attribute of the
  episode (a list as a tuple), one look-up keyed by them all, and a ready result returned. Its
  ratio to the interpreter bounds the ratio any Python grouper of these definitions can reach;
* compiled    — the generated package's ``group``: a first pass over the episodes, and the best of
  five passes (its memories warm);
* interpreter — ``isfdsl.interpret.group`` on a slice of the same episodes (it is slow).

It prints episodes per second, the ratios, peak traced memory of each loop, and the compile time.
Ratios are the numbers to read: absolute timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from _measure import peak, report, timed

from isfdsl import interpret
from isfdsl.commands.pipeline import build, check_paths, load_package
from isfdsl.ir.model import Program, lower
from isfdsl.testing import codes_of

ROOT = Path(__file__).resolve().parent.parent


def make_episodes(program: Program, n: int, seed: int) -> list[dict[str, object]]:
    """Plausible episodes: codes the definitions mention (mostly), a few unknown or invalid values."""
    rng = random.Random(seed)
    pools: dict[str, list[str]] = {}

    def code(system: str) -> str:
        pool = pools.setdefault(system, codes_of(program, system) or ["A00"])
        c = rng.choice(pool)
        return c + rng.choice(["", "", "1", "9"]) if rng.random() < 0.9 else f"Z{rng.randrange(100):02d}9"

    def value(attr_type: object, attr: object) -> object:
        t = attr_type
        kind = t.kind  # type: ignore[attr-defined]
        if kind == "list":
            return [value(t.elem, attr) for _ in range(rng.randrange(0, 5))]  # type: ignore[attr-defined]
        if kind == "int":
            lo, hi = t.lo or 0, t.hi if t.hi is not None else 100  # type: ignore[attr-defined]
            return str(rng.randint(lo, min(hi, lo + 120)))
        if kind == "enum":
            return rng.choice(sorted(attr.members))  # type: ignore[attr-defined]
        if kind == "code":
            return code(t.ref)  # type: ignore[attr-defined]
        if kind == "pair":
            return f"{code(t.ref)}|{code(t.ref) if rng.random() < 0.2 else ''}"  # type: ignore[attr-defined]
        if kind == "bool":
            return rng.choice(["0", "1"])
        if kind == "decimal":
            return str(rng.randint(0, 1000) / 10)
        return "x"

    out = []
    for _ in range(n):
        ep = {a.name: value(a.type, a) for a in program.attributes if rng.random() < 0.97}
        if rng.random() < 0.01:
            ep[rng.choice(program.attributes).name] = "??"
        out.append(ep)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("defs", nargs="?", default=str(ROOT / "definitions" / "isf2025"))
    ap.add_argument("-n", type=int, default=100_000, help="episodes (default 100000)")
    ap.add_argument("--interpreter-share", type=int, default=20, help="interpret 1/N of the episodes (default 20)")
    ap.add_argument("--seed", type=int, default=2025)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        built = build(args.defs, Path(tmp) / "bench_pkg")
        compile_s = time.perf_counter() - t0
        if built.package is None:
            print("the definitions have errors; run `isf check`", file=sys.stderr)
            return 1
        t0 = time.perf_counter()
        pkg = load_package(built.package)
        import_s = time.perf_counter() - t0
        program = lower(check_paths([args.defs]).models[0])
        episodes = make_episodes(program, args.n, args.seed)
        sample = episodes[: max(1, args.n // args.interpreter_share)]
        floor_table = {c: c for c in codes_of(program, next(iter(program.codesets.values())).system)} if program.codesets else {}
        key = program.attributes[0].name
        names = [a.name for a in program.attributes]
        ready = pkg.group({})
        seen: dict[tuple[object, ...], object] = {}

        def floor(eps: Iterable[Mapping[str, object]]) -> None:
            get = floor_table.get
            for e in eps:
                get(e.get(key))  # type: ignore[arg-type]

        def ceiling(eps: Iterable[Mapping[str, object]]) -> list[object]:
            out = []
            look = seen.get
            for e in eps:
                out.append(look(tuple([tuple(v) if v.__class__ is list else v for v in map(e.get, names)]), ready))
            return out

        def compiled(eps: Iterable[Mapping[str, object]]) -> None:
            group = pkg.group
            for e in eps:
                group(e)

        def interpreted(eps: Iterable[Mapping[str, object]]) -> None:
            for e in eps:
                interpret.group(program, e)

        warm = min(1000, len(episodes) // 10)  # (so that a short run, -n 1000, still has a first pass)
        compiled(episodes[:warm])  # the first look at each code, once, as a long run would
        # The episodes are random: the first pass finds the generated grouper's memories (converted
        # values, feature stages, masks) mostly empty; later passes find the codes and values again,
        # but hardly any list of codes (100,000 random lists overflow the bounded memories of
        # combinations, which start afresh when full). Both figures are shown.
        first = timed(compiled, episodes[warm:], repeat=1)
        rows = [("floor loop (1 dict look-up)", timed(floor, episodes), len(episodes), peak(floor, sample)),
                ("ceiling (read all, 1 look-up)", timed(ceiling, episodes), len(episodes), 0),
                ("compiled grouper, first pass", first, len(episodes) - warm, 0),
                ("compiled grouper", timed(compiled, episodes), len(episodes), peak(compiled, sample)),
                ("reference interpreter", timed(interpreted, sample, repeat=1), len(sample), peak(interpreted, sample))]

    print(f"definitions: {args.defs} — {len(program.decisions[0].rows)} rows in `{program.decisions[0].name}`, "
          f"{len(program.codesets)} code lists, {sum(len(t.rows) for t in program.tables.values())} table keys")
    print(f"compile (check + lower + emit + write): {compile_s:.2f} s; import of the package: {import_s * 1000:.0f} ms")
    report(rows, 'episodes', 'floor loop (1 dict look-up)', "compiled grouper", "reference interpreter")
    cold, interp = (len(episodes) - warm) / first, len(sample) / rows[-1][1]
    print(f"first pass / interpreter: {cold / interp:,.1f}×   (per item: {1e6 / cold:.2f} µs)")
    ceil = len(episodes) / rows[1][1]
    print(f"ceiling / interpreter: {ceil / interp:,.1f}×   (no grouper of these definitions that reads its "
          f"{len(names)} attributes can pass this ratio)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
