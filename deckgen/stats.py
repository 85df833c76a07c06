"""Coverage: how many cards each section, topic and subtopic has, against the syllabus minimum."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from deckgen.model import Deck, Topic


@dataclass(frozen=True)
class CoverageRow:
    kind: str  # "section", "topic" or "subtopic"
    id: str
    title: str
    have: int
    need: int
    line: int  # where the syllabus defines it (0 for sections, which have no minimum)
    depth: int

    @property
    def short(self) -> bool:
        return self.have < self.need


def coverage(deck: Deck) -> list[CoverageRow]:
    """Rows in syllabus order: each section, then its topics and their subtopics (topics at the
    top in a syllabus without sections)."""
    by_section = Counter(card.section for card in deck.cards)
    by_topic = Counter(card.topic for card in deck.cards)
    by_tag = Counter(tag for card in deck.cards for tag in set(card.tags))
    syllabus = deck.syllabus

    def topic_rows(topic: Topic, depth: int) -> list[CoverageRow]:
        have, need = by_topic[topic.id], topic.min_cards
        rows = [CoverageRow("topic", topic.id, topic.title, have, need, topic.line, depth)]
        rows.extend(
            CoverageRow("subtopic", s.id, s.title, by_tag[s.id], s.min_cards, s.line, depth + 1)
            for s in topic.subtopics
        )
        return rows

    if not syllabus.sections:
        return [row for topic in syllabus.topics for row in topic_rows(topic, 0)]
    rows = []
    for section in syllabus.sections:
        have = by_section[section.id]
        rows.append(CoverageRow("section", section.id, section.title, have, 0, 0, 0))
        for topic in syllabus.topics:
            if topic.sections[:1] == (section.id,):
                rows.extend(topic_rows(topic, 1))
    return rows


def coverage_footnotes(deck: Deck) -> list[str]:
    """What the counts mean, for the table's foot: why the rows under a section need not add
    up. Sections are named as the deck names them (deck.yaml's `section:`)."""
    word = deck.info.section.label.lower()
    words = deck.info.section.plural.lower()
    own = f"its own {word} and its own topic" if deck.syllabus.sections else "its own topic"
    notes = [
        f"* a card counts once, in {own}; a subtopic counts the cards"
        " tagged with it, so a card can count in several subtopics of its topic or in none"
    ]
    for topic in deck.syllabus.topics:
        if len(topic.sections) > 1:
            notes.append(
                f"* topic '{topic.id}' belongs to {words} {', '.join(topic.sections)}: it is"
                f" listed under '{topic.sections[0]}' but counts its cards in every {word},"
                f" while each {word} counts only the cards whose {word} it is"
            )
    return notes
