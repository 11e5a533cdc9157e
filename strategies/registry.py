"""Playbooks by the name configs use."""
from __future__ import annotations

from strategies.december_fade import DecemberFade
from strategies.january_snapback import JanuarySnapback
from strategies.playbook import Playbook

STRATEGIES: dict[str, type[Playbook]] = {
    "december_fade": DecemberFade,
    "january_snapback": JanuarySnapback,
}


def register(name: str, cls: type) -> None:
    """Add a playbook under ``name`` (used by playbooks defined outside this module)."""
    STRATEGIES[name] = cls
