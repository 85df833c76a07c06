"""`deckgen sync`: bring a learner's own Anki collection to the deck's last release, in place.

An .apkg import replaces every field and tag of a newer note and never moves, retires or keeps
anything. Sync, with the release record (deckgen.history), does it field by field: a field the
learner never edited (its value is one a release shipped) takes the release's value; a field
they edited keeps their value, and is a conflict when the release changed it too (`--theirs`
overwrites). Tags deckgen owns are replaced; the learner's own, `marked` and `leech` stay. A card
still in the deck deckgen put it in follows its topic's move, a retitled section or topic renames
its deck, and a retired card is suspended and tagged (deleted only with --delete-retired).

The order of work: refuse a collection held open (by Anki desktop) or of a schema the installed
`anki` would upgrade (both read with sqlite3, read-only, before the `anki` package opens it),
refuse a collection without this deck's note types, plan (a dry run stops here), back up with
Anki's own backup, then apply the plan in one database transaction. The `anki` package is an
optional extra, imported only here and only when a command needs it.
"""

from __future__ import annotations

import dataclasses
import html
import re
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from deckgen.atomic import atomic_output
from deckgen.cache import Cache
from deckgen.cardtypes import ANKI_FIELDS, CARD_TYPES, CONTENT_FIELDS
from deckgen.errors import DeckgenError, Diagnostic, Location
from deckgen.exporters.anki import model_id
from deckgen.history import CardRecord, ReleaseRecord
from deckgen.model import BREADCRUMB_SEPARATOR, Card, Deck, Text
from deckgen.notetypes import (
    anki_tags,
    card_css,
    card_templates,
    note_guid,
    source_file,
)
from deckgen.publish import Changes, deck_changes
from deckgen.release import CHANGED_TAG, extend_fields, field_fingerprint
from deckgen.render import MediaFile, RenderedCard
from deckgen.sanitize import html_text
from deckgen.suggest import suggest
from deckgen.templating import template_environment

if TYPE_CHECKING:
    from anki.collection import Collection

CODE = "DG905"
RETIRED_TAG = "deckgen::retired"
# Tags deckgen writes, whatever the release, with `<section tag>::` (deck.yaml's section tag).
OWNED_PREFIXES = ("topic::", "deckgen::")
INSTALL_HINT = "pip install 'deckgen-anki[sync]'"
ANKI_FOLDER = "Anki2"  # Anki's data folder, one sub-folder per profile


def refuse(where: Path, message: str) -> DeckgenError:
    return DeckgenError([Diagnostic(Location(where), message, CODE)])


# --------------------------------------------------------------------------- where and whether


def profile_collection(profile: str) -> Path:
    """The collection of Anki profile `profile` in Anki's standard data folder: ~/.local/share
    (or $XDG_DATA_HOME) on Linux, ~/Library/Application Support on macOS, %APPDATA% on Windows."""
    from platformdirs import user_data_dir

    base = Path(user_data_dir(ANKI_FOLDER, appauthor=False, roaming=True))
    path = base / profile / "collection.anki2"
    if not path.is_file():  # name the profiles there are, as Anki's profile window lists them
        names = sorted(p.parent.name for p in base.glob("*/collection.anki2"))
        known = f"; profiles here: {', '.join(names)}" if names else f"; {base} has no profile"
        raise refuse(path, f"no Anki profile '{profile}'{suggest(profile, names)}{known}")
    return path


def anki_version() -> str:
    """The installed `anki` package's version; a DeckgenError saying how to install it."""
    try:
        from anki.buildinfo import version
    except ImportError:
        raise refuse(
            Path("anki"),
            f"deckgen sync needs the official `anki` package: {INSTALL_HINT}",
        ) from None
    return str(version)


def installed_schema() -> int:
    """The schema version the installed `anki` writes: that of a new, empty collection."""
    from anki.collection import Collection

    with tempfile.TemporaryDirectory(prefix="deckgen-schema-") as tmp:
        col = Collection(str(Path(tmp) / "collection.anki2"))
        try:
            assert col.db is not None
            return int(col.db.scalar("select ver from col"))
        finally:
            col.close()


def collection_schema(path: Path) -> int:
    """The collection's schema version, read with sqlite3 read-only before `anki` opens it
    (opening upgrades an older schema). Refused when the file is not a collection, or when it is
    locked: Anki holds its collection with an exclusive lock while a profile is open."""
    if not path.is_file():
        raise refuse(path, "no such collection file")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0)
    except sqlite3.Error as error:
        raise refuse(path, f"cannot open the collection: {error}") from None
    try:
        row = connection.execute("select ver from col").fetchone()
    except sqlite3.OperationalError as error:
        if "locked" in str(error):
            raise refuse(path, open_elsewhere()) from None
        raise refuse(path, f"not an Anki collection: {error}") from None
    except sqlite3.DatabaseError as error:
        raise refuse(path, f"not an Anki collection: {error}") from None
    finally:
        connection.close()
    if row is None or type(row[0]) is not int:
        raise refuse(path, "not an Anki collection: no schema version")
    return int(row[0])


def open_elsewhere() -> str:
    return "the collection is open in Anki (or another program): close Anki, then sync again"


def check_schema(path: Path, schema: int, installed: int, version: str) -> None:
    """Refuse a schema the installed `anki` would not keep as it is: it refuses a newer one and
    upgrades an older one, which the Anki desktop that wrote it may then fail to open."""
    if schema == installed:
        return
    if schema > installed:
        advice = (
            "it would refuse it: install the anki package of your Anki desktop's version "
            "(Help → About), e.g. pip install -U anki"
        )
    else:
        advice = (
            "it would upgrade it, and the Anki desktop that wrote it might no longer open it. "
            "Schema 11 is Anki 2.1.49 and older: update Anki desktop (2.1.50 or later, "
            f"schema {installed}), open and close your profile once, then sync"
        )
    newer = "newer" if schema > installed else "older"
    raise refuse(
        path,
        f"the collection has schema {schema}, {newer} than schema {installed} of the installed "
        f"anki {version}: {advice}",
    )


@contextmanager
def open_collection(path: Path) -> Iterator[Collection]:
    """The collection, checked (not held open elsewhere, a schema the installed `anki` keeps),
    then opened with the `anki` package and closed afterwards."""
    version = anki_version()
    schema = collection_schema(path)
    check_schema(path, schema, installed_schema(), version)
    from anki.collection import Collection
    from anki.errors import DBError

    try:
        col = Collection(str(path))
    except DBError as error:  # locked between the check and now
        raise refuse(path, f"{open_elsewhere()} ({error})") from None
    try:
        yield col
    finally:
        col.close()


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Target:
    """A note as the last release ships it."""

    rendered: RenderedCard
    guid: str
    notetype_id: int
    deck: str
    fields: dict[str, str]
    tags: tuple[str, ...]

    @property
    def card(self) -> Card:
        return self.rendered.card


@dataclass(frozen=True)
class Present:
    """A note of this deck in the collection, as sync reads it."""

    note_id: int
    guid: str
    notetype_id: int
    fields: dict[str, str]
    tags: tuple[str, ...]
    cards: tuple[tuple[int, str], ...]  # card id, the name of its home deck (not a filtered one)
    mod: int  # when the note last changed, in seconds


@dataclass(frozen=True)
class FieldChange:
    """One field of a note that differs from the release.

    kind: `updated` (the learner's value is one a release shipped: replaced), `kept` (the
    learner edited it and the release did not change it since their version), `conflict` (both
    changed it: the learner's value is kept), `unknown` (edited, but the record cannot tell
    what their version shipped: kept), `overwritten` (a conflict or unknown, with --theirs)."""

    id: str
    field: str
    kind: str
    release: str  # the release's value (HTML)
    learner: str  # the collection's value (HTML)

    @property
    def written(self) -> bool:
        return self.kind in ("updated", "overwritten")

    @property
    def edited(self) -> bool:
        return self.kind != "updated"


@dataclass(frozen=True)
class Update:
    id: str
    note_id: int
    fields: dict[str, str]  # the fields written, with the release's values
    tags: tuple[str, ...] | None  # the note's new tags, when they change


@dataclass(frozen=True)
class Move:
    id: str
    card_ids: tuple[int, ...]
    old: str
    new: str
    moved: bool  # False: the learner put the card in a deck of their own, where it stays


@dataclass(frozen=True)
class NotetypeUpdate:
    """A note type whose templates or CSS the release changed (same field and template names,
    so no full sync): what an .apkg import of the release would also replace."""

    key: str  # the card type
    notetype_id: int
    templates: dict[str, tuple[str, str]]  # template name -> (front, back)
    css: str


@dataclass(frozen=True)
class Retirement:
    id: str
    note_id: int
    card_ids: tuple[int, ...]
    reason: str


@dataclass
class Plan:
    release: str
    new: list[Target] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    fields: list[FieldChange] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)  # old deck name -> new, in order
    notetypes: list[NotetypeUpdate] = field(default_factory=list)
    retired: list[Retirement] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # card id, why
    delete_retired: bool = False  # retired notes are deleted, not suspended

    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "updated": len(self.updates),
            "unchanged": len(self.unchanged),
            "moved": sum(m.moved for m in self.moves),
            "not moved": sum(not m.moved for m in self.moves),
            "decks renamed": len(self.renames),
            "note types updated": len(self.notetypes),
            "retired": len(self.retired),
            "fields updated": sum(f.written for f in self.fields),
            "edits kept": sum(f.kind == "kept" for f in self.fields),
            "conflicts": sum(f.kind in ("conflict", "unknown") for f in self.fields),
            "overwritten": sum(f.kind == "overwritten" for f in self.fields),
            "skipped": len(self.skipped),
        }

    @property
    def empty(self) -> bool:
        """Nothing to write."""
        moves = any(m.moved for m in self.moves)
        changes = self.new or self.updates or self.renames or self.notetypes or self.retired
        return not (changes or moves)

    def document(self) -> dict[str, Any]:
        """The plan as JSON data: counts, then each item."""
        return {
            "release": self.release,
            "counts": self.counts(),
            "new": [{"id": t.card.id, "deck": t.deck} for t in self.new],
            "updated": [
                {"id": u.id, "fields": sorted(u.fields), "tags": u.tags is not None}
                for u in self.updates
            ],
            "fields": [{"id": f.id, "field": f.field, "kind": f.kind} for f in self.fields],
            "moves": [dataclasses.asdict(m) for m in self.moves],
            "renames": [{"old": old, "new": new} for old, new in self.renames.items()],
            "note_types": [n.key for n in self.notetypes],
            "retired": [{"id": r.id, "reason": r.reason} for r in self.retired],
            "delete_retired": self.delete_retired,
            "skipped": [{"id": i, "reason": why} for i, why in self.skipped],
        }


def owned_tag(tag: str, vocabulary: frozenset[str], section_tag: str) -> bool:
    """A tag deckgen writes: <section tag>:: (round:: in this repository's deck), topic::,
    deckgen::…, or a syllabus id (file and card tags must be one: DG203). Anki compares tags
    without case."""
    lowered = tag.lower()
    return lowered.startswith((*OWNED_PREFIXES, f"{section_tag}::")) or lowered in vocabulary


def _same_tags(a: Sequence[str], b: Sequence[str]) -> bool:
    return {t.lower() for t in a} == {t.lower() for t in b}


def learner_release(tags: Sequence[str], record: ReleaseRecord) -> str | None:
    """The release the note came from: its one deckgen::changed:: tag naming a release."""
    found = [t[len(CHANGED_TAG) :] for t in tags if t.lower().startswith(CHANGED_TAG)]
    if len(found) != 1:
        return None
    return next((r.version for r in record.releases if r.version.lower() == found[0].lower()), None)


def field_change(
    card_id: str,
    name: str,
    release: str,
    learner: str,
    entry: CardRecord,
    record: ReleaseRecord,
    version: str | None,
    theirs: bool,
    pristine: bool = False,
) -> FieldChange | None:
    """The three-way decision for one field; None when the collection has the release's value.
    `pristine`: the note is provably as release `version` shipped it."""
    now = field_fingerprint(release)
    have = field_fingerprint(learner)
    if have == now:
        return None
    history = (entry.fields or {}).get(name, ())
    if pristine or have in {fingerprint for _, fingerprint in history}:
        kind = "updated"
    else:
        base = entry.field_at(name, record.index, version) if version else None
        kind = "unknown" if base is None else ("kept" if base == now else "conflict")
        if theirs and kind in ("unknown", "conflict"):
            kind = "overwritten"
    return FieldChange(card_id, name, kind, release, learner)


def make_plan(
    record: ReleaseRecord,
    deck: Deck,
    targets: Sequence[Target],
    present: Mapping[str, Present],
    retired_reasons: Mapping[str, str],
    theirs: bool,
    notetypes: frozenset[int],
    decks: frozenset[str],
    delete_retired: bool = False,
) -> Plan:
    """What sync does, from the release (targets, record) and the collection (present, by GUID).
    Pure: the dry run prints it and --apply carries out exactly it."""
    assert record.last is not None
    plan = Plan(record.last.version, delete_retired=delete_retired)
    plan.renames = _renames(targets, present, deck, decks)
    vocabulary = deck.syllabus.vocabulary()
    for target in targets:
        card_id = target.card.id
        note = present.get(target.guid)
        if note is None and target.notetype_id not in notetypes:
            plan.skipped.append(
                (card_id, "its note type is not in the collection: sync adds no note types")
            )
            continue
        if note is None:
            plan.new.append(target)
            continue
        if note.notetype_id != target.notetype_id:
            plan.skipped.append((card_id, "its note type differs from the release's"))
            continue
        entry = record.cards[card_id]
        version = learner_release(note.tags, record)
        pristine = _pristine(note, record, version)
        written: dict[str, str] = {}
        for name, value in target.fields.items():
            learner = note.fields.get(name, "")
            change = field_change(
                card_id, name, value, learner, entry, record, version, theirs, pristine
            )
            if change is not None:
                plan.fields.append(change)
                if change.written:
                    written[name] = value
        own = [t for t in note.tags if not owned_tag(t, vocabulary, deck.info.section.tag)]
        tags = (*own, *target.tags)
        if any(c.id == card_id and c.kind in ("conflict", "unknown") for c in plan.fields):
            # Still the learner's release: the next sync finds the same conflict again.
            changed = [t for t in note.tags if t.lower().startswith(CHANGED_TAG)]
            tags = (*own, *(t for t in target.tags if not t.startswith(CHANGED_TAG)), *changed)
        new_tags = None if _same_tags(tags, note.tags) else tags
        if written or new_tags is not None:
            plan.updates.append(Update(card_id, note.note_id, written, new_tags))
        else:
            plan.unchanged.append(card_id)
        move = _move(card_id, note, target, deck, plan.renames)
        if move is not None:
            plan.moves.append(move)
    for card_id, entry in sorted(record.cards.items()):
        note = present.get(note_guid(deck.info.id, card_id))
        if entry.retired is None or note is None:
            continue
        if not delete_retired and any(t.lower() == RETIRED_TAG for t in note.tags):
            continue  # retired by an earlier sync: what the learner did since is theirs
        card_ids = tuple(c[0] for c in note.cards)
        plan.retired.append(
            Retirement(card_id, note.note_id, card_ids, retired_reasons.get(card_id, ""))
        )
    return plan


def notetype_updates(
    wanted: Mapping[str, tuple[int, dict[str, tuple[str, str]], str]],
    present: Mapping[int, tuple[dict[str, tuple[str, str]], str]],
) -> tuple[list[NotetypeUpdate], list[tuple[str, str]]]:
    """The note types whose templates or CSS differ from the release's (card type -> (id,
    templates, css) wanted; id -> (templates, css) in the collection), and those skipped because
    their template names differ (changing those is a schema change: Anki would force a full
    sync)."""
    updates, skipped = [], []
    for key, (notetype_id, templates, css) in wanted.items():
        if notetype_id not in present:
            continue
        have, have_css = present[notetype_id]
        if set(have) != set(templates):
            skipped.append((key, "its note type's templates are not the release's: not updated"))
        elif have != templates or have_css != css:
            updates.append(NotetypeUpdate(key, notetype_id, templates, css))
    return updates, skipped


def _pristine(note: Present, record: ReleaseRecord, version: str | None) -> bool:
    """Whether the note is provably untouched since it came from release `version`: Anki 25.02
    and later give an imported note the package's time, which deckgen makes the time of the
    release it last changed in, and any edit of the note (a field or a tag) sets it to the
    moment of the edit. This is what proves a note unedited when the record holds no field
    fingerprints for the release the learner has (records written before they existed)."""
    found = record.release(version) if version is not None else None
    return found is not None and note.mod == found.time


def _placement(note: Present, deck: Deck) -> str | None:
    """The deck deckgen put the note's cards in, by the note's Breadcrumb field: the titles of
    the section (if any) and topic in the release the learner has, under the deck's name."""
    parts = html.unescape(note.fields.get("Breadcrumb", "")).split(BREADCRUMB_SEPARATOR)
    return "::".join([deck.info.name, *parts]) if len(parts) <= 2 and all(parts) else None


def _same_place(note: Present, card: Card, deck: Deck) -> bool:
    """Whether the note's section and topic tags name the card's section and topic: then a
    deck name that differs is a renamed section or topic, not a move."""
    lowered = {t.lower() for t in note.tags}
    section = [f"{deck.info.section.tag}::{card.section}"] if card.section else []
    return {t.lower() for t in (*section, f"topic::{card.topic}")} <= lowered


def renamed(name: str, renames: Mapping[str, str]) -> str:
    """A deck's name after the renames, in order (a deck's children are renamed with it)."""
    for old, new in renames.items():
        if name == old or name.startswith(old + "::"):
            name = new + name[len(old) :]
    return name


def _renames(
    targets: Sequence[Target], present: Mapping[str, Present], deck: Deck, decks: frozenset[str]
) -> dict[str, str]:
    """Old deck name → new, for each section or topic whose title changed: the deck is renamed
    (its cards, and whatever the learner keeps in it, go along) unless the new name exists."""
    result: dict[str, str] = {}
    names = set(decks)
    for target in targets:
        note = present.get(target.guid)
        placed = _placement(note, deck) if note is not None else None
        if note is None or placed is None or not _same_place(note, target.card, deck):
            continue
        old_parts, new_parts = placed.split("::"), target.deck.split("::")
        for depth in range(2, len(new_parts) + 1):
            old = "::".join([*new_parts[: depth - 1], old_parts[depth - 1]])
            new = "::".join(new_parts[:depth])
            if old != new and old in names and new not in names:
                result[old] = new
                names = {renamed(n, {old: new}) for n in names}
    return result


def _move(
    card_id: str, note: Present, target: Target, deck: Deck, renames: Mapping[str, str]
) -> Move | None:
    """The move of the note's cards that are not in the release's deck (after the renames):
    done when they sit in the deck deckgen put them in, else listed as staying in the learner's
    own deck."""
    elsewhere = [
        (cid, renamed(home, renames))
        for cid, home in note.cards
        if renamed(home, renames) != target.deck
    ]
    if not elsewhere:
        return None
    placed = _placement(note, deck)
    placed = renamed(placed, renames) if placed is not None else None
    moving = tuple(cid for cid, home in elsewhere if home == placed)
    if moving:
        return Move(card_id, moving, placed or "", target.deck, True)
    return Move(card_id, tuple(cid for cid, _ in elsewhere), elsewhere[0][1], target.deck, False)


# --------------------------------------------------------------------------- the two sides


def release_targets(found: Changes) -> list[Target]:
    """Every note of the last release: fields as the .apkg writes them, tags, deck, note type."""
    deck = found.checked.rendered.deck
    info = deck.info
    result = []
    for rendered in found.checked.rendered.cards:
        card = rendered.card
        entry = found.history.cards[card.id]
        tags = (*anki_tags(deck, rendered), CHANGED_TAG + entry.changed)
        result.append(
            Target(
                rendered=rendered,
                guid=note_guid(info.id, card.id),
                notetype_id=model_id(info.id, card.type),
                deck=deck.deck_path(card),
                fields=found.notes[card.id].fields,
                tags=tags,
            )
        )
    return result


def read_present(col: Collection, notetype_ids: Sequence[int]) -> dict[str, Present]:
    """This deck's notes in the collection (those of its note types), by GUID."""
    names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    result = {}
    for mid in notetype_ids:
        for note_id in col.find_notes(f"mid:{mid}"):
            note = col.get_note(note_id)
            cards = []
            for card in note.cards():
                home = card.odid or card.did
                cards.append((card.id, names.get(home, "")))
            result[note.guid] = Present(
                note_id=note.id,
                guid=note.guid,
                notetype_id=note.mid,
                fields=dict(note.items()),
                tags=tuple(note.tags),
                cards=tuple(cards),
                mod=note.mod,
            )
    return result


def release_notetypes(
    deck: Deck, env: jinja2.Environment
) -> dict[str, tuple[int, dict[str, tuple[str, str]], str]]:
    """Card type -> (note type id, template name -> (front, back), CSS), as the .apkg has them."""
    css = card_css(env)
    return {
        key: (
            model_id(deck.info.id, CARD_TYPES[key]),
            {name: (front, back) for name, front, back in templates},
            css,
        )
        for key, templates in card_templates(env, deck).items()
    }


def read_notetypes(
    col: Collection, notetype_ids: Iterable[int]
) -> dict[int, tuple[dict[str, tuple[str, str]], str]]:
    """Note type id -> (template name -> (front, back), CSS), as the collection has them."""
    from anki.models import NotetypeId

    result = {}
    for mid in notetype_ids:
        notetype = col.models.get(NotetypeId(mid))
        if notetype is not None:
            templates = {t["name"]: (t["qfmt"], t["afmt"]) for t in notetype["tmpls"]}
            result[mid] = (templates, str(notetype["css"]))
    return result


def with_field_history(record: ReleaseRecord, found: Changes) -> ReleaseRecord:
    """The record with a field history for every card recorded before field fingerprints
    existed: the working tree is the last release (sync refuses otherwise), so each card's
    fields now are those of the release it last changed in."""
    cards = {
        card_id: entry
        if entry.fields is not None or card_id not in found.fields
        else dataclasses.replace(
            entry, fields=extend_fields(None, entry.changed, found.fields[card_id])
        )
        for card_id, entry in record.cards.items()
    }
    return dataclasses.replace(record, cards=cards)


# --------------------------------------------------------------------------- sync


@dataclass(frozen=True)
class SyncResult:
    plan: Plan
    collection: Path
    backup: Path | None  # None for a dry run, or when nothing was to be written
    applied: bool
    edits: str  # the learner's edits as Markdown (edits_report)
    edit_count: int  # how many fields it holds


def prepare(cards_dir: Path, templates_dir: Path | None, cache: Cache | None) -> Changes:
    """The deck at its last release; refused with unreleased changes (sync brings a collection
    to a release, whose field fingerprints the record keeps)."""
    found = deck_changes(cards_dir, None, templates_dir, cache)
    if found.history.last is None:
        raise refuse(found.history.path, "nothing is released yet: sync brings a release")
    if found.changes:
        raise refuse(
            found.history.path,
            f"the cards differ from release {found.history.last.version} ({len(found.changes)} "
            "change(s), see deckgen changes): sync a released version of the deck (check out "
            "its tag) or record a release",
        )
    return found


def sync(
    cards_dir: Path,
    collection: Path,
    *,
    apply: bool = False,
    theirs: bool = False,
    delete_retired: bool = False,
    templates_dir: Path | None = None,
    cache: Cache | None = None,
) -> SyncResult:
    """Plan the sync of `collection` with the deck's last release; with `apply`, back up and
    carry out the plan in one transaction."""
    anki_version()  # before the deck is compiled: say at once what is missing
    if not collection.is_file():
        raise refuse(collection, "no such collection file")
    found = prepare(cards_dir, templates_dir, cache)
    deck = found.checked.deck
    record = with_field_history(found.history, found)
    targets = release_targets(found)
    notetype_ids = [model_id(deck.info.id, t) for t in CARD_TYPES.values()]
    with open_collection(collection) as col:
        from anki.models import NotetypeId

        notetypes = frozenset(mid for mid in notetype_ids if col.models.have(NotetypeId(mid)))
        if not notetypes:
            raise refuse(
                collection,
                f"the collection holds no note of deck '{deck.info.id}' ({deck.info.name}): "
                "import the deck's .apkg once, then sync",
            )
        present = read_present(col, notetype_ids)
        retired = found.checked.compiled.lock.retired
        decks = frozenset(d.name for d in col.decks.all_names_and_ids())
        plan = make_plan(
            record, deck, targets, present, retired, theirs, notetypes, decks, delete_retired
        )
        wanted = release_notetypes(deck, template_environment(templates_dir))
        plan.notetypes, skipped = notetype_updates(wanted, read_notetypes(col, notetypes))
        plan.skipped += skipped
        edits = edits_report(plan, deck, targets)
        count = len(reported_edits(plan, targets))
        if not apply or plan.empty:
            return SyncResult(plan, collection, None, False, edits, count)
        backup = make_backup(col, collection)
        add_media(col, plan, found.checked.rendered.media)
        from anki.errors import AnkiException

        try:
            apply_plan(col, plan)
        except AnkiException as error:
            raise refuse(
                collection,
                f"Anki refused the sync ({type(error).__name__}: {error}); it was rolled back "
                f"whole, the collection is as before (backup: {backup})",
            ) from error
    return SyncResult(plan, collection, backup, True, edits, count)


def make_backup(col: Collection, collection: Path) -> Path:
    """Anki's own backup (a .colpkg, which Anki's File → Switch Profile → Open Backup restores),
    in the `backups` folder beside the collection, where Anki keeps its own."""
    folder = collection.parent / "backups"
    folder.mkdir(exist_ok=True)
    from anki.errors import AnkiException

    before = set(folder.iterdir())
    # Anki names a backup by the second: a second sync within the second of the last backup
    # would replace it (and the state before the first sync with it), so wait for the next one.
    newest = max((p.stat().st_mtime for p in before), default=0.0)
    if 0 <= time.time() - newest < 1.0:
        time.sleep(1.05 - (time.time() - newest))
    try:
        created = col.create_backup(backup_folder=str(folder), force=True, wait_for_completion=True)
    except AnkiException as error:
        raise refuse(collection, f"Anki could not back up to {folder}: {error}") from error
    made = sorted(set(folder.iterdir()) - before)
    if not created or len(made) != 1:
        raise refuse(collection, f"Anki made no backup in {folder}: nothing was changed")
    return made[0]


def add_media(col: Collection, plan: Plan, media: Sequence[MediaFile]) -> None:
    """Copy into the collection's media folder the images that the notes written use and it
    lacks. Before the transaction, and harmless if it never commits: deckgen names an image
    after its content, and Anki's Check Media lists an unused one."""
    written = [*(v for t in plan.new for v in t.fields.values())]
    written += [v for u in plan.updates for v in u.fields.values()]
    for file in media:
        if not col.media.have(file.name) and any(file.name in value for value in written):
            col.media.write_data(file.name, file.path.read_bytes())


def apply_plan(col: Collection, plan: Plan) -> None:
    """Carry out the plan in one database transaction: all of it or, on any failure or kill,
    none of it."""
    from anki.cards import CardId
    from anki.collection import AddNoteRequest
    from anki.decks import DeckId
    from anki.models import NotetypeId
    from anki.notes import NoteId

    def work() -> None:
        decks: dict[str, DeckId] = {}

        def deck_id(name: str) -> DeckId:
            if name not in decks:
                found = col.decks.id(name, create=True)
                assert found is not None
                decks[name] = found
            return decks[name]

        for retyped in plan.notetypes:
            notetype = col.models.get(NotetypeId(retyped.notetype_id))
            assert notetype is not None  # planned from the collection's own note types
            for template in notetype["tmpls"]:
                template["qfmt"], template["afmt"] = retyped.templates[template["name"]]
            notetype["css"] = retyped.css
            col.models.update_dict(notetype)
        for old, new in plan.renames.items():
            found = col.decks.id_for_name(old)
            assert found is not None  # make_plan renames only decks the collection has
            col.decks.rename(found, new)
        if plan.new:
            requests = []
            for target in plan.new:
                notetype = col.models.get(NotetypeId(target.notetype_id))
                assert notetype is not None  # make_plan skips a card without its note type
                note = col.new_note(notetype)
                note.guid = target.guid
                for name, value in target.fields.items():
                    note[name] = value
                note.tags = list(target.tags)
                requests.append(AddNoteRequest(note=note, deck_id=deck_id(target.deck)))
            col.add_notes(requests)
        notes = []
        for update in plan.updates:
            note = col.get_note(NoteId(update.note_id))
            for name, value in update.fields.items():
                note[name] = value
            if update.tags is not None:
                note.tags = list(update.tags)
            notes.append(note)
        for retirement in [] if plan.delete_retired else plan.retired:
            note = col.get_note(NoteId(retirement.note_id))
            note.tags = [*note.tags, RETIRED_TAG]
            notes.append(note)
        if notes:
            col.update_notes(notes)
        for move in plan.moves:
            if move.moved:
                col.set_deck([CardId(c) for c in move.card_ids], deck_id(move.new))
        if plan.delete_retired and plan.retired:
            col.remove_notes([NoteId(r.note_id) for r in plan.retired])
        suspended = [CardId(c) for r in plan.retired for c in r.card_ids]
        if suspended and not plan.delete_retired:
            col.sched.suspend_cards(suspended)

    assert col.db is not None
    col.db.transact(work)


# --------------------------------------------------------------------------- hand-back


_MARKUP = [
    (re.compile(r"<br\s*/?>", re.I), "\n"),
    (re.compile(r"</(p|div|li|h[1-6]|pre|tr)>", re.I), "\n"),
    (re.compile(r"<li[^>]*>", re.I), "- "),
    (re.compile(r"</?(b|strong)>", re.I), "**"),
    (re.compile(r"</?(i|em)>", re.I), "*"),
    (re.compile(r"</?code[^>]*>", re.I), "`"),
]


def readable(fragment: str) -> str:
    """An HTML field as Markdown-ish text: line breaks, list items, bold, italics and code
    kept as Markdown, every other tag dropped, entities decoded."""
    text = fragment
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    lines = [line.rstrip() for line in html_text(text).splitlines()]
    return "\n".join(lines).strip()


def _source_text(card: Card, name: str) -> Text | None:
    """The Markdown an author wrote for note field `name`; None for a field deckgen makes (the
    breadcrumb, the card id, the source file), which no pull request changes."""
    attributes = {ANKI_FIELDS[k]: CONTENT_FIELDS[k] for k in ANKI_FIELDS} | {"Extra": "extra"}
    if name in attributes:
        text = getattr(card, attributes[name])
        return text if text is not None else Text("", card.location.line)
    if name == "Sources" and card.sources:
        return Text("\n".join(s.markdown for s in card.sources), card.sources[0].line)
    if name == "Sources":
        return Text("", card.location.line)
    return None


def _fence(text: str) -> str:
    ticks = "`" * max([3, *(len(m) + 1 for m in re.findall(r"`+", text))])
    return f"{ticks}\n{text}\n{ticks}"


def reported_edits(plan: Plan, targets: Sequence[Target]) -> list[tuple[FieldChange, Text]]:
    """The learner's edits of fields an author writes, each with the field's source."""
    cards = {t.card.id: t.card for t in targets}
    result = []
    for change in plan.fields:
        source = _source_text(cards[change.id], change.field) if change.edited else None
        if source is not None:
            result.append((change, source))
    return result


def edits_report(plan: Plan, deck: Deck, targets: Sequence[Target]) -> str:
    """Every field the learner edited, as Markdown a contributor turns into a pull request:
    the card id, the field's `file:line`, its source and the learner's text."""
    rendered = {t.card.id: t.rendered for t in targets}
    edits = reported_edits(plan, targets)
    lines = [
        f"# Edits to {deck.info.name}, against release {plan.release}",
        "",
        f"{len(edits)} edited field(s). For each: where its source is, the source, and the "
        "learner's text (from Anki's HTML).",
    ]
    notes = {
        "kept": "the release did not change it",
        "conflict": "the release changed it too",
        "unknown": "maybe an edit: the release record cannot tell what your release shipped",
        "overwritten": "replaced by the release's value (--theirs)",
    }
    for change, source in edits:
        where = f"{source_file(deck, rendered[change.id])}:{source.line}"
        lines += [
            "",
            f"## `{change.id}` · {change.field}",
            "",
            f"In `{where}`; {notes[change.kind]}.",
            "",
            "Source:",
            "",
            _fence(source.markdown),
            "",
            "Learner's text:",
            "",
            _fence(readable(change.learner)),
        ]
    return "\n".join(lines) + "\n"


def write_edits(path: Path, text: str) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
