"""The select stage: choosing cards by tag, `--tag X` matching X and everything under `X::`.

The `<section tag>::X` (`round::X` in this repository's deck) and `topic::X` tags a learner
sees in Anki select the same cards as `X`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from deckgen.errors import DeckgenError, Diagnostic, Location
from deckgen.model import Card, Deck
from deckgen.render import RenderedDeck
from deckgen.suggest import suggest


class SelectionError(DeckgenError):
    """The tag query selects no card; a usage problem rather than a problem in the cards."""


def normalize_tags(queries: Sequence[str], section_tag: str) -> tuple[str, ...]:
    """The queries with the Anki-side prefix (`<section_tag>::` or `topic::`, as
    deckgen/notetypes.py tags a note) taken off: `topic::tcp` → `tcp`."""
    return tuple(_normalize(q, (f"{section_tag}::", "topic::")) for q in queries)


def _normalize(query: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if query.startswith(prefix) and len(query) > len(prefix):
            return query[len(prefix) :]
    return query


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
    """Raise SelectionError, listing the tags that exist, when a --tag or --exclude-tag names
    a tag no card has (a misspelt --exclude-tag would otherwise leave out nothing), or when
    the query as a whole selects nothing."""
    tag = deck.info.section.tag
    include, exclude = normalize_tags(include, tag), normalize_tags(exclude, tag)
    tags = known_tags(deck) if include or exclude or not deck.cards else []
    known = f"known tags: {', '.join(tags)}"
    for option, queries in (("--tag", include), ("--exclude-tag", exclude)):
        for query in queries:
            if not any(tag_matches(t, query) for t in tags):
                hint = suggest(query, tags)
                effect = ", so it leaves out nothing" if option == "--exclude-tag" else ""
                message = f"no card matches {option} {query}{hint}{effect}; {known}"
                raise SelectionError([Diagnostic(Location(deck.root), message, "DG901")])
    if any(is_selected(card, include, exclude) for card in deck.cards):
        return
    query = " ".join([*(f"--tag {t}" for t in include), *(f"--exclude-tag {t}" for t in exclude)])
    message = f"no card matches {query or 'the selection'}; {known}"
    raise SelectionError([Diagnostic(Location(deck.root), message, "DG901")])


def select_cards(
    rendered: RenderedDeck, include: Sequence[str], exclude: Sequence[str]
) -> RenderedDeck:
    """The selected cards, as the compile stage rendered them, and only the media they use.

    Raises SelectionError when the query selects nothing or names a tag no card has.
    """
    tag = rendered.deck.info.section.tag
    include, exclude = normalize_tags(include, tag), normalize_tags(exclude, tag)
    check_selection(rendered.deck, include, exclude)
    if include or exclude:
        cards = tuple(c for c in rendered.cards if is_selected(c.card, include, exclude))
    else:
        cards = rendered.cards  # every card: no tag of any is read
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


def selection_suffix(include: Sequence[str], exclude: Sequence[str], section_tag: str) -> str:
    """A file-name suffix that shows the selection, e.g. `--networking+dns--not-rust`."""

    def part(tags: Sequence[str]) -> str:
        plain = normalize_tags(tags, section_tag)
        return "+".join(sorted(t.replace("::", ".") for t in dict.fromkeys(plain)))

    suffix = f"--{part(include)}" if include else ""
    if exclude:
        suffix += f"--not-{part(exclude)}"
    return suffix
