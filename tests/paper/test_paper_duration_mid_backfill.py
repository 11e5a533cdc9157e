"""``--duration`` ends the session on time also while the backfill waits out IB's pacing (issue 10, defect 8)."""
import threading

from loguru import logger

from runner.paper.session import run_paper

from paper_sim import PATIENCE, combined_config, gateway, minute_bars


def test_duration_ends_a_session_whose_backfill_is_paced_without_end(library, tmp_path):
    bars = minute_bars()
    with gateway(bars) as gw:
        gw.pace_next_historical(10_000)   # every historical request refused: the backfill retries forever
        cfg = combined_config(tmp_path, gw.port, library)
        # Without the stop reaching the backfill, its retries would wait 600 s, 1200 s, ...
        cfg = cfg.model_copy(update={"ib": cfg.ib.model_copy(update={"pacing_backoff": 600.0,
                                                                       "backfill_bars": 30})})
        outcome, lines = {}, []
        sink = logger.add(lambda m: lines.append(m.record["message"]), level="INFO")

        def run():
            try:
                outcome["code"] = run_paper(cfg, duration=1.0, out_dir=tmp_path / "run")
            except BaseException as exc:   # noqa: BLE001 - reported below
                outcome["error"] = exc

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(PATIENCE)
        logger.remove(sink)
        assert not worker.is_alive(), "the session did not end at --duration while the backfill was paced"
        assert gw.realtime_subscriptions() == {} or not sum(gw.realtime_subscriptions().values(), [])
    assert outcome == {"code": 0}
    assert any("ending the paper session: --duration 1 s elapsed" in line for line in lines)
    assert any("the session ended during the backfill" in line for line in lines), lines
