"""The note types: frozen names, their Jinja-made templates and CSS, and each note's field values.

Anki renders these templates at review time; the static site renders the very same templates
with `fill_template`, so a card looks the same in both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import jinja2
from markupsafe import Markup, escape

from deckgen.markdown import CLOZE_RE
from deckgen.model import CardType, Deck
from deckgen.render import RenderedCard, pygments_css


@dataclass(frozen=True)
class CardTemplate:
    name: str
    front: str  # Jinja template path
    back: str


@dataclass(frozen=True)
class NoteTypeSpec:
    """A note type's identity. Anki compares field and template names on import: if they change,
    it refuses to update existing notes. These names are frozen (a test guards them)."""

    key: str
    label: str
    fields: tuple[str, ...]
    templates: tuple[CardTemplate, ...]
    cloze: bool = False


_BASIC_CARD = CardTemplate("Card 1", "anki/basic/front.html", "anki/basic/back.html")
_META_FIELDS = ("Extra", "Sources", "Breadcrumb", "CardId", "SourceFile")

NOTE_TYPES: dict[CardType, NoteTypeSpec] = {
    CardType.BASIC: NoteTypeSpec(
        "basic", "Basic", ("Front", "Back", *_META_FIELDS), (_BASIC_CARD,)
    ),
    CardType.REVERSED: NoteTypeSpec(
        "reversed",
        "Basic and reversed",
        ("Front", "Back", *_META_FIELDS),
        (
            _BASIC_CARD,
            CardTemplate("Card 2", "anki/reversed/front.html", "anki/reversed/back.html"),
        ),
    ),
    CardType.CLOZE: NoteTypeSpec(
        "cloze",
        "Cloze",
        ("Text", *_META_FIELDS),
        (CardTemplate("Cloze", "anki/cloze/front.html", "anki/cloze/back.html"),),
        cloze=True,
    ),
}

NIGHT_SELECTORS = (".nightMode", ".night_mode")


def card_css(env: jinja2.Environment) -> str:
    """The note types' CSS: card style plus Pygments for light and night mode."""
    return env.get_template("anki/style.css").render(
        pygments_css=Markup(pygments_css(".highlight", NIGHT_SELECTORS))
    )


def card_templates(
    env: jinja2.Environment, deck: Deck
) -> dict[CardType, list[tuple[str, str, str]]]:
    """(template name, front, back) of every card template, as Anki will receive them."""
    context = {"repository": deck.info.repository.rstrip("/")}
    return {
        card_type: [
            (
                t.name,
                env.get_template(t.front).render(context).strip(),
                env.get_template(t.back).render(context).strip(),
            )
            for t in spec.templates
        ]
        for card_type, spec in NOTE_TYPES.items()
    }


def anki_tags(rendered: RenderedCard) -> list[str]:
    card = rendered.card
    return [f"round::{card.round}", f"topic::{card.topic}", *card.tags]


def source_file(deck: Deck, rendered: RenderedCard) -> str:
    """The card's file relative to the project (the folder holding the cards folder)."""
    path = rendered.card.path
    try:
        return path.relative_to(deck.root.parent).as_posix()
    except ValueError:
        return path.name


def note_fields(
    deck: Deck, rendered: RenderedCard, sources_template: jinja2.Template
) -> dict[str, str]:
    """Field name → HTML value, in the note type's field order."""
    card = rendered.card
    round_ = deck.syllabus.round(card.round)
    topic = deck.syllabus.topic(card.topic)
    breadcrumb = (
        f"{round_.title if round_ else card.round} › {topic.title if topic else card.topic}"
    )
    sources = (
        sources_template.render(sources=[Markup(s) for s in rendered.sources]).strip()
        if rendered.sources
        else ""
    )
    meta = {
        "Extra": rendered.extra,
        "Sources": sources,
        "Breadcrumb": str(escape(breadcrumb)),
        "CardId": card.id,
        "SourceFile": str(escape(source_file(deck, rendered))),
    }
    if card.type is CardType.CLOZE:
        return {"Text": rendered.text, **meta}
    return {"Front": rendered.front, "Back": rendered.back, **meta}


# --------------------------------------------------------------------------- outside Anki

_SECTION_RE = re.compile(r"\{\{([#^])([^}]+)\}\}(.*?)\{\{/\2\}\}", re.DOTALL)
_FIELD_RE = re.compile(r"\{\{([^}#^/][^}]*)\}\}")


def cloze_faces(text: str) -> tuple[str, str]:
    """A cloze field shown outside Anki: every deletion blanked, then every deletion revealed."""
    front = CLOZE_RE.sub(lambda m: f'<span class="cloze">[{m.group(2) or "..."}]</span>', text)
    back = CLOZE_RE.sub(lambda m: f'<span class="cloze">{m.group(1)}</span>', text)
    return front, back


def fill_template(template: str, fields: Mapping[str, str]) -> str:
    """The part of Anki's template language the note types use: {{Field}}, {{#F}}…{{/F}},
    {{^F}}…{{/F}}. Field values are HTML already (Anki does not escape them either)."""

    def section(match: re.Match[str]) -> str:
        present = bool(fields.get(match.group(2).strip(), "").strip())
        return match.group(3) if present == (match.group(1) == "#") else ""

    text = _SECTION_RE.sub(section, template)
    return _FIELD_RE.sub(lambda m: fields.get(m.group(1).strip(), ""), text)


def card_faces(
    card_type: CardType, templates: list[tuple[str, str, str]], fields: Mapping[str, str]
) -> tuple[str, str]:
    """Question and answer HTML of a note's first card, rendered as Anki would render it."""
    _, front_template, back_template = templates[0]
    values = dict(fields)
    if card_type is CardType.CLOZE:
        cloze_front, cloze_back = cloze_faces(values["Text"])
        front = fill_template(front_template, {**values, "cloze:Text": cloze_front})
        back = fill_template(back_template, {**values, "cloze:Text": cloze_back})
        return front, back
    front = fill_template(front_template, values)
    back = fill_template(back_template, {**values, "FrontSide": front})
    return front, back
