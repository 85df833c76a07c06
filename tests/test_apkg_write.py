"""How the .apkg is written: one deterministic zip, genanki's database, nothing left behind."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import genanki
import pytest
from PIL import Image

import deckgen.exporters.anki
from deckgen.build import BuildResult, build
from tests.ankiutil import import_package, open_collection

EPOCH = 1_700_000_000
EPOCH_ZIP_DATE = (2023, 11, 14, 22, 13, 20)  # EPOCH in UTC, as the zip entries carry it
STEM = "sample-deck"


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A system temporary folder of this test's own, so that anything left in it is ours."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))  # read by tempfile and by SQLite alike
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile caches the folder: look again
    assert tempfile.gettempdir() == str(folder)
    return folder


@pytest.fixture
def two_media(sample_cards: Path) -> Path:
    """A second image, made unreadable to others, in a card after the one with the first."""
    image = sample_cards / "net" / "img" / "dot.png"
    Image.new("RGB", (3, 2), (200, 30, 30)).save(image)
    image.chmod(0o600)  # the zip must not carry the source's mode
    dns = sample_cards / "net" / "dns.md"
    dns.write_text(
        dns.read_text().replace(
            "cache a record.\n", "cache a record.\n\n![A red dot](img/dot.png)\n"
        )
    )
    return image


def build_apkg(cards: Path, out: Path) -> BuildResult:
    return build(cards, out, formats=["apkg"], use_cache=False)


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def collection_of(package: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "collection.anki2"
    with zipfile.ZipFile(package) as archive:
        db.write_bytes(archive.read("collection.anki2"))
    return db


@pytest.mark.usefixtures("epoch", "two_media")
def test_two_builds_are_byte_identical(sample_cards: Path, tmp_path: Path, temp_dir: Path) -> None:
    first = build_apkg(sample_cards, tmp_path / "one").paths[0].read_bytes()
    second = build_apkg(sample_cards, tmp_path / "two").paths[0].read_bytes()
    again = build_apkg(sample_cards, tmp_path / "one").paths[0].read_bytes()  # over the old one
    assert first == second == again


@pytest.mark.usefixtures("epoch", "two_media")
def test_a_build_leaves_only_the_apkg(sample_cards: Path, tmp_path: Path, temp_dir: Path) -> None:
    out = tmp_path / "dist"
    out.mkdir()
    (out / "notes.txt").write_text("not deckgen's\n")
    before_out, before_tmp = listing(out), listing(temp_dir)

    result = build_apkg(sample_cards, out)

    assert result.paths == (out / f"{STEM}.apkg",)
    assert listing(out) == sorted([*before_out, f"{STEM}.apkg"])
    assert listing(temp_dir) == before_tmp == []
    assert (out / f"{STEM}.apkg").stat().st_mode & 0o777 == 0o644


@pytest.mark.usefixtures("epoch")
def test_the_zip_holds_the_collection_the_media_map_and_numbered_media(
    sample_cards: Path, tmp_path: Path, temp_dir: Path, two_media: Path
) -> None:
    result = build_apkg(sample_cards, tmp_path / "dist")
    media = result.deck.media
    assert [m.path for m in media] == [sample_cards / "net" / "img" / "handshake.png", two_media]

    with zipfile.ZipFile(result.paths[0]) as archive:
        entries = archive.infolist()
        assert [e.filename for e in entries] == ["collection.anki2", "media", "0", "1"]
        for entry in entries:
            assert entry.compress_type == zipfile.ZIP_DEFLATED
            assert entry.date_time == EPOCH_ZIP_DATE
            assert entry.create_system == 3
            assert entry.external_attr >> 16 == 0o644
        assert json.loads(archive.read("media")) == {"0": media[0].name, "1": media[1].name}
        assert archive.read("0") == media[0].path.read_bytes()
        assert archive.read("1") == media[1].path.read_bytes()
        assert archive.testzip() is None  # every CRC matches

    raw = collection_of(result.paths[0], tmp_path / "db").read_bytes()
    assert raw[:16] == b"SQLite format 3\x00"
    assert raw[18:20] == b"\x01\x01"  # rollback journal, not WAL: what every Anki reads
    with sqlite3.connect(tmp_path / "db" / "collection.anki2") as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        assert db.execute("pragma page_size").fetchone() == (4096,)
        assert db.execute("pragma freelist_count").fetchone() == (0,)  # vacuumed: no stale pages
        # genanki's clock: every note stamped with the timestamp, ids counted up from it in ms.
        assert db.execute("select count(*), min(mod), max(mod) from notes").fetchone() == (
            7,
            EPOCH,
            EPOCH,
        )
        assert db.execute("select min(id) from notes").fetchone() == (EPOCH * 1000,)
        assert db.execute("select count(*) from cards").fetchone() == (11,)


@pytest.mark.usefixtures("epoch", "two_media")
def test_the_collection_is_what_genanki_write_to_file_writes(
    sample_cards: Path, tmp_path: Path, temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same rows as genanki's own writer for the same notes: schema, `col`, ids, timestamps.
    The exporter makes the rows itself, in batches; here genanki makes them, note by note,
    from plain genanki decks holding genanki Notes of the same model, fields, tags and GUID."""
    packages: list[genanki.Package] = []
    write_to_db = genanki.Package.write_to_db

    def spy(self: genanki.Package, *args: Any) -> None:
        packages.append(self)
        write_to_db(self, *args)

    monkeypatch.setattr(genanki.Package, "write_to_db", spy)
    ours = collection_of(build_apkg(sample_cards, tmp_path / "dist").paths[0], tmp_path / "ours")
    (package,) = packages
    monkeypatch.setattr(genanki.Package, "write_to_db", write_to_db)
    plain = []
    for deck in package.decks:
        copy = genanki.Deck(deck.deck_id, deck.name, deck.description)
        copy.notes = [
            genanki.Note(model=n.model, fields=n.fields, tags=n.tags, guid=n.guid)
            for n in (make() for make in deck.makers)
        ]
        plain.append(copy)
    assert {type(deck) for deck in plain} == {genanki.Deck}
    assert sum(len(deck.notes) for deck in plain) == 7
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # genanki's unknown-HTML-tag warnings, as in the exporter
        genanki.Package(plain).write_to_file(str(tmp_path / "genanki.apkg"), timestamp=EPOCH)
    theirs = collection_of(tmp_path / "genanki.apkg", tmp_path / "theirs")

    with sqlite3.connect(ours) as a, sqlite3.connect(theirs) as b:
        assert list(a.iterdump()) == list(b.iterdump())
        # cloze notes make one card per deletion: the rows cover both kinds of note type
        assert a.execute("select count(*) from cards").fetchone() == (11,)


@pytest.mark.usefixtures("epoch", "two_media")
def test_anki_imports_the_package_and_updates_it_in_place(
    sample_cards: Path, tmp_path: Path, temp_dir: Path, epoch: Callable[[int], None]
) -> None:
    result = build_apkg(sample_cards, tmp_path / "v1")
    col = open_collection(tmp_path / "anki")
    log = import_package(col, result.paths[0])
    assert len(log.new) == col.note_count() == 7
    assert col.card_count() == 11
    stored = {p.name: p.read_bytes() for p in Path(col.media.dir()).iterdir()}
    assert stored == {m.name: m.path.read_bytes() for m in result.deck.media}
    notes = set(col.find_notes(""))

    epoch(EPOCH + 600)
    log = import_package(col, build_apkg(sample_cards, tmp_path / "v2").paths[0])
    assert not log.new and not log.conflicting
    assert len(log.updated) == 7
    assert set(col.find_notes("")) == notes
    col.close()


class Boom(RuntimeError):
    pass


def fail_in_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Raise while the notes' rows are made, after genanki wrote a deck's JSON: a half-written
    collection exists."""
    rows = deckgen.exporters.anki._Note.rows
    calls = iter(range(1_000))

    def flaky(self: Any, *args: Any) -> Any:
        if next(calls) == 3:
            raise Boom("the collection failed")
        return rows(self, *args)

    monkeypatch.setattr(deckgen.exporters.anki._Note, "rows", flaky)


def fail_in_zip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Raise on the last media entry: the collection and the map are already in the zip."""
    zip_file = deckgen.exporters.anki._zip_file

    def flaky(archive: zipfile.ZipFile, name: str, *args: Any) -> None:
        if name == "1":
            raise Boom("disk full")
        zip_file(archive, name, *args)

    monkeypatch.setattr(deckgen.exporters.anki, "_zip_file", flaky)


FAILURES = [fail_in_collection, fail_in_zip]


@pytest.mark.usefixtures("epoch", "two_media")
@pytest.mark.parametrize("fail", FAILURES, ids=lambda f: f.__name__)
def test_a_failed_write_leaves_no_apkg_and_no_temp_files(
    sample_cards: Path,
    tmp_path: Path,
    temp_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    fail: Callable[[pytest.MonkeyPatch], None],
) -> None:
    out = tmp_path / "dist"
    fail(monkeypatch)
    with pytest.raises(Boom):
        build_apkg(sample_cards, out)
    assert listing(out) == []
    assert listing(temp_dir) == []


@pytest.mark.usefixtures("epoch", "two_media")
@pytest.mark.parametrize("fail", FAILURES, ids=lambda f: f.__name__)
def test_a_failed_write_keeps_the_previous_apkg(
    sample_cards: Path,
    tmp_path: Path,
    temp_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    fail: Callable[[pytest.MonkeyPatch], None],
    epoch: Callable[[int], None],
) -> None:
    out = tmp_path / "dist"
    (previous,) = build_apkg(sample_cards, out).paths
    old = previous.read_bytes()
    epoch(EPOCH + 600)
    fail(monkeypatch)
    with pytest.raises(Boom):
        build_apkg(sample_cards, out)
    assert listing(out) == [previous.name]
    assert previous.read_bytes() == old
    assert listing(temp_dir) == []
