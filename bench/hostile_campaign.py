"""Campaign (not a test): hostile episodes through both bundled versions, compiled and interpreted.

    python bench/hostile_campaign.py [-n EPISODES] [--interpret-every K] [--seed N]

Builds every version under definitions/ into a temporary folder, then draws ``n`` hostile episodes
(:func:`isfdsl.testing.hostile_episode`: NUL and full-width digits inside codes, huge integers,
floats, nested lists, mappings, bytes, wrong types, unknown keys) and groups each with every decision
table of every version's generated package; one episode in ``K`` is also grouped by the reference
interpreter. It prints the counts that must all be 0 — tracebacks (an exception out of ``group``, or
an internal error it caught: rule ``error``), wrong results (compiled != interpreter: group, rule,
return code, points, refund, problems) and episodes in no group (empty, or not a group of the table's
catalogue) — the first few examples of each, and the time taken.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import ModuleType

from isfdsl import interpret
from isfdsl.commands.pipeline import build, load_package
from isfdsl.ir.model import Program
from isfdsl.testing import hostile_episode, load

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1_000_000, help="hostile episodes (default 1,000,000)")
    ap.add_argument("--interpret-every", type=int, default=50, help="interpret one episode in K (default 50)")
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args()
    versions: list[tuple[str, Program, ModuleType]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for defs in sorted(p for p in (ROOT / "definitions").iterdir() if p.is_dir()):
            build(str(defs), Path(tmp) / defs.name, analyse=False)
            versions.append((defs.name, load(str(defs)), load_package(Path(tmp) / defs.name)))
        counts = {"episodes": 0, "groupings": 0, "interpreted": 0, "tracebacks": 0, "wrong results": 0, "in no group": 0}
        examples: dict[str, list[str]] = {k: [] for k in ("tracebacks", "wrong results", "in no group")}

        def note(kind: str, text: str) -> None:
            counts[kind] += 1
            if len(examples[kind]) < 3:
                examples[kind].append(text[:600])

        rng = random.Random(args.seed)
        started, cpu = time.perf_counter(), time.process_time()
        for k in range(args.n):
            seed = rng.getrandbits(64)
            counts["episodes"] += 1
            interpreted = k % args.interpret_every == 0
            counts["interpreted"] += interpreted
            for name, program, package in versions:
                episode = hostile_episode(program, random.Random(seed))
                for table in package.TABLES:
                    counts["groupings"] += 1
                    try:
                        got = package.group(episode, table=table)
                    except Exception:  # noqa: BLE001 -- counted: group must never raise
                        note("tracebacks", f"{name} seed {seed}: {traceback.format_exc(limit=3)}")
                        continue
                    if got.rule == "error":
                        note("tracebacks", f"{name} seed {seed}: {got.problems}")
                    if not got.group or got.group not in program.catalogues.get(got.system, {}):
                        note("in no group", f"{name} seed {seed}: {got.group!r} {got.rule}")
                    if interpreted:
                        try:
                            want = interpret.group(program, dict(episode), table)
                        except Exception:  # noqa: BLE001 -- counted
                            note("tracebacks", f"{name} seed {seed} (interpreter): {traceback.format_exc(limit=3)}")
                            continue
                        mine = (got.group, got.rule, got.return_code, got.points, got.refund, got.problems)
                        theirs = (want.group, want.rule, want.return_code, want.points, want.refund, want.problems)
                        if mine != theirs:
                            note("wrong results", f"{name} seed {seed}: {mine} != {theirs}")
            if (k + 1) % 100_000 == 0:
                print(f"  {k + 1:,} episodes, {time.perf_counter() - started:,.0f} s", file=sys.stderr)
        wall, spent = time.perf_counter() - started, time.process_time() - cpu
    print(f"hostile campaign: {counts['episodes']:,} episodes × {len(versions)} versions "
          f"({', '.join(v[0] for v in versions)}), {counts['groupings']:,} groupings, "
          f"{counts['interpreted']:,} episodes also interpreted; {wall:,.0f} s ({spent:,.0f} s of processor time)")
    for kind in ("tracebacks", "wrong results", "in no group"):
        print(f"  {kind}: {counts[kind]}")
        for text in examples[kind]:
            print(f"    e.g. {text}")
    return 0 if not (counts["tracebacks"] or counts["wrong results"] or counts["in no group"]) else 1


if __name__ == "__main__":
    sys.exit(main())
