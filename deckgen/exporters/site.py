"""The static site exporter: every card browsable and studyable offline, from file:// or a host."""

from __future__ import annotations

import itertools
import json
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
from deckgen.sanitize import html_text
from deckgen.status import NO_STATUS, Status, counted
from deckgen.templating import template_environment, template_file

log = logging.getLogger(__name__)

SITE_FILES = ("site/site.css", "site/app.js", "site/theme.js", "site/study.js", "site/study.css")
# The scheduler, copied byte for byte from its npm tarball (templates/site/vendor/ts-fsrs/README.md)
SCHEDULER = ("site/vendor/ts-fsrs/ts-fsrs.umd.js", "fsrs.js")
# index.html lists the first LISTED cards itself, so that a deck of any size paints at once; every
# card is also in the data files, CHUNK to a file, which app.js reads to search, filter and show
# the others (never more than it needs on the screen: it renders LISTED at a time, and more as
# the learner scrolls).
LISTED = 100
CHUNK = 1000


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


def site_cards(deck: RenderedDeck, env: Any, status: Status = NO_STATUS) -> list[dict[str, Any]]:
    templates = card_templates(env, deck.deck)
    sources_template = env.get_template("anki/sources.html")
    syllabus = deck.deck.syllabus
    cards = []
    for rendered in counted(deck.cards, status, "rendering the site's cards"):
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
    """Writes `<stem>-site/`: index.html, the cards' data files (cards-1.js, …), its CSS and
    script, and the media it shows."""

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
        cards = site_cards(deck, env, context.status)
        outline = deck.deck.syllabus.outline(cards, lambda c: (c["section"], c["topic"]))
        groups, ordered = site_groups(outline)
        entry = env.get_template("site/card.html").module.entry  # type: ignore[attr-defined]
        chunks = data_files(ordered, entry, context.status)
        page = env.get_template("site/index.html").render(
            deck=deck.deck.info,
            groups=groups,
            sectioned=bool(deck.deck.syllabus.sections),
            section=deck.deck.info.section,
            count=len(cards),
            listed=LISTED,
            chunks=list(chunks),
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
            for name, text in chunks.items():
                (staging / name).write_text(text, encoding="utf-8")
            for name, copy in [*((n, Path(n).name) for n in SITE_FILES), SCHEDULER]:
                shutil.copyfile(template_file(context.templates_dir, name), staging / copy)
            for media in deck.media:
                shutil.copyfile(media.path, staging / media.name)  # fields say src="<name>"
            replace_dir(staging, target)
        log.info("wrote %s (%d cards)", target, len(cards))
        return [target]


def site_groups(outline: Any) -> tuple[list[dict[str, Any]], list[tuple[int, dict[str, Any]]]]:
    """The sections and topics of the page, each topic with the cards index.html lists (the
    first LISTED of the deck, in syllabus order) and its number (`group`, which the data files
    give each card); and every card in that order, with the number of its topic."""
    groups: list[dict[str, Any]] = []
    ordered: list[tuple[int, dict[str, Any]]] = []
    numbers = itertools.count()
    for section, topics in outline:
        shown: list[dict[str, Any]] = []
        for topic, members in topics:
            number = next(numbers)
            room = max(0, LISTED - len(ordered))
            ordered += [(number, card) for card in members]
            shown.append(
                {"id": topic.id, "title": topic.title, "group": number, "cards": members[:room]}
            )
        groups.append(
            {
                "id": section.id if section else "",
                "title": section.title if section else "",
                "topics": shown,
                "listed": any(t["cards"] for t in shown),
            }
        )
    return groups, ordered


def data_files(
    ordered: list[tuple[int, dict[str, Any]]], entry: Any, status: Status = NO_STATUS
) -> dict[str, str]:
    """The cards as scripts that hand them to app.js (no fetch() from file://): `cards-N.js`,
    each `deckgenCards(N, [[id, section, topic, topic number, tags, ordinals, text, html], …])`.
    `text` is what the search looks in (the id and the text of every face); `html` is the card's
    article, rendered and escaped here by site/card.html like the ones index.html lists."""
    files = {}
    label = "writing the site's data"
    status.count(label, 0, len(ordered))
    for n, start in enumerate(range(0, len(ordered), CHUNK), start=1):
        rows = [
            [
                card["id"],
                card["section"] or "",
                card["topic"],
                number,
                card["tags"],
                card["ordinals"],
                search_text(card),
                str(entry(card)),
            ]
            for number, card in ordered[start : start + CHUNK]
        ]
        body = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        files[f"cards-{n}.js"] = f"deckgenCards({n}, {body});\n"
        status.count(label, min(start + CHUNK, len(ordered)), len(ordered))
    return files


def search_text(card: dict[str, Any]) -> str:
    """What the site's search looks in: the card id, then the text of the faces it shows."""
    faces = [card["front"], card["back"]] + [f[k] for f in card["study"] for k in ("front", "back")]
    return " ".join([card["id"], *(html_text(face) for face in faces)])
