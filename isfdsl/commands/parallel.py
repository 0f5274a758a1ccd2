"""Chunks of input rows worked on in worker processes, their results handed back in input order with a
bounded number of chunks in flight: the machinery ``isf group --jobs`` and ``isf compare --jobs`` share.

The parent reads the input and writes the output; a worker only turns a chunk of records into a
chunk of results. Each worker builds its own work function once, from a picklable description (a
package folder, a table, the payment overrides), so nothing but chunks and results crosses between
processes. Workers are started with ``forkserver`` where the platform has it (``spawn`` elsewhere):
never forked from the parent, which by then holds reader threads (pyarrow's) and a progress thread.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from itertools import islice
from typing import Any, TypeVar

from isfdsl.commands import batch

#: Rows per chunk handed to a worker (and per progress update).
CHUNK = 4096
#: Chunks in flight per worker: one being worked on, one waiting, so that no worker idles while the
#: parent writes; the parent holds at most ``WINDOW * jobs`` chunks and their results.
WINDOW = 2

P = TypeVar("P")
R = TypeVar("R")
#: A chunk of records as it crosses to a worker: a list of items, or Parquet's :class:`batch.ArrowRows`.
Chunk = Iterable[batch.Item]


class WorkerDied(Exception):
    """A worker process ended abruptly (killed, out of memory): its chunk has no result."""


@contextmanager
def stopped_as(input_path: str, left: Callable[[], str]) -> Iterator[None]:
    """Turn what stops a run part-way through its input — the input damaged past its start, a read
    error, a worker that ended abruptly — into :class:`batch.Stopped`, its message ending in ``left()``:
    what became of the output, said when it happened."""
    try:
        yield
    except batch.BatchError as exc:  # the input is damaged past its start (the writer removes its file)
        raise batch.Stopped(f"{exc}; {left()}") from None
    except OSError as exc:
        raise batch.Stopped(f"cannot read {input_path}: {exc.strerror or exc}; {left()}") from None
    except WorkerDied as exc:
        raise batch.Stopped(f"{exc}; {left()}") from None


def cores() -> int:
    """The processors this process may run on (its CPU affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def jobs_or_cores(jobs: int) -> int:
    """``jobs``, or :func:`cores` for 0 or less."""
    return jobs if jobs > 0 else cores()


def chunks(records: Iterable[batch.Record], size: int = CHUNK) -> Iterator[list[batch.Item]]:
    """Records as lists of ``size`` items (the last one shorter), each item ``(row, values, problems)``."""
    it = iter(records)
    while chunk := [(r.row, r.values, r.problems) for r in islice(it, size)]:
        yield chunk


def ordered(work: Callable[[P], R], parts: Iterable[P], jobs: int,
            start: Callable[..., Callable[[P], R]], args: tuple[Any, ...]) -> Generator[R, None, None]:
    """``work(part)`` for each of ``parts``, in their order. With ``jobs`` > 1 and more than one part,
    the parts go to ``jobs`` worker processes, each of which makes its own work function once as
    ``start(*args)`` (``start`` a module-level function, ``args`` picklable); at most
    :data:`WINDOW` × ``jobs`` parts are in flight. Otherwise ``work`` runs here, part by part. Close
    the iterator (``contextlib.closing``) to stop the workers early: parts not started are dropped,
    those being worked on finish. Raises :class:`WorkerDied` when a worker ends abruptly."""
    it = iter(parts)
    first = list(islice(it, 2))
    if jobs <= 1 or len(first) < 2:
        for part in _chain(first, it):
            yield work(part)
        return
    context = _context(start)
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start, initargs=(start, args))
    pending: deque[Future[R]] = deque()
    try:
        for part in _chain(first, it):
            with _held():  # submit may start a worker: never leave one half-started (see _held)
                pending.append(pool.submit(_work, part))
            if len(pending) >= WINDOW * jobs:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _held() -> Iterator[None]:
    """While inside, SIGINT, SIGTERM and SIGHUP wait; they are raised again on leaving. A signal
    handler that raised between a worker's start and the pool's note of it would leave that worker
    unknown to the pool: not stopped at shutdown, and, once this process has ended and its semaphores
    are gone, printing a traceback from its start-up. (Main thread only; elsewhere a no-op.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    kept = {sig: signal.signal(sig, lambda signum, _frame: caught.append(signum)) for sig in _HELD}
    try:
        yield
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)


_HELD = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _chain(first: list[P], rest: Iterator[P]) -> Iterator[P]:
    yield from first
    yield from rest


def _result(future: Future[R]) -> R:
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise WorkerDied(f"a worker process ended abruptly ({exc})") from None


def _context(start: Callable[..., object]) -> Any:
    """``forkserver`` (its server importing ``start``'s module once, for every worker to fork from)
    where the platform has it, else ``spawn``."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__, start.__module__])
        return context
    return multiprocessing.get_context("spawn")


# ---------------------------------------------------------------------- in a worker

#: The worker's work function, made once by :func:`_start`.
_WORK: list[Callable[[Any], Any]] = []


def _start(start: Callable[..., Callable[[Any], Any]], args: tuple[Any, ...]) -> None:
    # Ctrl-C reaches the whole process group: the parent decides (it stops the pool); SIGTERM and
    # SIGHUP end a worker as they would any program (the parent's handlers are not the worker's).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    _end_with_parent()
    _WORK[:] = [start(*args)]


def _end_with_parent() -> None:
    """End this worker as soon as its parent process has ended. A parent killed outright (``kill -9``)
    never shuts its pool down: without this its workers would wait for work for good, and keep the
    forkserver and the resource tracker alive with them."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="isf-parent-watch", daemon=True).start()


def _work(part: Any) -> Any:
    return _WORK[0](part)
