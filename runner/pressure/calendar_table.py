"""The pressure report's calendar: every session left to the year end, with its close, its market-on-close
cutoffs, the OPEX dates and early closes, and how many sessions are left to its month, quarter and year end.

All from the NYSE calendar (exchange_calendars) and the date-versioned cutoffs of
``strategies.market_calendar``, so it is known for any date the calendar covers.
"""
from __future__ import annotations

import datetime as dt
from itertools import groupby

from strategies import market_calendar as cal

NASDAQ_LISTED = {"QQQ", "COMP", "NDX", "TLT", "IEF"}   # the MOC cutoff column for Nasdaq-listed ETFs
QUARTER_END_MONTHS = (3, 6, 9, 12)


def _quarter_end_month(day: dt.date) -> int:
    return 3 * ((day.month - 1) // 3 + 1)


def _session_row(d: dt.date, to_quarter: int, to_year: int) -> dict:
    opex = d == cal.monthly_opex_session(d.year, d.month)
    to_month = cal.sessions_from_end_of_month(d)
    return {"date": str(d), "close": cal.session_close(d).strftime("%H:%M"), "early_close": cal.is_early_close(d),
            "moc_cutoff_nyse": cal.moc_cutoff(d, "NYSE").strftime("%H:%M"),
            "moc_cutoff_nasdaq": cal.moc_cutoff(d, "NASDAQ").strftime("%H:%M"),
            "opex": opex, "quarterly_opex": opex and d.month in QUARTER_END_MONTHS,
            "sessions_to_month_end": to_month, "sessions_to_quarter_end": to_quarter, "sessions_to_year_end": to_year,
            "month_end": to_month == 1, "quarter_end": to_quarter == 1, "year_end": to_year == 1}


def calendar_facts(day: dt.date, equity_name: str) -> dict:
    """Sessions left after ``day`` to the month / quarter / year end, the OPEX dates, the early closes, and
    one row per session from ``day`` (when it is one) to the year's last session.

    The rows count sessions to each end including the row's own (1 = the last session of the month)."""
    quarter_end_month = _quarter_end_month(day)
    ends = {"month": cal.nth_session_of_month(day.year, day.month, -1),
            "quarter": cal.nth_session_of_month(day.year, quarter_end_month, -1),
            "year": cal.nth_session_of_month(day.year, 12, -1)}
    after = day + dt.timedelta(days=1)
    left = {k: len(cal.sessions_between(after, end)) for k, end in ends.items()}
    opex = {"month": cal.monthly_opex_session(day.year, day.month),
            "quarter_end_month": cal.monthly_opex_session(day.year, quarter_end_month),
            "december": cal.december_opex_session(day.year)}
    upcoming = cal.sessions_between(day if cal.is_session(day) else after, ends["year"])
    rows = []
    for i, d in enumerate(upcoming):
        quarter_end = cal.nth_session_of_month(d.year, _quarter_end_month(d), -1)
        to_quarter = sum(1 for x in upcoming[i:] if x <= quarter_end)
        rows.append(_session_row(d, to_quarter, len(upcoming) - i))
    return {"ends": {k: str(v) for k, v in ends.items()}, "sessions_left": left,
            "opex": {k: str(v) for k, v in opex.items()},
            "opex_to_year_end": [{"date": r["date"], "quarterly": r["quarterly_opex"]} for r in rows if r["opex"]],
            "venue": "NASDAQ" if equity_name.upper() in NASDAQ_LISTED else "NYSE", "sessions": rows,
            "early_closes_to_year_end": [str(d) for d in cal.sessions_between(after, ends["year"])
                                         if cal.is_early_close(d)]}


def notes(row: dict) -> str:
    """What is special about a session: OPEX, an early close, the end of its month / quarter / year."""
    end = "year end" if row["year_end"] else "quarter end" if row["quarter_end"] else \
        "month end" if row["month_end"] else ""
    opex = "quarterly OPEX" if row["quarterly_opex"] else "OPEX" if row["opex"] else ""
    return ", ".join(x for x in ("early close" if row["early_close"] else "", opex, end) if x)


def terminal_rows(calendar: dict) -> list[dict]:
    """The calendar for the terminal: every session of the current month, then each notable session
    (OPEX, early close, month / quarter / year end) on its own row, and runs of ordinary sessions with
    the same close and cutoffs folded into one row (``2019-01-02–01-17``, 11 sessions)."""
    rows = calendar["sessions"]
    if not rows:
        return []
    month = rows[0]["date"][:7]
    out = []

    def key(item):
        i, row = item
        if row["date"][:7] == month or notes(row):
            return ("own", i)
        return ("run", row["date"][:7], row["close"], row["moc_cutoff_nyse"], row["moc_cutoff_nasdaq"])

    for _, group in groupby(enumerate(rows), key=key):
        group = [row for _, row in group]
        first, last = group[0], group[-1]
        if len(group) == 1:
            out.append({**first, "label": first["date"], "count": 1, "note": notes(first)})
            continue
        span = lambda k: f"{first[k]}–{last[k]}"  # noqa: E731
        out.append({**first, "label": f"{first['date']}–{last['date'][5:]}", "count": len(group),
                    "sessions_to_month_end": span("sessions_to_month_end"),
                    "sessions_to_quarter_end": span("sessions_to_quarter_end"),
                    "sessions_to_year_end": span("sessions_to_year_end"), "note": f"{len(group)} sessions"})
    return out
