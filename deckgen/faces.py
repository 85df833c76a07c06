"""How a note's cards look outside Anki, as the static site shows them: the note types'
templates filled in the way Anki fills them, cloze deletions and typed answers included."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from deckgen.cardtypes import CardType
from deckgen.markdown import cloze_face
from deckgen.sanitize import html_text

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
    return html_text(field_html).strip()


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
