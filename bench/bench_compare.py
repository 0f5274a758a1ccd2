"""Time and peak memory of ``isf compare`` on many synthetic episodes (not a test).

    python bench/bench_compare.py [-n 1000000] [--jobs 1] [OLD NEW]

Writes ``-n`` random valid episodes of the NEW definitions (seeded; codes the definitions mention, a
``hospital`` column of 20 values) as CSV into a temporary folder, then runs ``isf compare OLD NEW
episodes.csv -o DIR --by hospital`` in a child process and prints its wall time, the episodes per
second and its peak resident memory (``ru_maxrss`` of the child), which must stay flat as ``-n`` grows:
the results are streamed into aggregates and the per-episode file, never held.
"""

from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from isfdsl.testing import load, random_episodes

ROOT = Path(__file__).resolve().parent.parent


def write_episodes(defs: str, n: int, path: Path) -> None:
    program = load(defs)
    sample = random_episodes(program, min(n, 20000), 21)
    names = [a.name for a in program.attributes]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["hospital", *names])
        for k in range(n):
            e = sample[k % len(sample)]
            w.writerow([f"HF{k % 20:02d}", *(" ".join(map(str, v)) if isinstance(v, list) else "" if v is None else v
                                             for v in (e.get(a) for a in names))])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("old", nargs="?", default=str(ROOT / "definitions" / "isf2024"))
    ap.add_argument("new", nargs="?", default=str(ROOT / "definitions" / "isf2025"))
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--episodes", default="parquet")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="isf-bench-compare-") as tmp:
        data = Path(tmp) / "episodes.csv"
        t0 = time.perf_counter()
        write_episodes(args.new, args.n, data)
        print(f"wrote {args.n:,} episodes ({data.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        cmd = [sys.executable, "-m", "isfdsl", "compare", args.old, args.new, str(data), "-o", str(Path(tmp) / "D"),
               "--by", "hospital", "--episodes", args.episodes, "--jobs", str(args.jobs), "--no-progress"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size = (Path(tmp) / "D" / f"episodes.{args.episodes}").stat().st_size / 1e6 if args.episodes != "none" else 0
        print(f"isf compare, {args.n:,} episodes, --jobs {args.jobs}, --episodes {args.episodes}: {seconds:.1f} s "
              f"({args.n / seconds:,.0f} episodes/s), peak RSS {rss:.0f} MB (largest child process); "
              f"per-episode file {size:.0f} MB")


if __name__ == "__main__":
    main()
