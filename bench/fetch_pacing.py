"""Benchmark: fetching a year of 1-minute bars within IB's pacing rules, against the simulated gateway.

The simulated gateway enforces IB's historical-data pacing (identical request
within 15 s, 6+ per contract within 2 s, > 60 in 10 minutes -> error 162) on
a clock scaled by ``--scale`` (0.01: 10 minutes become 6 s); the fetch's pacing
limiter runs on the same scale. Prints the wall time, the refusals, the
equivalent time at IB (time waiting for the rules unscaled, plus the time the
gateway took to answer) and the theoretical minimum that the rules allow.

Run: PYTHONPATH=. python bench/fetch_pacing.py [--scale 0.01] [--year 2024] [--library ib_async]
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from loguru import logger

from runner.data.intraday_sample import synthetic_minute_bars
from runner.fetch.download import FetchRequest, fetch_bars
from runner.ib.bars import BarSize
from runner.ib.ib_config import IBConfig
from runner.ib.pacing import PacingLimiter, minimum_seconds
from runner.sim import SimulatedGateway


def ib_equivalent(requests: int, latency: float) -> float:
    """IB seconds for ``requests`` one-by-one requests, each answered after ``latency`` s, under the limiter."""
    import asyncio

    clock = [0.0]

    async def sleep(seconds):
        clock[0] += seconds

    limiter = PacingLimiter(clock=lambda: clock[0], sleep=sleep)

    async def run():
        for i in range(requests):
            ticket = await limiter.acquire(i, "SPY")
            clock[0] += latency
            limiter.release(ticket)
    asyncio.run(run())
    return clock[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01, help="pacing clock scale (0.01: 10 min -> 6 s)")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--library", default="ib_async", choices=("ib_async", "ib_insync"))
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")

    first, last = dt.date(args.year, 1, 1), dt.date(args.year, 12, 31)
    made = time.perf_counter()
    bars = synthetic_minute_bars(first, last, seed=1)
    made = time.perf_counter() - made
    gw = SimulatedGateway(bars={"SPY": bars}, speed=0, paused=True, pacing=True, pacing_time_scale=args.scale,
                          start=f"{args.year + 1}-01-02 09:00", wire_log=False).start()
    try:
        cache = Path(tempfile.mkdtemp(prefix="fetch-bench-")) / "cache"
        cfg = IBConfig(port=gw.port, library=args.library, client_id=3)
        limiter = PacingLimiter(time_scale=args.scale)
        result = fetch_bars(FetchRequest("SPY", BarSize(1), first, last, cache_folder=cache), cfg,
                            limiter=limiter, progress=sys.stderr.isatty())
    finally:
        gw.stop()

    chunks = result.chunks_done
    refusals = result.requests - chunks
    answering = result.chunk_seconds - result.waited            # time the gateway took to answer (not scaled)
    latency = answering / max(result.requests, 1)
    equivalent = ib_equivalent(result.requests, latency)
    minimum = minimum_seconds(chunks)
    cached = len(result.series.bars)
    print(f"fetch a year of 1-minute bars ({args.year}, {len(bars):,} synthetic bars, made in {made:.1f} s) "
          f"through the simulated gateway with {args.library}, pacing clock x{args.scale:g}")
    print(f"  chunks (one session each): {chunks}; requests sent: {result.requests}; pacing refusals (162): "
          f"{refusals}; gaps: {len(result.gaps)}; bars cached: {cached:,} (identical count to the source: "
          f"{cached == len(bars)})")
    print(f"  wall time: {result.seconds:.1f} s (of which waiting for the rules {result.waited:.1f} s, "
          f"answers {answering:.1f} s, connect/plan/cache {result.seconds - result.chunk_seconds:.1f} s)")
    print(f"  theoretical minimum under the rules, scaled: {minimum * args.scale:.1f} s -> "
          f"wall / minimum = {result.seconds / (minimum * args.scale):.2f}")
    print(f"  equivalent at IB: {equivalent / 60:.1f} min (the limiter's schedule at IB's clock with the measured "
          f"{latency * 1000:.0f} ms per answer); theoretical minimum at IB: "
          f"{minimum / 60:.1f} min for {chunks} one-day requests (60 per 10 minutes, 5 per 2 s) "
          f"-> {equivalent / minimum:.3f} x the minimum")
    return 0 if refusals == 0 and cached == len(bars) else 1


if __name__ == "__main__":
    sys.exit(main())
