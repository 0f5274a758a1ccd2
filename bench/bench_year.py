"""Benchmark (not a test): a national year's first pass — distinct cases, warm cases, import — side by
side in one run, with drgpy as the peer when it is installed.

    python bench/bench_year.py [--year 2015] [-n 200000] [--shared ../shared/norddrg] [--seed 1]

Imports a NordDRG year into a temporary folder and builds it, draws N distinct grouping strings twice
with ``bench/workload.py`` (the *realistic* workload: codes by a Zipf-like popularity; the *uniform*
worst case), and measures, each in a fresh process (its memories empty):

* distinct, cold — every string parsed and grouped once, in order (what a year's first pass costs);
* distinct, second pass — the same strings again in the same process (bounded memories: most of a
  year does not fit them, so this is not much warmer);
* warm — the 764 official reference strings cycled to 100,000 cases, best of five passes;
* import of the generated package — with bytecode written (the first import), from the bytecode
  cache, and with ``PYTHONDONTWRITEBYTECODE=1`` into a fresh copy (no bytecode anywhere): seconds and
  peak resident memory;
* drgpy (MS-DRG in pure Python, ``pip install drgpy``; never a dependency of isfdsl), when importable:
  the same counts of diagnoses and procedures drawn the same ways from its own code maps, each case
  given as lists (no string to parse), cold and warm.

Times are CPU seconds of the measuring process (``time.process_time``): on a shared, loaded machine
the wall clock measures the other users as well. Wall-clock rates are printed beside them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import workload

from isfdsl.commands.pipeline import build
from isfdsl.importers import norddrg

ROOT = Path(__file__).resolve().parent.parent
ZIPS = {2015: "DefinitionData_NOR_2015_PR1cN.zip", 2016: "DefinitionData_NOR_2016_PR1cN.zip",
        2017: "DefinitionData_NOR_2017_PR1aN.zip"}

#: Groups the strings of a file in a fresh process: first pass, second pass (CPU and wall seconds).
DISTINCT = """
import sys, time, gc
sys.path.insert(0, sys.argv[1])
import importlib
pkg = importlib.import_module(sys.argv[2])
from isfdsl.inputs.grouping_string import parse_grouping_string as parse
strings = open(sys.argv[3], encoding="utf-8").read().splitlines()
group = pkg.group
gc.disable()
out = []
for _ in range(2):
    c, w = time.process_time(), time.perf_counter()
    for s in strings:
        group(parse(s))
    out.append((time.process_time() - c, time.perf_counter() - w))
print(out)
"""

#: The reference strings cycled: the best of five passes.
WARM = """
import sys, time, gc
sys.path.insert(0, sys.argv[1])
import importlib
pkg = importlib.import_module(sys.argv[2])
from isfdsl.inputs.grouping_string import parse_grouping_string as parse
strings = open(sys.argv[3], encoding="utf-8").read().splitlines()
group = pkg.group
gc.disable()
best = (1e9, 1e9)
for _ in range(5):
    c, w = time.process_time(), time.perf_counter()
    for s in strings:
        group(parse(s))
    best = min(best, (time.process_time() - c, time.perf_counter() - w))
print([best])
"""

#: Imports a package: CPU and wall seconds, peak resident memory (KiB, Linux).
IMPORT = """
import sys, time
sys.path.insert(0, sys.argv[1])
c, w = time.process_time(), time.perf_counter()
__import__(sys.argv[2])
c, w = time.process_time() - c, time.perf_counter() - w
print([(c, w, next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')))])
"""

#: drgpy over cases given as JSON lines [diagnoses, procedures, sex]: engine load, first pass, warm.
DRGPY = """
import sys, time, json, gc
c, w = time.process_time(), time.perf_counter()
from drgpy.msdrg import DRGEngine
engine = DRGEngine()
load = (time.process_time() - c, time.perf_counter() - w)
cases = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
gc.disable()
out = [load]
for batch in (cases, (cases[:764] * 200)[:len(cases) // 2]):
    c, w = time.process_time(), time.perf_counter()
    for dx, pr, sex in batch:
        engine.get_drg(dx, pr, sex)
    out.append((time.process_time() - c, time.perf_counter() - w))
print(out)
"""


def run(script: str, *args: str, env: dict[str, str] | None = None) -> list[tuple[float, ...]]:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True,
                          env=env, cwd=ROOT)
    return [tuple(x) for x in json.loads(done.stdout.strip().replace("(", "[").replace(")", "]"))]


def drgpy_cases(n: int, seed: int, uniform: bool) -> list[list[object]] | None:
    """Cases for drgpy with the workload's counts, codes from drgpy's own maps (None: not installed)."""
    try:
        from drgpy.msdrg import DRGEngine  # type: ignore[import-not-found]
    except ImportError:
        return None
    engine = DRGEngine()
    rng = random.Random(seed)
    dx = workload.Popularity(engine.dxmap, rng, uniform=uniform)
    pr = workload.Popularity(engine.prmap, rng, uniform=uniform)
    return [[[dx.draw(), *dx.draw_distinct(workload.secondary_count(rng))], pr.draw_distinct(workload.procedure_count(rng, 25)),
             rng.choice("FM")] for _ in range(n)]


def rate(n: int, seconds: tuple[float, ...]) -> str:
    cpu, wall = seconds[0], seconds[1]
    return f"{n / cpu:>9,.0f}/s {cpu / n * 1e6:6.1f} µs  (wall {n / wall:,.0f}/s)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--year", type=int, default=2015, choices=sorted(ZIPS))
    ap.add_argument("-n", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "norddrg"))
    args = ap.parse_args()
    shared = Path(args.shared)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    with tempfile.TemporaryDirectory() as tmp:
        src, gen = Path(tmp) / f"nd{args.year}", Path(tmp) / "gen"
        norddrg.write(shared / ZIPS[args.year], src)
        built = build(str(src), gen / src.name, analyse=False)
        assert built.package is not None, built.checked.diags.errors[:3]
        program = workload.load(str(src))
        files = {}
        for kind in ("realistic", "uniform"):
            strings = workload.norddrg_strings(program, args.n, seed=args.seed, uniform=kind == "uniform")
            files[kind] = Path(tmp) / f"{kind}.txt"
            files[kind].write_text("\n".join(strings) + "\n", encoding="utf-8")
        reference = [row["DRGGrupperingsstreng"] for name in ("reference-2015-small.csv", "reference-2015-dev.csv")
                     for row in csv.DictReader((shared / name).open(encoding="utf-8"), delimiter=";")]
        files["warm"] = Path(tmp) / "warm.txt"
        files["warm"].write_text("\n".join((reference * 200)[:100_000]) + "\n", encoding="utf-8")
        package = [str(gen), src.name]
        first_import = run(IMPORT, *package, env=env)[0]
        cached_import = run(IMPORT, *package, env=env)[0]
        fresh = Path(tmp) / "fresh"
        shutil.copytree(gen, fresh, ignore=shutil.ignore_patterns("__pycache__"))
        no_bytecode = run(IMPORT, str(fresh), src.name, env={**env, "PYTHONDONTWRITEBYTECODE": "1"})[0]
        rows = []
        for kind in ("realistic", "uniform"):
            first, second = run(DISTINCT, *package, str(files[kind]), env=env)
            rows.append((f"distinct {kind}, cold (first pass)", rate(args.n, first)))
            rows.append((f"distinct {kind}, second pass", rate(args.n, second)))
        rows.append(("warm (reference strings cycled)", rate(100_000, run(WARM, *package, str(files["warm"]), env=env)[0])))
        peer = []
        for kind in ("realistic", "uniform"):
            cases = drgpy_cases(args.n, args.seed, kind == "uniform")
            if cases is None:
                break
            path = Path(tmp) / f"drgpy-{kind}.jsonl"
            path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
            load, cold, warm = run(DRGPY, str(path), env=env)
            peer.append((f"drgpy {kind}: cold (lists given)", rate(len(cases), cold)))
            if kind == "realistic":
                peer.append(("drgpy warm (764 cases cycled)", rate(len(cases) // 2, warm)))
                peer.append(("drgpy engine load", f"{load[0]:.2f} s CPU (wall {load[1]:.2f} s)"))
    print(f"NordDRG {args.year}, {args.n:,} distinct grouping strings per workload (seed {args.seed}); "
          "CPU time of the measuring process:")
    width = max(len(name) for name, _ in rows + peer)
    for name, text in rows:
        print(f"  isfdsl {name:{width}}  {text}")
    for name, (cpu, wall, kib) in (("import, bytecode written (first)", first_import),
                                   ("import, bytecode cached", cached_import),
                                   ("import, PYTHONDONTWRITEBYTECODE=1", no_bytecode)):
        print(f"  isfdsl {name:{width}}  {cpu:.2f} s CPU (wall {wall:.2f} s), peak {kib / 1024:,.0f} MiB")
    for name, text in peer:
        print(f"         {name:{width}}  {text}")
    if not peer:
        print("  drgpy is not installed: `pip install drgpy` in this environment to measure the peer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
