"""Releases that reach learners: note times, the release-safe clock, changes and the changelog.

With the release history (deckgen.history):
- a note's modification time is the clock of the release in which it last changed, so Anki
  reports unchanged notes as up to date and updates exactly the changed ones;
- a build clock that does not move past the last release is refused (Anki would skip it);
- `deckgen changes` lists what changed since a release; `deckgen release` records one and
  writes its CHANGELOG.md section.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import jinja2

from deckgen.atomic import atomic_output
from deckgen.cache import Cache
from deckgen.cache import fingerprint as cache_key
from deckgen.clock import utc_text
from deckgen.errors import DeckgenError, Diagnostic, Location
from deckgen.history import (
    UNRELEASED,
    CardRecord,
    Release,
    ReleaseRecord,
)
from deckgen.markdown import cloze_face
from deckgen.model import Card
from deckgen.notetypes import (
    anki_tags,
    card_css,
    card_templates,
    fields_with_sources,
    sources_field,
)
from deckgen.render import RenderedCard, RenderedDeck
from deckgen.sanitize import html_text
from deckgen.status import NO_STATUS, Status
from deckgen.templating import sources_digest

CHANGED_TAG = "deckgen::changed::"  # + the version in which the note last changed
QUESTION_CHARS = 120  # how much of a question the changelog quotes


# --------------------------------------------------------------------------- what learners get


def plain_question(card: Card, rendered_front: str) -> str:
    """The question as one line of plain text (a cloze's deletions filled in), at most
    QUESTION_CHARS long."""
    filled = (
        cloze_face(rendered_front, lambda answer: answer) if card.type.cloze else rendered_front
    )
    text = " ".join(html_text(filled).split())
    return text if len(text) <= QUESTION_CHARS else text[: QUESTION_CHARS - 1] + "…"


@dataclass(frozen=True)
class ShippedNote:
    """A note as the .apkg writes it: its fields (note_fields) and the digest of all it holds."""

    fingerprint: str
    fields: dict[str, str]  # field name -> HTML value, in the note type's order


def shipped_notes(
    deck: RenderedDeck,
    env: jinja2.Environment,
    status: Status = NO_STATUS,
    cache: Cache | None = None,
    file_digests: Mapping[Path, str] | None = None,
) -> dict[str, ShippedNote]:
    """Card id → its note: the fields, and a digest of everything the learner's Anki receives
    for it: the note type's templates and CSS, every field and the tags (not the changed-in tag
    itself).

    With a `cache` and each card file's digest (CompiledDeck.file_digests), the Sources fields
    (rendered through Jinja, most of a note's cost) of a file whose cards and templates are
    unchanged come from the cache, one entry a file."""
    css = card_css(env)
    type_digests = {
        key: _digest(css, *(part for template in templates for part in template))
        for key, templates in card_templates(env, deck.deck).items()
    }
    sources = env.get_template("anki/sources.html")
    templates = _digest(sources_digest(env), *type_digests.values())

    def shipped(rendered: RenderedCard, sources_html: str) -> ShippedNote:
        fields = fields_with_sources(deck.deck, rendered, sources_html)
        parts = [f"{k}={v}" for k, v in fields.items()]
        tags = anki_tags(deck.deck, rendered)
        return ShippedNote(_digest(type_digests[rendered.card.type.key], *parts, *tags), fields)

    result: dict[str, ShippedNote] = {}
    done = 0
    status.count("rendering the notes", 0, len(deck.cards))
    for path, group in itertools.groupby(deck.cards, key=lambda rendered: rendered.card.path):
        cards = list(group)
        digest = (file_digests or {}).get(path)
        if cache is None or digest is None:
            result.update((r.card.id, shipped(r, sources_field(r, sources))) for r in cards)
        else:
            # Only the Sources fields are kept (Jinja makes them); the rest are the rendered
            # cards' own strings, so a kept note costs no memory of its own.
            key = cache_key("notes", templates, digest, *(r.card.id for r in cards))
            kept = cache.get("notes", key, counted=False)
            if not (isinstance(kept, list) and len(kept) == len(cards)):
                kept = [sources_field(r, sources) for r in cards]
                cache.put("notes", key, kept)
            result.update(
                (r.card.id, shipped(r, html)) for r, html in zip(cards, kept, strict=True)
            )
        done += len(cards)
        status.count("rendering the notes", done, len(deck.cards))
    return result


def field_fingerprint(value: str) -> str:
    """The digest of one field's value, as releases.json keeps it. NFC first: Anki may
    normalize a note's text when it imports it, and that is not the learner's edit."""
    return _digest(unicodedata.normalize("NFC", value))


def field_fingerprints(notes: Mapping[str, ShippedNote]) -> dict[str, dict[str, str]]:
    """Card id → field name → field_fingerprint of its value."""
    return {
        card_id: {name: field_fingerprint(value) for name, value in note.fields.items()}
        for card_id, note in notes.items()
    }


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Stamp:
    """When a note last changed, as the package says it: a release, or this build."""

    time: int
    version: str  # a release version, or UNRELEASED

    @property
    def tag(self) -> str:
        """The Anki tag that lets a learner search for what a release changed."""
        return CHANGED_TAG + self.version


def stamps(record: ReleaseRecord, fingerprints: Mapping[str, str], clock: int) -> dict[str, Stamp]:
    """Card id → the time and release of its last change; unchanged cards keep their release's."""
    result = {}
    for card_id, fingerprint in fingerprints.items():
        entry = record.cards.get(card_id)
        release = record.release(entry.changed) if entry else None
        if entry is not None and release is not None and entry.fingerprint == fingerprint:
            result[card_id] = Stamp(release.time, release.version)
        else:
            result[card_id] = Stamp(clock, UNRELEASED)
    return result


def clock_problem(
    record: ReleaseRecord, clock: int, origin: str, changed: bool
) -> Diagnostic | None:
    """A build clock that would not reach learners: not after the last release when a note
    `changed` (Anki updates a note only when the package's time is strictly newer), or before
    it."""
    last = record.last
    if last is None:
        return None
    if clock > last.time or (clock == last.time and not changed):
        return None
    when, then = utc_text(clock), utc_text(last.time)
    return Diagnostic(
        Location(record.path, 1),
        f"the build clock ({origin}) is {when}, not after release {last.version} ({then}): "
        "Anki would skip every changed note as already up to date. Commit the change, or set "
        "SOURCE_DATE_EPOCH later than the last release",
        "DG902",
    )


def release_stamps(
    history: ReleaseRecord, notes: Mapping[str, ShippedNote], clock: int, origin: str
) -> dict[str, Stamp]:
    """Every card's stamp for a build at `clock` (`notes`: shipped_notes of the deck); raise
    DeckgenError when the clock would not reach learners (see clock_problem)."""
    stamped = stamps(history, {card_id: n.fingerprint for card_id, n in notes.items()}, clock)
    changed = any(s.version == UNRELEASED for s in stamped.values())
    problem = clock_problem(history, clock, origin, changed)
    if problem is not None:
        raise DeckgenError([problem])
    return stamped


# --------------------------------------------------------------------------- what changed


@dataclass(frozen=True)
class Change:
    kind: str  # added, changed, moved, retired
    id: str
    question: str
    detail: str = ""  # moved: "TCP → UDP"; retired: the reason


KINDS = ("added", "changed", "moved", "retired")


def changes(
    record: ReleaseRecord,
    deck: RenderedDeck,
    fingerprints: Mapping[str, str],
    retired: Mapping[str, str],
    since: str | None = None,
) -> list[Change]:
    """What a learner of release `since` (default: the last) gets from the working tree."""
    base = record.index(since) if since is not None else len(record.releases) - 1
    syllabus = deck.deck.syllabus
    result = []

    def after(version: str | None) -> bool:  # recorded in a release later than `since`
        return version is not None and record.index(version) > base

    for rendered in deck.cards:
        card = rendered.card
        entry = record.cards.get(card.id)
        question = plain_question(card, rendered.front or rendered.text)
        if entry is None or after(entry.added):
            result.append(Change("added", card.id, question))
        elif (entry.round, entry.topic) != (card.section, card.topic) or after(entry.moved):
            old = syllabus.place_title(entry.round, entry.topic)
            new = syllabus.place_title(card.section, card.topic)
            result.append(Change("moved", card.id, question, f"{old} → {new}"))
        elif entry.fingerprint != fingerprints.get(card.id) or after(entry.changed):
            result.append(Change("changed", card.id, question))
    present = {rendered.card.id for rendered in deck.cards}
    for card_id, entry in sorted(record.cards.items()):
        if card_id in present or record.index(entry.added) > base:
            continue
        if (entry.retired is None and card_id in retired) or after(entry.retired):
            result.append(Change("retired", card_id, entry.question, retired.get(card_id, "")))
    return sorted(result, key=lambda c: (KINDS.index(c.kind), c.id))


def record_release(
    record: ReleaseRecord,
    version: str,
    clock: int,
    deck: RenderedDeck,
    fingerprints: Mapping[str, str],
    retired: Mapping[str, str],
    fields: Mapping[str, Mapping[str, str]],
) -> list[Change]:
    """Add release `version` at `clock` to `record` (in memory); return what it changed.

    `fields` (card id → field → field_fingerprint) extends each card's field history. A card
    recorded before field fingerprints existed and unchanged since gets its history now, dated
    from the release it last changed in: its note's fingerprint proves that those are the
    values that release shipped."""
    found = changes(record, deck, fingerprints, retired)
    by_id = {c.id: c for c in found}
    for rendered in deck.cards:
        card = rendered.card
        change = by_id.get(card.id)
        entry = record.cards.get(card.id)
        if change is None:
            if entry is not None and entry.fields is None:
                history = extend_fields(None, entry.changed, fields[card.id])
                record.cards[card.id] = replace(entry, fields=history)
            continue
        new = CardRecord(
            type=card.type.key,
            round=card.section,  # releases.json keeps its key: `round` holds the section
            topic=card.topic,
            fingerprint=fingerprints[card.id],
            question=change.question,
            added=entry.added if entry else version,
            changed=version,
            moved=version if change.kind == "moved" else (entry.moved if entry else None),
            fields=extend_fields(entry.fields if entry else None, version, fields[card.id]),
        )
        record.cards[card.id] = new
    for change in found:
        if change.kind == "retired":
            record.cards[change.id] = replace(record.cards[change.id], retired=version)
    record.releases.append(Release(version, clock))
    record.deck = deck.deck.info.id
    return found


def extend_fields(
    old: Mapping[str, tuple[tuple[str, str], ...]] | None,
    version: str,
    now: Mapping[str, str],
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each field's history with `version`'s fingerprint appended where the value changed."""
    result = {}
    for name, fingerprint in now.items():
        history = (old or {}).get(name, ())
        if not history or history[-1][1] != fingerprint:
            history = (*history, (version, fingerprint))
        result[name] = history
    return result


# --------------------------------------------------------------------------- changelog


# Every character that can start Markdown or HTML markup inside a list item's text: links and
# images, code, emphasis, HTML and entities, escapes, tables, headings and autolinks' brackets.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>!&~|#])")


def markdown_text(text: str) -> str:
    """Plain text as Markdown that renders as exactly that text: each character that could
    start markup is backslash-escaped (CommonMark allows it for any ASCII punctuation), so a
    question cannot add a link, an image, HTML or emphasis to the changelog."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def change_counts(found: Sequence[Change]) -> str:
    """'1 added, 2 changed': each kind that occurs, in KINDS order."""
    return ", ".join(
        f"{sum(c.kind == k for c in found)} {k}" for k in KINDS if any(c.kind == k for c in found)
    )


def changelog_section(version: str, clock: int, found: Iterable[Change]) -> str:
    found = list(found)
    date = time.strftime("%Y-%m-%d", time.gmtime(clock))
    lines = [f"## {version} — {date}", "", f"{change_counts(found) or 'No card changes'}."]
    if any(c.kind in ("added", "changed", "moved") for c in found):
        lines += ["", f"In Anki, search `tag:{CHANGED_TAG}{version}` for this release's cards."]
    titles = {"added": "Added", "changed": "Changed", "moved": "Moved", "retired": "Retired"}
    for kind in KINDS:
        items = [c for c in found if c.kind == kind]
        if not items:
            continue
        lines += ["", f"### {titles[kind]}", ""]
        for c in items:
            detail = f" ({markdown_text(c.detail)})" if c.detail else ""
            lines.append(f"- `{c.id}`: {markdown_text(c.question)}{detail}")
        if kind == "moved":
            lines += ["", "Learners who already have a moved card keep it in its old deck."]
        if kind == "retired":
            lines += ["", "Anki never deletes notes: learners delete retired cards themselves."]
    return "\n".join(lines) + "\n"


CHANGELOG_TITLE = "# Changelog\n\nWhat each release of the deck changed, newest first.\n"


def prepend_changelog(path: Path, section: str) -> None:
    """Put `section` first in the changelog, replacing an earlier section of the same release
    (so recording a release again after a failure does not list it twice)."""
    old = path.read_text(encoding="utf-8") if path.is_file() else CHANGELOG_TITLE
    head, *sections = old.split("\n## ")
    title = section.split("\n", 1)[0].removeprefix("## ").split(" — ")[0]
    kept = [s for s in sections if s.split("\n", 1)[0].split(" — ")[0] != title]
    body = head.rstrip("\n") + "\n\n" + section + "".join("\n## " + s for s in kept)
    with atomic_output(path) as tmp:
        tmp.write_text(body, encoding="utf-8")


def changes_document(version: str | None, found: Iterable[Change]) -> dict[str, Any]:
    return {"since": version, "changes": [asdict(c) for c in found]}
