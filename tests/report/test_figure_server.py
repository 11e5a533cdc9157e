"""The figure process started before the run, and trade sheets drawn in parts, give the page drawn here."""
import os
import re
import sys

import pytest

from runner.report import figure_server, png_workers, trade_charts
from runner.backtest.run import run_backtest
from runner.report.html import render_report, trade_charts_ahead
from runner.report.playbook_view import build_views

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="children are forked on Linux only"),
              pytest.mark.forks]
IMAGE = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


@pytest.fixture(autouse=True)
def forking_allowed(monkeypatch):
    """The machine's load would keep the work here (other threads: see the ``forks`` mark, conftest.py)."""
    monkeypatch.setattr(png_workers, "a_core_is_free", lambda: True)
    yield
    figure_server.stop()


def test_the_page_made_by_the_figure_process_is_the_page_made_here(default_run):
    cfg, result, _ = default_run
    here = render_report(cfg, result, ["a note"])
    with figure_server.started():
        assert figure_server.running()
        with png_workers.parallel_pngs() as resolved:
            page = render_report(cfg, result, ["a note"])
            assert "flowbot-pending-figure-" in page and not IMAGE.search(page)   # all sent to it
            page = resolved(page)
        assert not figure_server.running()   # one page per figure process
    assert figure_server._server == {}
    assert len(IMAGE.findall(here)) == 7 and page == here


def test_trade_charts_handed_ahead_during_the_run_are_the_ones_the_page_makes(default_run):
    cfg, result, _ = default_run
    here = render_report(cfg, result, ["a note"])
    ahead: dict[str, str] = {}

    def on_playbook(strategy, trades, orders, bars):
        ahead[strategy.display_name] = trade_charts_ahead(strategy, trades, orders, bars)

    with figure_server.started():
        again = run_backtest(cfg, result.bars, on_playbook=on_playbook)
        assert set(ahead) == {s.display_name for s in cfg.active_strategies()}
        assert all(p.startswith("flowbot-pending-figure-") for p in ahead.values())   # sent, not drawn here
        with png_workers.parallel_pngs() as resolved:
            page = resolved(render_report(cfg, again, ["a note"], charts_ahead=ahead))
    assert IMAGE.findall(page) == IMAGE.findall(here) and len(IMAGE.findall(page)) == 7
    assert "flowbot-pending" not in page


def test_no_trade_charts_ahead_without_a_figure_process(default_run):
    cfg, result, _ = default_run
    strategy = cfg.active_strategies()[0]
    frames = (result.trades, result.orders, result.bars)
    assert trade_charts_ahead(strategy, *frames) is None


def test_a_dead_figure_process_leaves_the_figures_to_this_process(default_run):
    cfg, result, _ = default_run
    here = render_report(cfg, result, [])
    with figure_server.started():
        pid = figure_server._server["pid"]
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        figure_server._server["pid"] = pid
        with png_workers.parallel_pngs() as resolved:
            page = resolved(render_report(cfg, result, []))
    assert page == here


def test_not_started_when_no_core_is_free(monkeypatch):
    monkeypatch.setattr(png_workers, "a_core_is_free", lambda: False)
    with figure_server.started():
        assert not figure_server.running() and figure_server._server == {}


def test_a_sheet_drawn_with_one_reused_axes_is_the_sheet_with_an_axes_per_panel(default_run):
    """Every playbook's trade sheet: the same PNG bytes as the Figure with an Axes per panel, saved by savefig."""
    from runner.report import charts

    cfg, result, _ = default_run
    views = build_views(cfg, result.metrics, result.trades, result.orders, result.bars)
    assert max(len(v.trades) for v in views) > trade_charts.COLUMNS   # panels on several rows
    for view in views:
        trades, _ = trade_charts.chosen_trades(view.trades)
        with charts.styled(trade_charts.PANEL_TEXT):
            reused = _sheet_here(view, trades)
            fig = trade_charts._sheet(view, trades)
            for ax in fig.axes:
                charts.fixed_auto_positions(ax)
            per_panel = png_workers.encode(fig, trade_charts.TRADE_DPI)
        assert len(fig.axes) == len(trades)
        assert reused == per_panel, view.name


def _sheet_here(view, trades) -> bytes:
    """The sheet drawn in one process (one band)."""
    saved = png_workers.can_fork
    png_workers.can_fork = lambda: False
    try:
        return trade_charts._sheet_png(view, trades)
    finally:
        png_workers.can_fork = saved


def _biggest_sheet(default_run):
    cfg, result, _ = default_run
    views = build_views(cfg, result.metrics, result.trades, result.orders, result.bars)
    view = trade_charts.charted(max(views, key=lambda v: len(v.trades)))
    trades, _ = trade_charts.chosen_trades(view.trades)
    assert -(-len(trades) // trade_charts.COLUMNS) >= 4   # rows enough for bands of 2 rows
    return view, trades


def _counted_forks(monkeypatch) -> list:
    forks = []
    real = png_workers._fork_writing
    monkeypatch.setattr(png_workers, "_fork_writing", lambda compute: forks.append(1) or real(compute))
    return forks


@pytest.mark.parametrize("cores, rows_per_band", [(2, 2), (3, 1), (4, 1)])
def test_a_sheet_drawn_in_bands_beside_each_other_is_the_sheet_drawn_in_one_process(default_run, monkeypatch,
                                                                                      cores, rows_per_band):
    """The bands' strips, drawn in forked children and stacked, give the same PNG bytes as one process."""
    from runner.report import charts

    view, trades = _biggest_sheet(default_run)
    with charts.styled(trade_charts.PANEL_TEXT):
        here = _sheet_here(view, trades)
        monkeypatch.setattr(os, "cpu_count", lambda: cores)
        monkeypatch.setattr(trade_charts, "ROWS_PER_BAND", rows_per_band)
        forks = _counted_forks(monkeypatch)
        banded = trade_charts._sheet_png(view, trades)
        bands = trade_charts._bands(len(trades), cores)
        strips = [trade_charts._band_pixels(view, trades, band) for band in bands]
    assert len(forks) == cores - 1   # a band per core, all but the first in a child
    assert all(len(strip) for strip in strips)   # none drew outside its strip: the bands were stacked
    assert banded == here


def test_a_sheet_is_drawn_in_one_process_when_forking_is_not_possible(default_run, monkeypatch):
    from runner.report import charts

    view, trades = _biggest_sheet(default_run)
    with charts.styled(trade_charts.PANEL_TEXT):
        here = _sheet_here(view, trades)
        monkeypatch.setattr(png_workers, "can_fork", lambda: False)
        monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked"))
        assert trade_charts._bands(len(trades), trade_charts._band_count(5)) == [range(5)]
        assert trade_charts._sheet_png(view, trades) == here


def test_a_band_that_draws_outside_its_strip_leaves_the_whole_sheet_to_one_process(default_run, monkeypatch):
    """Strips cut through the panels (a title above the strip): stacking them would lose it, so the sheet is
    drawn in one go here, the same bytes as without bands."""
    from runner.report import charts

    view, trades = _biggest_sheet(default_run)
    real = trade_charts._strip

    def through_the_panels(fig, grid, rows, band, height):
        top, bottom = real(fig, grid, rows, band, height)
        return (top + 40 if band.start else top), bottom   # 40 px down: into the band's first titles

    with charts.styled(trade_charts.PANEL_TEXT):
        here = _sheet_here(view, trades)
        monkeypatch.setattr(trade_charts, "_strip", through_the_panels)
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
        forks = _counted_forks(monkeypatch)
        assert trade_charts._sheet_png(view, trades) == here
    assert len(forks) == 1


def test_map_forked_computes_a_failed_child_here(monkeypatch):
    import numpy as np

    parent = os.getpid()

    def square(x):
        if x == 3 and os.getpid() != parent:
            raise RuntimeError("child breaks")
        return np.full((2, 2), x * x)

    out = png_workers.map_forked(square, [1, 2, 3, 4])
    assert [int(a[0, 0]) for a in out] == [1, 4, 9, 16]


def test_fixed_margins_keep_every_y_label_inside_the_figure_and_clear_of_the_panel_to_its_left():
    """``fit_margins`` reserves the room the y tick labels take, whatever their size (seeded cases)."""
    import numpy as np

    from runner.report import charts

    rng = np.random.default_rng(7)
    for case in range(16):
        cols = int(rng.integers(1, 4))
        fig, axes = charts.new_figure(10.6, 2.6, 1, cols, layout=None)
        for ax in axes.flat:
            level = 10.0 ** rng.integers(0, 9)
            ax.plot(np.arange(40), level * (1 + rng.normal(0, 0.2, 40).cumsum()))
            charts.money_axis(ax) if rng.random() < 0.5 else charts.pct_axis(ax, int(rng.integers(0, 3)))
            ax.set_title(f"case {case}", loc="left")
        charts.fit_margins(fig, axes, top=0.3)
        fig.canvas.draw()   # the tick labels get their text when drawn
        renderer = fig.canvas.get_renderer()
        shown = 0
        for c, ax in enumerate(axes.flat):
            left_edge = axes.flat[c - 1].get_window_extent(renderer).x1 if c else 0.0
            for tick in ax.yaxis.get_major_ticks():
                if tick.label1.get_visible() and tick.label1.get_text():
                    assert tick.label1.get_window_extent(renderer).x0 >= left_edge, (case, tick.label1.get_text())
                    shown += 1
        assert shown >= 2 * cols
