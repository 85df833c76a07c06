"""The static site exporter: every card browsable and studyable offline, from file:// or a host."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

from markupsafe import Markup

from deckgen.atomic import replace_dir
from deckgen.cardtypes import CardType
from deckgen.exporters import ExportContext, Option
from deckgen.faces import card_faces, cloze_ordinals
from deckgen.notetypes import (
    anki_tags,
    card_css,
    card_templates,
    note_fields,
    source_file,
)
from deckgen.render import RenderedDeck
from deckgen.templating import template_environment, template_file

log = logging.getLogger(__name__)

SITE_FILES = ("site/site.css", "site/app.js", "site/theme.js", "site/study.js", "site/study.css")
# The scheduler, copied byte for byte from its npm tarball (templates/site/vendor/ts-fsrs/README.md)
SCHEDULER = ("site/vendor/ts-fsrs/ts-fsrs.umd.js", "fsrs.js")


def report_url(repository: str, card_id: str, path: str) -> str:
    """A pre-filled 'new issue' link naming the card, for GitHub-style hosts."""
    if not repository:
        return ""
    query = urlencode(
        {
            "title": f"Card {card_id}: ",
            "body": f"Card: `{card_id}`\nFile: `{path}`\n\nWhat is wrong, with a source:\n",
        }
    )
    return f"{repository.rstrip('/')}/issues/new?{query}"


def site_cards(deck: RenderedDeck, env: Any) -> list[dict[str, Any]]:
    templates = card_templates(env, deck.deck)
    sources_template = env.get_template("anki/sources.html")
    syllabus = deck.deck.syllabus
    cards = []
    for rendered in deck.cards:
        card = rendered.card
        fields = note_fields(deck.deck, rendered, sources_template)
        front, back = card_faces(card.type, templates[card.type.key], fields)
        path = source_file(deck.deck, rendered)
        ordinals = study_ordinals(card.type, templates[card.type.key], fields)
        cards.append(
            {
                "id": card.id,
                "type": card.type.key,
                "section": card.section,
                "section_title": syllabus.section_title(card.section),
                "topic": card.topic,
                "topic_title": syllabus.topic_title(card.topic),
                "tags": anki_tags(deck.deck, rendered),
                "file": path,
                "line": card.location.line,
                "front": Markup(front),
                "back": Markup(back),
                "report": report_url(deck.deck.info.repository, card.id, path),
                "ordinals": ordinals,
                "study": study_faces(card.type, templates[card.type.key], fields, ordinals),
            }
        )
    return cards


def study_faces(
    card_type: CardType,
    templates: list[tuple[str, str, str]],
    fields: dict[str, str],
    ordinals: list[int],
) -> list[dict[str, Any]]:
    """Each card of a note that makes several (cloze deletions, both directions), as the study
    session asks it; a note of one card is studied from the faces the site lists."""
    if len(ordinals) < 2:
        return []
    faces = [card_faces(card_type, templates, fields, n) for n in ordinals]
    return [
        {"ord": n, "front": Markup(front), "back": Markup(back)}
        for n, (front, back) in zip(ordinals, faces, strict=True)
    ]


def study_ordinals(
    card_type: CardType, templates: list[tuple[str, str, str]], fields: dict[str, str]
) -> list[int]:
    """The ordinals of the Anki cards a note makes (what the study session schedules, one by
    one): the cloze numbers minus one, or the templates' indexes."""
    if card_type.cloze:
        return cloze_ordinals(fields["Text"])
    return list(range(len(templates)))


class SiteExporter:
    """Writes `<stem>-site/`: index.html, its CSS and script, and the media it shows."""

    name: ClassVar[str] = "html"
    suffix: ClassVar[str] = ""
    description: ClassVar[str] = "static website to browse and study the deck offline"
    default: ClassVar[bool] = True
    options: ClassVar[tuple[Option, ...]] = (
        Option(
            "preview", "Set by `deckgen preview`: reload on rebuilds.", choices=("1",), hidden=True
        ),
    )

    def export(self, deck: RenderedDeck, out_dir: Path, context: ExportContext) -> list[Path]:
        env = template_environment(context.templates_dir)
        cards = site_cards(deck, env)
        outline = deck.deck.syllabus.outline(cards, lambda c: (c["section"], c["topic"]))
        groups = [
            {
                "id": section.id if section else "",
                "title": section.title if section else "",
                "topics": [
                    {"id": topic.id, "title": topic.title, "cards": members}
                    for topic, members in topics
                ],
            }
            for section, topics in outline
        ]
        page = env.get_template("site/index.html").render(
            deck=deck.deck.info,
            groups=groups,
            sectioned=bool(deck.deck.syllabus.sections),
            section=deck.deck.info.section,
            count=len(cards),
            selection=", ".join(deck.deck.selection),
            tags=sorted({t for c in cards for t in c["tags"]}),
            css=Markup(card_css(env)),
            preview=context.options.get("preview") == "1",
        )
        target = out_dir / f"{context.stem}-site"
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".deckgen-site-", dir=out_dir) as tmp:
            staging = Path(tmp) / "site"
            staging.mkdir()
            (staging / "index.html").write_text(page, encoding="utf-8")
            for name, copy in [*((n, Path(n).name) for n in SITE_FILES), SCHEDULER]:
                shutil.copyfile(template_file(context.templates_dir, name), staging / copy)
            for media in deck.media:
                shutil.copyfile(media.path, staging / media.name)  # fields say src="<name>"
            replace_dir(staging, target)
        log.info("wrote %s (%d cards)", target, len(cards))
        return [target]
