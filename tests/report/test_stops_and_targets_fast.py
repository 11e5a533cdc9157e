"""The report's stop and target per trade, found with one sorted search, equal the order-by-order reference."""
import numpy as np
import pandas as pd

from runner.report.playbook_view import with_stops_and_targets


def reference(trades: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """The loop the report used before: per trade (by exit), the orders since the previous exit."""
    out = trades.copy()
    out["stop"] = np.nan
    out["target"] = np.nan
    if not len(trades) or not len(orders):
        return out
    order_times = pd.to_datetime(orders["time"], utc=True)
    exits = pd.to_datetime(trades["exit_time"], utc=True)
    for (strategy, symbol), rows in out.groupby(["strategy", "symbol"]).groups.items():
        mine = orders[(orders["strategy"] == strategy) & (orders["symbol"] == symbol)]
        times = order_times[mine.index]
        previous_exit = None
        for row in sorted(rows, key=lambda i: exits[i]):
            span = (times <= exits[row]) if previous_exit is None else ((times > previous_exit) & (times <= exits[row]))
            sent = mine[span.to_numpy()]
            stops = sent.loc[sent["reason"].astype(str).str.contains("stop"), "stop_price"].dropna()
            targets = sent.loc[sent["reason"].astype(str).str.contains("target"), "limit_price"].dropna()
            out.loc[row, "stop"] = float(stops.iloc[-1]) if len(stops) else np.nan
            out.loc[row, "target"] = float(targets.iloc[-1]) if len(targets) else np.nan
            previous_exit = exits[row]
    return out


def random_case(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    start = pd.Timestamp("2018-01-02 09:30", tz="America/New_York")
    names = [("fade", "SPY"), ("fade", "QQQ"), ("snap", "SPY")][: rng.integers(1, 4)]
    trades, orders = [], []
    for strategy, symbol in names:
        minutes = np.sort(rng.choice(2000, size=rng.integers(0, 12) * 2, replace=False))
        if rng.random() < 0.3 and len(minutes) > 2:
            minutes[3::4] = minutes[2::4][: len(minutes[3::4])]   # trades exiting at the same minute
        for entry, exit_ in zip(minutes[::2], minutes[1::2]):
            trades.append({"strategy": strategy, "symbol": symbol,
                           "entry_time": str(start + pd.Timedelta(minutes=entry)),
                           "exit_time": str(start + pd.Timedelta(minutes=exit_)), "pnl": rng.normal()})
        for minute in rng.integers(0, 2100, size=rng.integers(0, 30)):
            reason = rng.choice(["entry", "stop", "vwap_target", "target", "close", "stop_moved", None])
            orders.append({"time": str(start + pd.Timedelta(minutes=int(minute))), "strategy": strategy,
                           "symbol": symbol, "reason": reason,
                           "stop_price": rng.choice([np.nan, round(rng.normal(100, 5), 2)]),
                           "limit_price": rng.choice([np.nan, round(rng.normal(100, 5), 2)])})
    trades = pd.DataFrame(trades, columns=["strategy", "symbol", "entry_time", "exit_time", "pnl"])
    orders = pd.DataFrame(orders, columns=["time", "strategy", "symbol", "reason", "stop_price", "limit_price"])
    if len(trades) and rng.random() < 0.5:
        trades = trades.sample(frac=1.0, random_state=int(rng.integers(1 << 30)))   # not in exit order
    return trades, orders.sort_values("time", kind="stable").reset_index(drop=True)


def test_the_sorted_search_gives_the_reference_over_many_random_runs():
    rng = np.random.default_rng(13)
    marked = 0
    for case in range(120):
        trades, orders = random_case(rng)
        fast, slow = with_stops_and_targets(trades, orders), reference(trades, orders)
        pd.testing.assert_frame_equal(fast, slow, obj=f"case {case}")
        marked += int(fast["stop"].notna().sum())
    assert marked > 100   # the cases really carry stops (267 with this seed)


def test_the_default_runs_trades_get_the_reference_marks(default_run):
    _, result, _ = default_run
    pd.testing.assert_frame_equal(with_stops_and_targets(result.trades, result.orders),
                                  reference(result.trades, result.orders))
