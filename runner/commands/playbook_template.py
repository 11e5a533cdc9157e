"""The files ``flowbot new playbook NAME`` writes: the playbook, a config that runs it, its golden test.

Placeholders: ``{name}`` (snake_case, the playbook's name in configs) and
``{cls}`` (the CamelCase class name). Braces meant literally are doubled.
"""

PLAYBOOK = '''"""{name}: buy late December when the index is up on the year; sell in early January.

(Written by `flowbot new playbook {name}`: edit the rule to make it yours. The
first line above is what `flowbot list` shows; say what the playbook does.)

How a flowbot playbook works (the same contract as the built-in ones):

* ``{cls}Params`` declares every parameter once, with its default, its valid
  range (ge/gt/le/lt) and the range a sweep should explore. YAML ``params:``,
  ``--set``, sweeps and `flowbot list` all read it; bad values are refused
  with a message naming the key.
* ``decide(today)`` runs on every completed daily bar while the playbook is
  flat. It looks only at bars up to today (no look-ahead) and calls
  ``self.enter(...)``: a market order for the next open (or the next close),
  sized by ``risk_pct`` over the stop distance, with its exits (stop,
  optional target, time exit) sent as one OCO group.
* ``holding_span(year, params)`` says what the playbook can hold in its
  ``year`` window: its earliest possible fill (a session and "open" or
  "close") and the session by whose close it is flat. The report and
  metrics.json compare the trades with simply holding the instrument over that
  span, and with taking the playbook's side of it, every window; the luck
  measure draws random windows from the same spans.
* Optional, for speed: ``window_feed = True`` with ``active_window(year,
  params)`` (the first session it may decide on to its time exit) and
  ``lookback_bars(params)`` lets a backtest feed only the bars around each
  window (see runner/backtest/daily_window_feed.py); without it every bar is fed.

Run it:   flowbot backtest -c {folder}/{name}.yaml
Test it:  pytest {folder}/test_{name}.py
Tune it:  a sweep file with base: {name}.yaml and
          parameters: {{strategies.{name}.params.ytd_min_pct: [0, 5, 10]}}
"""
from __future__ import annotations

import datetime as dt

from strategies.market_calendar import nth_session_of_month, session_offset
from strategies.params import DailyPlaybookParams, backtrader_params, param
from strategies.playbook import LONG, Playbook


class {cls}Params(DailyPlaybookParams):
    # DailyPlaybookParams brings atr_period, risk_pct, max_position_pct, trail_atr and trail_after_atr.
    ytd_min_pct: float = param(5.0, "enter only if the year-to-date return is at least this, percent",
                               explore=(0.0, 15.0), ge=-50, le=100)
    sessions_before_year_end: int = param(3, "decide on the close this many sessions before the last December "
                                             "session (entry at the next open)", explore=(1, 8), ge=1, le=15)
    hold_sessions: int = param(2, "time exit at the close of this January session", explore=(1, 10), ge=1, le=15)
    stop_atr: float = param(2.0, "stop distance in ATRs below the entry reference", explore=(1.0, 3.0), gt=0, le=10)


class {cls}(Playbook):
    Params = {cls}Params
    direction = LONG                                  # the report's "unconditional" takes this side
    params = backtrader_params({cls}Params)           # backtrader's params, derived from the model

    def decide(self, today: dt.date) -> None:
        cfg = self.config                             # the validated {cls}Params
        if today.month != 12 or today.year in self.traded_windows:
            return
        last_december = nth_session_of_month(today.year, 12, -1)
        if today != session_offset(last_december, -cfg.sessions_before_year_end):
            return
        self.traded_windows.add(today.year)           # decided once a year, traded or not
        ytd = self.year_to_date()                     # total return since last year's final close
        if ytd is None or ytd * 100.0 < cfg.ytd_min_pct:
            self.log.debug(f"{{today}}: no entry (year to date {{'n/a' if ytd is None else f'{{ytd:.1%}}'}})")
            return
        close, atr = float(self.bars.close[0]), float(self.atr[0])
        self.enter(LONG, stop=close - cfg.stop_atr * atr, target=None,
                   exit_day=nth_session_of_month(today.year + 1, 1, cfg.hold_sessions),
                   timing="next_open", today=today, window=today.year,
                   why=f"up {{ytd * 100.0:.1f}}% on the year")

    @classmethod
    def holding_span(cls, year: int, params: {cls}Params) -> tuple[dt.date, str, dt.date]:
        # Bought at the open after the decision day; flat by the close of January session hold_sessions.
        decision_day = session_offset(nth_session_of_month(year, 12, -1), -params.sessions_before_year_end)
        return session_offset(decision_day, 1), "open", nth_session_of_month(year + 1, 1, params.hold_sessions)

'''

CONFIG = '''# Runs the playbook {name} ({folder}/{name}.py): flowbot backtest -c {folder}/{name}.yaml
# (from the folder that holds {folder}/; playbooks_path is relative to the current folder).
name: {name}
playbooks_path: {folder}

strategies:
  - name: {name}                 # the file's name in playbooks_path
    symbol: SPX
    data: sample:sp500           # real daily S&P 500 bars 1999-2018; or a path to your own CSV/Parquet file
    params:
      ytd_min_pct: 5.0
      sessions_before_year_end: 3
      hold_sessions: 2
      stop_atr: 2.0
'''

TEST = '''"""Golden test of the playbook {name}: its trades on the embedded sample must not change unnoticed.

{name}.golden.csv holds the trades recorded when the playbook was created (or
last re-recorded). When you change the rule on purpose, look at the new
trades, then record them again:

    FLOWBOT_UPDATE_GOLDEN=1 pytest {folder}/test_{name}.py
"""
import os
from pathlib import Path

import pandas as pd
import pytest

from runner import backtest

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "{name}.golden.csv"
COLUMNS = ["entry_time", "entry_price", "exit_time", "exit_price", "size", "pnl", "exit_reason"]


def run_trades() -> pd.DataFrame:
    run = backtest(HERE / "{name}.yaml", set={{"playbooks_path": str(HERE)}})
    return run.trades[COLUMNS].reset_index(drop=True)


def test_trades_match_the_golden_file():
    trades = run_trades()
    if os.environ.get("FLOWBOT_UPDATE_GOLDEN") or not GOLDEN.exists():
        trades.to_csv(GOLDEN, index=False)
        pytest.skip(f"recorded {{len(trades)}} trades in {{GOLDEN.name}}; run again to compare")
    golden = pd.read_csv(GOLDEN)
    assert len(trades) == len(golden), f"{{len(trades)}} trades, the golden file has {{len(golden)}}"
    pd.testing.assert_frame_equal(pd.read_csv(pd.io.common.StringIO(trades.to_csv(index=False))), golden,
                                  check_exact=False, rtol=1e-9)


def test_the_playbook_trades_at_all():
    assert len(run_trades()) > 0, "no trades on the sample: loosen the rule or check decide()"
'''
