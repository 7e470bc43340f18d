"""Outbox kinds are declared once (storage/outbox.py): a misspelt kind is refused when written, and a
kind without a renderer stops the bot when it starts, not when the first such row is delivered."""

from enum import StrEnum

import pytest

from bot import cards
from storage.outbox import OutboxKind, enqueue


def renderer():
    return cards.Renderer(core=None, bot=None, cfg=None)


def test_every_kind_but_the_channels_callback_has_a_renderer():
    assert set(renderer().renderers) == set(OutboxKind) - {OutboxKind.CALLBACK}


def test_a_misspelt_kind_is_refused_when_written():
    with pytest.raises(ValueError, match="street_crad"):
        enqueue(None, None, 1, "street_crad", case_id=1)


def test_a_kind_without_a_renderer_stops_the_bot_at_start(monkeypatch):
    more = StrEnum("OutboxKind", {**{k.name: k.value for k in OutboxKind}, "POSTCARD": "postcard"})
    monkeypatch.setattr(cards, "OutboxKind", more)
    with pytest.raises(RuntimeError, match="outbox kinds without a renderer: postcard"):
        renderer()
