"""The note types: frozen names, their Jinja-made templates and CSS, and each note's field values.

Anki renders these templates at review time; the static site renders the very same templates
with `deckgen.faces.fill_template`, so a card looks the same in both.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sys
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

import genanki
import jinja2
from markupsafe import Markup, escape

from deckgen.cardtypes import ANKI_FIELDS, CARD_TYPES, CONTENT_FIELDS
from deckgen.errors import Diagnostic, Location
from deckgen.highlight import pygments_css
from deckgen.model import Deck
from deckgen.plugins import ExportContext
from deckgen.render import RenderedCard
from deckgen.suggest import suggest
from deckgen.templating import traced_render

NIGHT_SELECTORS = (".nightMode", ".night_mode")


def card_css(env: jinja2.Environment) -> str:
    """The note types' CSS: card style plus Pygments for light and night mode."""
    return env.get_template("anki/style.css").render(
        pygments_css=Markup(pygments_css(".highlight", NIGHT_SELECTORS))
    )


def _template_context(deck: Deck) -> dict[str, str]:
    return {"repository": deck.info.repository.rstrip("/")}


def card_templates(env: jinja2.Environment, deck: Deck) -> dict[str, list[tuple[str, str, str]]]:
    """(template name, front, back) of every card template, as Anki will receive them."""
    context = _template_context(deck)
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


# Anki's own names, known on every card (on a front, FrontSide is empty; Anki accepts it).
SPECIAL_FIELDS = frozenset(
    {"FrontSide", "Tags", "Type", "Deck", "Subdeck", "Card", "CardFlag", "CardID"}
)
_MUSTACHE_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def mustache_mistakes(text: str, fields: Collection[str]) -> Iterator[tuple[int, str]]:
    """(offset, message) of each mistake Anki would refuse in a card template's text: a field
    the note type lacks, a section closed that is not open, or one never closed."""
    open_sections: list[tuple[str, int]] = []
    for tag in _MUSTACHE_RE.finditer(text):
        inner = tag[1].strip()
        kind, name = (inner[0], inner[1:].strip()) if inner[:1] in "#^/" else ("", inner)
        name = name.rsplit(":", 1)[-1].strip()  # after the filters: {{type:Back}}, {{cloze:Text}}
        if kind == "/":
            if not open_sections:
                yield tag.start(), f"'{tag[0]}' closes no open section"
            elif open_sections[-1][0] != name:
                expected = f"'{{{{/{open_sections[-1][0]}}}}}'"
                yield tag.start(), f"'{tag[0]}' where {expected} was expected"
            else:
                open_sections.pop()
            continue
        if kind:
            open_sections.append((name, tag.start()))
        if name and name not in fields and name not in SPECIAL_FIELDS:
            yield tag.start(), f"'{tag[0]}' names no field it has{suggest(name, fields)}"
    for name, start in open_sections:
        yield start, f"'{{{{#{name}}}}}' is never closed: add '{{{{/{name}}}}}'"


def card_template_problems(
    env: jinja2.Environment, deck: Deck, templates_dir: Path
) -> list[Diagnostic]:
    """DG120 for every mistake of your Anki templates that Anki would refuse (see
    mustache_mistakes), at the line and column of your template that wrote it."""
    context = _template_context(deck)
    mine = templates_dir.resolve()
    found: dict[tuple[Location, str], list[str]] = {}  # a shared include: every note type
    for card_type in CARD_TYPES.values():
        for template_set in card_type.templates:
            for side, name in (("front", template_set.front), ("back", template_set.back)):
                fields = card_type.note_fields
                template = env.get_template(name)
                text = template.render(context)
                mistakes = list(mustache_mistakes(text, fields))
                traced = traced_render(template, context, text) if mistakes else None
                for offset, message in mistakes:
                    origin = traced.origin(offset) if traced is not None else None
                    where = (
                        origin.location
                        if origin is not None
                        else Location(Path(template.filename or name))
                    )
                    if where.path.resolve().is_relative_to(mine):
                        found.setdefault((where, message), []).append(f"{card_type.label} {side}")
    return [
        Diagnostic(where, f"Anki template ({', '.join(dict.fromkeys(used))}): {message}", "DG120")
        for (where, message), used in found.items()
    ]


def note_guid(deck_id: str, card_id: str) -> str:
    """The note's GUID, in the .apkg and in CSV/TSV alike: a function of the deck id and the card
    id only, never of content or position, so every release updates the same note.

    It is genanki's `guid_for(deck_id, card_id)` (the first 8 bytes of the SHA-256 of
    `deck_id__card_id` in Anki's base 91), computed with divmod: genanki's loop took a fifth of
    a 10,000-note package's writing. tests/test_properties.py compares the two."""
    number = int.from_bytes(hashlib.sha256(f"{deck_id}__{card_id}".encode()).digest()[:8], "big")
    digits = []
    while number:
        number, digit = divmod(number, 91)
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))


_BASE91 = "".join(genanki.util.BASE91_TABLE)


def anki_tags(deck: Deck, rendered: RenderedCard) -> list[str]:
    """A note's tags: `<section tag>::<section>` (`round::coding` in this repository's deck)
    when the card has a section, `topic::<topic>`, then the card's own tags."""
    card = rendered.card
    section = [f"{deck.info.section.tag}::{card.section}"] if card.section else []
    return [*section, f"topic::{card.topic}", *card.tags]


def source_file(deck: Deck, rendered: RenderedCard) -> str:
    """The card's file relative to the project (the folder holding the cards folder)."""
    return _project_relative(deck.root.parent, rendered.card.path)


@functools.lru_cache(maxsize=4096)  # a file's cards share it: computed, and held, once per file
def _project_relative(project: Path, path: Path) -> str:
    try:
        return path.relative_to(project).as_posix()
    except ValueError:
        return path.name


def context_fields(
    context: ExportContext, deck: Deck, rendered: RenderedCard, sources_template: jinja2.Template
) -> Mapping[str, str]:
    """The note's fields as the build rendered them for the release stamps, or rendered here
    for a context that does not carry them (an exporter run on its own)."""
    fields = context.note_fields.get(rendered.card.id)
    return fields if fields is not None else note_fields(deck, rendered, sources_template)


def note_fields(
    deck: Deck, rendered: RenderedCard, sources_template: jinja2.Template
) -> dict[str, str]:
    """Field name → HTML value, in the note type's field order."""
    return fields_with_sources(deck, rendered, sources_field(rendered, sources_template))


def sources_field(rendered: RenderedCard, sources_template: jinja2.Template) -> str:
    """The Sources field: the card's sources through `anki/sources.html`, or empty."""
    if not rendered.sources:
        return ""
    return sources_template.render(sources=[Markup(s) for s in rendered.sources]).strip()


def fields_with_sources(deck: Deck, rendered: RenderedCard, sources: str) -> dict[str, str]:
    """The note's fields given its Sources field: every other one is the rendered card's own
    HTML (the same strings, not copies) or a short text made here."""
    card = rendered.card
    breadcrumb = deck.syllabus.place_title(card.section, card.topic)
    meta = {
        "Extra": rendered.extra,
        "Sources": sources,
        # Interned: the cards of a topic, or of a file, share one string.
        "Breadcrumb": sys.intern(str(escape(breadcrumb))),
        "CardId": card.id,
        "SourceFile": sys.intern(str(escape(source_file(deck, rendered)))),
    }
    content = {
        ANKI_FIELDS[name]: getattr(rendered, CONTENT_FIELDS[name]) for name in card.type.fields
    }
    return {**content, **meta}
