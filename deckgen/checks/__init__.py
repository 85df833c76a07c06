"""The rules that check loaded cards, one function each, registered with its code.

Importing the package registers every rule: `fields` (one field's tokens), `cards` (one card)
and `deck` (the whole deck). The compile stage runs the field and card rules, the check stage
the deck rules; neither knows any rule by name.
"""

from __future__ import annotations

from deckgen.checks import cards, deck, fields
from deckgen.checks.registry import (
    CardRule,
    DeckRule,
    Field,
    FieldRule,
    Registered,
    Registry,
    card_rule,
    deck_rule,
    field_rule,
)

__all__ = [
    "CardRule",
    "DeckRule",
    "Field",
    "FieldRule",
    "Registered",
    "Registry",
    "card_rule",
    "cards",
    "deck",
    "deck_rule",
    "field_rule",
    "fields",
]
