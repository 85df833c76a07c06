"""JSON: the whole deck (metadata, syllabus, every card as Markdown and as HTML), per a schema."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from deckgen.atomic import atomic_output
from deckgen.cardtypes import CARD_TYPES, CONTENT_FIELDS
from deckgen.exporters import ExportContext
from deckgen.notetypes import anki_tags, source_file
from deckgen.render import RenderedDeck

SCHEMA_VERSION = 1
SCHEMA_ID = "https://deckgen.dev/schemas/deck-v1.json"


def deck_schema() -> dict[str, Any]:
    """The committed JSON Schema every export validates against."""
    text = resources.files("deckgen").joinpath("schemas/deck.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def with_card_types(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with each registered card type's entry: its key, and which Markdown fields it
    has (strings) and has not (null). The committed schema is this function's fixed point
    (tests/test_cardtypes.py checks it and rewrites it with DECKGEN_UPDATE_GOLDENS=1)."""
    result: dict[str, Any] = json.loads(json.dumps(schema))  # a deep copy
    card = result["$defs"]["card"]
    card["properties"]["type"] = {"enum": list(CARD_TYPES)}
    card["allOf"] = [
        {
            "if": {"properties": {"type": {"const": key}}},
            "then": {
                "properties": {
                    side: {
                        "properties": {
                            CONTENT_FIELDS[name]: {
                                "type": "string" if name in card_type.fields else "null"
                            }
                            for name in CONTENT_FIELDS
                        }
                    }
                    for side in ("markdown", "html")
                }
            },
        }
        for key, card_type in CARD_TYPES.items()
    ]
    return result


def deck_document(deck: RenderedDeck, timestamp: int) -> dict[str, Any]:
    info = deck.deck.info
    syllabus = deck.deck.syllabus

    def markdown(text: Any) -> str | None:
        return text.markdown if text is not None else None

    cards = []
    for rendered in deck.cards:
        card = rendered.card
        cards.append(
            {
                "id": card.id,
                "type": card.type.key,
                "round": card.section,  # the format's version 1 names sections rounds
                "topic": card.topic,
                "tags": list(card.tags),
                "anki_tags": anki_tags(deck.deck, rendered),
                "deck": deck.deck.deck_path(card),
                "file": source_file(deck.deck, rendered),
                "line": card.location.line,
                "markdown": {
                    "front": markdown(card.front),
                    "back": markdown(card.back),
                    "text": markdown(card.text),
                    "extra": markdown(card.extra),
                    "sources": [s.markdown for s in card.sources],
                },
                "html": {
                    "front": rendered.front or None,
                    "back": rendered.back or None,
                    "text": rendered.text or None,
                    "extra": rendered.extra or None,
                    "sources": list(rendered.sources),
                },
                "media": list(rendered.media),
            }
        )
    return {
        "$schema": SCHEMA_ID,
        "version": SCHEMA_VERSION,
        "generated_at": timestamp,
        "deck": {
            "id": info.id,
            "name": info.name,
            "description": info.description,
            "repository": info.repository or None,
            "language": info.language,
        },
        "selection": list(deck.deck.selection),
        "syllabus": {
            "rounds": [
                {"id": s.id, "title": s.title, "summary": s.summary} for s in syllabus.sections
            ],
            "topics": [
                {
                    "id": t.id,
                    "title": t.title,
                    "rounds": list(t.sections),
                    "min_cards": t.min_cards,
                    "subtopics": [
                        {"id": s.id, "title": s.title, "min_cards": s.min_cards}
                        for s in t.subtopics
                    ],
                }
                for t in syllabus.topics
            ],
        },
        "cards": cards,
    }


class JsonExporter:
    """Writes `<stem>.json`, described by deckgen/schemas/deck.schema.json."""

    name: ClassVar[str] = "json"
    suffix: ClassVar[str] = ".json"
    description: ClassVar[str] = "the whole deck as JSON (Markdown and HTML), with a JSON Schema"
    default: ClassVar[bool] = False

    def export(self, deck: RenderedDeck, out_dir: Path, context: ExportContext) -> list[Path]:
        document = deck_document(deck, context.timestamp)
        target = out_dir / f"{context.stem}{self.suffix}"
        with atomic_output(target) as tmp:
            tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
        return [target]
