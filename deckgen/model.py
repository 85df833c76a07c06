"""The deck's data model: frozen dataclasses shared by every stage of the pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from deckgen.cardtypes import CardType
from deckgen.errors import Location

T = TypeVar("T")
# Between the section's and the topic's title in a card's place (the Anki Breadcrumb field).
BREADCRUMB_SEPARATOR = " › "


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
    section: str  # the syllabus section's id, or "" in a syllabus without sections
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
        """Every tag a selection can match: section (if any), topic, then file and card tags."""
        seen = dict.fromkeys((*filter(None, (self.section,)), self.topic, *self.tags))
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
    sections: tuple[str, ...] = ()  # empty in a syllabus without sections
    min_cards: int = 0
    subtopics: tuple[Subtopic, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Section:
    """The syllabus level above topics (this deck's interview rounds); optional."""

    id: str
    title: str
    summary: str = ""


@dataclass(frozen=True)
class Syllabus:
    """What the deck must cover; its ids are the tag vocabulary."""

    sections: tuple[Section, ...]
    topics: tuple[Topic, ...]
    location: Location | None = None

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def section_title(self, section_id: str) -> str:
        """What a section is called: its title, or its id when the syllabus does not define it."""
        section = self.section(section_id)
        return section.title if section else section_id

    def topic_title(self, topic_id: str) -> str:
        """What a topic is called: its title, or its id when the syllabus does not define it."""
        topic = self.topic(topic_id)
        return topic.title if topic else topic_id

    def place_title(self, section_id: str, topic_id: str) -> str:
        """Where a card sits, for people (the Anki breadcrumb, the changelog): the section's and
        the topic's titles, or the topic's alone without a section."""
        topic = self.topic_title(topic_id)
        if not section_id:
            return topic
        return BREADCRUMB_SEPARATOR.join((self.section_title(section_id), topic))

    def outline(
        self, items: Iterable[T], place: Callable[[T], tuple[str, str]]
    ) -> list[tuple[Section | None, list[tuple[Topic, list[T]]]]]:
        """Items grouped section → topic, for the study sheet and the site: sections and topics
        in syllabus order, items in the order given. `place` gives an item's (section id, topic
        id); a group without items is left out, and so is an item the syllabus has no place
        for. A syllabus without sections gives one group, its section None."""
        placed: dict[tuple[str, str], list[T]] = {}
        for item in items:
            placed.setdefault(place(item), []).append(item)
        groups: tuple[Section | None, ...] = self.sections or (None,)
        found = []
        for section in groups:
            key = section.id if section else ""
            topics = [(t, placed[key, t.id]) for t in self.topics if (key, t.id) in placed]
            if topics:
                found.append((section, topics))
        return found

    def vocabulary(self) -> frozenset[str]:
        ids = {s.id for s in self.sections} | {t.id for t in self.topics}
        ids |= {s.id for t in self.topics for s in t.subtopics}
        return frozenset(ids)


@dataclass(frozen=True)
class SectionNames:
    """What a deck calls its sections in its outputs (deck.yaml's `section:`): the site's
    filter, the study sheet, the stats table, and the Anki tag prefix (`section::<id>`)."""

    label: str = "Section"
    plural: str = "Sections"
    tag: str = "section"
    line: int = 0  # where deck.yaml sets the tag (or `section:`), for the messages that name it


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
    section: SectionNames = field(default_factory=SectionNames)


@dataclass(frozen=True)
class Deck:
    info: DeckInfo
    syllabus: Syllabus
    cards: tuple[Card, ...]
    root: Path
    selection: tuple[str, ...] = field(default=())

    def deck_path(self, card: Card) -> str:
        """The Anki deck name of a card: <Deck>::<Section>::<Topic>, or <Deck>::<Topic> in a
        deck without sections."""
        syllabus = self.syllabus
        parts = [self.info.name, syllabus.topic_title(card.topic)]
        if card.section:
            parts.insert(1, syllabus.section_title(card.section))
        return "::".join(parts)
