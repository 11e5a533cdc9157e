"""The sweep's progress line at 80 columns: bar, count and time left always there; values rounded."""
import io
import re

import pytest
from rich.console import Console

from runner.optimize.sweep import _Progress, _rounded

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COLUMNS = ["december_fade.rally_pct", "december_fade.drift_min_pct", "december_fade.stop_atr",
           "december_fade.target_retrace_pct"]


def _last_line(width: int, best: dict | None, total: int = 1200) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=True, color_system="truecolor", legacy_windows=False)
    with _Progress(True, total, 0, "total_return_pct", COLUMNS, console=console) as progress:
        for _ in range(7):
            progress.advance(best)
    lines = [ANSI.sub("", part) for part in buffer.getvalue().replace("\r", "\n").splitlines()]
    return [line for line in lines if line.strip()][-1]


@pytest.mark.parametrize("width", [80, 100, 160])
def test_bar_count_and_time_left_fit(width):
    best = {"run": 1017, "objective": 12.345678901, "december_fade.rally_pct": 1.2500000001,
            "december_fade.drift_min_pct": 2.0, "december_fade.stop_atr": 1.75,
            "december_fade.target_retrace_pct": 66.66666667}
    line = _last_line(width, best)
    assert len(line) <= width
    assert "━" in line                     # the bar
    assert "7/1200" in line                # the count
    assert re.search(r"(\d+:\d\d|-:--) left", line)   # the time left
    assert "12.3" in line and "12.345" not in line
    if width >= 160:
        assert "rally_pct=1.25 " in line and "target_retrace_pct=66.7)" in line
    else:
        assert line.endswith("…")


def test_no_best_yet():
    assert "best: none yet" in _last_line(80, None)


@pytest.mark.parametrize("value, text", [(1.2500000001, "1.25"), (0.612345, "0.612"), (12.3456, "12.3"),
                                         (1234.5, "1,234"), (3, "3"), (None, "None"), ("atr", "atr")])
def test_rounded(value, text):
    assert _rounded(value) == text
