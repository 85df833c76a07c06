"""The .apkg exporter: frozen note types, stable ids, deterministic and compressed packages."""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import genanki
import jinja2

from deckgen.atomic import atomic_output
from deckgen.cardtypes import CARD_TYPES, CardType
from deckgen.exporters import ExportContext
from deckgen.model import Deck
from deckgen.notetypes import (
    anki_tags,
    card_css,
    card_templates,
    context_fields,
    note_guid,
)
from deckgen.render import MediaFile, RenderedCard, RenderedDeck
from deckgen.templating import template_environment

log = logging.getLogger(__name__)


def stable_id(*parts: str) -> int:
    """A deterministic id in genanki's recommended range [2**30, 2**31) from the given names."""
    digest = hashlib.sha256("\x1f".join(("deckgen", *parts)).encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def model_id(deck_id: str, card_type: CardType) -> int:
    return stable_id(deck_id, "model", card_type.key)


def deck_id_for(deck_id: str, deck_name: str) -> int:
    return stable_id(deck_id, "deck", deck_name)


def build_models(deck: Deck, env: jinja2.Environment) -> dict[str, genanki.Model]:
    """One note type per registered card type, keyed by the card type's key."""
    css = card_css(env)
    templates = card_templates(env, deck)
    models = {}
    for key, card_type in CARD_TYPES.items():
        models[key] = genanki.Model(
            model_id=model_id(deck.info.id, card_type),
            name=f"{deck.info.name} · {card_type.label}",
            fields=[{"name": name} for name in card_type.note_fields],
            templates=[
                {"name": name, "qfmt": front, "afmt": back} for name, front, back in templates[key]
            ],
            css=css,
            model_type=genanki.Model.CLOZE if card_type.cloze else genanki.Model.FRONT_BACK,
            sort_field_index=0,
        )
    return models


ZipDate = tuple[int, int, int, int, int, int]


def _zip_time(timestamp: int) -> ZipDate:
    stamp = time.gmtime(max(timestamp, 315532800))  # zip dates start in 1980
    return (stamp.tm_year, stamp.tm_mon, stamp.tm_mday, stamp.tm_hour, stamp.tm_min, stamp.tm_sec)


ZIP_LEVEL = 6  # zlib's default; deflate makes a text deck ~9x smaller than genanki's stored zip


def _zip_entry(name: str, date_time: ZipDate) -> zipfile.ZipInfo:
    """A deflated entry whose date and mode are fixed, so equal inputs give equal bytes."""
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16  # -rw-r--r--, whatever the source file's mode is
    info.create_system = 3  # Unix, so that the mode above is read as one
    # ZipFile.open(info, "w") streams but takes the level only from the entry itself, and the
    # entry's level became public only in Python 3.13.
    if sys.version_info >= (3, 13):
        info.compress_level = ZIP_LEVEL
    else:
        info._compresslevel = ZIP_LEVEL  # type: ignore[attr-defined]
    return info


def _zip_file(archive: zipfile.ZipFile, name: str, source: Path, date_time: ZipDate) -> None:
    """Stream a file into the archive: a large collection is never held in memory whole."""
    info = _zip_entry(name, date_time)
    with source.open("rb") as src:
        # The size up front lets zipfile choose ZIP64 for files over 2 GiB, as write() does.
        info.file_size = os.fstat(src.fileno()).st_size
        with archive.open(info, "w") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


def write_collection(package: genanki.Package, db_path: Path, timestamp: int) -> None:
    """Write the package's notes into a new SQLite file, as genanki's write_to_file does.

    The same schema, `col` row, timestamps and id counter (seeded with the timestamp in
    milliseconds) as genanki 0.13.1's `Package.write_to_file`, but into a file the caller owns:
    write_to_file leaves its database behind in the system temporary folder on every build.
    """
    conn = sqlite3.connect(db_path)
    try:
        # A scratch file, zipped and deleted right after (a failed build deletes it too): no
        # rollback journal, in a file or in memory (50,000 notes' journal was 50 MB of RAM), and
        # no fsync. VACUUM's copy goes to SQLite's temporary file, unlinked as soon as it is
        # opened, rather than to RAM. The layout is pinned rather than left to how SQLite was
        # compiled; none of these changes a byte of the file.
        conn.execute("PRAGMA page_size = 4096")
        conn.execute("PRAGMA auto_vacuum = NONE")
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA temp_store = FILE")
        id_gen = itertools.count(int(timestamp * 1000))
        # genanki writes the schema and the JSON; deckgen's decks write their own rows, so
        # genanki never sees a field (its unknown-HTML-tag warnings have nothing to warn about).
        package.write_to_db(conn.cursor(), timestamp, id_gen)
        conn.commit()
        # genanki rewrites the `col` row once per deck, which leaves freed pages holding old
        # copies of its JSON: VACUUM drops them, so the file is smaller and holds only what
        # Anki reads. It also lays every table out afresh, in order, so the file's bytes do not
        # depend on the order the rows went in.
        conn.execute("VACUUM")
    finally:
        conn.close()


def write_apkg(
    package: genanki.Package,
    media: Sequence[MediaFile],
    target: Path,
    timestamp: int,
) -> None:
    """Write `target` once: the collection, genanki's `media` map and the numbered media files.

    Entries come in genanki's order and under its names (`collection.anki2`, `media`, `0`, `1`,
    …); media are read from their sources, with no staged copy. Nothing is left behind: the
    database lives in a private temporary folder, and the zip is renamed into place only once
    complete.
    """
    date_time = _zip_time(timestamp)
    media_map = json.dumps({str(index): file.name for index, file in enumerate(media)})
    with tempfile.TemporaryDirectory(prefix="deckgen-apkg-") as tmp:
        db_path = Path(tmp) / "collection.anki2"
        write_collection(package, db_path, timestamp)
        with atomic_output(target) as tmp_target, zipfile.ZipFile(tmp_target, "w") as archive:
            _zip_file(archive, "collection.anki2", db_path, date_time)
            archive.writestr(_zip_entry("media", date_time), media_map)
            for index, file in enumerate(media):
                _zip_file(archive, str(index), file.path, date_time)


_NOTE_ROW = "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)"
_CARD_ROW = "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
# A new card's ivl, factor, reps, lapses, left, odue, odid, flags and data.
_ZEROS = (0, 0, 0, 0, 0, 0, 0, 0, "")
_Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class _Note:
    """What genanki.Note holds of a note deckgen writes; its rows are genanki's (see
    `_DeckOfNotesMadeLate`)."""

    model: genanki.Model
    fields: list[str]
    tags: list[str]
    guid: str

    def card_ords(self) -> list[int]:
        """The templates that make a card of this note, by genanki 0.13.1's own rules, run on
        it: a cloze note's deletions, else each template whose required fields are filled."""
        cloze = self.model.model_type == genanki.Model.CLOZE
        cards = genanki.Note._cloze_cards if cloze else genanki.Note._front_back_cards
        return [card.ord for card in cards(self)]

    def rows(
        self, note_id: int, ids: Iterator[int], deck_id: int, mod: int, moment: int
    ) -> tuple[_Row, list[_Row]]:
        """The `notes` row and the `cards` rows, as genanki's Note.write_to_db makes them."""
        if len(self.model.fields) != len(self.fields):
            raise ValueError(
                f"{self.model.name} has {len(self.model.fields)} fields, not {len(self.fields)}"
            )
        if any(" " in tag for tag in self.tags):
            raise ValueError(f"a tag contains a space: {self.tags}")
        tags = " " + " ".join(self.tags) + " "
        flds = "\x1f".join(self.fields)
        sort = self.fields[self.model.sort_field_index]
        note = (note_id, self.guid, self.model.model_id, moment, -1, tags, flds, sort, 0, 0, "")
        # id, nid, did, ord, mod, usn, type, queue (0: not suspended), due (0), then ivl to flags
        # and data
        cards: list[_Row] = [
            (next(ids), note_id, deck_id, o, mod, -1, 0, 0, 0, *_ZEROS) for o in self.card_ords()
        ]
        return note, cards


class _DeckOfNotesMadeLate(genanki.Deck):  # type: ignore[misc]
    """A genanki deck whose notes are made only while it is written, then dropped: a 50,000-card
    package holds one deck's notes at a time rather than all of them (genanki 0.13.1's
    `Package.write_to_db` writes deck by deck).

    genanki writes the deck's and its note types' JSON; the notes' and cards' rows are written
    here, one batch a table, with the values and ids genanki's `Note.write_to_db` gives them
    (tests/test_apkg_write.py compares the files), except each note's `mod`: the time in
    `times` (by GUID) when it has one. genanki makes a Note object a note, inserts row by row
    and checks each field for unknown HTML tags only to warn (deckgen sanitized the fields).
    """

    def __init__(
        self,
        deck_id: int,
        name: str,
        description: str,
        written: Callable[[int], None],
        times: Mapping[str, int],
    ) -> None:
        super().__init__(deck_id, name, description)
        self.makers: list[Callable[[], _Note]] = []
        self.written = written  # told how many notes each deck wrote
        self.times = times  # GUID -> the note's modification time, where the history sets one

    def write_to_db(self, cursor: sqlite3.Cursor, timestamp: float, id_gen: Iterator[int]) -> None:
        notes = [make() for make in self.makers]
        for note in notes:  # the note types in the order genanki registers them
            self.add_model(note.model)
        super().write_to_db(cursor, timestamp, id_gen)  # self.notes is empty: the JSON only
        mod = int(timestamp)
        note_rows, card_rows = [], []
        for note in notes:
            note_id = next(id_gen)
            row, cards = note.rows(
                note_id, id_gen, self.deck_id, mod, self.times.get(note.guid, mod)
            )
            note_rows.append(row)
            card_rows += cards
        cursor.executemany(_NOTE_ROW, note_rows)
        cursor.executemany(_CARD_ROW, card_rows)
        self.written(len(notes))


class AnkiExporter:
    """Writes `<stem>.apkg`: one Anki package with nested decks <Deck>::<Section>::<Topic>
    (<Deck>::<Topic> without sections)."""

    name: ClassVar[str] = "apkg"
    suffix: ClassVar[str] = ".apkg"
    description: ClassVar[str] = "Anki package (.apkg) for Anki desktop, AnkiDroid and AnkiMobile"
    default: ClassVar[bool] = True

    def export(self, deck: RenderedDeck, out_dir: Path, context: ExportContext) -> list[Path]:
        env = template_environment(context.templates_dir)
        models = build_models(deck.deck, env)
        sources_template = env.get_template("anki/sources.html")
        info = deck.deck.info
        decks: dict[str, _DeckOfNotesMadeLate] = {}
        written = 0

        def count(notes: int) -> None:
            nonlocal written
            written += notes
            context.status.count("writing the notes", written, len(deck.cards))

        def anki_deck(name: str) -> _DeckOfNotesMadeLate:
            if name not in decks:
                # Anki's deck overview shows the description as HTML: give it plain text only.
                description = html.escape(info.description) if name == info.name else ""
                deck_id = deck_id_for(info.id, name)
                decks[name] = _DeckOfNotesMadeLate(deck_id, name, description, count, times)
            return decks[name]

        def note_maker(rendered: RenderedCard, guid: str) -> Callable[[], _Note]:
            card = rendered.card
            return lambda: _Note(
                model=models[card.type.key],
                fields=list(
                    context_fields(context, deck.deck, rendered, sources_template).values()
                ),
                tags=[*anki_tags(deck.deck, rendered), *context.note_tags.get(card.id, ())],
                guid=guid,
            )

        # Anki updates a note only when the package's copy is newer: each note carries the time
        # of the release in which it last changed, so an unchanged note reads as up to date.
        times: dict[str, int] = {}  # by GUID, for the notes whose time the history sets
        anki_deck(info.name)
        context.status.count("writing the notes", 0, len(deck.cards))
        for rendered in deck.cards:
            card = rendered.card
            guid = note_guid(info.id, card.id)
            if card.id in context.note_times:
                times[guid] = context.note_times[card.id]
            path = deck.deck.deck_path(card)
            # Anki's importer walks a card's parent decks by name and stops at the first one
            # missing from the package: ship every level so the top deck (and its
            # description) arrives too.
            parts = path.split("::")
            for depth in range(2, len(parts)):
                anki_deck("::".join(parts[:depth]))
            anki_deck(path).makers.append(note_maker(rendered, guid))

        target = out_dir / f"{context.stem}{self.suffix}"
        package = genanki.Package([decks[name] for name in sorted(decks)])
        write_apkg(package, deck.media, target, context.timestamp)
        log.info("wrote %s: %d notes, %d media", target, len(deck.cards), len(deck.media))
        return [target]


def frozen_identity(deck_id: str) -> dict[str, dict[str, object]]:
    """The names and ids Anki matches on; tests compare this with a committed copy."""
    return {
        card_type.key: {
            "model_id": model_id(deck_id, card_type),
            "fields": list(card_type.note_fields),
            "templates": [t.name for t in card_type.templates],
        }
        for card_type in CARD_TYPES.values()
    }
