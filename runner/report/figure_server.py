"""A process that makes the report's figures, started before the run so that it is ready when the run ends.

``flowbot backtest`` spends about a second importing matplotlib and loading its
fonts before the first figure, and then makes the figures one after another.
``started()`` forks a child before the engine runs: while the run goes on in
this process, the child imports matplotlib and the report's modules and draws
one small figure (the fonts are then loaded), on a core of its own. Inside
``png_workers.parallel_pngs()`` each ``deferred`` figure is then sent to it
(the figure's function and its arguments, pickled); it forks a warm grandchild
per figure (``png_workers``, a few at once), and hands each figure's HTML back
when the page asks for them. This process never imports matplotlib.

Same bytes as drawing here: the figures are made by the same functions on the
same data. Whatever goes wrong with the child (it died, an argument cannot be
pickled), the figure is made in this process, as without it. Started only on
Linux with no other thread running and a core free (as ``png_workers``).
"""
from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import struct

from runner.report import png_workers

_HEADER = struct.Struct("<Q")
_server: dict = {}   # pid, jobs (write end), results (read end), sent {token: (function, args)}, broken


def _write(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read(fd: int) -> bytes | None:
    header = _read_exactly(fd, _HEADER.size)
    return None if header is None else _read_exactly(fd, _HEADER.unpack(header)[0])


def warm_up() -> None:
    """Import what the figures need and draw one small figure with text (loads the fonts)."""
    from runner.report import charts, html, trade_charts  # noqa: F401  (imported to be ready)

    fig, axes = charts.new_figure(1.0, 0.8)
    axes[0, 0].plot([0, 1], [0, 1])
    axes[0, 0].set_title("warm", loc="left", fontweight="bold")
    png_workers.encode(fig, 30)


def _serve(jobs: int, results: int) -> None:
    """The child: warm up, then make every figure sent until the end of the jobs, then send them back."""
    warm_up()
    # What is loaded so far stays out of the collector's passes: a pass over it in a figure's forked
    # child would touch, and so copy, every page of it.
    gc.freeze()
    made = []
    with png_workers.parallel_pngs(only_with_a_free_core=False) as resolved:
        while (message := _read(jobs)) is not None:
            token, function, args = pickle.loads(message)
            made.append((token, png_workers.deferred(function, *args)))
        for token, placeholder in made:
            _write(results, pickle.dumps((token, resolved(placeholder))))


def start() -> bool:
    """Fork the figure process (when forking is safe and a core is free); True when it runs."""
    if _server or not png_workers.can_fork() or not png_workers.a_core_is_free():
        return False
    # The figures need pandas and numpy, and the run imports them anyway: imported before the fork, they are
    # imported once, not once more in the figure process (about as long as its matplotlib).
    import pandas  # noqa: F401
    jobs_read, jobs_write = os.pipe()
    results_read, results_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)   # Ctrl-C: the parent reports it, the child just ends
            os.close(jobs_write)
            os.close(results_read)
            _serve(jobs_read, results_write)
            code = 0
        except BaseException:   # noqa: BLE001  the parent makes whatever it does not get
            pass
        finally:
            os._exit(code)
    os.close(jobs_read)
    os.close(results_write)
    _server.update(pid=pid, jobs=jobs_write, results=results_read, sent={}, broken=False)
    return True


def running() -> bool:
    return bool(_server) and not _server["broken"]


def send(function, args: tuple) -> str:
    """Hand one figure to the figure process; a placeholder for its HTML (made here if it cannot be sent)."""
    token = f"flowbot-pending-figure-{len(_server['sent'])}-{_server['pid']}"
    try:
        message = pickle.dumps((token, function, args), protocol=pickle.HIGHEST_PROTOCOL)
        _write(_server["jobs"], message)
    except (pickle.PicklingError, TypeError, AttributeError, OSError):
        _server["broken"] = True   # from here on every figure is made here
        return function(*args)
    _server["sent"][token] = (function, args)
    return token


def resolved(html: str) -> str:
    """``html`` with the figure process's figures in place of their placeholders (those it did not
    deliver made here)."""
    sent = _server["sent"]
    _server["broken"] = True   # used up: one page per figure process
    if not sent:
        return html
    os.close(_server["jobs"])   # the end of the jobs: the child sends the figures back
    _server["jobs"] = None
    got: dict[str, str] = {}
    with contextlib.suppress(OSError, EOFError, pickle.UnpicklingError, TypeError, ValueError):
        while len(got) < len(sent) and (message := _read(_server["results"])) is not None:
            token, figure_html = pickle.loads(message)
            got[token] = figure_html
    for token, (function, args) in sent.items():
        html = html.replace(token, got[token] if token in got else function(*args), 1)
    return html


def stop() -> None:
    """End the figure process (if started) and reap it; safe to call more than once."""
    if not _server:
        return
    for fd in (_server["jobs"], _server["results"]):
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
    with contextlib.suppress(ProcessLookupError, ChildProcessError):
        if os.waitpid(_server["pid"], os.WNOHANG) == (0, 0):
            # SIGKILL: the child holds nothing to save, and a signal it could catch or ignore (a handler
            # inherited from the parent) would leave this wait hanging for ever.
            os.kill(_server["pid"], signal.SIGKILL)
            os.waitpid(_server["pid"], 0)
    _server.clear()


@contextlib.contextmanager
def started(wanted: bool = True):
    """The figure process for the block (if ``wanted`` and possible), ended and reaped after it."""
    try:
        if wanted:
            start()
        yield
    finally:
        stop()
