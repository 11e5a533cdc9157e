"""orders.csv and trades.csv of a paper run, written as events happen (a kill -9 leaves them current).

- ``orders.csv``: one row per order event, appended and flushed (``os.fsync``) the moment the
  recorder sees it; the header is written once.
- ``trades.csv``: closed trades, then every position still open (``exit_reason`` ``open``, no exit
  time or price, ``pnl`` unrealised at the last close when known), rewritten atomically
  (temporary name, then renamed) after every fill: a reader sees the old file or the new, never half.

:class:`LiveRunLog` is the backtest's :class:`RunLog` (same rows, same recorder) that also tells a
listener (``on_order(row)``, ``on_trades(rows)``) about each change.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from runner.backtest.recorder import ORDER_COLUMNS, TRADE_COLUMNS, RunLog, _OpenTrade
from runner.report.run_folder import write_csv


class _ObservedRows(list):
    """A list that calls ``listener(row)`` after each append (the recorder appends order rows)."""

    def __init__(self, listener: Callable[[dict], None]):
        super().__init__()
        self._listener = listener

    def append(self, row) -> None:
        super().append(row)
        self._listener(row)


@dataclass
class LiveRunLog(RunLog):
    """A :class:`RunLog` that writes ``folder``/orders.csv and trades.csv as rows arrive."""

    folder: Path | None = None
    on_order: Callable[[dict], None] | None = None
    on_trades: Callable[[list[dict]], None] | None = None
    last_close: Callable[[str], float | None] = lambda symbol: None
    _orders_file: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.orders = _ObservedRows(self._order_row)
        if self.folder is not None:
            self._orders_file = open(Path(self.folder) / "orders.csv", "w", newline="", encoding="utf-8")
            self._orders_writer = csv.DictWriter(self._orders_file, fieldnames=ORDER_COLUMNS, extrasaction="ignore")
            self._orders_writer.writeheader()
            self._flush()
            self._write_trades()

    # -- rows as they come -----------------------------------------------------
    def _order_row(self, row: dict) -> None:
        if self._orders_file is not None:
            self._orders_writer.writerow(row)
            self._flush()
        if self.on_order is not None:
            self.on_order(row)

    def add_fill(self, strategy, symbol, when, size, price, commission, reason, filters="") -> None:
        super().add_fill(strategy, symbol, when, size, price, commission, reason, filters)
        self._write_trades()

    def _flush(self) -> None:
        self._orders_file.flush()
        os.fsync(self._orders_file.fileno())

    def _write_trades(self) -> None:
        rows = self.trade_rows()
        if self.folder is not None:
            write_csv(Path(self.folder) / "trades.csv", pd.DataFrame(rows, columns=TRADE_COLUMNS))
        if self.on_trades is not None:
            self.on_trades(rows)

    # -- what the files hold ---------------------------------------------------
    def open_trade_rows(self) -> list[dict]:
        return [_open_trade_row(strategy, symbol, trade, self.last_close(symbol))
                for (strategy, symbol), trade in self._open.items()]

    def trade_rows(self) -> list[dict]:
        return [*self.trades, *self.open_trade_rows()]

    def close(self) -> None:
        """The final trades.csv (closed and open) and the end of orders.csv."""
        if self._orders_file is not None:
            self._write_trades()
            self._orders_file.close()
            self._orders_file = None


def _open_trade_row(strategy: str, symbol: str, trade: _OpenTrade, close: float | None) -> dict:
    entry_price = trade.entry_value / trade.entry_size if trade.entry_size else None
    size = abs(trade.position)
    pnl = None
    if close is not None and entry_price is not None:
        pnl = round((close - entry_price) * size * trade.direction - trade.commission, 2)
    return {
        "strategy": strategy, "symbol": symbol, "direction": "long" if trade.direction > 0 else "short",
        "entry_time": trade.entry_time.isoformat(), "entry_price": round(entry_price, 6) if entry_price else None,
        "exit_time": None, "exit_price": None, "size": size, "pnl": pnl,
        "pnl_pct": round(pnl / (entry_price * size) * 100.0, 4) if pnl is not None and size else None,
        "commission": round(trade.commission, 2), "exit_reason": "open", "filters": trade.filters,
    }
