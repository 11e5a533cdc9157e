"""The built-in playbooks' cards (what config validation and ``flowbot list`` read without importing
the playbooks' code) say what their classes say."""
from __future__ import annotations

import importlib

import pytest

from strategies.registry import BUILTIN_CARDS, STRATEGIES, card_of


@pytest.mark.parametrize("name", sorted(BUILTIN_CARDS))
def test_each_card_matches_its_class(name):
    card = BUILTIN_CARDS[name]
    cls = STRATEGIES[name]
    assert (cls.__module__, cls.__qualname__) == (card.module, card.class_name)
    assert cls.Params is card.Params
    assert tuple(cls.extra_feeds) == card.extra_feeds
    assert getattr(cls, "bar_minutes", 0) == card.bar_minutes
    assert getattr(cls, "direction", 0) == card.direction
    assert getattr(cls, "filters_read_instrument", True) == card.filters_read_instrument
    assert card.module_doc == importlib.import_module(card.module).__doc__.strip()
    assert card_of(name) is card   # the card still, once the class is imported


def test_a_registered_class_is_its_own_card():
    class Mine:
        pass

    STRATEGIES["mine_for_the_card_test"] = Mine
    try:
        assert card_of("mine_for_the_card_test") is Mine
    finally:
        del STRATEGIES["mine_for_the_card_test"]
