"""Feeds starting together keep IB's pacing rules themselves: a gateway with IB's real windows never answers 162."""
from loguru import logger

from runner.paper.session import PaperSession

from paper_sim import SessionThread, combined_config, gateway, minute_bars, wait_for


def test_a_combined_session_starting_up_provokes_no_pacing_violation(library, tmp_path):
    bars = minute_bars()   # 2019-05-28..30; the session starts mid-morning on the last day
    warnings = []
    sink = logger.add(lambda m: warnings.append(m.record["message"]), level="WARNING",
                      filter=lambda r: "pacing violation" in r["message"])
    try:
        # IB's own windows (no shrinking): no 6th request for a contract within 2 s, none identical within 15 s
        with gateway(bars, pacing_time_scale=1.0, start="2019-05-30 11:00:30") as gw:
            cfg = combined_config(tmp_path, gw.port, library)
            cfg = cfg.model_copy(update={"ib": cfg.ib.model_copy(update={"backfill_bars": {"1d": 2, "1min": 800}})})
            session = PaperSession(cfg, journal_dir=tmp_path / "logs")
            runner = SessionThread(session).start()
            try:
                assert wait_for(lambda: len(session.store.feeds) == 2
                                and sum(gw.realtime_subscriptions().values(), []) == ["SPY"]), "both feeds went live"
                requests = session.store.pacing.requests
            finally:
                runner.finish()
    finally:
        logger.remove(sink)
    assert requests >= 6, "enough history requests of one contract to break the burst rule if unpaced"
    assert warnings == []
