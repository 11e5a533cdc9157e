"""risk.max_position_value is per symbol: an entry is sized within what the account already holds there.

The December fade and the VWAP fade both trade SPY in one session; the second entry on the same side must be
capped to the room the first one left, never refused whole by the broker's check (issue 10, defect 7).
"""
from runner.ib.ib_config import RiskLimits

from harness import WARMUP, gateway
from test_order_defects import WIDE, bars, finish, go_live, one_trade  # noqa: F401 - bars is a fixture


def test_an_entry_is_capped_to_the_room_a_held_position_leaves(library, bars, tmp_path):  # noqa: F811
    close = float(bars["close"].iloc[WARMUP])
    held = int(40_000 // close)   # about 40,000 of SPY already long in the account: room for about 10,000
    risk = RiskLimits(max_position_value=50_000)
    with gateway(bars, cash=1_000_000) as gw:
        gw.account.apply_fill("SPY", held, close, 1.0)
        strategy = finish(gw, go_live(one_trade(gw, library, tmp_path, bars, risk=risk, **WIDE)), bars)
        entry = next(o for o in gw.orders() if o.order_type == "MKT")
    assert strategy.statuses("entry") == ["Submitted", "Accepted", "Completed"], strategy.notes
    assert entry.status == "Filled"
    assert (held + entry.quantity) * close <= 50_000 < (held + entry.quantity + 1) * close
