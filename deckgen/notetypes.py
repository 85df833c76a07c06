"""The note types: frozen names, their Jinja-made templates and CSS, and each note's field values.

Anki renders these templates at review time; the static site renders the very same templates
with `deckgen.faces.fill_template`, so a card looks the same in both.
"""

from __future__ import annotations

import genanki
import jinja2
from markupsafe import Markup, escape

from deckgen.cardtypes import ANKI_FIELDS, CARD_TYPES, CONTENT_FIELDS
from deckgen.highlight import pygments_css
from deckgen.model import Deck
from deckgen.render import RenderedCard

NIGHT_SELECTORS = (".nightMode", ".night_mode")


def card_css(env: jinja2.Environment) -> str:
    """The note types' CSS: card style plus Pygments for light and night mode."""
    return env.get_template("anki/style.css").render(
        pygments_css=Markup(pygments_css(".highlight", NIGHT_SELECTORS))
    )


def card_templates(env: jinja2.Environment, deck: Deck) -> dict[str, list[tuple[str, str, str]]]:
    """(template name, front, back) of every card template, as Anki will receive them."""
    context = {"repository": deck.info.repository.rstrip("/")}
    return {
        key: [
            (
                t.name,
                env.get_template(t.front).render(context).strip(),
                env.get_template(t.back).render(context).strip(),
            )
            for t in card_type.templates
        ]
        for key, card_type in CARD_TYPES.items()
    }


def note_guid(deck_id: str, card_id: str) -> str:
    """The note's GUID, in the .apkg and in CSV/TSV alike: a function of the deck id and the card
    id only, never of content or position, so every release updates the same note."""
    return str(genanki.guid_for(deck_id, card_id))


def anki_tags(deck: Deck, rendered: RenderedCard) -> list[str]:
    """A note's tags: `<section tag>::<section>` (`round::coding` in this repository's deck)
    when the card has a section, `topic::<topic>`, then the card's own tags."""
    card = rendered.card
    section = [f"{deck.info.section.tag}::{card.section}"] if card.section else []
    return [*section, f"topic::{card.topic}", *card.tags]


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
    breadcrumb = deck.syllabus.place_title(card.section, card.topic)
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
    content = {
        ANKI_FIELDS[name]: getattr(rendered, CONTENT_FIELDS[name]) for name in card.type.fields
    }
    return {**content, **meta}
