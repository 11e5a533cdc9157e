"""Benchmark: the whole ``flowbot backtest`` command against plain numpy, the same rule on the same bars.

    python bench/cli_vs_numpy.py [--years 5] [--rounds 3]      # from the repository root

Generates 5 years of synthetic regular-hours 1-minute bars (~490k, every day
eligible: the peers' setting in BENCHMARKS.md), writes them as Parquet, then
runs, interleaved over the rounds and each its own process:

* the CLI as a user would (report included)::

      flowbot backtest --strategy vwap_close_fade --data 5y.parquet \\
          --set strategies.vwap_close_fade.params.every_day=true --out DIR

* this file's ``--numpy`` child: pandas reads the file, numpy computes the
  session VWAP and σ (cumulative sums over a sessions × minutes matrix), the
  reference price, the signals and the first signal of each session, and a
  short loop per trade walks its bars for the stop, the VWAP target or the
  close. It imports nothing of flowbot.

Then it checks both made the same trades (entry and exit minute, side, exit
reason; prices are left out: the CLI fills with the config's slippage) and
prints the medians and their ratio. Last line: ``cli_s=<a> numpy_s=<b>
ratio=<a/b> identical_trades=<True|False>``. Aims (issue 13, BENCHMARKS.md):
at most half of vectorbt's whole-process time (2.92 s there), at most 2.5×
numpy in the same run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
from pathlib import Path

from process_timing import ROOT, flowbot, timed
K, STOP_Z, MIN_MOVE, STOP_PCT = 2.0, 3.0, 0.3 / 100.0, 0.25 / 100.0   # vwap_close_fade's defaults
SLIPPAGE = 0.02 / 100.0            # config/backtest.yaml's broker.slippage_pct: fills at the open pay it
OPEN_MINUTE = 9 * 60 + 30
WINDOW, REFERENCE = 30, 60          # minutes before the close: the window opens, the move is measured from
MOC_CUTOFF = ((dt.date(1900, 1, 1), 10), (dt.date(2010, 1, 1), 15), (dt.date(2019, 3, 1), 10))   # NYSE


def numpy_trades(path: Path, out: Path) -> None:
    """The rule in plain numpy; writes ``entry,direction,exit,reason`` rows (New York minutes)."""
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(path)
    local = frame.index.tz_convert("America/New_York").tz_localize(None).asi8 // 60_000_000_000   # minutes
    o, h, lo, c, v = (frame[name].to_numpy(dtype="float64") for name in ("open", "high", "low", "close", "volume"))
    day = local // 1440
    col = local % 1440 - OPEN_MINUTE
    first = np.r_[True, day[1:] != day[:-1]]
    row = np.cumsum(first) - 1
    sessions, width = int(row[-1]) + 1, int(col.max()) + 1
    tp = (h + lo + c) / 3.0
    sums = []
    for values in (v, tp * v, tp * tp * v):
        matrix = np.zeros((sessions, width))
        matrix[row, col] = values
        sums.append(np.cumsum(matrix, axis=1)[row, col])
    sv, spv, sppv = sums
    with np.errstate(divide="ignore", invalid="ignore"):
        vwap = np.where(sv > 0, spv / sv, np.nan)
        var = sppv / sv - vwap * vwap
        sigma = np.where(var > 0, np.sqrt(np.where(var > 0, var, 0.0)), 0.0)
    last = np.r_[np.flatnonzero(first)[1:] - 1, len(c) - 1]        # each session's last bar
    close_col = col[last] + 1                                        # the close, minutes after the open
    dates = (day[last] * 86400).astype("datetime64[s]").astype(object)
    cutoff_before = np.array([next(m for since, m in reversed(MOC_CUTOFF) if d.date() >= since) for d in dates])
    before_ref = col + 1 <= close_col[row] - REFERENCE               # bars that set the reference price
    ref_index = np.maximum.accumulate(np.where(before_ref, np.arange(len(c)), -1))
    ref_index = np.where(ref_index >= np.flatnonzero(first)[row], ref_index, -1)   # not an earlier session's
    ref = np.where(ref_index >= 0, c[np.maximum(ref_index, 0)], np.nan)
    in_window = (col >= close_col[row] - WINDOW) & (col <= close_col[row] - cutoff_before[row] - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (c - vwap) / sigma
        move = c / ref - 1.0
        ok = in_window & (sigma > 0) & (ref > 0)
        short = ok & (K <= z) & (z < STOP_Z) & (move >= MIN_MOVE)
        long_ = ok & (-STOP_Z < z) & (z <= -K) & (move <= -MIN_MOVE)
    signal = short | long_
    hit = np.flatnonzero(signal)
    hit = hit[np.r_[True, row[hit][1:] != row[hit][:-1]]] if len(hit) else hit   # the first per session
    lines = ["entry,direction,exit,reason"]
    stamp = lambda i, end=0: str(np.datetime64(int(local[i]) + end, "m"))   # noqa: E731   a bar's start or end
    for i in hit:
        j, end = i + 1, last[row[i]]
        if j > end:
            continue
        d = 1 if long_[i] else -1
        z_stop, pct_stop = vwap[i] - d * STOP_Z * sigma[i], c[i] * (1.0 - d * STOP_PCT)
        stop = max(z_stop, pct_stop) if d == 1 else min(z_stop, pct_stop)
        target = vwap[i]
        # The exits keep their distance from the decision close and move with the entry's (slipped) fill;
        # they are checked from the bar after the entry's.
        shift = o[j] * (1.0 + d * SLIPPAGE) - c[i]
        stop, target = stop + shift, target + shift
        span = slice(j + 1, end + 1)
        stop_hit = (lo[span] <= stop) if d == 1 else (h[span] >= stop)
        target_hit = (h[span] >= target) if d == 1 else (lo[span] <= target)
        exit_at, reason = end, "close"
        either = np.flatnonzero(stop_hit | target_hit)
        if len(either):
            exit_at = j + 1 + int(either[0])
            reason = "stop" if stop_hit[either[0]] else "vwap_target"
        # Fills are stamped with their bar's start; the market-on-close exit with the session's close.
        lines.append(f"{stamp(j)},{'long' if d == 1 else 'short'},{stamp(exit_at, reason == 'close')},{reason}")
    out.write_text("\n".join(lines) + "\n")


def cli_trades(folder: Path) -> str:
    """The CLI's trades.csv in the same rows (times as New York minutes)."""
    import pandas as pd

    trades = pd.read_csv(folder / "trades.csv")
    lines = ["entry,direction,exit,reason"]
    for t in trades.itertuples():
        entry = pd.Timestamp(t.entry_time).tz_convert("America/New_York").strftime("%Y-%m-%dT%H:%M")
        exit_ = pd.Timestamp(t.exit_time).tz_convert("America/New_York").strftime("%Y-%m-%dT%H:%M")
        lines.append(f"{entry},{t.direction},{exit_},{t.exit_reason}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--numpy", nargs=2, type=Path, metavar=("DATA", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.numpy:
        numpy_trades(*args.numpy)
        return
    sys.path.insert(0, str(ROOT))
    from runner.data.intraday_sample import synthetic_minute_bars

    last = 2019
    bars = synthetic_minute_bars(dt.date(last - args.years + 1, 1, 1), dt.date(last, 12, 31), seed=7,
                                 eligible=lambda day: True, push_share_eligible=0.35)
    results: dict[str, list[tuple[float, float]]] = {"cli": [], "numpy": []}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bars_1min.parquet"
        bars.to_parquet(data)
        print(f"{len(bars):,} one-minute bars, {bars.index[0].date()} to {bars.index[-1].date()}; every day eligible")
        del bars
        for r in range(args.rounds):
            out = Path(tmp) / f"cli-{r}"
            results["cli"].append(timed([*flowbot(), "backtest", "--strategy", "vwap_close_fade", "--data", str(data),
                                         "--set", "strategies.vwap_close_fade.params.every_day=true",
                                         "--out", str(out)]))
            results["numpy"].append(timed([sys.executable, str(Path(__file__).resolve()), "--numpy", str(data),
                                           str(Path(tmp) / f"numpy-{r}.csv")]))
            print(f"round {r + 1}: CLI {results['cli'][-1][0]:.2f} s, numpy {results['numpy'][-1][0]:.2f} s "
                  f"(1-minute load average: {os.getloadavg()[0]:.2f})")
        cli = cli_trades(Path(tmp) / "cli-0")
        plain = (Path(tmp) / "numpy-0.csv").read_text()
        identical = cli == plain
        if not identical:
            differ = [(a, b) for a, b in zip(cli.splitlines(), plain.splitlines()) if a != b]
            print(f"first differences (CLI, numpy): {differ[:3]}")
    medians = {name: (statistics.median(s for s, _ in rows), statistics.median(m for _, m in rows))
               for name, rows in results.items()}
    print(f"trades: {len(cli.splitlines()) - 1} CLI, {len(plain.splitlines()) - 1} numpy; "
          f"median of {args.rounds} rounds")
    for name, (seconds, mb) in medians.items():
        print(f"{name:6}: {seconds:.2f} s whole process, peak {mb:.0f} MB")
    ratio = medians["cli"][0] / medians["numpy"][0]
    print(f"cli_s={medians['cli'][0]:.2f} numpy_s={medians['numpy'][0]:.2f} ratio={ratio:.2f} "
          f"identical_trades={identical}")


if __name__ == "__main__":
    main()
