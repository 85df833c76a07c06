"""Choosing cards by tag: `--tag X` matches X and everything under `X::`."""

from __future__ import annotations

from collections.abc import Sequence

from deckgen.errors import DeckgenError, Diagnostic, Location
from deckgen.model import Card, Deck


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


def selection_suffix(include: Sequence[str], exclude: Sequence[str]) -> str:
    """A file-name suffix that shows the selection, e.g. `--networking+dns--not-rust`."""

    def part(tags: Sequence[str]) -> str:
        return "+".join(sorted(t.replace("::", ".") for t in dict.fromkeys(tags)))

    suffix = f"--{part(include)}" if include else ""
    if exclude:
        suffix += f"--not-{part(exclude)}"
    return suffix
