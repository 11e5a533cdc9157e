"""Dates in users' files: Unix epoch times, and the format to suggest when dates do not parse.

``date_format: epoch`` (seconds) and ``epoch_ms`` (milliseconds) read Unix
times, which are UTC by definition. When a time column fails to parse, the
error names the format that reads every value of the column (DD/MM dates,
epoch seconds, compact YYYYMMDD, ...), so the user can pass it as
``--date-format`` or ``data.date_format``.
"""
from __future__ import annotations

import pandas as pd

EPOCH_UNITS = {"epoch": "s", "epoch_s": "s", "epoch_ms": "ms"}

# Tried in order; the first that reads every value is suggested.
CANDIDATES = (
    "%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d-%m-%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S",
    "%Y%m%d", "%Y%m%d %H:%M:%S", "%Y%m%d  %H:%M:%S", "%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S",
    "%d/%m/%y", "%m/%d/%y", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y",
)
WHAT = {"%d/%m": "DD/MM dates", "%m/%d": "MM/DD dates", "%d.%m": "DD.MM dates", "%d-%m": "DD-MM dates",
        "%Y%m%d": "compact YYYYMMDD dates", "%Y/%m": "YYYY/MM/DD dates"}


def is_epoch(date_format: str | None) -> bool:
    return date_format in EPOCH_UNITS


def parse_epoch(text: pd.Series, date_format: str) -> pd.Series:
    """Unix times (UTC) as timestamps; unreadable values become NaT."""
    numbers = pd.to_numeric(text, errors="coerce")
    return pd.to_datetime(numbers, unit=EPOCH_UNITS[date_format], utc=True, errors="coerce")


def suggest_format(text: pd.Series) -> tuple[str, str] | None:
    """(format, what was detected) that reads every value of ``text``, or None."""
    values = text.astype(str).str.strip()
    values = values[values != ""]
    if values.empty:
        return None
    sample = pd.concat([values.head(200), values.tail(200), values.sample(min(len(values), 300), random_state=0)])
    numbers = pd.to_numeric(sample, errors="coerce")
    if numbers.notna().all():
        if numbers.between(1e8, 5e9).all():
            return "epoch", "epoch seconds"
        if numbers.between(1e11, 5e12).all():
            return "epoch_ms", "epoch milliseconds"
    for fmt in CANDIDATES:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
        if parsed.notna().all() and pd.to_datetime(values, format=fmt, errors="coerce").notna().all():
            what = next((w for prefix, w in WHAT.items() if fmt.startswith(prefix)), "dates")
            return fmt, what
    return None


def suggestion_text(text: pd.Series, given: str | None) -> str:
    """The sentence the date error appends: which format would work, or nothing."""
    found = suggest_format(text)
    if found is None or found[0] == given:
        return ""
    fmt, what = found
    from runner.inputs import data_setting

    return f"; {what} detected: use {data_setting('date_format', fmt)}"


_DAY_MONTH = r"\d{1,2}(?P<sep>[/.\-])\d{1,2}(?P=sep)(?P<year>\d{4}|\d{2})(?P<time> \d{1,2}:\d{2}(:\d{2})?)?"


def day_month_order(text: pd.Series) -> tuple[str | None, bool]:
    """For dates like ``01/02/2016`` (no format named): (the month-first format to read them with, or None
    for other dates; True if the day-first format reads every value too, so which is meant cannot be told).

    pandas guesses the order from the first value alone: a DD/MM file whose first dates have a day of 12 or
    less was read as MM/DD, silently, for as long as no later row failed (a short file: never); one whose first
    date was 13/01 was read day first. Now month first is the rule (a day-first file fails at its first day
    above 12, with the format to name), and a file both orders read is refused."""
    import re

    first = str(text.iloc[0]).strip() if len(text) else ""
    match = re.fullmatch(_DAY_MONTH, first)
    if match is None:
        return None, False
    sep, year = match["sep"], "%Y" if len(match["year"]) == 4 else "%y"
    clock = "" if not match["time"] else " %H:%M:%S" if match["time"].count(":") == 2 else " %H:%M"
    month_first = f"%m{sep}%d{sep}{year}{clock}"
    both = all(pd.to_datetime(text, format=fmt, errors="coerce").notna().all()
               for fmt in (month_first, f"%d{sep}%m{sep}{year}{clock}"))
    return month_first, both
