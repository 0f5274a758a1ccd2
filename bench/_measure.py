"""Shared by the benchmarks: best-of timing, peak traced memory, and the side-by-side report."""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

Loop = Callable[[Any], object]


def timed(fn: Loop, items: Sequence[Any], repeat: int = 5) -> float:
    """Best wall time of ``repeat`` runs of ``fn(items)`` (garbage collection off while timing)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn(items)
            best = min(best, time.perf_counter() - t0)
        finally:
            gc.enable()
    return best


def peak(fn: Loop, items: Sequence[Any]) -> int:
    """Peak traced memory (bytes) of one run of ``fn(items)``."""
    gc.collect()
    tracemalloc.start()
    try:
        fn(items)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def report(rows: list[tuple[str, float, int, int]], unit: str, floor: str, compiled: str, interpreter: str) -> None:
    """Print (name, seconds, items, peak bytes) rows as items/s, then the ratios that matter."""
    width = max(len(name) for name, *_ in rows) + 2
    print(f"{'loop':{width}} {unit:>9} {'seconds':>9} {unit + '/s':>12} {'peak MiB':>9}")
    rate = {}
    for name, secs, n, mem in rows:
        rate[name] = n / secs
        print(f"{name:{width}} {n:9,d} {secs:9.3f} {n / secs:12,.0f} {mem / 2**20:9.2f}")
    c, i, f = rate[compiled], rate[interpreter], rate[floor]
    print(f"compiled / interpreter: {c / i:,.1f}×   floor / compiled: {f / c:,.1f}×   "
          f"(per item: compiled {1e6 / c:.2f} µs, interpreter {1e6 / i:,.1f} µs)")
