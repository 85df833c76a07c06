"""The deck's data model: frozen dataclasses shared by every stage of the pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from deckgen.cardtypes import CardType
from deckgen.errors import Location

T = TypeVar("T")


@dataclass(frozen=True)
class Text:
    """A piece of card Markdown and the line of the source file where it starts."""

    markdown: str
    line: int
    col: int = 1  # where the Markdown starts on its first line (after 'A: ')


@dataclass(frozen=True)
class Card:
    """One note as written by an author: its identity, its fields (as Markdown) and its metadata."""

    id: str
    type: CardType
    location: Location
    round: str
    topic: str
    front: Text | None = None
    back: Text | None = None
    text: Text | None = None
    extra: Text | None = None
    sources: tuple[Text, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return self.location.path

    def all_tags(self) -> tuple[str, ...]:
        """Every tag a selection can match: round, topic, then file and card tags."""
        seen = dict.fromkeys((self.round, self.topic, *self.tags))
        return tuple(seen)

    def markdown_fields(self) -> Iterator[tuple[str, Text]]:
        for name in ("front", "back", "text", "extra"):
            value = getattr(self, name)
            if value is not None:
                yield name, value
        for source in self.sources:
            yield "source", source


@dataclass(frozen=True)
class Subtopic:
    id: str
    title: str
    min_cards: int = 0
    line: int = 0  # where the syllabus defines it, for coverage messages


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    rounds: tuple[str, ...]
    min_cards: int = 0
    subtopics: tuple[Subtopic, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Round:
    id: str
    title: str
    summary: str = ""


@dataclass(frozen=True)
class Syllabus:
    """What the deck must cover; its ids are the tag vocabulary."""

    rounds: tuple[Round, ...]
    topics: tuple[Topic, ...]
    location: Location | None = None

    def round(self, round_id: str) -> Round | None:
        return next((r for r in self.rounds if r.id == round_id), None)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def round_title(self, round_id: str) -> str:
        """What a round is called: its title, or its id when the syllabus does not define it."""
        round_ = self.round(round_id)
        return round_.title if round_ else round_id

    def topic_title(self, topic_id: str) -> str:
        """What a topic is called: its title, or its id when the syllabus does not define it."""
        topic = self.topic(topic_id)
        return topic.title if topic else topic_id

    def sections(
        self, items: Iterable[T], place: Callable[[T], tuple[str, str]]
    ) -> list[tuple[Round, list[tuple[Topic, list[T]]]]]:
        """Items grouped round → topic, for the study sheet and the site: rounds and topics in
        syllabus order, items in the order given. `place` gives an item's (round id, topic id);
        a section without items is left out, and so is an item the syllabus has no place for."""
        placed: dict[tuple[str, str], list[T]] = {}
        for item in items:
            placed.setdefault(place(item), []).append(item)
        found = []
        for round_ in self.rounds:
            topics = [
                (t, placed[round_.id, t.id]) for t in self.topics if (round_.id, t.id) in placed
            ]
            if topics:
                found.append((round_, topics))
        return found

    def vocabulary(self) -> frozenset[str]:
        ids = {r.id for r in self.rounds} | {t.id for t in self.topics}
        ids |= {s.id for t in self.topics for s in t.subtopics}
        return frozenset(ids)


@dataclass(frozen=True)
class DeckInfo:
    """The deck's identity. `id` seeds GUIDs and note-type ids, so it never changes."""

    id: str
    name: str
    description: str = ""
    repository: str = ""
    # Exporter option defaults from deck.yaml's `options:`: (name, value, line in deck.yaml).
    options: tuple[tuple[str, str, int], ...] = ()
    id_line: int = 1  # where deck.yaml sets the id, for the messages that name it
    language: str = "en"  # a BCP 47 tag: the site's `lang`, the PDFs' language and hyphenation


@dataclass(frozen=True)
class Deck:
    info: DeckInfo
    syllabus: Syllabus
    cards: tuple[Card, ...]
    root: Path
    selection: tuple[str, ...] = field(default=())

    def deck_path(self, card: Card) -> str:
        """The Anki deck name of a card: <Deck>::<Round>::<Topic>."""
        syllabus = self.syllabus
        parts = [self.info.name, syllabus.round_title(card.round), syllabus.topic_title(card.topic)]
        return "::".join(parts)
