"""`deckgen init`: a new deck that builds as it is, with one card of every card type."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from deckgen.atomic import empty_or_missing
from deckgen.cardtypes import CARD_TYPES, CardType, implied_card_type
from deckgen.configfile import schema_text
from deckgen.safety import title_problem

ANKI_MANUAL = "https://docs.ankiweb.net/editing.html"
# One short, checkable card per card type, about the card type itself. A type without an
# entry here still gets a card: its skeleton, filled with a question about the type.
_EXAMPLES = {
    "basic": (
        "Q: Which field of a basic card does Anki show first?\n\n"
        "A: The front (in deckgen, `Q:`); the back (`A:`) is shown after you answer.\n"
    ),
    "reversed": (
        "Q: Spaced repetition\n\n"
        "A: Reviewing a fact at growing intervals, each review scheduled just before you would "
        "forget it.\n"
    ),
    "cloze": (
        "Cloze: A cloze card hides the text of each {{c1::deletion}} and asks you to recall it; "
        "each deletion number becomes {{c2::one card}}.\n"
    ),
    "type-answer": (
        "Q: Which file in the cards folder gives a deckgen deck its id and name?\n\n"
        "A: deck.yaml\n\n"
        "Extra: Its `id` seeds every note's identity in Anki, so it never changes.\n"
    ),
}


def slug(text: str, fallback: str = "my-deck") -> str:
    """An id from a name (a deck's folder, a section label): ASCII letters and digits joined by
    single hyphens, or `fallback` when there are none."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", plain.lower())) or fallback


def _card(card_type: CardType) -> str:
    body = _EXAMPLES.get(card_type.key)
    if body is None:  # a type registered later: its own skeleton, filled in
        filled = card_type.skeleton.replace("A: TODO", "A: See the Anki manual.")
        filled = filled.replace("Source: TODO", f"Source: {ANKI_MANUAL}")
        return f"## example-{card_type.key}\n" + filled.replace(
            "{question}", f"What is a {card_type.key} card?"
        )
    implied = implied_card_type(card_type.fields) is card_type
    head = "" if implied else f"Type: {card_type.key}\n"
    return f"## example-{card_type.key}\n{head}{body}\nSource: {ANKI_MANUAL}\n"


# deck.yaml and syllabus.yaml name their JSON Schema for editors (the YAML language server of
# VS Code and others). The path of deckgen's own copy moves with every install, so a new deck
# gets a copy in `schemas/` beside `cards/`; deckgen itself always checks with its own.
CONFIG_SCHEMAS = ("deck.yaml", "syllabus.yaml")


def _schema_line(name: str) -> str:
    return f"# yaml-language-server: $schema=../schemas/{name}.schema.json\n"


def starter_files(folder: Path) -> dict[Path, str]:
    """The files of a new deck in `folder`, by path."""
    given = folder.resolve().name
    deck_id = slug(given)

    # The folder's own name, accents and all; a slug-like one (spanish-verbs) gets words; a
    # name deckgen would refuse, the id's words.
    def words(text: str) -> str:
        return " ".join(word.capitalize() for word in re.split(r"[-_ ]+", text) if word)

    own = given if given != given.lower() or " " in given else ""
    name = next(n for n in (own, words(given), words(deck_id)) if n and not title_problem(n))
    cards = folder / "cards"
    schemas = folder / "schemas"
    return {
        cards / "deck.yaml": (
            f"{_schema_line('deck.yaml')}"
            f"# The deck's identity. `id` seeds every note's identity in Anki: never change it.\n"
            f"id: {deck_id}\n"
            f"name: {json.dumps(name, ensure_ascii=False)}\n"  # a JSON string is YAML too
            "description: My first deck, made with deckgen.\n"
            "language: en\n"
        ),
        cards / "syllabus.yaml": (
            f"{_schema_line('syllabus.yaml')}"
            "# What the deck covers: its topics, each with the subtopics it needs. Every card\n"
            "# names its topic; `min_cards` is what `deckgen lint` expects each topic to have.\n"
            "# Topics can be grouped into sections (chapters, units): see `sections:` in\n"
            "# deckgen's docs/configuration.md.\n"
            "topics:\n"
            "  - id: card-types\n"
            "    title: Card types\n"
            f"    min_cards: {len(CARD_TYPES)}\n"
        ),
        cards / "card-types.md": (
            "---\ntopic: card-types\n---\n\n"
            "# One card of every card type (see `deckgen new --help`)\n\n"
            + "\n".join(_card(t) for t in CARD_TYPES.values())
        ),
        **{schemas / f"{name}.schema.json": schema_text(name) for name in CONFIG_SCHEMAS},
        folder / ".gitignore": "/dist\n",
    }


def write_starter(folder: Path) -> list[Path]:
    """Write a new deck into `folder` (missing or empty); return the files written."""
    if not empty_or_missing(folder):
        raise ValueError(f"{folder} is not an empty folder: deckgen init writes only new decks")
    files = starter_files(folder)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
