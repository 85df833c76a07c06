"""The select stage: choosing cards by tag, `--tag X` matching X and everything under `X::`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from deckgen.errors import DeckgenError, Diagnostic, Location
from deckgen.model import Card, Deck
from deckgen.render import RenderedDeck


class SelectionError(DeckgenError):
    """The tag query selects no card; a usage problem rather than a problem in the cards."""


def tag_matches(tag: str, query: str) -> bool:
    return tag == query or tag.startswith(f"{query}::")


def is_selected(card: Card, include: Sequence[str], exclude: Sequence[str]) -> bool:
    tags = card.all_tags()
    if include and not any(tag_matches(t, q) for t in tags for q in include):
        return False
    return not any(tag_matches(t, q) for t in tags for q in exclude)


def known_tags(deck: Deck) -> list[str]:
    return sorted({tag for card in deck.cards for tag in card.all_tags()})


def check_selection(deck: Deck, include: Sequence[str], exclude: Sequence[str]) -> None:
    """Raise SelectionError, listing the tags that exist, when the query selects nothing."""
    if any(is_selected(card, include, exclude) for card in deck.cards):
        return
    query = " ".join([*(f"--tag {t}" for t in include), *(f"--exclude-tag {t}" for t in exclude)])
    message = (
        f"no card matches {query or 'the selection'}; known tags: {', '.join(known_tags(deck))}"
    )
    raise SelectionError([Diagnostic(Location(deck.root), message, "DG901")])


def select_cards(
    rendered: RenderedDeck, include: Sequence[str], exclude: Sequence[str]
) -> RenderedDeck:
    """The selected cards, as the compile stage rendered them, and only the media they use.

    Raises SelectionError when the query selects nothing.
    """
    check_selection(rendered.deck, include, exclude)
    cards = tuple(c for c in rendered.cards if is_selected(c.card, include, exclude))
    used = {name for c in cards for name in c.media}
    return RenderedDeck(
        deck=replace(
            rendered.deck,
            cards=tuple(c.card for c in cards),
            selection=(*include, *(f"-{t}" for t in exclude)),
        ),
        cards=cards,
        media=tuple(m for m in rendered.media if m.name in used),
    )


def selection_suffix(include: Sequence[str], exclude: Sequence[str]) -> str:
    """A file-name suffix that shows the selection, e.g. `--networking+dns--not-rust`."""

    def part(tags: Sequence[str]) -> str:
        return "+".join(sorted(t.replace("::", ".") for t in dict.fromkeys(tags)))

    suffix = f"--{part(include)}" if include else ""
    if exclude:
        suffix += f"--not-{part(exclude)}"
    return suffix
