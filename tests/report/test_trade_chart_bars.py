"""The trade charts get only the bars they draw (the charted trades' sessions), and draw the same sheet."""
from runner.report import trade_charts
from runner.report.playbook_view import build_views


def test_an_intraday_playbooks_charts_get_only_their_trades_sessions_and_draw_the_same(default_run):
    cfg, result, _ = default_run
    views = [v for v in build_views(cfg, result.metrics, result.trades, result.orders, result.bars)
             if v.intraday and len(v.trades)]
    assert views, "the default run has an intraday playbook with trades"
    for view in views:
        small = trade_charts.charted(view)
        shown, _ = trade_charts.chosen_trades(view.trades)
        days = set(trade_charts.naive_new_york(shown["entry_time"]).normalize())
        assert set(trade_charts.naive_new_york(small.bars.index).normalize()) == days
        assert len(small.bars) < len(view.bars)
        assert trade_charts.trade_charts(small) == trade_charts.trade_charts(view)   # the same PNG bytes


def test_a_daily_playbooks_view_is_kept_whole(default_run):
    cfg, result, _ = default_run
    for view in build_views(cfg, result.metrics, result.trades, result.orders, result.bars):
        if not view.intraday:
            assert trade_charts.charted(view) is view
