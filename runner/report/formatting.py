"""Numbers, times and tables for people: the report pages' shared formatting and style.

Percentages to two places, money with thousands separators, share counts as
integers, prices to the tick, times in New York without the offset. A value
that rounds to zero is shown as zero (never a red ``-0.00``); a missing value
is an en dash.
"""
from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

NEW_YORK = "America/New_York"
DASH = "–"
MINUS = "−"   # typographic minus: the same width as the plus sign

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232b;background:#f5f6f8;
  font-size:15px;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:1.5rem 1.25rem 3rem}
header.page{display:flex;flex-wrap:wrap;align-items:baseline;gap:.4rem 1rem;margin-bottom:.5rem}
h1{font-size:1.55rem;margin:0}h2{font-size:1.2rem;margin:2.2rem 0 .6rem;padding-bottom:.3rem;
  border-bottom:2px solid #dfe3e8}h3{font-size:1.02rem;margin:1.2rem 0 .4rem}
.mode{font-size:.8rem;font-weight:700;letter-spacing:.06em;text-transform:uppercase;padding:.15rem .55rem;
  border-radius:4px;background:#1f5fa8;color:#fff}.mode.paper{background:#7a3fb0}
.sub{color:#5b6570;font-size:.92rem}
.note{color:#5b6570;font-size:.86rem;margin:.3rem 0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:1rem;margin-top:1rem}
.card{background:#fff;border:1px solid #dfe3e8;border-top:6px solid #2e7d4f;border-radius:8px;padding:.9rem 1rem;
  min-width:0}
.card.proxy{border-top-color:#c77800}.card.synthetic{border-top-color:#c62828}.card.user{border-top-color:#1f5fa8}
.card h3{margin:0 0 .2rem;display:flex;justify-content:space-between;align-items:center;gap:.5rem;flex-wrap:wrap}
.verdict{font-size:.95rem;margin:.35rem 0 .6rem}
.badge{font-size:.75rem;font-weight:800;letter-spacing:.05em;padding:.18rem .5rem;border-radius:4px;color:#fff;
  background:#2e7d4f;white-space:nowrap}
.badge.proxy{background:#c77800}.badge.synthetic{background:#c62828}.badge.user{background:#1f5fa8}
.warning{background:#fdecea;color:#8e1c1c;border-radius:5px;padding:.35rem .6rem;font-size:.85rem;margin:.4rem 0;
  font-weight:600}
.warning.proxy{background:#fff4e0;color:#7a4a00}.caution{background:#f1f3f5;color:#3d4650;border-radius:5px;
  padding:.35rem .6rem;font-size:.83rem;margin:.4rem 0}
dl.figures{display:grid;grid-template-columns:1fr auto;gap:.15rem .8rem;margin:.4rem 0 0;font-size:.9rem}
dl.figures dt{color:#5b6570}dl.figures dt.group{grid-column:1/-1;color:#1d232b;font-weight:700;
  font-size:.74rem;text-transform:uppercase;letter-spacing:.05em;margin-top:.45rem;border-bottom:1px solid #eceff2}dl.figures dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;
  white-space:nowrap;font-weight:600}
.box{background:#fff;border:1px solid #dfe3e8;border-radius:8px;padding:.6rem .8rem;margin:.6rem 0}
.scroll{overflow-x:auto;max-width:100%}
.scroll.tall{max-height:34rem;overflow-y:auto}
table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums;width:auto}
th,td{padding:.28rem .6rem;text-align:right;white-space:nowrap;border-bottom:1px solid #eceff2}
th{background:#f4f6f8;font-weight:600;position:sticky;top:0;color:#3d4650}
th:first-child,td:first-child{text-align:left}td.text,th.text{text-align:left}
tr.quiet td{color:#98a1ab}
.neg{color:#b3261e}.pos{color:#1e7a46}
figure{margin:.4rem 0}figure img{max-width:100%;height:auto;display:block}
figcaption{color:#5b6570;font-size:.84rem;margin-top:.2rem}
.heat td{min-width:3.6rem}.heat td.zero{color:#b4bbc2}
.legend{font-size:.82rem;color:#5b6570}
footer{margin-top:2.5rem;color:#7b8590;font-size:.8rem}
"""


def escape(text) -> str:
    return html.escape(str(text))


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _signed(value: float, places: int, suffix: str = "") -> tuple[str, int]:
    """Text with sign and thousands separators, and the sign of what is shown (0 when it rounds to 0)."""
    rounded = round(float(value), places)
    if rounded == 0:
        return f"{0:.{places}f}{suffix}", 0
    text = f"{abs(rounded):,.{places}f}{suffix}"
    return (f"+{text}", 1) if rounded > 0 else (f"{MINUS}{text}", -1)


def _colour(text: str, sign: int, colour: bool) -> str:
    if not colour or sign == 0:
        return text
    return f"<span class='{'pos' if sign > 0 else 'neg'}'>{text}</span>"


def pct(value, places: int = 2, colour: bool = True) -> str:
    """``+1.23%`` / ``−0.45%`` / ``0.00%``; coloured by sign unless it rounds to zero."""
    if missing(value):
        return DASH
    return _colour(*_signed(value, places, "%"), colour)


def share(value, places: int = 2) -> str:
    """A proportion that has no sign to speak of (hit rate, exposure): ``47.83%``."""
    return DASH if missing(value) else f"{float(value):.{places}f}%"


def money(value, places: int = 2, colour: bool = True) -> str:
    """Signed money with thousands separators (``+1,234.56``)."""
    if missing(value):
        return DASH
    return _colour(*_signed(value, places), colour)


def amount(value, places: int = 0) -> str:
    """An unsigned amount (``100,000``)."""
    return DASH if missing(value) else f"{float(value):,.{places}f}"


def count(value) -> str:
    """Share counts and other whole numbers as integers."""
    return DASH if missing(value) else f"{int(round(float(value))):,}"


def price(value, tick: float = 0.01) -> str:
    """A price to the tick (0.01 gives two places)."""
    if missing(value):
        return DASH
    places = max(0, -int(math.floor(math.log10(tick)))) if tick > 0 else 2
    return f"{float(value):,.{places}f}"


def ratio(value, places: int = 2) -> str:
    return DASH if missing(value) else f"{float(value):.{places}f}"


def p_value(value) -> str:
    if missing(value):
        return DASH
    return "< 0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def new_york(stamp) -> pd.Timestamp:
    """Any timestamp (string or Timestamp, naive = New York) in New York time."""
    stamp = pd.Timestamp(stamp)
    return stamp.tz_localize(NEW_YORK) if stamp.tzinfo is None else stamp.tz_convert(NEW_YORK)


def when(stamp, with_time: bool = True) -> str:
    """``2018-01-02 15:36`` in New York (no offset); the date alone when ``with_time`` is False."""
    if missing(stamp) or stamp == "":
        return DASH
    local = new_york(stamp)
    return local.strftime("%Y-%m-%d %H:%M") if with_time else local.strftime("%Y-%m-%d")


def naive_new_york(times) -> pd.DatetimeIndex:
    """A time column or index as naive New York times (what the plots put on their x axis)."""
    index = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
    return index.tz_convert(NEW_YORK).tz_localize(None)


@dataclass(frozen=True)
class Column:
    """A table column: the header people read, and how a value becomes HTML."""

    key: str
    header: str
    render: object = escape     # callable(value) -> html
    text: bool = False          # left-aligned


def table(rows: Sequence[dict], columns: Iterable[Column], tall: bool = False, row_class=None) -> str:
    """An HTML table inside its own scrolling box (it never widens the page)."""
    columns = list(columns)
    if not rows:
        return "<p class='note'>None.</p>"
    head = "".join(f"<th class='text'>{escape(c.header)}</th>" if c.text else f"<th>{escape(c.header)}</th>"
                   for c in columns)
    body = []
    for row in rows:
        cls = row_class(row) if row_class else ""
        cells = "".join(f"<td class='text'>{c.render(row.get(c.key))}</td>" if c.text
                        else f"<td>{c.render(row.get(c.key))}</td>" for c in columns)
        body.append(f"<tr class='{cls}'>{cells}</tr>" if cls else f"<tr>{cells}</tr>")
    return (f"<div class='scroll{' tall' if tall else ''}'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


#: Headers people read, for the metric keys that appear in tables built from records.
HEADERS = {
    "run": "Run", "objective": "Objective", "total_return_pct": "Total return", "cagr_pct": "CAGR",
    "sharpe": "Sharpe", "sortino": "Sortino", "max_drawdown_pct": "Max drawdown", "trades": "Trades",
    "win_rate_pct": "Hit rate", "profit_factor": "Profit factor", "exposure_pct": "Exposure",
    "years": "Years", "years_with_pnl": "Years with P&L", "positive_years": "Positive years",
    "mean_year_pct": "Mean year", "worst_year_pct": "Worst year", "best_year_pct": "Best year",
    "best_year_share_pct": "Best year's share of gains", "train": "Train", "test": "Test", "chosen": "Chosen",
    "net_pnl": "Net P&L", "status": "Status",
}
UNSIGNED = {"win_rate_pct", "exposure_pct", "best_year_share_pct"}
COUNTS = {"trades", "years", "years_with_pnl", "positive_years", "run"}


def friendly(key: str) -> str:
    """A header for a record key: the known name, else the key's last part in words (``rally_pct`` → ``rally %``)."""
    if key in HEADERS:
        return HEADERS[key]
    last = key.rsplit(".", 1)[-1]
    return last.replace("_pct", " %").replace("_", " ")


def auto_format(key: str, value) -> str:
    """A value formatted by what its key says it is."""
    if missing(value):
        return DASH
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return escape(value)
    if "params." in key:   # a parameter's value, shown as it is set
        return f"{value:g}"
    if key in UNSIGNED:
        return share(value)
    if key.endswith("_pct") or key.endswith(" %"):
        return pct(value)
    if key in COUNTS or key.endswith("trades"):
        return count(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.2f}"


def records_table(records: Sequence[dict], tall: bool = False, headers: dict | None = None) -> str:
    """A table of records with friendly headers and values formatted by their keys."""
    if not records:
        return "<p class='note'>None.</p>"
    names = headers or {}
    columns = [Column(k, names.get(k) or friendly(k), (lambda key: (lambda v: auto_format(key, v)))(k),
                      text=not isinstance(records[0].get(k), (int, float)) or isinstance(records[0].get(k), bool))
               for k in records[0]]
    return table(records, columns, tall=tall)
