"""flowbot fetch against the in-process simulated gateway: chunks, resume, merge, pacing, gaps, unknown contracts."""
import datetime as dt
import json

import pandas as pd
import pytest

from runner.data.cache import CachedSeries
from runner.data.intraday_sample import synthetic_minute_bars
from runner.errors import DataError
from runner.fetch.download import FetchRequest, fetch_bars
from runner.ib.bars import BarSize
from runner.ib.ib_config import IBConfig
from runner.ib.pacing import PacingLimiter, PacingRules
from runner.sim import SimulatedGateway

SCALE = 0.01          # 10 minutes of IB pacing = 6 s here; the gateway and the limiter agree
FIRST, LAST = dt.date(2024, 1, 2), dt.date(2024, 1, 19)     # 13 sessions; Jan 15 is a holiday


def minute_bars(first=FIRST, last=LAST) -> pd.DataFrame:
    return synthetic_minute_bars(first, last, seed=11)


@pytest.fixture(params=["ib_insync", "ib_async"])
def library(request):
    return request.param


def gateway(bars: pd.DataFrame, after: str = "2024-01-22 09:00", scale: float = SCALE, **kwargs) -> SimulatedGateway:
    return SimulatedGateway(bars={"SPY": bars}, speed=0, paused=True, pacing=True, pacing_time_scale=scale,
                            start=after, wire_log=False, **kwargs).start()


def ib_config(gw, library="ib_async") -> IBConfig:
    return IBConfig(port=gw.port, library=library, client_id=7, pacing_backoff=1.0, request_timeout=120)


def fetch(gw, cache, first=FIRST, last=LAST, size=BarSize(1), library="ib_async", limiter=None, **kwargs):
    request = FetchRequest("SPY", size, first, last, cache_folder=cache)
    return fetch_bars(request, ib_config(gw, library), limiter=limiter or PacingLimiter(time_scale=SCALE),
                      progress=False, **kwargs)


def test_multi_chunk_fetch_caches_every_session_once(tmp_path, library):
    source = minute_bars()
    gw = gateway(source)
    asked = []
    try:
        result = fetch(gw, tmp_path / "cache", library=library, on_chunk=lambda chunk, n: asked.append(chunk.sessions))
    finally:
        gw.stop()
    assert result.chunks_done == result.chunks_planned == 13
    assert result.requests == 13 and not result.gaps
    assert dt.date(2024, 1, 15) not in {d for s in asked for d in s}     # the holiday is never requested
    cached = pd.read_parquet(tmp_path / "cache" / "SPY" / "1min.parquet")
    assert len(cached) == len(source) == 13 * 390
    pd.testing.assert_frame_equal(cached[["open", "high", "low", "close", "volume"]],
                                  source[["open", "high", "low", "close", "volume"]], check_freq=False,
                                  check_names=False, check_index_type=False)
    manifest = json.loads((tmp_path / "cache" / "SPY" / "1min.manifest.json").read_text())
    assert len(manifest["complete"]) == 13 and manifest["gaps"] == {} and manifest["con_id"]


def test_interrupted_fetch_resumes_where_it_stopped(tmp_path):
    source = minute_bars()
    gw = gateway(source)
    done = []

    def interrupt(chunk, n):
        done.append(chunk.sessions)
        if len(done) == 4:
            raise KeyboardInterrupt
    try:
        with pytest.raises(KeyboardInterrupt):
            fetch(gw, tmp_path, on_chunk=interrupt)
        partial = CachedSeries.open(tmp_path, "SPY", BarSize(1))
        assert len(partial.complete) == 4 and len(partial.bars) == 4 * 390     # saved on the way out
        result = fetch(gw, tmp_path)
    finally:
        gw.stop()
    assert result.already_cached == 4 and result.chunks_planned == 9 and result.requests == 9
    cached = CachedSeries.open(tmp_path, "SPY", BarSize(1)).bars
    assert len(cached) == len(source) and cached.index.equals(source.index.rename("time"))


def test_new_ranges_merge_without_duplicates_or_gaps(tmp_path):
    source = minute_bars()
    gw = gateway(source)
    try:
        fetch(gw, tmp_path, last=dt.date(2024, 1, 10))
        second = fetch(gw, tmp_path, first=dt.date(2024, 1, 8))          # overlaps 3 cached sessions
        again = fetch(gw, tmp_path)                                        # everything cached: no request
    finally:
        gw.stop()
    assert second.already_cached == 3 and second.requests == 6
    assert again.requests == 0 and again.chunks_planned == 0
    cached = CachedSeries.open(tmp_path, "SPY", BarSize(1)).bars
    assert cached.index.is_unique and cached.index.equals(source.index.rename("time"))


def test_replaced_session_does_not_leave_old_bars_beside_new(tmp_path):
    series = CachedSeries.open(tmp_path, "SPY", BarSize(1))
    day = minute_bars(dt.date(2024, 1, 2), dt.date(2024, 1, 3))
    series.merge(day, [dt.date(2024, 1, 2), dt.date(2024, 1, 3)])
    shorter = day.loc["2024-01-03"].iloc[:100]
    series.merge(shorter, [dt.date(2024, 1, 3)])
    series.save()
    again = CachedSeries.open(tmp_path, "SPY", BarSize(1))
    assert len(again.bars) == 390 + 100 and again.complete == {dt.date(2024, 1, 2), dt.date(2024, 1, 3)}


def test_injected_pacing_violations_are_survived(tmp_path, library):
    gw = gateway(minute_bars())
    try:
        gw.pace_next_historical(3, code=162)
        result = fetch(gw, tmp_path, last=dt.date(2024, 1, 5), library=library)
    finally:
        gw.stop()
    assert result.chunks_done == 4 and not result.gaps
    assert result.requests == 4 + 3                   # three refused, each retried after a back-off
    assert len(CachedSeries.open(tmp_path, "SPY", BarSize(1)).bars) == 4 * 390


def test_without_the_limiter_the_gateway_refuses_and_the_fetch_still_completes(tmp_path):
    gw = gateway(minute_bars(), scale=1.0)          # IB's real windows: 6 requests within 2 s are refused
    careless = PacingLimiter(PacingRules(identical_window=0, burst_window=0, long_window=0, margin=0))
    try:
        result = fetch(gw, tmp_path, limiter=careless)
    finally:
        gw.stop()
    assert result.requests > 13                       # the burst rule (6 within 2 s) was broken and answered 162
    assert result.chunks_done == 13 and not result.gaps


def test_a_long_fetch_keeps_within_the_ten_minute_rule(tmp_path):
    source = minute_bars(dt.date(2024, 1, 2), dt.date(2024, 4, 12))      # 71 sessions > 60 per 10 minutes
    gw = gateway(source, after="2024-04-15 09:00")
    try:
        result = fetch(gw, tmp_path, last=dt.date(2024, 4, 12))
    finally:
        gw.stop()
    assert result.chunks_done == 71 and result.requests == 71       # not one refusal
    assert result.seconds >= 600 * SCALE                            # the 61st waited out the 10-minute window


def test_a_session_the_gateway_cannot_fill_is_reported(tmp_path):
    source = minute_bars()
    source = source[source.index.date != dt.date(2024, 1, 9)]
    gw = gateway(source)
    try:
        result = fetch(gw, tmp_path)
        again = fetch(gw, tmp_path)
    finally:
        gw.stop()
    assert [d for d, _ in result.gaps] == [dt.date(2024, 1, 9)]
    manifest = json.loads((tmp_path / "SPY" / "1min.manifest.json").read_text())
    assert list(manifest["gaps"]) == ["2024-01-09"]
    # asked again (a new process repeats the identical request within 15 s: refused once, retried), still a gap
    assert again.chunks_planned == 1 and [d for d, _ in again.gaps] == [dt.date(2024, 1, 9)]


def test_weekly_and_yearly_chunks_for_coarser_bars(tmp_path):
    gw = gateway(minute_bars())
    try:
        five = fetch(gw, tmp_path, size=BarSize(5))
        daily = fetch(gw, tmp_path, size=BarSize(0))
    finally:
        gw.stop()
    assert five.requests <= 4 and len(five.series.bars) == 13 * 78
    assert daily.requests == 1 and len(daily.series.bars) == 13
    assert (daily.series.bars.index.hour == 0).all()


def test_unknown_contract_is_a_clear_data_error(tmp_path, library):
    gw = gateway(minute_bars())
    try:
        with pytest.raises(DataError, match="IB does not know the stock NOPE"):
            fetch_bars(FetchRequest("NOPE", BarSize(1), FIRST, LAST, cache_folder=tmp_path),
                       ib_config(gw, library), progress=False)
    finally:
        gw.stop()
    assert not (tmp_path / "NOPE" / "1min.parquet").exists()


def test_adjusted_daily_bars_are_one_request_ending_now_in_their_own_dataset(tmp_path):
    gw = gateway(minute_bars())
    try:
        result = fetch_bars(FetchRequest("SPY", BarSize(0), FIRST, LAST, what="ADJUSTED_LAST", cache_folder=tmp_path),
                            ib_config(gw), limiter=PacingLimiter(time_scale=SCALE), progress=False)
    finally:
        gw.stop()
    assert result.requests == 1 and len(result.series.bars) == 13 and not result.gaps
    assert (tmp_path / "SPY" / "1d-adjusted.parquet").exists()
