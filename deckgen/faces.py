"""How a note's cards look outside Anki, as the static site shows them: the note types'
templates filled in the way Anki fills them, cloze deletions and typed answers included."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from deckgen.cardtypes import CardType
from deckgen.markdown import CLOZE_OPEN_RE, cloze_face
from deckgen.sanitize import html_text

_SECTION_RE = re.compile(r"\{\{([#^])([^}]+)\}\}(.*?)\{\{/\2\}\}", re.DOTALL)
_FIELD_RE = re.compile(r"\{\{([^}#^/][^}]*)\}\}")


def cloze_faces(text: str, asked: int | None = None) -> tuple[str, str]:
    """A cloze field shown outside Anki: deletion number `asked` (or every deletion) blanked,
    then revealed; the other deletions are shown as Anki shows them, filled in."""
    fill = _as_cloze if asked is None else _plain
    front = cloze_face(text, fill, _blank, asked)
    return front, cloze_face(text, fill, asked=asked, reveal=_as_cloze)


def cloze_ordinals(text: str) -> list[int]:
    """Anki's card ordinals of a cloze note: one card per cloze number n, ordinal n - 1."""
    return sorted({int(n) - 1 for n in CLOZE_OPEN_RE.findall(text)})


def _as_cloze(text: str) -> str:
    return f'<span class="cloze">{text}</span>'


def _plain(text: str) -> str:
    return text


def _blank(hint: str | None) -> str:
    return _as_cloze(f"[{hint or '...'}]")


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
    card_type: CardType,
    templates: list[tuple[str, str, str]],
    fields: Mapping[str, str],
    ordinal: int | None = None,
) -> tuple[str, str]:
    """Question and answer HTML of one of a note's cards, rendered as Anki would render it.

    Without `ordinal`: the note as the site lists it (its first template, every cloze deletion
    blanked). With it: Anki's card of that ordinal (the template's index, or the cloze number
    minus one), as the study session asks it."""
    _, front_template, back_template = templates[0 if card_type.cloze else ordinal or 0]
    front_values, back_values = dict(fields), dict(fields)
    if card_type.cloze:
        front_values["cloze:Text"], back_values["cloze:Text"] = cloze_faces(
            fields["Text"], None if ordinal is None else ordinal + 1
        )
    if card_type.typed_answer:
        front_values["type:Back"] = TYPED_INPUT
        back_values["type:Back"] = typed_result(fields["Back"])
    front = fill_template(front_template, front_values)
    back = fill_template(back_template, {**back_values, "FrontSide": front})
    return front, back
