"""Playbooks by the name configs use."""
from __future__ import annotations

from strategies.december_fade import DecemberFade
from strategies.january_snapback import JanuarySnapback
from strategies.playbook import Playbook
from strategies.quarter_end_fade import QuarterEndFade
from strategies.vwap_close_fade import VwapCloseFade

STRATEGIES: dict[str, type[Playbook] | type[VwapCloseFade]] = {
    "december_fade": DecemberFade,
    "january_snapback": JanuarySnapback,
    "quarter_end_fade": QuarterEndFade,
    "vwap_close_fade": VwapCloseFade,
}


def register(name: str, cls: type) -> None:
    """Add a playbook under ``name`` (used by playbooks defined outside this module)."""
    STRATEGIES[name] = cls
