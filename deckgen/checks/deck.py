"""Deck rules: each reads the whole compiled deck, in the check stage."""

from __future__ import annotations

import re

from deckgen.cache import Cache, fingerprint
from deckgen.checks.registry import Records, deck_rule
from deckgen.checks.similarity import (
    MAX_NEAR_DUPLICATE_COMPARISONS,
    JoinRecord,
    first_near_duplicates,
)
from deckgen.deckfiles import DECK_FILE
from deckgen.errors import DiagnosticSink, Location
from deckgen.media import MAX_MEDIA_BYTES
from deckgen.model import Deck
from deckgen.render import RenderedDeck
from deckgen.stats import coverage

# DG402 warns about an image over this size; one over deckgen.media.MAX_MEDIA_BYTES is refused.
MEDIA_WARNING_BYTES = 1024 * 1024


# `deckgen new` writes this where the author still has to write (DG113).
PLACEHOLDER_RE = re.compile(r"^TODO\b")
PLACEHOLDER_HINTS = {  # what to do instead: a card needs its question and answer, a source
    "Source": "cite where it can be checked: an RFC section, official docs or a primary blog post",
    "Extra": "write it, or remove the field",
}


@deck_rule("DG113")
def placeholder_left(rendered: RenderedDeck, records: Records, sink: DiagnosticSink) -> None:
    """A field that still starts with `deckgen new`'s TODO. A deck rule, not a card rule: the
    commands that only load the deck (`new`, `stats`, `lock`) work while cards are unfinished;
    lint and build refuse them."""
    for card in rendered.deck.cards:
        named = [("Q", card.front), ("A", card.back), ("Cloze", card.text), ("Extra", card.extra)]
        named += [("Source", source) for source in card.sources]
        for name, text in named:
            if text is not None and PLACEHOLDER_RE.match(text.markdown.strip()):
                sink.report(
                    Location(card.location.path, text.line, text.col),
                    f"placeholder 'TODO' left in '{name}:' of card '{card.id}': "
                    f"{PLACEHOLDER_HINTS.get(name, 'write it')}",
                    "DG113",
                )


@deck_rule("DG402")
def oversized_media(rendered: RenderedDeck, records: Records, sink: DiagnosticSink) -> None:
    for media in rendered.media:
        size = media.path.stat().st_size
        if size > MEDIA_WARNING_BYTES:
            sink.report(
                Location(media.path),
                f"image is {size / 1024 / 1024:.1f} MiB (warned over "
                f"{MEDIA_WARNING_BYTES // 1024 // 1024} MiB, refused over "
                f"{MAX_MEDIA_BYTES // 1024 // 1024} MiB): shrink or compress it",
                "DG402",
            )


@deck_rule("DG301", "DG112")
def near_duplicate(rendered: RenderedDeck, records: Records, sink: DiagnosticSink) -> None:
    """Questions nearly the same as an earlier one; DG112 when there are too many to compare."""
    check_near_duplicates(rendered.deck, sink, cache=records.cache)


def check_near_duplicates(
    deck: Deck,
    sink: DiagnosticSink,
    limit: int = MAX_NEAR_DUPLICATE_COMPARISONS,
    cache: Cache | None = None,
) -> None:
    """DG301 and DG112; the join's record is kept in `cache` for the next run, under the
    cards folder (the cache is one per folder), so that a rebuild after an edit compares only
    the questions it has not seen."""
    key = fingerprint("near-duplicates", str(deck.root), str(limit))
    previous = cache.get("similar", key, counted=False) if cache is not None else None
    pairs, stopped, record = first_near_duplicates(
        deck.cards,
        limit=limit,
        previous=previous if isinstance(previous, JoinRecord) else None,
    )
    # an unchanged deck's record comes back as it was read: nothing to write
    if cache is not None and record is not None and record is not previous:
        cache.put("similar", key, record)
    for first, second, similarity in pairs:
        sink.report(
            second.location,
            f"question of '{second.id}' is nearly the same as '{first.id}' "
            f"({similarity:.0%} of words shared)",
            "DG301",
            related=[(first.location, f"the question of '{first.id}'")],
        )
    if stopped is not None:
        # An error, not silence: a check that quietly gives up can be made to give up.
        sink.report(
            stopped.location,
            f"too many similar questions to compare: the near-duplicate check stopped at "
            f"'{stopped.id}' after {limit:,} comparisons: questions with as many words as this "
            "one or more may not have been compared (do many cards ask almost the same thing?)",
            "DG112",
        )


@deck_rule("DG210")
def short_coverage(rendered: RenderedDeck, records: Records, sink: DiagnosticSink) -> None:
    deck = rendered.deck
    if not deck.syllabus.topics:
        return
    unsure = _topics_of_unchecked(deck, records)
    if unsure is None:
        return  # a failed file holds a card no release placed: it may be in any topic
    topic_of = {s.id: t.id for t in deck.syllabus.topics for s in t.subtopics}
    syllabus_path = deck.syllabus.location.path if deck.syllabus.location else deck.root
    for row in coverage(deck):
        if row.short and topic_of.get(row.id, row.id) not in unsure:
            sink.report(
                Location(syllabus_path, row.line),
                f"{row.kind} '{row.id}' ({row.title}) has {row.have} card"
                f"{'s' if row.have != 1 else ''}, needs {row.need}",
                "DG210",
            )


def _topics_of_unchecked(deck: Deck, records: Records) -> set[str] | None:
    """The topics whose coverage a failed file leaves unknown (its first error says so): those
    its released cards were in; None when it holds a card no release placed."""
    placed = records.history.cards
    if any(card_id not in placed for card_id in records.unchecked):
        return None
    return {placed[card_id].topic for card_id in records.unchecked}


@deck_rule("DG501")
def published_id_removed(rendered: RenderedDeck, records: Records, sink: DiagnosticSink) -> None:
    lock = records.lock
    if not lock.exists:
        return
    present = {card.id for card in rendered.deck.cards}
    for card_id in lock.published:
        if card_id in records.unchecked:
            continue  # in a file that failed as a whole: its first error says so
        if card_id not in present and card_id not in lock.retired:
            sink.report(
                Location(lock.path, lock.lines.get(card_id, 0)),
                f"published card '{card_id}' has disappeared: learners' review history hangs on "
                f"it. Restore it, or retire it on purpose with `deckgen retire {card_id} "
                '--reason "…"`',
                "DG501",
            )


@deck_rule("DG502")
def retired_id_reused(rendered: RenderedDeck, records: Records, sink: DiagnosticSink) -> None:
    lock = records.lock
    if not lock.exists:
        return
    for card in rendered.deck.cards:
        if card.id in lock.retired:
            sink.report(
                card.location,
                f"card id '{card.id}' was retired ({lock.retired[card.id]}) but a card still "
                "has it: delete the card if it is the retired one, otherwise choose a new id "
                "(a retired id must not be reused)",
                "DG502",
            )


# --------------------------------------------------------------------------- the release history


@deck_rule("DG503")
def released_type_changed(rendered: RenderedDeck, records: Records, sink: DiagnosticSink) -> None:
    history = records.history
    for card in rendered.deck.cards:
        entry = history.cards.get(card.id)
        if entry is not None and entry.retired is None and entry.type != card.type.key:
            sink.report(
                card.location,
                f"card '{card.id}' was released as a {entry.type} card and is now "
                f"{card.type.key}: Anki would skip it as conflicting on every later import. "
                f"Keep 'Type: {entry.type}', or retire this id and add the card under a new one",
                "DG503",
                related=[(history.location(card.id), "its release record")],
            )


@deck_rule("DG504")
def released_card_moved(rendered: RenderedDeck, records: Records, sink: DiagnosticSink) -> None:
    history = records.history
    syllabus = rendered.deck.syllabus
    for card in rendered.deck.cards:
        entry = history.cards.get(card.id)
        if entry is None or entry.retired is not None or entry.type != card.type.key:
            continue
        if (entry.round, entry.topic) != (card.section, card.topic):
            old = syllabus.place_title(entry.round, entry.topic)
            new = syllabus.place_title(card.section, card.topic)
            sink.report(
                card.location,
                f"card '{card.id}' moved from {old} to {new} since release {entry.changed}: "
                "Anki never moves existing cards, so learners who have it keep it in the old "
                "deck (new learners get it in the new one)",
                "DG504",
                related=[(history.location(card.id), "its release record")],
            )


@deck_rule("DG505")
def deck_id_changed(rendered: RenderedDeck, records: Records, sink: DiagnosticSink) -> None:
    history, info = records.history, rendered.deck.info
    if history.deck is not None and history.deck != info.id and history.last is not None:
        sink.report(
            Location(rendered.deck.root / DECK_FILE, info.id_line),
            f"the deck id is '{info.id}', but release {history.last.version} shipped "
            f"'{history.deck}': every note's GUID comes from it, so every learner would get a "
            "second copy of every card. Change it back",
            "DG505",
        )
