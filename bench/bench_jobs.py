"""``isf group --jobs`` on many realistic episodes, Parquet in → Parquet out (not a test).

    python bench/bench_jobs.py [-n 1000000] [--jobs 1 2] [DEFS]

Writes ``-n`` synthetic episodes of the definitions DEFS (default the bundled isf2025) as Parquet into a
temporary folder — typed columns, lists as lists; codes drawn by a skewed (Zipf-like) popularity from
the codes the definitions mention mixed into a larger pool of well-formed codes they do not, so that
most episodes are distinct while their codes repeat as in a register year; realistic care levels,
ages, stays and counts of secondary diagnoses, procedures and drugs — builds DEFS into the same folder,
then runs ``isf group PACKAGE episodes.parquet -o out.parquet --jobs J`` for each ``--jobs`` value in
a child process and prints its wall time, rows per second and the peak resident memory of the whole
process tree (the command, the forkserver and every worker, summed; sampled from /proc every 0.1 s),
the processor seconds the tree used and those of the parent alone (reading, writing, handing out
chunks): on a machine shared with others, wall time says little, while the processor seconds say
what the work costs and how much of it the workers took off the parent. The outputs of every run
are compared byte for byte.
"""

from __future__ import annotations

import argparse
import bisect
import filecmp
import os
import random
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from isfdsl.ir import model as ir
from isfdsl.testing import codes_of, load

ROOT = Path(__file__).resolve().parent.parent


class Popular:
    """Codes drawn with Zipf-like popularity (rank ``r`` weighs ``1 / r**s``): the codes the
    definitions mention spread through a pool of ``extra`` other well-formed codes."""

    def __init__(self, rng: random.Random, mentioned: Sequence[str], make: str, extra: int, s: float = 1.05) -> None:
        pool = set(mentioned)
        while len(pool) < len(mentioned) + extra:
            pool.add(_code(rng, make))
        self.codes = sorted(pool)
        rng.shuffle(self.codes)
        total, self.cum = 0.0, []
        for rank in range(1, len(self.codes) + 1):
            total += rank ** -s
            self.cum.append(total)
        self.rng = rng

    def one(self) -> str:
        return self.codes[bisect.bisect_left(self.cum, self.rng.random() * self.cum[-1])]

    def some(self, k: int) -> list[str]:
        return sorted({self.one() for _ in range(k)})


def _code(rng: random.Random, make: str) -> str:
    """A code of the shape ``make``: A a letter, 9 a digit, other characters as they are."""
    return "".join(rng.choice(string.ascii_uppercase) if c == "A" else str(rng.randrange(10)) if c == "9" else c for c in make)


def _count(rng: random.Random, mean: float, most: int) -> int:
    """A small count with the given mean (geometric), at most ``most``."""
    k = 0
    while k < most and rng.random() < mean / (1 + mean):
        k += 1
    return k


def realistic(program: ir.Program, n: int, first: int = 0) -> dict[str, list[object]]:
    """``n`` episodes of ``program`` (the bundled isf2025 schema) as columns, numbered from ``first``."""
    rng = random.Random(19)
    attr = {a.name: a for a in program.attributes}

    def mentioned(name: str) -> list[str]:
        a = attr[name]
        return codes_of(program, (a.type.elem or a.type).ref or "")

    diagnoses = Popular(rng, mentioned("pdx") + mentioned("sdx"), "A99.9", 6000)
    procedures = Popular(rng, mentioned("procedures"), "AAA99", 2500)
    drugs = Popular(rng, mentioned("drugs"), "A99AA99", 400)
    cols: dict[str, list[object]] = {name: [] for name in ("id", *attr)}
    rng = random.Random(first)  # the episodes of each block; the pools above are the same for every block
    for pool in (diagnoses, procedures, drugs):
        pool.rng = rng
    for k in range(first, first + n):
        level = rng.choices(("1", "2", "3"), (20, 10, 70))[0]
        inpatient = level == "1"
        newborn = rng.random() < 0.02
        row = {
            "id": f"E{k:08d}", "sex": rng.choices(("1", "2", "9"), (49, 50, 1))[0],
            "age": 0 if newborn else min(125, int(rng.triangular(0, 100, 72))),
            "care_level": level, "sector": rng.choices(("S", "P", "T"), (80, 15, 5))[0],
            "contact": rng.choices(("1", "11", "12", "26", "40"), (85, 5, 5, 2, 3))[0],
            "los": 1 + int(rng.expovariate(1 / 3.5)) if inpatient else 0,
            "pdx": diagnoses.one(), "sdx": diagnoses.some(_count(rng, 2.2 if inpatient else 0.6, 20)),
            "procedures": procedures.some(_count(rng, 1.4 if inpatient else 0.7, 12)),
            "drugs": drugs.some(1 if rng.random() < 0.1 else 0), "self_administered": rng.random() < 0.03,
            "personnel": rng.choices((["LE"], ["LE", "SP"], ["SP"], ["PS"], []), (70, 15, 8, 4, 3))[0],
        }
        for name, values in cols.items():
            values.append(row.get(name))
    return cols


def write_parquet(defs: str, n: int, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    program = load(defs)
    text, texts = pa.string(), pa.list_(pa.string())
    schema = pa.schema([("id", text), ("sex", text), ("age", pa.int64()), ("care_level", text), ("sector", text),
                        ("contact", text), ("los", pa.int64()), ("pdx", text), ("sdx", texts), ("procedures", texts),
                        ("drugs", texts), ("self_administered", pa.bool_()), ("personnel", texts)])
    with pq.ParquetWriter(str(path), schema) as writer:
        for start in range(0, n, 100_000):
            writer.write_table(pa.table(realistic(program, min(100_000, n - start), first=start), schema=schema))


# ---------------------------------------------------------------------- measuring a process tree


def _tree(root: int, cpu: dict[int, float]) -> int:
    """Resident bytes of ``root`` and all its descendants (Linux /proc); records each one's processor
    seconds so far (user + system) in ``cpu``."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # fields[k] is field k + 3 of proc(5)
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        stats[int(entry)] = fields
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += int(stats[pid][21]) * PAGE
            cpu[pid] = max(cpu.get(pid, 0.0), (int(stats[pid][11]) + int(stats[pid][12])) / TICKS)
        todo.extend(children.get(pid, ()))
    return total


PAGE, TICKS = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")


def run(cmd: list[str]) -> tuple[float, int, float, float]:
    """Wall seconds, peak tree RSS (bytes), and processor seconds of the tree and of ``cmd`` itself."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]
    cpu: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree(proc.pid, cpu))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    return seconds, peak[0], sum(cpu.values()), cpu.get(proc.pid, 0.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("defs", nargs="?", default=str(ROOT / "definitions" / "isf2025"))
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="isf-bench-jobs-") as tmp:
        data, package = Path(tmp) / "episodes.parquet", Path(tmp) / "pkg" / Path(args.defs).name
        t0 = time.perf_counter()
        write_parquet(args.defs, args.n, data)
        print(f"wrote {args.n:,} episodes ({data.stat().st_size / 1e6:.0f} MB Parquet) in {time.perf_counter() - t0:.1f} s")
        subprocess.run([sys.executable, "-m", "isfdsl", "build", args.defs, "-o", str(package)], check=True,
                       stderr=subprocess.DEVNULL)
        load_avg = os.getloadavg()[0]
        print(f"{os.cpu_count()} processors, load average {load_avg:.1f} before the runs (a shared machine: figures are noisy)")
        print(f"{'jobs':>4} {'seconds':>9} {'rows/s':>10} {'peak RSS (tree)':>16} {'CPU s (tree)':>13} {'CPU s (parent)':>15}")
        outputs = []
        for k, jobs in enumerate(args.jobs):
            out = Path(tmp) / f"out-{k}.parquet"
            seconds, rss, cpu, parent = run([sys.executable, "-m", "isfdsl", "group", str(package), str(data), "-o", str(out),
                                             "--jobs", str(jobs), "--no-progress"])
            print(f"{jobs:>4} {seconds:9.1f} {args.n / seconds:10,.0f} {rss / 2**20:12,.0f} MiB {cpu:13.1f} {parent:15.1f}",
                  flush=True)
            outputs.append(out)
        same = all(filecmp.cmp(outputs[0], o, shallow=False) for o in outputs[1:])
        print(f"outputs byte for byte the same: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
