"""The report's charts: matplotlib ``Figure`` objects on the Agg canvas (never pyplot), embedded as PNG.

matplotlib is imported only when a chart is drawn, so commands that write no
report never pay for it.
"""
from __future__ import annotations

import contextlib
import functools

import numpy as np
import pandas as pd

from runner.report import png_workers
from runner.report.formatting import escape

COLOURS = ["#1f5fa8", "#c2571a", "#2e7d4f", "#7a3fb0", "#b8860b", "#0f7c8c", "#a23b72", "#555f6b"]
HOLD = "#8a939c"
LOSS, WIN = "#c62828", "#2e7d4f"
DPI = 110


def new_figure(width: float, height: float, rows: int = 1, cols: int = 1, layout: str | None = "constrained",
               panels: int | None = None, **subplot_kw):
    """A Figure on an Agg canvas and its axes (a 2-d array). ``layout=None``: fixed margins, much cheaper
    for many small panels (set them with ``fig.subplots_adjust``). ``panels``: an Axes in only the first
    that many cells, row by row, None in the others (an Axes left hidden costs as much to make as one shown)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    if panels is None:
        axes = fig.subplots(rows, cols, squeeze=False, **subplot_kw)
    else:   # as fig.subplots makes each Axes, in the cells that get one
        grid = fig.add_gridspec(rows, cols)
        axes = np.full((rows, cols), None, dtype=object)
        for number in range(panels):
            axes[divmod(number, cols)] = fig.add_subplot(grid[divmod(number, cols)], **subplot_kw)
    for ax in axes.flat:
        if ax is not None:
            new_axes_style(ax)
    return fig, axes


def fit_margins(fig, axes, top: float, bottom: float = 0.32, right: float = 0.12, row_gap: float = 0.0) -> None:
    """Fixed margins (inches) instead of a layout engine, which measures every text of every panel, and
    that costs about a third of a figure: ``top`` above each row (its title), ``bottom`` under each
    (the x tick labels; ``row_gap`` more between rows), and left of each column the room its y tick
    labels take, from their text and font size (nothing is drawn to find it)."""
    width, height = fig.get_size_inches()
    rows, cols = axes.shape
    fig.subplots_adjust(left=0.08, right=1 - right / width, top=1 - top / height, bottom=bottom / height)
    need = [max((_label_room(ax) for ax in axes[:, c] if ax is not None and ax.get_visible()), default=0.3)
            for c in range(cols)]
    left, gap = need[0], max(need[1:], default=0.0) + right
    cell_w = (width - left - right - (cols - 1) * gap) / cols
    v_gap = top + bottom + row_gap
    cell_h = (height - top - bottom - (rows - 1) * v_gap) / rows
    fig.subplots_adjust(left=left / width, wspace=gap / cell_w if cols > 1 else 0.2,
                        hspace=v_gap / cell_h if rows > 1 else 0.2)


def _label_room(ax) -> float:
    """Inches left of an axes its y tick labels take (their longest text at the tick font size), and the ticks."""
    low, high = sorted(ax.get_ylim())
    locs = [v for v in ax.yaxis.get_majorticklocs() if low <= v <= high]
    labels = ax.yaxis.get_major_formatter().format_ticks(locs) if locs else [""]
    size = ax.yaxis.get_major_ticks()[0].label1.get_fontsize() if locs else 8.5
    return max(_text_ems(text) for text in labels) * size / 72 + 0.16


# Advance widths in ems of DejaVu Sans, matplotlib's font: digits, then narrow and wide signs; others 0.75.
_EMS = {**dict.fromkeys("0123456789", 0.64), ",": 0.32, ".": 0.32, "-": 0.36, "\u2212": 0.84, "%": 0.95,
        " ": 0.32, "+": 0.84, "$": 0.64}


def _text_ems(text: str) -> float:
    return sum(_EMS.get(ch, 0.75) for ch in text)


_styled: dict = {"size": None}   # inside ``styled``: its tick label size


def style_rc(size: float = 8.5) -> dict:
    """``style_axes`` as matplotlib settings: axes made and drawn under them look the same, pixel for pixel."""
    return {"axes.grid": True, "axes.grid.which": "major", "axes.grid.axis": "both", "grid.color": "#e3e6ea",
            "grid.linewidth": 0.7, "axes.axisbelow": True, "axes.spines.top": False, "axes.spines.right": False,
            "axes.edgecolor": "#b9c0c7", "xtick.labelsize": size, "ytick.labelsize": size,
            "xtick.color": "#3d4650", "ytick.color": "#3d4650", "xtick.labelcolor": "inherit",
            "ytick.labelcolor": "inherit"}


@contextlib.contextmanager
def styled(size: float = 8.5):
    """Axes made and drawn inside the block come styled as ``style_axes`` styles them, from matplotlib's
    settings: restyling every axis and every tick after the fact (``tick_params``, ``grid``) is about a
    sixth of a figure's time. The whole figure, made and encoded, belongs inside the block: ticks are
    created when it is drawn."""
    import matplotlib

    before = _styled["size"]
    with matplotlib.rc_context(style_rc(size)):
        _styled["size"] = size
        try:
            yield
        finally:
            _styled["size"] = before


def styled_figure(function):
    """``function`` (it makes and encodes a figure) run inside ``styled()``."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with styled():
            return function(*args, **kwargs)
    return wrapper


def new_axes_style(ax, size: float = 8.5) -> None:
    """``style_axes`` for axes just made; inside ``styled(size)`` they are born with the style already."""
    if _styled["size"] == size:
        ax.title.set_fontsize(size + 1.5)
    else:
        style_axes(ax, size)


def style_axes(ax, size: float = 8.5) -> None:
    ax.grid(True, color="#e3e6ea", linewidth=0.7)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#b9c0c7")
    ax.tick_params(labelsize=size, colors="#3d4650")
    ax.title.set_fontsize(size + 1.5)


def date_axis(ax) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def png(fig, dpi: int | None = None) -> str:
    """The figure as a base64 PNG data URI."""
    for ax in fig.axes:
        fixed_auto_positions(ax)
    return png_workers.data_uri(fig, dpi or fig.dpi)


def fixed_auto_positions(ax) -> None:
    """Pin what matplotlib would place by measuring every tick label, where the place is known anyway.

    An empty axis label is drawn nowhere, and a title over an axes with its x ticks at the bottom
    and no y offset text sits at the axes' top: matplotlib finds exactly that after measuring the
    tick labels of both axes, which costs more than drawing them. Same pixels, less work.
    """
    from matplotlib.ticker import ScalarFormatter

    for axis in (ax.xaxis, ax.yaxis):
        if not axis.label.get_text():
            axis.set_label_coords(0.5, 0.5)   # inside the axes: no layout engine sees it
    if ax.xaxis.get_ticks_position() != "bottom" or ax.xaxis.get_label_position() != "bottom":
        return
    formatter = ax.yaxis.get_major_formatter()
    if isinstance(formatter, ScalarFormatter) and formatter.get_useOffset():
        formatter.set_locs(ax.yaxis.get_majorticklocs())
        if formatter.get_offset():
            return
    if getattr(ax, "_autotitlepos", False):   # auto (not placed by hand): the top, as it would measure
        ax._autotitlepos = False


def image(fig, alt: str, caption: str = "") -> str:
    return figure_html(png(fig), alt, caption)


def figure_html(uri: str, alt: str, caption: str = "") -> str:
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure><img alt='{escape(alt)}' src='{uri}'>{cap}</figure>"


def money_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def pct_axis(ax, places: int = 0) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.{places}f}%"))


@styled_figure
def equity_panels(panels: list[dict]) -> str:
    """One panel per curve set: ``{"title", "lines": [(label, Series, colour, dashed)]}``, value in money."""
    cols = 2 if len(panels) > 1 else 1
    rows = -(-len(panels) // cols)
    fig, axes = new_figure(10.6, 2.9 * rows, rows, cols, layout=None, panels=len(panels))
    for ax, panel in zip(axes.flat, panels):
        for label, series, colour, dashed in panel["lines"]:
            if series is None or series.empty:
                continue
            final = series.iloc[-1] / series.iloc[0] - 1.0
            ax.plot(series.index, series.to_numpy(), color=colour, linewidth=1.6 if not dashed else 1.1,
                    linestyle="--" if dashed else "-", label=f"{label} ({final * 100:+.2f}%)")
        ax.set_title(panel["title"], loc="left", fontweight="bold")
        money_axis(ax)
        date_axis(ax)
        ax.legend(fontsize=7.5, loc="upper left", frameon=False)
    fit_margins(fig, axes, top=0.3)
    return image(fig, "equity per playbook, against holding the instrument",
                 "Each playbook's own account (every playbook trades its own capital); dashed: the same "
                 "capital held in the instrument over the same dates.")


@styled_figure
def drawdown_chart(curves: list[tuple[str, pd.Series, str]]) -> str:
    fig, axes = new_figure(10.6, 2.6, layout=None)
    ax = axes[0, 0]
    for label, series, colour in curves:
        if series.empty:
            continue
        drawdown = (series / series.cummax() - 1.0) * 100.0
        ax.plot(series.index, drawdown.to_numpy(), color=colour, linewidth=1.2, label=f"{label} "
                f"(worst {drawdown.min():.2f}%)")
    pct_axis(ax, 1)
    date_axis(ax)
    ax.legend(fontsize=7.5, loc="lower left", frameon=False)
    fit_margins(fig, axes, top=0.08)
    return image(fig, "drawdown", "Drawdown: the fall of each playbook's own account from its highest value so far.")


@styled_figure
def exposure_chart(points: list[tuple[str, pd.DataFrame, str]]) -> str:
    """Per trade a stem at its entry: position value as % of the account (below zero: short)."""
    fig, axes = new_figure(10.6, 2.4, layout=None)
    ax = axes[0, 0]
    for label, frame, colour in points:
        if frame.empty:
            continue
        ax.vlines(frame["time"], 0, frame["exposure_pct"], color=colour, linewidth=1.6, alpha=0.9)
        ax.scatter(frame["time"], frame["exposure_pct"], color=colour, s=10, label=label, zorder=3)
    ax.axhline(0, color="#3d4650", linewidth=0.8)
    pct_axis(ax)
    date_axis(ax)
    ax.legend(fontsize=7.5, loc="upper left", frameon=False, ncols=4)
    fit_margins(fig, axes, top=0.08)
    return image(fig, "exposure over time",
                 "Exposure: each trade's position value at entry as % of the account (below zero: short). "
                 "Between trades every playbook is flat.")


@styled_figure
def returns_histograms(groups: list[tuple[str, np.ndarray, str]]) -> str:
    """The distribution of trade returns, one small panel per playbook."""
    groups = [g for g in groups if len(g[1])]
    if not groups:
        return "<p class='note'>No trades.</p>"
    fig, axes = new_figure(10.6, 2.3, 1, len(groups), layout=None)
    for ax, (label, values, colour) in zip(axes.flat, groups):
        edges = np.histogram_bin_edges(values, bins=min(30, max(6, len(values) // 2)))
        ax.hist(values[values <= 0], bins=edges, color=LOSS, alpha=0.8)
        ax.hist(values[values > 0], bins=edges, color=WIN, alpha=0.8)
        ax.axvline(float(np.mean(values)), color="#1d232b", linewidth=1, linestyle="--")
        ax.set_title(f"{label}: {len(values)} trades", loc="left", fontweight="bold", fontsize=8)   # fits 3 abreast
        from matplotlib.ticker import FuncFormatter, MaxNLocator
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.1f}%"))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fit_margins(fig, axes, top=0.3)
    return image(fig, "distribution of trade returns",
                 "Trade returns (% of the position), losses red, gains green; dashed: the mean.")
