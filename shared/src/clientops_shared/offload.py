"""CPU-heavy work off the event loop, in a worker process (issue 9 §4).

A worker *thread* is not enough for pure-Python CPU work: it holds the GIL, and the loop gets
it back only at the interpreter's switch interval (5 ms) each time it gives it up — every
socket read and write of a ``/health/live`` answer waits for it, so a probe takes hundreds of
milliseconds while a statement parses or a PDF renders. A worker process has a GIL of its own.

The pool is started on first use (``spawn``: safe beside the loop's threads; a service's
``python -m <package>`` main module is not re-run in it) and kept for the process; at most
``MAX_WORKERS`` heavy jobs run at once per service, the rest wait their turn. A worker that
dies (killed, out of memory) fails its job with ``BrokenProcessPool`` and the next job gets a
fresh pool. The function and its arguments must be picklable (module-level functions, plain
data). A worker whose service dies without shutting the pool down (SIGKILL, OOM kill) exits
by itself within a second instead of lingering as an orphan.
"""

from __future__ import annotations

import asyncio
import copyreg
import functools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import MappingProxyType
from typing import Any, TypeVar

T = TypeVar("T")
MAX_WORKERS = 2

# read-only mappings (frozen domain objects carry them) travel as the dict they show; the
# worker imports this module to run ``_call``, so both sides know it
def _readonly(values: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(values)


def _reduce_readonly(mapping: MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return _readonly, (dict(mapping),)


copyreg.pickle(MappingProxyType, _reduce_readonly)

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(MAX_WORKERS,
                                        mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_follow_parent, initargs=(os.getpid(),))
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def in_worker_process(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker process; the loop stays free meanwhile."""
    pool = _executor()
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(pool, functools.partial(_call, fn, args, kwargs))
    except BrokenProcessPool:
        _discard(pool)
        raise


def _follow_parent(parent: int, interval: float = 1.0) -> None:
    """In a worker: exit once the service that started it is gone (re-parented)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)
    threading.Thread(target=watch, name="offload-parent-watch", daemon=True).start()


def _call(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    return fn(*args, **kwargs)


def shutdown() -> None:
    """Stop the worker processes (tests; the interpreter's exit does it otherwise)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
