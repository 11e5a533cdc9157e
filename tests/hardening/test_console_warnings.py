"""Library warnings and the IB libraries' own log lines never reach the console raw; they go to the log."""
import logging
import warnings

import numpy as np
import pytest

from runner import cli
from runner.log_setup import add_run_log, configure_console


@pytest.mark.parametrize("source", ["python warning", "numpy overflow", "pandas", "deprecation"])
def test_warnings_during_a_command_stay_off_the_console(source, tmp_path, capsys, monkeypatch):
    def noisy(args):
        if source == "python warning":
            warnings.warn("something odd", RuntimeWarning)
        elif source == "numpy overflow":
            np.float64(1e308) * np.float64(10.0)
            np.log(np.array([0.0]))
        elif source == "pandas":
            import pandas as pd

            pd.Series(pd.date_range("2018-01-02", periods=2, tz="UTC")).values   # pandas warns: tz dropped
        else:
            warnings.warn("old API", DeprecationWarning)
        print("ok")
        return 0

    monkeypatch.setattr(cli, "_config_check", noisy)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["config", "check", "any.yaml"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "ok\n"
    assert "Warning" not in captured.err and "warn" not in captured.err.lower(), captured.err


@pytest.mark.parametrize("library", ["ib_async.client", "ib_insync.wrapper", "ib_async.ib"])
@pytest.mark.parametrize("level", [logging.WARNING, logging.ERROR])
def test_ib_library_lines_go_to_the_run_log_only(library, level, tmp_path, capsys):
    configure_console("INFO")
    sink = add_run_log(tmp_path / "run.log", "DEBUG")
    try:
        logging.getLogger(library).log(level, "Make sure API port on TWS/IBG is open")
    finally:
        from loguru import logger

        logger.remove(sink)
    assert "Make sure API port" not in capsys.readouterr().err
    assert "Make sure API port" in (tmp_path / "run.log").read_text()


def test_other_libraries_warnings_still_show(capsys):
    configure_console("INFO")
    logging.getLogger("someone.else").warning("visible")
    assert "visible" in capsys.readouterr().err
