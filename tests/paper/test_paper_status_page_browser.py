"""The status page of a live paper session in headless Chromium (Debian's, through playwright; no download).

The page renders the session's real state while it trades: connection, P&L, last bar per feed,
positions, working orders, fills; it makes no request beyond its own address; it refuses writes.
"""
import csv
from pathlib import Path

import pytest

from runner.paper.session import PaperSession
from runner.paper.status_file import read_status

from paper_sim import SessionThread, combined_config, gateway, minute_bars, wait_for, wait_until_live

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)


def test_the_status_page_shows_the_live_session_in_a_browser(tmp_path):
    bars = minute_bars()
    run = tmp_path / "run"
    run.mkdir()
    with gateway(bars) as gw:
        session = PaperSession(combined_config(tmp_path, gw.port, "ib_async"), journal_dir=tmp_path / "logs",
                               folder=run, status_port=0)
        runner = SessionThread(session, gw).start()
        try:
            url = f"http://127.0.0.1:{session.monitor.page.port}/"
            wait_until_live(gw, session)
            gw.resume()
            # The entry has filled and its exits are working: the moment an operator checks the page.
            assert wait_for(lambda: read_status(run)["fills"] and read_status(run)["working_orders"])
            gw.pause()
            state = read_status(run)
            # A symbol streamed as daily and 1-minute bars is valued once: P&L after one entry is small.
            assert abs(state["pnl"]["total"]) < 0.01 * state["pnl"]["value"], state["pnl"]
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    elsewhere = []
                    page.on("request", lambda r: None if r.url.startswith(url) else elsewhere.append(r.url))
                    answer = page.goto(url)
                    assert answer.status == 200
                    assert page.locator("#connection .ok").inner_text() == "connected"
                    assert "P&L" in page.locator("#pnl").inner_text()
                    tables = page.locator("table")
                    text = page.locator("body").inner_text()
                    assert "SPY@1min" in text and "1min" in text          # last bar per feed
                    fill = state["fills"][0]
                    assert f"{fill['fill_price']}" in text               # the fill as status.json has it
                    assert "vwap_close_fade" in text and "stop" in text  # its working exits
                    assert "SPY" in page.locator("h2:has-text('Positions') + table").inner_text()
                    assert tables.count() >= 4
                    assert elsewhere == [], f"the page requested {elsewhere}"
                    posted = page.request.post(url, data="x")
                    assert posted.status == 405
                finally:
                    browser.close()
        finally:
            runner.finish()   # while the position is open
    with open(run / "trades.csv", newline="") as f:
        (trade,) = list(csv.DictReader(f))
    assert (trade["exit_reason"], trade["direction"], trade["size"]) == ("open", "short", str(state["fills"][0]["filled_size"]))
