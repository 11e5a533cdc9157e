"""report.html of a backtest or paper run: what a reader sees, number by number."""
import copy
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from runner.config import load_config
from runner.report.formatting import count, escape, pct, price, share, when
from runner.report.html import render_report
from runner.report.playbook_view import with_stops_and_targets
from runner.report.summary import run_notes

ROOT = Path(__file__).resolve().parents[2]   # not from conftest: another folder's conftest may be the one imported


def visible_text(page: str) -> str:
    body = page.split("</style>", 1)[1]
    body = re.sub(r"src='data:[^']*'", "", body)
    return re.sub(r"<[^>]+>", " ", body)


# -- numbers for people --------------------------------------------------------------------------

def test_percentages_have_two_places_a_real_minus_and_no_negative_zero():
    assert pct(1.23456) == "<span class='pos'>+1.23%</span>"
    assert pct(-0.456) == "<span class='neg'>−0.46%</span>"
    assert pct(-0.004) == "0.00%"             # rounds to zero: no sign, no colour
    assert pct(None) == "–" and pct(float("nan")) == "–"
    assert share(47.826) == "47.83%"


def test_sizes_are_integers_prices_go_to_the_tick_times_are_new_york_without_offset():
    assert count(350.0) == "350" and count(12000.0) == "12,000"
    assert price(271.69565) == "271.70" and price(1458.048332) == "1,458.05"
    assert price(271.69565, tick=0.0001) == "271.6957"
    assert when("2018-01-02T15:36:00-05:00") == "2018-01-02 15:36"
    assert when("2018-07-02T19:36:00+00:00") == "2018-07-02 15:36"   # summer: UTC-4
    assert when("1999-12-27T09:30:00-05:00", with_time=False) == "1999-12-27"


# -- the page of the default run -----------------------------------------------------------------

@pytest.fixture(scope="module")
def page(default_run):
    return (default_run[2] / "report.html").read_text(encoding="utf-8")


def test_a_card_per_playbook_with_its_figures_and_data_label(page, default_run):
    _, result, _ = default_run
    cards = re.findall(r"<section class='card[^']*'>(.*?)</section>", page, flags=re.S)
    assert len(cards) == 3
    by_name = {re.search(r"<h3>(\w+)", c).group(1): c for c in cards}
    assert set(by_name) == {"december_fade", "january_snapback", "vwap_close_fade"}
    assert "badge synthetic'>SYNTHETIC<" in by_name["vwap_close_fade"]
    assert "SYNTHETIC data" in by_name["vwap_close_fade"]            # the warning, not only the badge
    assert "badge proxy'>REAL+PROXY<" in by_name["december_fade"]    # its bond leg is a proxy
    assert "badge '>REAL<" in by_name["january_snapback"]
    for label in ("Trades", "Years with a signal", "Windows traded", "Hit rate", "Mean trade", "Median trade",
                  "Hold, windows traded", "Hold, every window", "Its side, every window",
                  "Mean trade vs hold", "Mean trade vs its side", "Luck (p-value)", "Max drawdown", "Exposure"):
        assert all(f"<dt>{label}</dt>" in c for c in cards), label
    vwap = result.trades[result.trades.strategy == "vwap_close_fade"]
    expected_hit = f"{(vwap.pnl_pct > 0).mean() * 100:.2f}%"
    assert f"<dt>Hit rate</dt><dd>{expected_hit}</dd>" in by_name["vwap_close_fade"]
    assert f"<dt>Trades</dt><dd>{len(vwap)}</dd>" in by_name["vwap_close_fade"]
    mean = vwap.pnl_pct.mean()
    assert f"{'+' if mean > 0 else '−'}{abs(mean):.2f}%" in by_name["vwap_close_fade"]
    figures = result.metrics["playbooks"]
    for name, card in by_name.items():
        p = figures[name]["luck"]["p_value"]
        assert f"<dt>Luck (p-value)</dt><dd>{p:.3f}" in card or p < 0.001
        if figures[name]["sample"]["trades"] < 30:
            assert "too few to conclude anything" in card


def test_no_pooled_headline_and_the_synthetic_label_at_the_top(page):
    text = visible_text(page)
    head = text.split("Mean trade")[0]
    assert "vwap_close_fade: SYNTHETIC data" in head                     # the banner above the cards
    assert "Combined book" not in text and "combined book" not in text
    together = text.split("Together, non-synthetic playbooks only")[1].split("Equity against")[0]
    assert "Net P&amp;L, summed over their accounts" in together and "Total return" not in together
    assert "Left out as SYNTHETIC: vwap_close_fade" in text


def test_the_reproducibility_record_is_on_the_page(page, default_run):
    _, result, _ = default_run
    record = result.metrics["reproducibility"]
    assert "<h2>Reproducibility</h2>" in page
    assert record["config_sha256"] in page
    for source in record["data_files"]:
        for f in source["files"]:
            assert f["sha256"] in page


def test_friendly_headers_and_numbers_no_raw_keys_no_negative_zero(page):
    text = visible_text(page)
    for raw in ("playbook_mean_trade_return_pct", "hold_window_mean_pct", "total_return_pct", "pnl_pct",
                "entry_time", "exit_reason"):
        assert raw not in text
    assert "-0.00" not in text and "−0.00" not in text
    assert not re.search(r"\b\d+\.00</td><td>\d", page.split("Shares")[1][:400])   # sizes: integers
    assert not re.search(r"\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}", text)               # no offsets in times
    assert "2018-01-02 15:36" in text


def test_charts_per_playbook_per_trade_and_the_combined_book(page, default_run):
    _, result, _ = default_run
    for heading in ("Equity against holding the instrument", "Drawdown", "Exposure over time",
                    "Distribution of trade returns"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("<h3>Monthly returns of its account [") == 3
    assert page.count("alt='price charts of the") == result.trades.strategy.nunique()
    assert "session VWAP" in page and "around the window" in page
    assert page.count("<h3>Per year, in the playbook's window</h3>") == 3
    assert "Dec 22 – Dec 31 1999" in page      # december_fade's window: from OPEX+3 (its earliest fill)


def test_self_contained_and_says_backtest(page):
    assert "<title>flowbot backtest: year-end-daily</title>" in page
    assert "class='mode backtest'>backtest<" in page
    outside_data = re.sub(r"src='data:image/png;base64,[A-Za-z0-9+/=]+'", "", page)
    assert not re.search(r"(src|href)=['\"](?!data:)", outside_data)
    assert "http" not in outside_data and "@import" not in outside_data and "url(" not in outside_data


def test_a_paper_run_says_paper_and_leaves_the_warm_up_out(default_run):
    cfg, result, _ = default_run
    metrics = copy.deepcopy(result.metrics)
    metrics["mode"] = "paper"
    metrics["live_since"] = "2018-01-02 09:30:00-05:00"
    page = render_report(cfg, replace(result, metrics=metrics), run_notes(cfg))
    text = visible_text(page).split("Reproducibility")[0]   # (the record quotes the command line that ran)
    assert "<title>flowbot paper: year-end-daily</title>" in page and "backtest" not in text
    assert "2018-01-02 to 2018-12-31" in text and "1999-01-04" not in text.split("starting capital")[0]
    assert "warm-up is left out" in text


def test_stop_and_target_come_from_the_orders_each_trade_sent():
    trades = pd.DataFrame([
        {"strategy": "p", "symbol": "X", "direction": "long", "entry_time": "2020-01-02T16:00:00-05:00",
         "exit_time": "2020-01-03T16:00:00-05:00", "pnl_pct": 1.0},
        {"strategy": "p", "symbol": "X", "direction": "long", "entry_time": "2020-02-03T16:00:00-05:00",
         "exit_time": "2020-02-04T16:00:00-05:00", "pnl_pct": -1.0}])
    order = {"strategy": "p", "symbol": "X", "limit_price": None, "stop_price": None}
    orders = pd.DataFrame([
        {**order, "time": "2020-01-02T16:00:00-05:00", "reason": "stop", "stop_price": 95.0},
        {**order, "time": "2020-01-02T16:00:00-05:00", "reason": "target", "limit_price": 110.0},
        {**order, "time": "2020-02-03T16:00:00-05:00", "reason": "stop", "stop_price": 90.0},
        {**order, "time": "2020-02-03T16:00:00-05:00", "reason": "vwap_target", "limit_price": 101.0}])
    marked = with_stops_and_targets(trades, orders)
    assert marked["stop"].tolist() == [95.0, 90.0] and marked["target"].tolist() == [110.0, 101.0]


# -- matplotlib only when a report is written, and never pyplot ----------------------------------

def test_matplotlib_loads_only_for_a_report_and_never_pyplot(tmp_path):
    script = f"""
import sys
from pathlib import Path
from runner.backtest.run import run_backtest, write_backtest_outputs
from runner.config import load_config
cfg = load_config({str(ROOT / "config" / "backtest.yaml")!r})
cfg = cfg.model_copy(update={{"strategies": cfg.strategies[:1]}})
result = run_backtest(cfg)
assert "matplotlib" not in sys.modules, "matplotlib imported before any report"
from runner.report import png_workers
png_workers.a_core_is_free = lambda: False   # drawn in this process (not in forked children) to be seen here
write_backtest_outputs(Path({str(tmp_path)!r}), cfg, result, [])
assert "matplotlib" in sys.modules and "matplotlib.pyplot" not in sys.modules
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ok" in done.stdout
    assert (tmp_path / "report.html").exists()


def test_each_filter_value_at_the_decision_is_in_the_trades_table(tmp_path):
    """Issue 15: a filter's value is logged with the trade and shown in the report."""
    from runner.backtest.run import run_backtest

    cfg = load_config(ROOT / "config" / "quarter_end.yaml")
    result = run_backtest(cfg)
    page = render_report(cfg, result, run_notes(cfg))
    assert "Filters at the decision" in page
    first = str(result.trades["filters"].iloc[0])
    assert first.startswith("rotation SPX/COMP 10s") and escape(first) in page


def test_no_filters_column_for_playbooks_without_filters(page):
    assert "Filters at the decision" not in page
