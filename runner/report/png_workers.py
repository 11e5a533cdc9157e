"""The report's figures built, drawn and PNG-encoded in forked processes while the page goes on being built.

Building a matplotlib ``Figure`` (its axes and ticks), drawing it and encoding it
(``savefig``) is most of a report's time and needs nothing from the rest of the
page. Inside ``parallel_pngs()``:

- ``deferred(make_html, *args)`` runs a whole figure's function (build, draw,
  encode; it returns the HTML of the figure) in a child forked at that moment,
  and returns a placeholder for its HTML;
- ``data_uri(fig, dpi)`` draws an already built figure in a child and returns a
  placeholder for its data URI.

A child is a copy of the process (same fonts, same data, same figure), so it
gives the same bytes as drawing here; the block's ``resolved`` puts them in place
of the placeholders. The parent meanwhile builds the rest of the page; with two
or more cores the figures are made beside it and beside each other. Where
``os.fork`` is not safe to use (not Linux, or other Python threads running, as
after a paper session) or a child fails, the work is done in this process, as it
is outside the block. On a busy machine (no core idle over the last minute) the
block works here too: the children would only take the parent's share of the cores.
"""
from __future__ import annotations

import base64
import contextlib
import io
import os
import sys
import threading
from typing import Callable

MAX_CHILDREN = 4   # jobs run at once; more only share the same cores
# zlib's fastest level: about half of level 4's encoding time for a few per cent more bytes (the default
# report's figures: 0.77 MB of base64 PNG, 6% more than at level 4); every figure's PNG is written with it.
PNG_OPTIONS = {"compress_level": 1}
_state: dict = {"active": False, "pending": {}, "server": False}


def encode(fig, dpi: float) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", pil_kwargs=PNG_OPTIONS)
    return buffer.getvalue()


def as_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def data_uri(fig, dpi: float) -> str:
    """The figure's PNG data URI, or inside ``parallel_pngs()`` a placeholder for it."""
    if not _state["active"]:
        return as_uri(encode(fig, dpi))
    return _forked(lambda: encode(fig, dpi), as_uri)


def deferred(make_html: Callable[..., str], *args) -> str:
    """``make_html(*args)`` (a figure's HTML), or inside ``parallel_pngs()`` a placeholder for it, the
    figure made in a child. ``make_html`` must depend only on its arguments and leave no state behind:
    the child's changes are lost with it."""
    if _state.get("server"):
        from runner.report import figure_server

        if figure_server.running():
            return figure_server.send(make_html, args)
    if not _state["active"]:
        return make_html(*args)
    return _forked(lambda: make_html(*args).encode("utf-8"), lambda data: data.decode("utf-8"))


def map_forked(compute: Callable, items: list) -> list:
    """``[compute(item) for item in items]`` (numpy arrays), all but the first computed in forked children
    beside this process when forking is safe and a core is free; an item whose child fails is computed here."""
    if len(items) < 2 or not can_fork() or not a_core_is_free():
        return [compute(item) for item in items]
    import numpy as np

    def npy(item) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, compute(item), allow_pickle=False)
        return buffer.getvalue()

    children = [(_fork_writing(lambda item=item: npy(item)), item) for item in items[1:]]
    results = [compute(items[0])]
    for (pid, read_end), item in children:
        data = _reaped(pid, read_end)
        results.append(np.load(io.BytesIO(data), allow_pickle=False) if data is not None else compute(item))
    return results


def _forked(compute: Callable[[], bytes], finish: Callable[[bytes], str]) -> str:
    """Run ``compute`` in a forked child; a placeholder for ``finish`` of its bytes."""
    pending = _state["pending"]
    if sum(1 for child in pending.values() if child[0]) >= MAX_CHILDREN:
        _collect(next(token for token, child in pending.items() if child[0]))
    pid, read_end = _fork_writing(compute)
    token = f"flowbot-pending-png-{len(pending)}-{pid}"
    pending[token] = [pid, read_end, compute, finish, None]
    return token


def _fork_writing(compute: Callable[[], bytes]) -> tuple[int, int]:
    """A forked child that writes ``compute()``'s bytes to a pipe: (its pid, the pipe's read end). The
    child leaves by ``os._exit`` (1 when ``compute`` failed), never running the parent's code after the fork."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            _state["active"], _state["pending"], _state["server"] = False, {}, False   # it makes its own
            data = compute()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _reaped(pid: int, read_end: int) -> bytes | None:
    """The bytes a child of ``_fork_writing`` wrote, or None when it failed; the child is reaped whatever happens."""
    try:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
    finally:
        _, status = os.waitpid(pid, 0)
    return data if os.waitstatus_to_exitcode(status) == 0 and data else None


def _collect(token: str) -> None:
    child = _state["pending"][token]
    pid, read_end, compute, finish = child[:4]
    child[:2] = [0, None]   # reaped below, whatever happens
    data = _reaped(pid, read_end)
    if data is None:
        data = compute()   # the child failed: do it here
    child[2:] = [None, None, finish(data)]


def _resolved(html: str) -> str:
    """``html`` with every placeholder replaced by its result (waiting for the children)."""
    pending = _state["pending"]
    for token in pending:
        if pending[token][0]:
            _collect(token)
        html = html.replace(token, pending[token][4], 1)
    return html


def a_core_is_free() -> bool:
    """Some core idle over the last minute (a load average below the number of cores): children only
    help when they get a core's time of their own (on a busy machine they take the parent's share, or
    other users', and add the cost of forking)."""
    try:
        return os.getloadavg()[0] < (os.cpu_count() or 1)
    except OSError:
        return False


def can_fork() -> bool:
    """Forking copies only the calling thread: safe here on Linux, from the main thread, with no other
    Python thread running (a lock another thread holds at the fork stays held in the child for ever)."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and threading.current_thread() is threading.main_thread() and threading.active_count() <= 1)


@contextlib.contextmanager
def parallel_pngs(only_with_a_free_core: bool = True):
    """Make the figures handed to ``deferred`` / ``data_uri`` inside the block in child processes (by
    default only when a core is free). Yields ``resolved(html)``: the page built inside the block with
    the figures in place of their placeholders."""
    from runner.report import figure_server

    if figure_server.running() and not _state["active"]:   # started before the run: it makes the figures
        _state["server"] = True
        try:
            yield figure_server.resolved
        finally:
            _state["server"] = False
        return
    if _state["active"] or not can_fork() or (only_with_a_free_core and not a_core_is_free()):
        yield lambda html: html
        return
    _state["active"], _state["pending"] = True, {}
    try:
        yield _resolved
    finally:
        for child in _state["pending"].values():
            if child[0]:   # the block failed before resolving: reap what is still running
                os.close(child[1])
                os.waitpid(child[0], 0)
        _state["active"], _state["pending"] = False, {}
