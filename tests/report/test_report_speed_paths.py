"""The report's faster drawing gives the same page: figures drawn in forked children, pinned positions."""
import os
import re
import sys

import pytest

from runner.report import charts, png_workers
from runner.report.html import render_report
from runner.report.summary import run_notes

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="children are forked on Linux only"),
              pytest.mark.forks]


def test_the_page_with_children_drawing_is_the_page_drawn_here(default_run):
    cfg, result, folder = default_run
    here = render_report(cfg, result, ["a note"])
    with png_workers.parallel_pngs(only_with_a_free_core=False) as resolved:
        beside = render_report(cfg, result, ["a note"])
        assert "flowbot-pending-png-" in beside   # the children were really used
        beside = resolved(beside)
    assert "flowbot-pending-png-" not in beside
    assert len(re.findall("data:image/png;base64,", here)) >= 7
    assert beside == here
    assert (folder / "report.html").read_text(encoding="utf-8") == render_report(cfg, result, run_notes(cfg))


def test_a_failed_child_is_drawn_here_and_the_block_leaves_no_children(monkeypatch):
    fig, axes = charts.new_figure(3, 2)
    axes[0, 0].plot([0, 1, 2], [1, 3, 2])
    axes[0, 0].set_title("a title", loc="left")
    expected = charts.png(fig)
    parent = os.getpid()
    real = png_workers.encode

    def failing_in_child(figure, dpi):
        if os.getpid() != parent:
            raise RuntimeError("child breaks")   # the child exits 1 with nothing written
        return real(figure, dpi)

    monkeypatch.setattr(png_workers, "encode", failing_in_child)
    with png_workers.parallel_pngs(only_with_a_free_core=False) as resolved:
        page = resolved(f"<img src='{charts.png(fig)}'>")
    assert page == f"<img src='{expected}'>"
    assert png_workers._state == {"active": False, "pending": {}, "server": False}


def test_more_figures_than_children_at_once():
    figures = []
    for i in range(png_workers.MAX_CHILDREN * 2 + 1):
        fig, axes = charts.new_figure(2, 1.5, layout=None)
        axes[0, 0].plot([0, 1], [i, i * i])
        figures.append(fig)
    expected = [charts.png(f) for f in figures]
    with png_workers.parallel_pngs(only_with_a_free_core=False) as resolved:
        page = resolved("|".join(charts.png(f) for f in figures))
    assert page.split("|") == expected


def test_pinned_title_and_label_positions_give_the_pixels_of_measured_ones():
    """What ``fixed_auto_positions`` pins is where matplotlib would measure it to be."""
    import numpy as np
    from matplotlib.ticker import FuncFormatter

    # Figures built twice with the same seeded data, once drawn as matplotlib measures, once pinned.
    for case in range(12):
        data_seed = 100 + case
        uris = []
        for pinned in (False, True):
            local = np.random.default_rng(data_seed)
            fig, axes = charts.new_figure(4, 2.5, 1, 2, layout="constrained" if case % 2 else None)
            for ax in axes.flat:
                level = 10.0 ** local.integers(-2, 6)
                ax.plot(np.arange(30), level + local.normal(0, level * 10.0 ** local.integers(-6, 0), 30).cumsum())
                ax.set_title(f"case {case}", loc="left", fontweight="bold")
                if local.random() < 0.3:
                    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
                if local.random() < 0.3:
                    ax.set_xlabel("an x label")
            if not pinned:   # measured: matplotlib places everything itself
                uris.append(png_workers.as_uri(png_workers.encode(fig, fig.dpi)))
            else:
                uris.append(charts.png(fig))
        assert uris[0] == uris[1], f"case {case}"


def test_on_a_busy_machine_the_figures_are_drawn_here(monkeypatch):
    monkeypatch.setattr(png_workers.os, "getloadavg", lambda: (64.0, 64.0, 64.0))
    fig, axes = charts.new_figure(2, 1.5, layout=None)
    axes[0, 0].plot([0, 1], [1, 0])
    with png_workers.parallel_pngs() as resolved:
        uri = charts.png(fig)
        assert uri.startswith("data:image/png;base64,")   # no placeholder: drawn in this process
        assert resolved(uri) == uri


def test_with_other_threads_running_the_figures_are_drawn_here(monkeypatch):
    monkeypatch.setattr(png_workers.threading, "active_count", lambda: 2)
    fig, axes = charts.new_figure(2, 1.5, layout=None)
    axes[0, 0].plot([0, 1], [0, 1])
    with png_workers.parallel_pngs(only_with_a_free_core=False) as resolved:
        uri = charts.png(fig)
        assert uri.startswith("data:image/png;base64,") and resolved(uri) == uri
