"""Benchmark: a backtest on a big 1-minute file (about 2 million rows, 20 years), CSV and Parquet.

    python bench/big_csv.py [--years 20] [--rounds 3]      # from the repository root

Generates 20 years of synthetic regular-hours 1-minute bars (every NYSE
session 1999-2018, ~1.96 million rows), writes them once as CSV
(``Datetime,Open,High,Low,Close,Volume`` with offsets, as IB exports and
pandas write them) and once as Parquet, then runs, as a user would, each in
its own process and interleaved over the rounds:

    flowbot backtest --strategy vwap_close_fade --data big.csv --out DIR
    flowbot backtest --strategy vwap_close_fade --data big.parquet --out DIR

It prints the median wall time and peak memory (max RSS of the process) of
each, checks both runs made identical trades, and ends with the line
``csv_s=<x> csv_mb=<y> parquet_s=<z> parquet_mb=<w> identical_trades=<True|False>``.
Targets (issue 13): CSV under 6 s and 500 MB; Parquet faster still.

``--same-as TRADES_CSV`` also compares the trades with a ``trades.csv`` kept
from an earlier commit's run (e.g. ``--keep-trades`` of that run), and says
``same_as_given=<True|False>``: a change that speeds the run up must not
change a trade.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
from pathlib import Path

from process_timing import ROOT, flowbot, timed


def run_user_command(data: Path, out: Path) -> tuple[float, float]:
    """(wall seconds, peak MB) of one ``flowbot backtest`` process."""
    return timed([*flowbot(), "backtest", "--strategy", "vwap_close_fade", "--data", str(data), "--out", str(out)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep-trades", type=Path, help="copy the CSV run's trades.csv here")
    parser.add_argument("--same-as", type=Path, help="a trades.csv the runs' trades must equal")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from runner.data.intraday_sample import synthetic_minute_bars

    last = 2018
    bars = synthetic_minute_bars(dt.date(last - args.years + 1, 1, 1), dt.date(last, 12, 31), seed=11)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path, parquet_path = folder / "big_1min.csv", folder / "big_1min.parquet"
        frame = bars.rename(columns=str.title)
        frame.index.name = "Datetime"
        frame.to_csv(csv_path, float_format="%.4f")
        bars.to_parquet(parquet_path)
        del frame
        print(f"{len(bars):,} one-minute bars, {bars.index[0].date()} to {bars.index[-1].date()}; "
              f"CSV {csv_path.stat().st_size / 1e6:.0f} MB, Parquet {parquet_path.stat().st_size / 1e6:.0f} MB")
        del bars
        results: dict[str, list[tuple[float, float]]] = {"csv": [], "parquet": []}
        for r in range(args.rounds):
            for kind, path in (("csv", csv_path), ("parquet", parquet_path)):
                out = folder / f"run-{kind}-{r}"
                results[kind].append(run_user_command(path, out))
                print(f"round {r + 1} {kind:7}: {results[kind][-1][0]:.2f} s, {results[kind][-1][1]:.0f} MB")
        trades = {kind: (folder / f"run-{kind}-0" / "trades.csv").read_text() for kind in results}
        identical = trades["csv"] == trades["parquet"]
        if args.keep_trades:
            args.keep_trades.write_text(trades["csv"])
        same = None if args.same_as is None else trades["csv"] == args.same_as.read_text()
        medians = {kind: (statistics.median(s for s, _ in rows), statistics.median(m for _, m in rows))
                   for kind, rows in results.items()}
        print(f"trades: {len(trades['csv'].splitlines()) - 1} (CSV), {len(trades['parquet'].splitlines()) - 1} "
              f"(Parquet); median of {args.rounds} rounds, each run its own process")
    print(f"csv_s={medians['csv'][0]:.2f} csv_mb={medians['csv'][1]:.0f} parquet_s={medians['parquet'][0]:.2f} "
          f"parquet_mb={medians['parquet'][1]:.0f} identical_trades={identical}"
          + ("" if same is None else f" same_as_given={same}"))


if __name__ == "__main__":
    main()
