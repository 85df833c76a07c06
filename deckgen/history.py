"""The release history: what every release shipped, so that every later release reaches learners.

`cards/releases.json` holds, for each released card id, its type, round, topic, a fingerprint
of what a learner's Anki receives (every field, the tags and its note type's templates and
CSS), the releases in which it was added, last changed, moved and retired, and for each note
field the fingerprints it shipped with and the release of each (`deckgen sync` tells a
learner's edit from a value deckgen shipped by them); and for each release, its version and
clock. Records written before the field fingerprints existed have none; they are still read.
`deckgen release VERSION` writes it; nobody edits it by hand (a pull request that does is
refused in review: see CONTRIBUTING.md). deckgen.release computes with it; this module reads,
writes and checks it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deckgen.atomic import atomic_output
from deckgen.clock import MAX_CLOCK_SKEW_SECONDS
from deckgen.configfile import read_config_text
from deckgen.errors import DeckgenError, Diagnostic, DiagnosticSink, Location

RECORD_FILE = "releases.json"
MAX_RECORD_BYTES = 64 * 1024 * 1024  # some 300,000 cards; the file is machine-written
UNRELEASED = "unreleased"
VERSION_RE = re.compile(r"v?[0-9][0-9A-Za-z]*(?:[.+-][0-9A-Za-z]+){0,8}")
MAX_VERSION_LENGTH = 40


def version_problem(version: str) -> str | None:
    """Why `version` cannot name a release (it goes into Anki tags, file text and Markdown)."""
    if len(version) > MAX_VERSION_LENGTH or not VERSION_RE.fullmatch(version):
        return (
            f"'{version[:MAX_VERSION_LENGTH]}' is not a release version: digits and letters "
            "in parts joined by '.', '-' or '+', starting with a digit or 'v' (e.g. v2026.12)"
        )
    if version == UNRELEASED:
        return f"'{UNRELEASED}' is reserved"
    return None


@dataclass(frozen=True)
class Release:
    version: str
    time: int  # the release's build clock, seconds since the epoch


@dataclass(frozen=True)
class CardRecord:
    type: str
    round: str
    topic: str
    fingerprint: str
    question: str  # plain text, for changelogs (a retired card's text is gone from the deck)
    added: str  # release versions
    changed: str
    moved: str | None = None
    retired: str | None = None
    # note field -> ((release, fingerprint of the value it shipped from that release on), ...),
    # oldest first; None in records written before deckgen kept them
    fields: dict[str, tuple[tuple[str, str], ...]] | None = None

    def field_at(self, name: str, index_of: Callable[[str], int], version: str) -> str | None:
        """The fingerprint of field `name` as release `version` shipped it; None when the record
        cannot tell (no field fingerprints, or they start after that release)."""
        history = (self.fields or {}).get(name, ())
        wanted = index_of(version)
        if wanted < 0 or not history or index_of(history[0][0]) > wanted:
            return None
        return [fp for release, fp in history if index_of(release) <= wanted][-1]


@dataclass
class ReleaseRecord:
    path: Path
    deck: str | None = None  # the deck id at the last release
    releases: list[Release] = field(default_factory=list)
    cards: dict[str, CardRecord] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # card id -> its line in the file
    problems: tuple[Diagnostic, ...] = ()

    @property
    def last(self) -> Release | None:
        return self.releases[-1] if self.releases else None

    def release(self, version: str) -> Release | None:
        return next((r for r in self.releases if r.version == version), None)

    def index(self, version: str | None) -> int:
        """The position of a release in the history; -1 for none or an unknown version."""
        return next((i for i, r in enumerate(self.releases) if r.version == version), -1)

    def location(self, card_id: str) -> Location:
        return Location(self.path, self.lines.get(card_id, 1))


def _refuse(path: Path, sink: DiagnosticSink, line: int, message: str) -> None:
    sink.report(Location(path, line), f"{RECORD_FILE}: {message}", "DG110")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def read_record(cards_dir: Path) -> ReleaseRecord:
    """The record in the cards folder; never raises. A malformed or refused one reads as empty
    with located `problems` (lint reports them): builds then behave as before any release."""
    path = cards_dir / RECORD_FILE
    record = ReleaseRecord(path)
    sink = DiagnosticSink()
    text = read_config_text(path, sink, limit=MAX_RECORD_BYTES)
    if text is None:
        record.problems = tuple(sink.items)
        return record
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        _refuse(path, sink, error.lineno, f"not valid JSON: {error.msg}")
        record.problems = tuple(sink.items)
        return record
    except RecursionError:  # nesting no deckgen ever writes
        _refuse(path, sink, 1, "nested too deeply")
        record.problems = tuple(sink.items)
        return record
    _fill(record, data, text, sink)
    if sink.items:
        record.problems = tuple(sink.items)
        record.deck, record.releases, record.cards = None, [], {}
    return record


def _fill(record: ReleaseRecord, data: Any, text: str, sink: DiagnosticSink) -> None:
    path = record.path
    if not isinstance(data, dict) or set(data) - {"deck", "releases", "cards"}:
        _refuse(path, sink, 1, "must be an object with 'deck', 'releases' and 'cards'")
        return
    record.deck = _str(data.get("deck"))
    releases = data.get("releases", [])
    if not isinstance(releases, list):
        _refuse(path, sink, 1, "'releases' must be a list")
        return
    for item in releases:
        version = _str(item.get("version")) if isinstance(item, dict) else None
        moment = item.get("time") if isinstance(item, dict) else None
        if version is None or version_problem(version) or type(moment) is not int:
            _refuse(path, sink, 1, "each release needs a 'version' and an integer 'time'")
            return
        if record.releases and moment <= record.releases[-1].time:
            _refuse(path, sink, 1, f"release {version}'s time is not after the one before")
            return
        if moment > time.time() + MAX_CLOCK_SKEW_SECONDS:  # it would block every build
            _refuse(path, sink, 1, f"release {version}'s time is in the future")
            return
        record.releases.append(Release(version, moment))
    cards = data.get("cards", {})
    if not isinstance(cards, dict):
        _refuse(path, sink, 1, "'cards' must map card ids to their records")
        return
    # write_record puts each card on a line of its own, indented by four spaces.
    line_of: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r'    "([^"\\]+)": ', line)
        if match:
            line_of.setdefault(match[1], number)
    versions = {r.version for r in record.releases}
    for card_id, value in cards.items():
        entry = _card_record(value, versions)
        if entry is None:
            _refuse(path, sink, line_of.get(card_id, 1), f"card '{card_id}' has a bad record")
            continue
        record.cards[card_id] = entry
        record.lines[card_id] = line_of.get(card_id, 1)


def _card_record(value: Any, versions: set[str]) -> CardRecord | None:
    if not isinstance(value, dict):
        return None
    names = set(CardRecord.__dataclass_fields__)
    optional = {"moved", "retired", "fields"}
    if set(value) - names or (names - optional) - set(value):
        return None
    if not all(isinstance(value[k], str) for k in names - optional):
        return None
    if any(
        value.get(k) is not None and not isinstance(value[k], str) for k in ("moved", "retired")
    ):
        return None
    try:
        fields = _field_history(value.get("fields"), versions)
    except ValueError:
        return None
    entry = CardRecord(**{**value, "fields": fields})
    stamps = [entry.added, entry.changed, entry.moved, entry.retired]
    if any(v is not None and v not in versions for v in stamps):
        return None
    return entry


def _field_history(value: Any, versions: set[str]) -> dict[str, tuple[tuple[str, str], ...]] | None:
    """The `fields` entry read back: field name -> ((release, fingerprint), ...); ValueError
    when it is malformed."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("fields")
    result = {}
    for name, history in value.items():
        if not isinstance(history, list) or not history:
            raise ValueError(name)
        for pair in history:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ValueError(name)
            if not all(isinstance(v, str) for v in pair) or pair[0] not in versions:
                raise ValueError(name)
        result[name] = tuple((release, fingerprint) for release, fingerprint in history)
    return result


def write_record(record: ReleaseRecord) -> None:
    """One release and one card per line, in a fixed order, so a release's diff reads well."""
    if record.problems:
        raise DeckgenError(list(record.problems))

    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=False, separators=(", ", ": "))

    releases = ",\n".join(f"    {one(asdict(r))}" for r in record.releases)
    cards = ",\n".join(
        f"    {one(card_id)}: {one({k: v for k, v in asdict(c).items() if v is not None})}"
        for card_id, c in sorted(record.cards.items())
    )
    text = (
        "{\n"
        f'  "deck": {one(record.deck)},\n'
        f'  "releases": [\n{releases}\n  ],\n'
        f'  "cards": {{\n{cards}\n  }}\n'
        "}\n"
    )
    with atomic_output(record.path) as tmp:
        tmp.write_text(text, encoding="utf-8")
