"""Benchmark: vwap_close_fade on 5 years of 1-minute bars, plain backtrader path against the fast path.

    python bench/vwap_fade.py [--years 5] [--filters]      # from the repository root

Builds 5 years of synthetic regular-hours 1-minute bars (~490k), writes them to
a Parquet file, then runs each path in its own process, as a user would
(whole process: imports, reading and checking the file, the run):

* plain: every bar through backtrader's ``PandasData``, the session VWAP
  computed bar by bar by the strategy's indicator;
* fast: the engine's fast feed (``runner.backtest.intraday_feed``): VWAP lines
  precomputed with numpy, only the bars the playbook can act on.

Every day is eligible unless ``--filters`` (the peers' setting in
BENCHMARKS.md). It checks that both paths made identical trades and prints, as
its last line, ``plain_s=<x> fast_s=<y> speedup=<x/y> identical_trades=<True|False>``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(path_kind: str, data: Path, out: Path, every_day: bool) -> None:
    """One path, in this process: read the bars, run, write trades.csv, print timings as JSON."""
    started = time.perf_counter()
    import backtrader as bt

    from runner.config import RunConfig
    from runner.data.parquet_bars import read_parquet_bars
    from runner.data.intraday import check_intraday
    from runner.backtest.engine import build_cerebro
    from runner.backtest.intraday_feed import make_fast_feed
    from runner.log_setup import configure_console
    from runner.backtest.recorder import RunLog

    configure_console("WARNING")
    imported = time.perf_counter()
    bars = check_intraday(read_parquet_bars(data), str(data))
    loaded = time.perf_counter()
    params = {"every_day": every_day}
    cfg = RunConfig.model_validate({"name": "bench", "strategies": [
        {"name": "vwap_close_fade", "symbol": "SPY", "data": str(data), "params": params}]})
    if path_kind == "fast":
        feed = make_fast_feed(bars, "SPY", [cfg.strategies[0].typed_params()])
        fed = len(feed._times)
    else:
        naive = bars.copy()
        naive.index = bars.index.tz_localize(None)
        feed = bt.feeds.PandasData(dataname=naive, timeframe=bt.TimeFrame.Minutes, compression=1, openinterest=None)
        fed = len(naive)
    runlog = RunLog()
    cerebro = build_cerebro(cfg, {"SPY": feed}, runlog=runlog)
    cerebro.run()
    runlog.trades_frame().to_csv(out, index=False)
    done = time.perf_counter()
    print(json.dumps({"path": path_kind, "bars": len(bars), "fed": fed, "import_s": imported - started,
                      "load_s": loaded - imported, "run_s": done - loaded,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run_child(path_kind: str, data: Path, out: Path, every_day: bool) -> tuple[float, dict]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", path_kind, "--data", str(data), "--out", str(out)]
    if not every_day:
        cmd.append("--filters")
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{path_kind} path failed:\n{done.stderr}")
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--filters", action="store_true", help="the playbook's eligible-day filters (default: every day)")
    parser.add_argument("--child", choices=("plain", "fast"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=3, help="fast-path runs (the median is reported)")
    args = parser.parse_args()
    every_day = not args.filters
    if args.child:
        child(args.child, args.data, args.out, every_day)
        return

    sys.path.insert(0, str(ROOT))
    from runner.data.intraday_sample import synthetic_minute_bars

    last = 2019
    bars = synthetic_minute_bars(dt.date(last - args.years + 1, 1, 1), dt.date(last, 12, 31), seed=7,
                                 eligible=lambda day: True, push_share_eligible=0.35)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bars_1min.parquet"
        bars.to_parquet(data)
        print(f"{len(bars)} one-minute bars, {bars.index[0].date()} to {bars.index[-1].date()}; "
              f"{'every day eligible' if every_day else 'default eligible-day filters'}")
        plain_s, plain = run_child("plain", data, Path(tmp) / "plain.csv", every_day)
        print(f"plain: {plain_s:.2f} s whole process (import {plain['import_s']:.2f}, load {plain['load_s']:.2f}, "
              f"run {plain['run_s']:.2f}); {plain['fed']} bars fed; peak {plain['peak_mb']:.0f} MB")
        fast_runs = [run_child("fast", data, Path(tmp) / "fast.csv", every_day) for _ in range(max(1, args.repeat))]
        fast_runs.sort(key=lambda r: r[0])
        fast_s, fast = fast_runs[len(fast_runs) // 2]
        print(f"fast:  {fast_s:.2f} s whole process (import {fast['import_s']:.2f}, load {fast['load_s']:.2f}, "
              f"run {fast['run_s']:.2f}); {fast['fed']} bars fed; peak {fast['peak_mb']:.0f} MB "
              f"(median of {len(fast_runs)})")
        plain_trades = (Path(tmp) / "plain.csv").read_text()
        fast_trades = (Path(tmp) / "fast.csv").read_text()
        identical = plain_trades == fast_trades
        print(f"trades: {len(plain_trades.splitlines()) - 1} plain, {len(fast_trades.splitlines()) - 1} fast")
    print(f"plain_s={plain_s:.2f} fast_s={fast_s:.2f} speedup={plain_s / fast_s:.1f} identical_trades={identical}")


if __name__ == "__main__":
    main()
