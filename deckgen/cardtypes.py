"""Every card type, declared once: its Markdown fields, its Anki note type and how it is studied.

The loader, the checks and every exporter read this registry and nothing else about card types.
Adding a type is one `CardType` here plus its Anki templates in `templates/anki/<key>/`: the
exporters present it through the capabilities it declares (`cloze`, `typed_answer`), and
`tests/test_cardtypes.py` builds one card of every registered type in every installed format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class CardTemplate:
    """One Anki card template. Its name is frozen: Anki matches templates by name on import."""

    name: str
    front: str  # Jinja template path under templates/
    back: str


META_FIELDS = ("Extra", "Sources", "Breadcrumb", "CardId", "SourceFile")
# The Markdown fields an author writes, and the card attribute each one fills.
CONTENT_FIELDS = {"Q": "front", "A": "back", "Cloze": "text"}
# The Anki note field each content field fills.
ANKI_FIELDS = {"Q": "Front", "A": "Back", "Cloze": "Text"}


@dataclass(frozen=True)
class CardType:
    """A card type. `key`, `note_fields` and template names are frozen: Anki refuses to update a
    note whose note type's field or template names changed (tests/test_frozen.py guards them)."""

    key: str  # what an author writes after `Type:`; the JSON export's "type"
    summary: str  # one line for `deckgen new --help` and the docs
    fields: tuple[str, ...]  # the Markdown content fields it requires, of CONTENT_FIELDS
    label: str  # the Anki note type's name, after the deck's name
    note_fields: tuple[str, ...]  # the Anki note type's fields, in order
    templates: tuple[CardTemplate, ...]
    stock_notetype: str  # Anki's own note type of this shape, for CSV/TSV text import
    cloze: bool = False  # one card per deletion number, {{cloze:Text}} in the templates
    typed_answer: bool = False  # the learner types the answer, compared as Anki does
    skeleton: str = ""  # `deckgen new`'s card body; {question} is replaced

    @property
    def forbidden(self) -> tuple[str, ...]:
        """Content fields this type must not have."""
        return tuple(name for name in CONTENT_FIELDS if name not in self.fields)


_BASIC_CARD = CardTemplate("Card 1", "anki/basic/front.html", "anki/basic/back.html")
_TODO_ANSWER = "Q: {question}\n\nA: TODO\n\nSource: TODO\n"

BASIC = CardType(
    key="basic",
    summary="a question and its answer",
    fields=("Q", "A"),
    label="Basic",
    note_fields=("Front", "Back", *META_FIELDS),
    templates=(_BASIC_CARD,),
    stock_notetype="Basic",
    skeleton=_TODO_ANSWER,
)
REVERSED = CardType(
    key="reversed",
    summary="a question and answer studied both ways",
    fields=("Q", "A"),
    label="Basic and reversed",
    note_fields=("Front", "Back", *META_FIELDS),
    templates=(
        _BASIC_CARD,
        CardTemplate("Card 2", "anki/reversed/front.html", "anki/reversed/back.html"),
    ),
    stock_notetype="Basic (and reversed card)",
    skeleton="Type: reversed\n" + _TODO_ANSWER,
)
CLOZE = CardType(
    key="cloze",
    summary="a text with {{c1::deletions}}, one card per deletion number",
    fields=("Cloze",),
    label="Cloze",
    note_fields=("Text", *META_FIELDS),
    templates=(CardTemplate("Cloze", "anki/cloze/front.html", "anki/cloze/back.html"),),
    stock_notetype="Cloze",
    cloze=True,
    skeleton="Cloze: {question}\n\nSource: TODO\n",
)
TYPE_ANSWER = CardType(
    key="type-answer",
    summary="a question whose short answer the learner types, compared letter by letter",
    fields=("Q", "A"),
    label="Type the answer",
    note_fields=("Front", "Back", *META_FIELDS),
    templates=(
        CardTemplate("Card 1", "anki/type-answer/front.html", "anki/type-answer/back.html"),
    ),
    stock_notetype="Basic (type in the answer)",
    typed_answer=True,
    skeleton="Type: type-answer\n" + _TODO_ANSWER,
)

CARD_TYPES: dict[str, CardType] = {t.key: t for t in (BASIC, REVERSED, CLOZE, TYPE_ANSWER)}

# A typed answer is compared character by character: it must be one short line of text.
MAX_TYPED_ANSWER_CHARS = 80


def card_type_named(key: str) -> CardType | None:
    return CARD_TYPES.get(key)


def implied_card_type(content_fields: Iterable[str]) -> CardType:
    """The type of a card without `Type:`: cloze when it has a `Cloze:` field, else basic."""
    return CLOZE if "Cloze" in set(content_fields) else BASIC
