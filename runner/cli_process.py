"""What only the ``flowbot`` process itself does with Python's garbage collector (not ``main()`` called in a
test or another program, where these objects are not known to live until the process ends).

Python's cyclic collector walks every tracked object it holds in its oldest generation each time it does
a full pass: in ``flowbot backtest`` that is mostly the code imported (pandas, backtrader, pydantic:
about 200,000 objects) and the run's bars, all of which live until the process ends. A full pass during
the run and the two at interpreter exit took 0.3-1 s of a 5-year backtest. ``gc.freeze()`` moves what is
tracked so far into a permanent generation that the collector leaves out of its passes
(https://docs.python.org/3/library/gc.html#gc.freeze); garbage made later is collected as before.

- ``long_lived_so_far()``: called by a command once its implementation is imported and its inputs are
  loaded, before its main work;
- ``console()``: the ``flowbot`` script's entry point (and ``python -m runner``): ``runner.cli.main``,
  then everything frozen before the interpreter exits. Exit still runs the ``atexit`` handlers (loguru
  closes its sinks there), flushes stdout and stderr and closes what reference counting frees; only the
  collector's passes over objects that are about to be discarded with the process are skipped.
"""
from __future__ import annotations

import gc

_state = {"cli": False}


def long_lived_so_far() -> None:
    """Leave every object tracked so far out of the collector's passes, in the ``flowbot`` process only."""
    if _state["cli"]:
        gc.freeze()


def console() -> int:
    """``flowbot``: ``runner.cli.main()``'s exit code, the process's objects frozen before exit."""
    from runner.cli import main

    _state["cli"] = True
    code = main()
    gc.freeze()
    return code
