"""Benchmark (not a test): the official NordDRG tables through isfdsl, side by side in one run.

    python bench/bench_norddrg.py [--year 2015] [-n 100000] [--shared ../shared/norddrg]

Imports a year's definition data into a temporary folder, then measures: the compile time of the full
year (load + parse + check + lower + emit + write), the import time of the generated package (first
import, which compiles its bytecode, and a second import from the cache), and the throughput over
the reference grouping strings repeated to about N cases of

* floor       — split the string and one dictionary look-up per case;
* compiled    — parse the string into an episode and group it with the generated package;
* interpreter — the same with ``isfdsl.interpret`` on a slice of the cases;
* compiled, cold — a fresh process grouping each distinct reference string once (its memories empty).

with the peak traced memory of each loop. Nothing is written outside the temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _measure import peak, report, timed

from isfdsl import interpret
from isfdsl.commands.pipeline import build, check_paths, load_package
from isfdsl.importers import norddrg
from isfdsl.inputs import grouping_string
from isfdsl.ir.model import lower

ROOT = Path(__file__).resolve().parent.parent
ZIPS = {2015: "DefinitionData_NOR_2015_PR1cN.zip", 2016: "DefinitionData_NOR_2016_PR1cN.zip",
        2017: "DefinitionData_NOR_2017_PR1aN.zip"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--year", type=int, default=2015, choices=sorted(ZIPS))
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--interpreter-cases", type=int, default=764)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "norddrg"))
    args = ap.parse_args()
    shared = Path(args.shared)
    strings = [row["DRGGrupperingsstreng"] for name in ("reference-2015-small.csv", "reference-2015-dev.csv")
               for row in csv.DictReader((shared / name).open(encoding="utf-8"), delimiter=";")]
    cases = (strings * (args.n // len(strings) + 1))[: args.n]

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / f"nd{args.year}", Path(tmp) / "gen" / f"nd{args.year}"
        t0 = time.perf_counter()
        norddrg.write(shared / ZIPS[args.year], src)
        import_data_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        built = build(str(src), out, analyse=False)
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        checked = check_paths([str(src)], analyse=True, episodes=False)
        analyse_s = time.perf_counter() - t0
        assert checked.ok
        assert built.package is not None
        # As users import it: bytecode written on the first import and read on the next (this machine
        # may set PYTHONDONTWRITEBYTECODE, which would make every import compile the source again).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        load = [sys.executable, "-c", (
            f"import sys, time; sys.path.insert(0, {str(out.parent)!r}); t = time.perf_counter(); "
            f"import nd{args.year}; t = time.perf_counter() - t; "  # peak resident memory of this process (Linux)
            "print(t, next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')))")]
        first_import, first_rss = map(float, subprocess.run(load, capture_output=True, text=True, check=True, env=env).stdout.split())
        cached_import, cached_rss = map(float, subprocess.run(load, capture_output=True, text=True, check=True, env=env).stdout.split())
        # Every memory of a fresh process empty, each distinct reference string grouped once: what the
        # remembered conversions and feature stages do not help with.
        distinct = list(dict.fromkeys(strings))
        cold = [sys.executable, "-c", (
            f"import sys, time; sys.path.insert(0, {str(out.parent)!r}); import nd{args.year} as pkg; "
            "from isfdsl.inputs.grouping_string import parse_grouping_string as parse; "
            "cs = sys.stdin.read().splitlines(); t = time.perf_counter(); [pkg.group(parse(s)) for s in cs]; "
            "print(time.perf_counter() - t)")]
        cold_s = float(subprocess.run(cold, input="\n".join(distinct), capture_output=True, text=True,
                                      check=True).stdout)
        pkg = load_package(out)
        program = lower(check_paths([str(src)]).models[0])
        parse = grouping_string.parse_grouping_string
        table = {s.split(",", 6)[5]: 1 for s in strings}

        def floor(cs: list[str]) -> None:
            get = table.get
            for s in cs:
                get(s.split(",")[5])

        def compiled(cs: list[str]) -> None:
            group = pkg.group
            for s in cs:
                group(parse(s))

        def interpreted(cs: list[str]) -> None:
            for s in cs:
                interpret.group(program, parse(s))

        sample = cases[: args.interpreter_cases]
        rows = [("floor (split + 1 dict look-up)", timed(floor, cases), len(cases), peak(floor, sample)),
                ("compiled grouper", timed(compiled, cases), len(cases), peak(compiled, sample)),
                ("reference interpreter", timed(interpreted, sample, 1), len(sample), peak(interpreted, sample))]
        importlib.invalidate_caches()

    print(f"NordDRG {args.year}: {len(program.decisions[0].rows)} logic rows, "
          f"{sum(len(t.rows) for t in program.tables.values()):,} table keys")
    print(f"import of the definition data (isf import norddrg): {import_data_s:.2f} s")
    print(f"compile of the full year (parse + check + lower + emit + write): {compile_s:.2f} s")
    print(f"check + analyses of the decision table (isf verify, as `isf build` runs by default): {analyse_s:.2f} s")
    print(f"import of the generated package: first {first_import:.2f} s (compiles bytecode; peak {first_rss / 1024:,.0f} MiB), "
          f"then {cached_import:.2f} s (bytecode cached; peak {cached_rss / 1024:,.0f} MiB)")
    report(rows, 'cases', 'floor (split + 1 dict look-up)', "compiled grouper", "reference interpreter")
    print(f"compiled grouper, cold (a fresh process, each of the {len(distinct)} distinct strings once): "
          f"{len(distinct) / cold_s:,.0f} cases/s ({cold_s / len(distinct) * 1e6:,.1f} µs per case)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
