"""Where sweep runs execute: a local pool of worker processes, or an existing Dask cluster.

Both offer the same three operations (submit a run, wait for any to finish,
close), so the sweep loop in runner/optimize/sweep.py does not know which it drives.
Workers load the data once (runner/optimize/runs.py caches it per process).
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import sys
import threading
from typing import Any

from runner.errors import UserInputError
from runner.optimize.runs import evaluate, quiet_worker


class LocalExecutor:
    """A pool of ``workers`` processes on this machine."""

    def __init__(self, workers: int, payload: dict):
        if workers < 1:
            raise UserInputError(f"--workers {workers}: expected at least 1")
        # fork: workers start with everything imported (and the sample data cached) instead of importing again.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=start_worker,
                                           initargs=(os.getpid(),))
        self.payload = payload
        self.capacity = workers * 2   # one queued run per worker hides the hand-off

    def submit(self, run_id: int, values: dict) -> cf.Future:
        return self.pool.submit(evaluate, self.payload, run_id, values)

    def wait_any(self, futures: list) -> set:
        done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        return done

    def close(self, cancel: bool) -> None:
        # Workers ignore Ctrl-C: runs in progress finish (and are dropped), queued ones are cancelled.
        self.pool.shutdown(wait=True, cancel_futures=cancel)


def start_worker(parent: int) -> None:
    """Initializer of a local worker: it dies with the sweep, and leaves signals to it.

    Ctrl-C, SIGINT and SIGTERM go to the parent, which ends the sweep and shuts
    the pool down; if the parent dies without doing so (``kill -9``), the
    kernel kills the worker (Linux: PR_SET_PDEATHSIG), and a watchdog thread
    that sees the parent gone ends it on other systems.
    """
    quiet_worker()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:   # the parent died before the line above
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watchdog", daemon=True).start()


def _watch_parent(parent: int) -> None:
    stop = threading.Event()
    while not stop.wait(1.0):
        if os.getppid() != parent:
            os._exit(1)


class DaskExecutor:
    """The runs handed to an existing Dask cluster (``--scheduler ADDRESS``) through dask.distributed."""

    def __init__(self, scheduler: str, payload: dict):
        try:
            from distributed import Client
        except ImportError:
            raise UserInputError("--executor dask needs dask.distributed: pip install 'flowbot[dask]'") from None
        try:
            self.client = Client(scheduler, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UserInputError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})") from None
        threads = sum(self.client.nthreads().values()) or 1
        self.capacity = threads * 2
        # One copy of the payload per worker, not one per run.
        self.payload = self.client.scatter(payload, broadcast=True, hash=False)

    def submit(self, run_id: int, values: dict) -> Any:
        return self.client.submit(evaluate, self.payload, run_id, values, pure=False)

    def wait_any(self, futures: list) -> set:
        from distributed import as_completed

        return {next(as_completed(futures, loop=self.client.loop))}

    def close(self, cancel: bool) -> None:
        self.client.close()


def make_executor(name: str, workers: int, scheduler: str | None, payload: dict):
    if name == "local":
        return LocalExecutor(workers, payload)
    if name == "dask":
        if not scheduler:
            raise UserInputError("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
        return DaskExecutor(scheduler, payload)
    raise UserInputError(f"--executor {name}: expected local or dask")
