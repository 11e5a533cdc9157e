"""Paper-only safety rules: live ports and live accounts are refused.

Both checks raise :class:`runner.errors.SafetyError` (exit 2). The port check
runs before any socket is opened; the account check runs right after the
handshake, before anything is sent.
"""
from __future__ import annotations

from runner.errors import SafetyError
from runner.ib.ib_config import LIVE_PORTS

PAPER_PREFIX = "DU"


def mask_account(account: str | None) -> str:
    """Show an account id in logs without revealing it: ``DU1234567`` -> ``DU***567``."""
    if not account:
        return "?"
    if len(account) <= 5:
        return account[:2] + "***"
    return account[:2] + "***" + account[-3:]


def check_port(port: int) -> None:
    """Refuse the live-trading ports of IB Gateway (4001) and TWS (7496)."""
    if port in LIVE_PORTS:
        raise SafetyError(
            f"ib.port: {port} is a live-trading port (IB Gateway live 4001, TWS live 7496); flowbot trades "
            f"paper accounts only. Use 4002 (IB Gateway paper) or 7497 (TWS paper)."
        )


def check_accounts(managed: list[str], expected: str | None) -> str:
    """Return the paper account to trade, or raise SafetyError.

    Every account the gateway manages must be a paper account (``DU...``);
    when ``expected`` is set it must be among them.
    """
    if not managed:
        raise SafetyError("the gateway reported no managed account; refusing to trade")
    live = [a for a in managed if not a.startswith(PAPER_PREFIX)]
    if live:
        shown = ", ".join(mask_account(a) for a in live)
        raise SafetyError(
            f"the gateway is logged into a non-paper account ({shown}); flowbot trades paper accounts "
            f"(ids starting with {PAPER_PREFIX}) only. Log IB Gateway into your paper account."
        )
    if expected:
        if expected not in managed:
            raise SafetyError(
                f"ib.account: the gateway does not manage the configured account {mask_account(expected)} "
                f"(it manages {', '.join(mask_account(a) for a in managed)})"
            )
        return expected
    if len(managed) > 1:
        raise SafetyError(
            f"the gateway manages {len(managed)} accounts ({', '.join(mask_account(a) for a in managed)}); "
            f"set ib.account to the one to trade"
        )
    return managed[0]
