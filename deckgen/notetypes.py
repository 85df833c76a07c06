"""The note types: frozen names, their Jinja-made templates and CSS, and each note's field values.

Anki renders these templates at review time; the static site renders the very same templates
with `fill_template`, so a card looks the same in both.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import genanki
import jinja2
import nh3
from markupsafe import Markup, escape

from deckgen.cardtypes import ANKI_FIELDS, CARD_TYPES, CONTENT_FIELDS, CardType
from deckgen.highlight import pygments_css
from deckgen.markdown import cloze_face
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
    syllabus = deck.syllabus
    breadcrumb = f"{syllabus.round_title(card.round)} › {syllabus.topic_title(card.topic)}"
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


# --------------------------------------------------------------------------- outside Anki

_SECTION_RE = re.compile(r"\{\{([#^])([^}]+)\}\}(.*?)\{\{/\2\}\}", re.DOTALL)
_FIELD_RE = re.compile(r"\{\{([^}#^/][^}]*)\}\}")


def cloze_faces(text: str) -> tuple[str, str]:
    """A cloze field shown outside Anki: every deletion blanked, then every deletion revealed."""
    front = cloze_face(text, _as_cloze, lambda hint: _as_cloze(f"[{hint or '...'}]"))
    return front, cloze_face(text, _as_cloze)


def _as_cloze(text: str) -> str:
    return f'<span class="cloze">{text}</span>'


def fill_template(template: str, fields: Mapping[str, str]) -> str:
    """The part of Anki's template language the note types use: {{Field}}, {{#F}}…{{/F}},
    {{^F}}…{{/F}}. Field values are HTML already (Anki does not escape them either)."""

    def section(match: re.Match[str]) -> str:
        present = bool(fields.get(match.group(2).strip(), "").strip())
        return match.group(3) if present == (match.group(1) == "#") else ""

    text = _SECTION_RE.sub(section, template)
    return _FIELD_RE.sub(lambda m: fields.get(m.group(1).strip(), ""), text)


# How the site shows Anki's {{type:Back}}: an input on the question, the comparison on the answer
# (filled in by the site's script, which compares as Anki does). The expected text is the
# field's text without markup, as Anki's own comparison sees it.
TYPED_INPUT = (
    '<input class="typeans" type="text" autocomplete="off" autocapitalize="off" '
    'spellcheck="false" aria-label="Type the answer">'
)


def typed_answer_text(field_html: str) -> str:
    """The text Anki compares a typed answer with: the field without its markup."""
    return html.unescape(nh3.clean(field_html, tags=set())).strip()


def typed_result(field_html: str) -> str:
    """The answer side before the script compares: the expected answer, as Anki shows it when
    nothing was typed."""
    expected = html.escape(typed_answer_text(field_html), quote=True)
    return (
        f'<div class="typeans-result" data-expected="{expected}">'
        f'<code class="typeans">{expected}</code></div>'
    )


def card_faces(
    card_type: CardType, templates: list[tuple[str, str, str]], fields: Mapping[str, str]
) -> tuple[str, str]:
    """Question and answer HTML of a note's first card, rendered as Anki would render it."""
    _, front_template, back_template = templates[0]
    front_values, back_values = dict(fields), dict(fields)
    if card_type.cloze:
        front_values["cloze:Text"], back_values["cloze:Text"] = cloze_faces(fields["Text"])
    if card_type.typed_answer:
        front_values["type:Back"] = TYPED_INPUT
        back_values["type:Back"] = typed_result(fields["Back"])
    front = fill_template(front_template, front_values)
    back = fill_template(back_template, {**back_values, "FrontSide": front})
    return front, back
