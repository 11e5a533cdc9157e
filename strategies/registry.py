"""Playbooks by the name configs use.

``STRATEGIES[name]`` is the playbook class; a built-in one's module (backtrader,
pandas) is imported the first time it is asked for. What validating a config or
listing the playbooks needs (parameter model, bars, direction, extra feeds) is on
each built-in's :class:`PlaybookCard`, read by :func:`card_of` without importing
its code; a test holds every card to its class.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from functools import cached_property

from strategies.playbook_params import (DecemberFadeParams, JanuarySnapbackParams, QuarterEndFadeParams,
                                        VwapCloseFadeParams)
from strategies.params import PlaybookParams


@dataclass(frozen=True)
class PlaybookCard:
    """A built-in playbook's facts, without its code: where its class is and what it declares."""

    module: str
    class_name: str
    Params: type[PlaybookParams]
    direction: int = 0                 # +1 long, -1 short, 0 both
    bar_minutes: int = 0               # 0: daily bars
    extra_feeds: tuple[str, ...] = ()
    filters_read_instrument: bool = True

    def load(self) -> type:
        return getattr(importlib.import_module(self.module), self.class_name)

    @cached_property
    def module_doc(self) -> str:
        """The playbook module's docstring, read from its source (the module is not imported)."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.origin:
            return ""
        with open(spec.origin, encoding="utf-8") as source:
            return ast.get_docstring(ast.parse(source.read())) or ""


BUILTIN_CARDS: dict[str, PlaybookCard] = {
    "december_fade": PlaybookCard("strategies.december_fade", "DecemberFade", DecemberFadeParams,
                                  direction=-1, extra_feeds=("bonds",)),
    "january_snapback": PlaybookCard("strategies.january_snapback", "JanuarySnapback", JanuarySnapbackParams,
                                     direction=1),
    "quarter_end_fade": PlaybookCard("strategies.quarter_end_fade", "QuarterEndFade", QuarterEndFadeParams,
                                     direction=-1, extra_feeds=("bonds",)),
    "vwap_close_fade": PlaybookCard("strategies.vwap_close_fade", "VwapCloseFade", VwapCloseFadeParams,
                                    bar_minutes=1, filters_read_instrument=False),
}


class Playbooks(MutableMapping):
    """name -> playbook class; a built-in's class is imported on first access."""

    def __init__(self, cards: dict[str, PlaybookCard]):
        self._entries: dict[str, PlaybookCard | type] = dict(cards)

    def __getitem__(self, name: str) -> type:
        entry = self._entries[name]
        if isinstance(entry, PlaybookCard):
            entry = self._entries[name] = entry.load()
        return entry

    def __setitem__(self, name: str, cls: type) -> None:
        self._entries[name] = cls

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def clear(self) -> None:
        self._entries.clear()

    def entry(self, name: str) -> PlaybookCard | type:
        """The built-in's card while its class is not imported, else the class."""
        return self._entries[name]


STRATEGIES = Playbooks(BUILTIN_CARDS)


def card_of(name: str) -> PlaybookCard | type:
    """What validation and ``flowbot list`` read about a playbook (``Params``, ``extra_feeds``, ``direction``,
    ``bar_minutes``, ``filters_read_instrument``): a built-in's card, or a registered class."""
    entry, card = STRATEGIES.entry(name), BUILTIN_CARDS.get(name)
    if card is not None and (entry is card or (entry.__module__, entry.__qualname__) == (card.module, card.class_name)):
        return card
    return entry


def register(name: str, cls: type) -> None:
    """Add a playbook under ``name`` (used by playbooks defined outside this module)."""
    STRATEGIES[name] = cls
