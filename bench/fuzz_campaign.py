"""A fuzz campaign against the checker: N mutated copies of the bundled definition folders (the
mutations of tests/mutations.py: tokens and lines deleted, duplicated and swapped, hostile text
inserted), each checked as `isf check` does (with the analyses) in a worker process with a time limit.
Prints how many folders were checked, how many raised (tracebacks, each kind once with a replayable
case) and how many hung (took longer than the limit; the worker is killed and replaced).

    python bench/fuzz_campaign.py [-n 20000] [--seed 1] [--timeout 60] [--workers 1]

Not part of the test suite (tests/test_fuzz.py runs the same mutations under Hypothesis, bounded).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.mutations import HOSTILE, KINDS, Mutation, write_mutant

VERSIONS = ("isf2024", "isf2025")


def case(seed: int, k: int) -> tuple[str, list[Mutation]]:
    """The ``k``-th case of the campaign ``seed``: a version and one to four mutations."""
    rng = random.Random(f"{seed}:{k}")
    mutations = [Mutation(rng.choice(KINDS), rng.randrange(20), rng.random(), rng.random(), rng.randrange(len(HOSTILE)))
                 for _ in range(rng.randint(1, 4))]
    return rng.choice(VERSIONS), mutations


def _worker(tasks: mp.Queue, results: mp.Queue) -> None:  # type: ignore[type-arg]
    from isfdsl.commands.pipeline import check_paths
    from isfdsl.diagnostics import CODES, render_json, render_text

    while True:
        item = tasks.get()
        if item is None:
            return
        seed, k = item
        version, mutations = case(seed, k)
        outcome = "ok"
        with tempfile.TemporaryDirectory(prefix="isf-fuzz-") as tmp:
            folder = Path(tmp) / "defs" / version
            write_mutant(ROOT / "definitions" / version, folder, mutations)
            try:
                result = check_paths([str(folder)], analyse=True)
                unknown = [d.code for d in result.diags.items if d.code not in CODES]
                render_text(result.diags.sorted(), result.sources)
                render_json(result.diags.sorted())
                if unknown:
                    outcome = f"unregistered code {unknown[0]}"
                elif list(Path(tmp).rglob("PWNED")):
                    outcome = "code ran"
            except BaseException as exc:  # noqa: BLE001 -- every exception is a finding
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                outcome = f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
        results.put((k, outcome))


class _Slot:
    """One worker process and the case it is busy with."""

    def __init__(self, ctx: mp.context.SpawnContext) -> None:
        self.ctx = ctx
        self.start()

    def start(self) -> None:
        self.tasks: mp.Queue = self.ctx.Queue()  # type: ignore[type-arg]
        self.results: mp.Queue = self.ctx.Queue()  # type: ignore[type-arg]
        self.proc = self.ctx.Process(target=_worker, args=(self.tasks, self.results), daemon=True)
        self.proc.start()
        self.busy: tuple[int, float] | None = None

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20000, help="mutated folders (default 20000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per folder before it counts as a hang")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    slots = [_Slot(ctx) for _ in range(args.workers)]
    outcomes: Counter[str] = Counter()
    examples: dict[str, int] = {}
    started, nxt, done = time.monotonic(), 0, 0
    while done < args.n:
        for slot in slots:
            if slot.busy is None and nxt < args.n:
                slot.tasks.put((args.seed, nxt))
                slot.busy = (nxt, time.monotonic())
                nxt += 1
        for slot in slots:
            if slot.busy is None:
                continue
            k, since = slot.busy
            try:
                _, outcome = slot.results.get(timeout=0.05)
            except Exception:  # noqa: BLE001 -- queue.Empty: still working
                if time.monotonic() - since > args.timeout:
                    outcome = "hang"
                    slot.kill()
                elif not slot.proc.is_alive():
                    outcome = f"worker died (exit code {slot.proc.exitcode})"
                    slot.start()
                else:
                    continue
            outcomes[outcome] += 1
            examples.setdefault(outcome, k)
            slot.busy = None
            done += 1
            if done % 500 == 0:
                print(f"  {done} folders, {time.monotonic() - started:.0f} s: {dict(outcomes)}", flush=True)
    for slot in slots:
        slot.tasks.put(None)
    tracebacks = sum(n for o, n in outcomes.items() if o not in ("ok", "hang"))
    print(f"{done} mutated folders in {time.monotonic() - started:.0f} s (seed {args.seed}, "
          f"{args.timeout:g} s per folder): tracebacks {tracebacks}, hangs {outcomes['hang']}, ok {outcomes['ok']}")
    for outcome, k in sorted(examples.items()):
        if outcome != "ok":
            version, mutations = case(args.seed, k)
            print(f"  {outcomes[outcome]} x {outcome}: case {k}: {version} {mutations}")
    return 0 if tracebacks == 0 and outcomes["hang"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
