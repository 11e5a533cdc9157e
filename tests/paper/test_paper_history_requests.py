"""One historical request per distinct question: feeds asking the same of IB share its answer.

Counted at the simulated gateway (every request it receives, served or refused): the shipped
config/paper.yaml and a config that names IEF under two feeds start up without a single repeated request,
so IB's identical-request rule (15 s) never costs a pacing wait.
"""
from collections import Counter

from runner.config import load_config
from runner.paper.session import PaperSession
from runner.sim import SimulatedGateway
from runner.sim.cli_entry import load_bars

from paper_sim import SessionThread, wait_for


def repeated(requests: list[tuple]) -> dict:
    """Requests received more than once: (conId, end, duration, bar size, what to show, RTH) -> count."""
    counts = Counter(request[:6] for request in requests)
    return {key: n for key, n in counts.items() if n > 1}


def start_session(path: str, gw: SimulatedGateway, library: str, tmp_path, *overrides: str) -> PaperSession:
    cfg = load_config(path, [f"ib.port={gw.port}", f"ib.library={library}", "ib.connect_timeout=30",
                             f"ib.journal={tmp_path / 'journal.sqlite'}", f"output.folder={tmp_path / 'logs'}",
                             "output.report=false", *overrides])
    return PaperSession(cfg, journal_dir=tmp_path / "logs")


def sample_bars() -> dict:
    """gateway-sim's default dataset (SPY, IWM, IEF), as the README's rehearsal serves it."""
    return {s: f.loc["2011-06-01":"2013-01-31"] for s, f in load_bars(None).items()}


def go_live(path: str, library: str, tmp_path, *overrides: str):
    """Start ``path`` against a paused gateway with IB's real pacing windows; the requests and the session."""
    with SimulatedGateway(bars=sample_bars(), speed=0, paused=True, wire_log=False, pacing_time_scale=1.0,
                          start="2012-12-26 11:00") as gw:
        session = start_session(path, gw, library, tmp_path, *overrides)
        runner = SessionThread(session).start()
        try:
            assert wait_for(lambda: len(session.store.feeds) == len(session.feeds)), "every feed went live"
            assert wait_for(lambda: all(f.delivered for f in session.feeds.values() if f.size.daily)), \
                "the daily feeds delivered their history"
            requests = gw.history_requests
        finally:
            runner.finish()
    return requests, session


def test_the_shipped_paper_config_asks_no_history_twice(library, tmp_path):
    requests, session = go_live("config/paper.yaml", library, tmp_path)
    assert len(session.feeds) == 4 and requests, "SPY, SPY.bonds (IEF), IWM and SPY@1min backfilled"
    assert repeated(requests) == {}


def test_two_feeds_of_one_contract_share_one_request(library, tmp_path):
    """IEF as the bond leg of two playbooks (SPY.bonds and IWM.bonds): one daily request, one answer for both."""
    config = tmp_path / "two_bond_legs.yaml"
    config.write_text(
        "name: two-bond-legs\n"
        "strategies:\n"
        "  - {name: december_fade, symbol: SPY, data: 'sample:sp500', feeds: {bonds: 'sample:aaa_bond_proxy'}}\n"
        "  - {name: quarter_end_fade, symbol: IWM, data: 'sample:nasdaq', feeds: {bonds: 'sample:aaa_bond_proxy'}}\n"
        "ib:\n"
        "  client_id: 31\n"
        "  bar_size: 1d\n"
        "  backfill_bars: 300\n"
        "  feed_symbols: {SPY.bonds: IEF, IWM.bonds: IEF}\n")
    requests, session = go_live(str(config), library, tmp_path)
    assert repeated(requests) == {}
    spy_leg, iwm_leg = session.feeds["SPY.bonds"], session.feeds["IWM.bonds"]
    assert spy_leg.contract.conId == iwm_leg.contract.conId
    ief_now = [r for r in requests if r[0] == spy_leg.contract.conId and r[3] == "1 day" and r[1] == ""]
    assert len(ief_now) == 1, f"one daily request for IEF up to now, got {ief_now}"
    assert [b.time for b in spy_leg.delivered] == [b.time for b in iwm_leg.delivered] != []
