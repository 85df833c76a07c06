"""CSV/TSV and JSON exports: quoting, Anki's own text importer, and the committed JSON Schema."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from anki.collection import ImportCsvRequest

from deckgen.build import build
from deckgen.exporters.jsonexport import deck_schema
from deckgen.notetypes import note_guid
from tests.ankiutil import import_package, open_collection
from tests.conftest import SampleBuild

SAMPLE_IDS = {
    "rust-two-mut-borrows",
    "rust-ownership-rule",
    "dns-ttl-term",
    "dns-resolution-order",
    "tcp-time-wait-side",
    "tcp-time-wait-length",
    "tcp-handshake-diagram",
}


def export(cards: Path, out: Path, fmt: str, dialect: str = "anki", *tags: str) -> Path:
    result = build(cards, out, formats=[fmt], include=tags, options={"csv_dialect": dialect})
    (path,) = result.paths
    return path


def import_csv(col, path: Path):  # type: ignore[no-untyped-def]
    metadata = col.get_csv_metadata(str(path), None)
    return col.import_csv(ImportCsvRequest(path=str(path), metadata=metadata)).log


@pytest.mark.parametrize("fmt", ["tsv", "csv"])
def test_anki_text_import_matches_the_apkg(
    sample_build: SampleBuild, tmp_path: Path, fmt: str
) -> None:
    table = sample_build.table(fmt)  # the default dialect: anki
    assert table.read_text().startswith(
        f"#separator:{'Tab' if fmt == 'tsv' else 'Comma'}\n#html:true\n#guid column:1\n"
    )
    col = open_collection(tmp_path / "text")
    log = import_csv(col, table)
    assert len(log.new) == 7
    assert not log.conflicting
    notes = {col.get_note(n).guid: col.get_note(n) for n in col.find_notes("")}
    # The GUID is the .apkg's: deck id and card id, so two decks sharing a card id never collide
    assert set(notes) == {note_guid("sample-deck", card_id) for card_id in SAMPLE_IDS}

    reference = open_collection(tmp_path / "apkg")
    import_package(reference, sample_build.apkg)
    expected = {
        reference.get_note(n).guid: (
            sorted(reference.get_note(n).tags),
            reference.decks.name(reference.get_note(n).cards()[0].did),
            len(reference.get_note(n).cards()),
        )
        for n in reference.find_notes("")
    }
    actual = {
        guid: (sorted(note.tags), col.decks.name(note.cards()[0].did), len(note.cards()))
        for guid, note in notes.items()
    }
    assert actual == expected  # same notes, tags, decks and card counts as the .apkg
    assert col.card_count() == reference.card_count() == 11
    cloze = notes[note_guid("sample-deck", "dns-resolution-order")]
    assert cloze.note_type()["name"] == "Cloze"
    assert "{{c3::authoritative}}" in cloze["Text"]
    assert "RFC 1034 §5.3.3" in cloze["Back Extra"]


def test_reimporting_an_edited_tsv_updates_in_place(
    sample_build: SampleBuild, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    col = open_collection(tmp_path / "text")
    import_csv(col, sample_build.table("tsv"))  # v1: the unchanged deck
    tcp = sample_cards / "net" / "tcp.md"
    tcp.write_text(tcp.read_text().replace("sends the first FIN", "sends FIN first"))
    log = import_csv(col, export(sample_cards, tmp_path / "v2", "tsv"))
    assert not log.new
    assert len(log.updated) == 1
    assert col.note_count() == 7
    (note_id,) = col.find_notes("tcp-time-wait-side")
    assert "sends FIN first" in col.get_note(note_id)["Back"]


@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_quoting_survives_commas_quotes_tabs_and_newlines(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    tmp_path: Path,
    epoch: Callable[[int], None],
    fmt: str,
    delimiter: str,
) -> None:
    write_card(
        "lang/tricky.md",
        '---\ntopic: rust\n---\n## rust-tricky\nQ: Commas, "quotes",\ttabs?\n\n'
        'A: Line one\n\n```text\na\tb, "c"\n```\n\nSource: RFC 9293\n',
    )
    table = export(sample_cards, tmp_path / "dist", fmt, "plain")
    assert table.name == f"sample-deck-plain.{fmt}"
    rows = list(csv.reader(io.StringIO(table.read_text()), delimiter=delimiter))
    assert rows[0] == ["guid", "notetype", "deck", "front", "back", "tags"]
    assert all(len(row) == 6 for row in rows)
    (tricky,) = [row for row in rows if row[3].startswith("<p>Commas")]
    assert tricky[3] == '<p>Commas, "quotes",\ttabs?</p>'
    assert 'a\tb, "c"\n' in tricky[4]


def test_json_export_validates_against_the_schema(sample_build: SampleBuild) -> None:
    document = json.loads(sample_build.json.read_text())
    jsonschema.validate(document, deck_schema())
    assert {card["id"] for card in document["cards"]} == SAMPLE_IDS
    card = next(c for c in document["cards"] if c["id"] == "tcp-handshake-diagram")
    assert card["markdown"]["back"].startswith("SYN, SYN-ACK, ACK.")
    assert card["html"]["back"].startswith("<p>SYN, SYN-ACK, ACK.</p>")
    assert card["file"] == "cards/net/tcp.md"
    assert card["deck"] == "Sample Deck::1 · Networking::TCP"
    assert document["syllabus"]["topics"][0]["subtopics"][0]["id"] == "tcp-handshake"


def test_schema_rejects_a_broken_document(sample_build: SampleBuild) -> None:
    document = json.loads(sample_build.json.read_text())
    document["cards"][0]["type"] = "flashcard"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, deck_schema())


def test_filters_apply_to_every_format(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    result = build(
        sample_cards, tmp_path / "dist", formats=["json", "tsv", "html", "apkg"], include=["dns"]
    )
    names = sorted(p.name for p in result.paths)
    assert names == [
        "sample-deck--dns-site",
        "sample-deck--dns.apkg",
        "sample-deck--dns.json",
        "sample-deck--dns.tsv",
    ]
    document = json.loads((tmp_path / "dist" / "sample-deck--dns.json").read_text())
    assert {c["id"] for c in document["cards"]} == {"dns-ttl-term", "dns-resolution-order"}
    page = (tmp_path / "dist" / "sample-deck--dns-site" / "index.html").read_text()
    assert 'id="dns-ttl-term"' in page
    assert 'id="tcp-time-wait-side"' not in page


def test_text_import_and_apkg_never_make_two_copies(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    """One collection, the deck imported as CSV, then as .apkg: still one note per card.

    The GUIDs match, but the note types do not (Anki's stock ones against deckgen's), so Anki
    keeps the notes it has and logs the .apkg's as conflicting rather than adding copies."""
    col = open_collection(tmp_path / "both")
    import_csv(col, export(sample_cards, tmp_path / "dist", "csv"))
    log = import_package(col, export(sample_cards, tmp_path / "dist", "apkg"))
    assert col.note_count() == len(SAMPLE_IDS)
    assert not log.new
    assert len(log.conflicting) == len(SAMPLE_IDS)
