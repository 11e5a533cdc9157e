"""A small price chart per trade, with entry, exit, stop and target marked: does the playbook do what it says?

Daily playbooks: the sessions around its December/January window (shaded).
Intraday: the trade's session, with the session VWAP and its σ bands. One
image per playbook holds its trades as small multiples, so the cost of the
report grows with the number of trades shown, not with a figure per trade;
past ``MAX_CHARTS`` trades the report shows the best, the worst and the latest
and says so.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from runner.report.charts import LOSS, WIN, figure_html, fixed_auto_positions, new_axes_style, styled
from runner.report.formatting import MINUS, escape, naive_new_york
from runner.report.playbook_view import PlaybookView

COLUMNS = 4
PANEL_HEIGHT = 2.2   # inches
TRADE_DPI = 96
PANEL_TEXT = 6.5   # tick label size
MAX_CHARTS = 40
ROWS_PER_BAND = 2   # a sheet of more rows is drawn in bands, beside each other when a core is free
MAX_BANDS = 4
SESSIONS_BEFORE, SESSIONS_AFTER = 8, 3
ZOOM_HOURS = 2.0
ENTRY, EXIT, STOP, TARGET, VWAP = "#1f5fa8", "#1d232b", LOSS, WIN, "#c2571a"


def chosen_trades(trades: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """All trades, or past ``MAX_CHARTS`` the best, worst and latest third each, with a note saying so."""
    if len(trades) <= MAX_CHARTS:
        return trades, ""
    third = MAX_CHARTS // 3
    ranked = trades.sort_values("pnl_pct")
    picked = pd.concat([ranked.head(third), ranked.tail(third), trades.tail(MAX_CHARTS - 2 * third)])
    picked = picked[~picked.index.duplicated()].sort_index()
    return picked, (f"Charts for {len(picked)} of {len(trades)} trades: the {third} worst, the {third} best and "
                    f"the latest; every trade is in the table below and in trades.csv.")


def charted(view: PlaybookView) -> PlaybookView:
    """``view`` with only the bars its trade charts draw: for an intraday playbook the sessions of the charted
    trades (a few hundred minutes each), not its whole file (2 million minutes for 20 years, pickled to the
    figure process and held there). The same charts: each panel draws its trade's session, found by the
    same search in fewer rows. Daily views are small and kept whole."""
    from dataclasses import replace

    bars = view.bars
    if not view.intraday or bars is None or bars.empty or bars.index.tz is None:
        return view
    trades, _ = chosen_trades(view.trades)
    if not len(trades):
        return replace(view, bars=bars.iloc[:0])
    days = naive_new_york(trades["entry_time"]).normalize().unique().sort_values()
    # Each session's rows by a search on the aware index: midnight in New York is never skipped or repeated.
    starts = bars.index.searchsorted(days.tz_localize(bars.index.tz))
    ends = bars.index.searchsorted((days + pd.Timedelta(days=1)).tz_localize(bars.index.tz))
    rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) if len(days) else np.arange(0)
    return replace(view, bars=bars.iloc[rows])


def trade_charts(view: PlaybookView) -> str:
    with styled(PANEL_TEXT):   # the panels made and drawn with their style (cheaper than restyling each)
        return _trade_charts(view)


def _trade_charts(view: PlaybookView) -> str:
    trades, note = chosen_trades(view.trades)
    if not len(trades) or view.bars is None or view.bars.empty:
        return ""
    uri = png_workers_uri(_sheet_png(view, trades))
    what = ("the last hours of its session: 1-minute closes, the session VWAP and its ±k σ band, ±stop_z σ dotted"
            if view.intraday else "the sessions around the window (shaded), daily high–low and close")
    caption = (f"{escape(note)} " if note else "") + (
        f"Per trade, {what}. ▲/▼ entry (buy/sell), ✕ exit; red dashed: stop; green dashed: target.")
    return figure_html(uri, f"price charts of the {view.name} trades", caption)


def png_workers_uri(data: bytes) -> str:
    from runner.report import png_workers

    return png_workers.as_uri(data)


def _sheet_figure(rows: int):
    """An empty sheet of ``rows`` rows of panels (a Figure on an Agg canvas) and its grid."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = PANEL_HEIGHT * rows
    fig = Figure(figsize=(10.6, height), dpi=TRADE_DPI)
    FigureCanvasAgg(fig)
    # Fixed margins in inches: the layout engines measure every label of every panel, which costs more
    # than drawing them; and so a panel sits in the same place whichever panels are drawn with it.
    fig.subplots_adjust(left=0.045, right=0.99, bottom=0.3 / height, top=1 - 0.3 / height, wspace=0.22,
                        hspace=0.55 / PANEL_HEIGHT)
    return fig, fig.add_gridspec(rows, COLUMNS)


def _new_panel(fig, spec):
    from matplotlib.ticker import MaxNLocator

    ax = fig.add_subplot(spec)
    new_axes_style(ax, size=PANEL_TEXT)
    ax.yaxis.set_major_locator(MaxNLocator(4))   # few labels: text is most of a panel's drawing time
    return ax


def _sheet(view: PlaybookView, trades: pd.DataFrame):
    """The whole sheet as a Figure with an Axes per panel (what ``_sheet_png`` draws, panel by panel)."""
    rows = -(-len(trades) // COLUMNS)
    fig, grid = _sheet_figure(rows)
    draw = _session_chart if view.intraday else _window_chart
    stamps = naive_new_york(view.bars.index)
    for number, ((_, trade), (entry, exit_)) in enumerate(zip(trades.iterrows(), _fill_times(trades))):
        ax = _new_panel(fig, grid[divmod(number, COLUMNS)])
        draw(ax, view, trade, stamps, entry, exit_)
        _title(ax, trade, entry)
    return fig


def _fill_times(trades: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Each trade's entry and exit time in New York (naive), parsed for the whole sheet at once: parsing
    a trade's two times on their own (a format guessed per call) costs about as much as drawing its marks."""
    return list(zip(naive_new_york(trades["entry_time"]), naive_new_york(trades["exit_time"])))


def _sheet_png(view: PlaybookView, trades: pd.DataFrame) -> bytes:
    """The sheet's PNG: its rows of panels drawn in bands, beside each other when a core is free.

    Each band is its rows of panels drawn on a blank sheet of the whole size (``_band_pixels``); the
    bands' strips of pixels, stacked, are the sheet drawn in one go, pixel for pixel, as long as no band
    draws outside its strip (checked: a band that does makes the whole sheet be drawn here, in one go).
    Without a free core or where forking is unsafe (``png_workers``) the sheet is one band, drawn here.
    """
    from runner.report import png_workers

    rows = -(-len(trades) // COLUMNS)
    bands = _bands(len(trades), _band_count(rows))
    if len(bands) == 1:
        return _png_of_pixels(_band_pixels(view, trades, bands[0]), TRADE_DPI)
    strips = png_workers.map_forked(lambda band: _band_pixels(view, trades, band), bands)
    if any(not len(strip) for strip in strips):   # a band drew outside its strip
        return _png_of_pixels(_band_pixels(view, trades, range(rows)), TRADE_DPI)
    return _png_of_pixels(np.concatenate(strips), TRADE_DPI)


def _band_count(rows: int) -> int:
    """Bands of at least ``ROWS_PER_BAND`` rows, one per core (at most ``MAX_BANDS``), when forking helps."""
    from runner.report import png_workers

    if rows < 2 * ROWS_PER_BAND or not png_workers.can_fork() or not png_workers.a_core_is_free():
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_BANDS, rows // ROWS_PER_BAND))


def _bands(panels: int, count: int) -> list[range]:
    """The sheet's rows in ``count`` bands of consecutive rows, about as many panels in each."""
    rows = -(-panels // COLUMNS)
    cuts = [0, *(round(rows * k / count) for k in range(1, count)), rows]
    return [range(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def _band_pixels(view: PlaybookView, trades: pd.DataFrame, band: range) -> np.ndarray:
    """The RGBA pixels of the strip of the sheet that holds the rows ``band`` (all rows: the whole
    sheet), those rows' panels drawn on a blank sheet of the whole size; an empty array when the panels
    drew outside the strip (then strips cannot be stacked into the sheet).

    One Axes is drawn onto the canvas once per panel, moved and emptied between panels: making an Axes
    (its axes, ticks, spines, grid) and its first tick objects is most of a panel's cost; panels never
    overlap and a figure draws its axes one after the other, so drawing one reused Axes at each panel's
    place gives the pixels of the sheet with an Axes per panel (``_sheet``) at a fraction of the cost
    (tests/report/test_figure_server.py compares them).
    """
    rows = -(-len(trades) // COLUMNS)
    fig, grid = _sheet_figure(rows)
    renderer = fig.canvas.get_renderer()
    renderer.clear()
    fig.patch.draw(renderer)
    pixels = np.asarray(renderer.buffer_rgba())
    blank = pixels[0, 0].copy()
    draw = _session_chart if view.intraday else _window_chart
    stamps = naive_new_york(view.bars.index)   # once per playbook, not per trade
    ax = None
    first, stop = band.start * COLUMNS, min(len(trades), band.stop * COLUMNS)
    for number, ((_, trade), (entry, exit_)) in enumerate(zip(trades.iterrows(), _fill_times(trades))):
        if not first <= number < stop:
            continue
        spec = grid[divmod(number, COLUMNS)]
        if ax is None:
            ax = _new_panel(fig, spec)
        else:
            _emptied(ax, spec.get_position(fig))
        draw(ax, view, trade, stamps, entry, exit_)
        _title(ax, trade, entry)
        fixed_auto_positions(ax)
        ax.draw(renderer)
    top, bottom = _strip(fig, grid, rows, band, len(pixels))
    if (pixels[:top] != blank).any() or (pixels[bottom:] != blank).any():
        return pixels[:0].copy()
    return pixels[top:bottom].copy()


def _strip(fig, grid, rows: int, band: range, height: int) -> tuple[int, int]:
    """The pixel rows (from the top) of the band's strip: from the middle of the gap above its first row
    of panels to the middle of the gap below its last (the sheet's edges for the first and last rows)."""
    def gap_below(row: int) -> int:   # the middle of the gap between row and row + 1
        middle = (grid[row, 0].get_position(fig).y0 + grid[row + 1, 0].get_position(fig).y1) / 2
        return int(round((1 - middle) * height))

    top = 0 if band.start == 0 else gap_below(band.start - 1)
    bottom = height if band.stop >= rows else gap_below(band.stop - 1)
    return top, bottom


def _emptied(ax, position) -> None:
    """``ax`` as a fresh panel at ``position``: no data, limits and title placement automatic again."""
    from matplotlib.transforms import Bbox

    for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts]:
        artist.remove()
    ax.set_position(position)
    ax.dataLim.set_points(Bbox.null().get_points())
    ax.ignore_existing_data_limits = True
    ax.set_autoscale_on(True)
    ax._autotitlepos = True
    for title in (ax.title, ax._left_title, ax._right_title):
        title.set_y(1.0)


def _png_of_pixels(pixels: np.ndarray, dpi: float) -> bytes:
    """PNG bytes of RGBA pixels, written as ``savefig`` writes a figure's."""
    import io

    from matplotlib.image import imsave

    from runner.report.png_workers import PNG_OPTIONS

    buffer = io.BytesIO()
    imsave(buffer, pixels, format="png", origin="upper", dpi=dpi, pil_kwargs=PNG_OPTIONS)
    return buffer.getvalue()


def _title(ax, trade, entry: pd.Timestamp) -> None:
    value = float(trade["pnl_pct"])
    shown = round(value, 2)
    sign = "+" if shown > 0 else (MINUS if shown < 0 else "")
    colour = WIN if shown > 0 else LOSS if shown < 0 else "#3d4650"
    reason = str(trade["exit_reason"]).replace("_", " ")
    ax.set_title(f"{entry:%Y-%m-%d} {trade['direction']} "
                 f"{sign}{abs(shown):.2f}% · {reason}", loc="left", fontsize=7.5, color=colour, fontweight="bold")


def _marks(ax, trade, x_entry: float, x_exit: float) -> None:
    long = trade["direction"] == "long"
    # Single markers and level segments as plain lines (a marker's size is the square root of a
    # scatter's area): the same marks as scatter and hlines, without a collection per mark to build
    # and draw in every panel.
    ax.plot([x_entry], [trade["entry_price"]], linestyle="none", marker="^" if long else "v",
            markersize=math.sqrt(46), color=ENTRY, zorder=5, markeredgecolor="white", markeredgewidth=0.6)
    ax.plot([x_exit], [trade["exit_price"]], linestyle="none", marker="X", markersize=math.sqrt(42), color=EXIT,
            zorder=5, markeredgecolor="white", markeredgewidth=0.6)
    left, right = ax.get_xlim()
    end = max(x_exit, x_entry + (right - left) * 0.12)   # a one-bar trade's levels stay visible
    for level, colour in ((trade.get("stop"), STOP), (trade.get("target"), TARGET)):
        if level is not None and np.isfinite(level):
            ax.plot([x_entry, end], [level, level], color=colour, linestyle="--", linewidth=1.1, zorder=4)


def _window_chart(ax, view: PlaybookView, trade, stamps: pd.DatetimeIndex, entry: pd.Timestamp,
                  exit_: pd.Timestamp) -> None:
    bars = view.bars
    days = stamps.normalize()
    window = _window_around(view, entry)
    first = min(entry.normalize(), window[0]) if window else entry.normalize()
    last = max(exit_.normalize(), window[1]) if window else exit_.normalize()
    lo = max(0, int(days.searchsorted(first)) - SESSIONS_BEFORE)
    hi = min(len(days), int(days.searchsorted(last, side="right")) + SESSIONS_AFTER)
    part = bars.iloc[lo:hi]
    x = np.arange(len(part))
    ax.vlines(x, part["low"], part["high"], color="#9aa3ad", linewidth=1.4)
    ax.plot(x, part["close"].to_numpy(), color="#3d4650", linewidth=1.0, marker="_", markersize=4)
    local = days[lo:hi]
    if window:
        a, b = local.searchsorted(window[0]), local.searchsorted(window[1], side="right") - 1
        ax.axvspan(a - 0.5, b + 0.5, color="#1f5fa8", alpha=0.08, linewidth=0)
    ax.set_xlim(-0.7, len(part) - 0.3)
    ticks = x[:: max(1, -(-len(x) // 3))]
    ax.set_xticks(ticks, [f"{local[i]:%b %d}" for i in ticks])
    _marks(ax, trade, _session_x(local, entry), _session_x(local, exit_))


def _session_x(days: pd.DatetimeIndex, stamp: pd.Timestamp) -> float:
    """A fill's x: its session's position, left of centre at the open, right of it at the close."""
    i = int(days.searchsorted(stamp.normalize()))
    return i - 0.3 if stamp.hour < 12 else i + 0.3


def _window_around(view: PlaybookView, entry: pd.Timestamp):
    cls = view.strategy_cfg
    if cls is None or not hasattr(cls, "baseline_window"):
        return None
    for year in (entry.year, entry.year - 1):
        try:
            window = cls.baseline_window(year, view.params)
        except (ValueError, IndexError):
            continue
        if window is None:
            continue
        start, end = pd.Timestamp(window[0]), pd.Timestamp(window[1])
        if start - pd.Timedelta(days=14) <= entry.normalize() <= end:
            return start, end
    return None


def _session_chart(ax, view: PlaybookView, trade, stamps: pd.DatetimeIndex, entry: pd.Timestamp,
                   exit_: pd.Timestamp) -> None:
    from strategies.session_vwap import session_vwap

    day = entry.normalize()
    lo, hi = stamps.searchsorted(day), stamps.searchsorted(day + pd.Timedelta(days=1))
    high, low, close, volume = (view.bars[name].to_numpy(dtype="float64")[lo:hi]
                                for name in ("high", "low", "close", "volume"))
    times = stamps[lo:hi]
    # The session's running VWAP and σ, vectorized: the values SessionVwap gives bar by bar.
    centre, sigma = session_vwap(np.zeros(len(close), dtype=np.int64), np.arange(len(close)), max(len(close), 1),
                                 high, low, close, volume)
    k = float(getattr(view.params, "k", 2.0))
    stop_z = getattr(view.params, "stop_z", None)
    x = (times - day).total_seconds().to_numpy() / 3600.0
    ax.plot(x, close, color="#3d4650", linewidth=0.8)
    ax.plot(x, centre, color=VWAP, linewidth=1.0)
    ax.fill_between(x, centre - k * sigma, centre + k * sigma, color=VWAP, alpha=0.12, linewidth=0)
    if stop_z:
        for side in (-1, 1):
            ax.plot(x, centre + side * float(stop_z) * sigma, color=VWAP, linewidth=0.6, linestyle=":")
    hours = lambda t: (t - day).total_seconds() / 3600.0   # noqa: E731
    # The whole session's VWAP, seen over its last hours: where a close fade acts.
    start = max(x[0], hours(entry) - ZOOM_HOURS) if len(x) else 9.5
    ax.set_xlim(start, (x[-1] + 1 / 60) if len(x) else 16)
    shown = (x >= start)
    if shown.any():
        bottom = np.nanmin(np.minimum(low[shown], (centre - k * sigma)[shown]))
        top = np.nanmax(np.maximum(high[shown], (centre + k * sigma)[shown]))
        pad = (top - bottom) * 0.08
        ax.set_ylim(bottom - pad, top + pad)
    ticks = [h / 2 for h in range(19, 33, 2) if len(x) and start <= h / 2 <= x[-1] + 0.02]
    ax.set_xticks(ticks, [f"{int(h)}:{'30' if h % 1 else '00'}" for h in ticks])
    _marks(ax, trade, hours(entry), hours(exit_))
