"""`deckgen sync` against real collections of the official `anki` package: a learner's v1,
reviewed and edited, brought to v2 in place."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from deckgen.build import build
from deckgen.cardtypes import CARD_TYPES
from deckgen.cli import cli
from deckgen.history import read_record, write_record
from deckgen.notetypes import note_guid
from deckgen.sync import profile_collection, readable
from tests.ankiutil import import_package, open_collection, review_all_due
from tests.conftest import FIXTURES, PROJECT, without_sections

anki = pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402
from anki.scheduler.v3 import CardAnswer  # noqa: E402

V1_TIME = 1_700_000_000
V2_TIME = 1_700_100_000
LEARNER_BACK = "The side that closes first (my words)."
DECK = "Sample Deck"
TCP = f"{DECK}::1 · Networking::TCP"
DNS = f"{DECK}::1 · Networking::DNS"
OWN_DECK = "My hard ones"
NEW_CARD = (
    "\n## tcp-syn-cookies\nTags: tcp-handshake\nQ: What do SYN cookies save a server?\n\n"
    "A: The state of half-open connections.\n\n![A cookie](img/cookie.png)\n\nSource: RFC 4987\n"
)


def deckgen(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def release(cards: Path, version: str, when: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(when))
    code, out = deckgen("release", "--cards", str(cards), version)
    assert code == 0, out


def note_of(col: Collection, card_id: str) -> Any:
    (note_id,) = col.find_notes(f'"CardId:{card_id}"')
    return col.get_note(note_id)


def scheduling(col: Collection) -> dict[int, tuple[Any, ...]]:
    """What review history hangs on: every card's schedule and every review log row."""
    cards = {
        cid: tuple(row)
        for cid, *row in col.db.all(
            "select id, type, ivl, due, factor, reps, lapses, left, odue from cards"
        )
    }
    cards[0] = tuple(map(tuple, col.db.all("select * from revlog order by id")))
    # The schema's modification time: a change to it forces a full sync with AnkiWeb.
    cards[-1] = (col.db.scalar("select scm from col"),)
    return cards


@dataclass
class Learner:
    project: Path
    cards: Path
    collection: Path
    schedule: dict[int, tuple[Any, ...]]  # before the sync
    reviewed: list[int]


def v1_collection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Learner:
    """Release v1, imported and studied: every card reviewed, one lapsed; the learner edits a
    field, adds a tag, marks a note and moves a card to a deck of their own."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "sample" / "cards", project / "cards")
    cards = project / "cards"
    release(cards, "v1", V1_TIME, monkeypatch)
    (package,) = build(cards, tmp_path / "dist", formats=["apkg"]).paths
    col = open_collection(tmp_path / "anki")
    assert len(import_package(col, package).new) == 7
    reviewed = review_all_due(col, DECK, 50)
    assert len(reviewed) == col.card_count() == 11
    lapsed = col.get_card(reviewed[0])
    col.sched.set_due_date([lapsed.id], "0")
    col.decks.select(col.decks.id_for_name(DECK))  # type: ignore[arg-type]
    top = col.sched.get_queued_cards(fetch_limit=1).cards[0]
    card = col.get_card(top.card.id)
    card.start_timer()
    col.sched.answer_card(
        col.sched.build_answer(card=card, states=top.states, rating=CardAnswer.AGAIN)
    )
    assert col.get_card(card.id).lapses == 1

    note = note_of(col, "tcp-time-wait-side")
    note["Back"] = LEARNER_BACK
    col.update_note(note)
    note = note_of(col, "tcp-time-wait-length")
    note.tags.append("my-own-tag")
    col.update_note(note)
    note = note_of(col, "dns-ttl-term")
    note.tags.append("marked")
    col.update_note(note)
    moved = note_of(col, "dns-resolution-order").cards()[0]
    col.set_deck([moved.id], col.decks.id(OWN_DECK))  # type: ignore[arg-type]
    schedule = scheduling(col)
    path = Path(col.path)
    col.close()
    return Learner(project, cards, path, schedule, reviewed)


def release_v2(learner: Learner, monkeypatch: pytest.MonkeyPatch) -> None:
    """v2 edits two cards (one the learner edited), moves one to another topic, retires one and
    adds one."""
    cards = learner.cards
    tcp, dns = cards / "net" / "tcp.md", cards / "net" / "dns.md"
    edit(tcp, "the side that sends the first FIN.", "the side that sends FIN first.")
    edit(dns, "may cache a record.", "may cache a record before asking again.")
    text = tcp.read_text(encoding="utf-8")
    start = text.index("## tcp-time-wait-length")
    end = text.index("## tcp-handshake-diagram")
    moved, retired = text[start:end], text[end:]
    tcp.write_text(text[:start] + NEW_CARD.lstrip("\n"), encoding="utf-8")
    Image.new("RGB", (4, 4), "orange").save(cards / "net" / "img" / "cookie.png")
    dns.write_text(dns.read_text(encoding="utf-8") + "\n" + moved, encoding="utf-8")
    assert "tcp-handshake-diagram" in retired
    code, out = deckgen("retire", "--cards", str(cards), "tcp-handshake-diagram", "--reason", "old")
    assert code == 0, out
    release(cards, "v2", V2_TIME, monkeypatch)


@pytest.fixture
def learner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Learner:
    learner = v1_collection(tmp_path, monkeypatch)
    release_v2(learner, monkeypatch)
    return learner


def sync_json(learner: Learner, *args: str) -> dict[str, Any]:
    code, out = deckgen(
        "sync",
        "--cards",
        str(learner.cards),
        "--collection",
        str(learner.collection),
        *args,
        "--format",
        "json",
    )
    assert code == 0, out
    return json.loads(out[: out.rindex("}") + 1])


EXPECTED_COUNTS = {
    "new": 1,
    "updated": 2,  # the edited answer and the moved card
    "unchanged": 4,  # nothing written: the rust cards, the learner-moved and the conflicting one
    "moved": 1,
    "not moved": 1,
    "decks renamed": 0,
    "note types updated": 0,
    "retired": 1,
    "fields updated": 3,  # dns-ttl-term's Back; the moved card's Breadcrumb and SourceFile
    "edits kept": 0,
    "conflicts": 1,
    "overwritten": 0,
    "skipped": 0,
}


def test_the_record_keeps_each_field_as_each_release_shipped_it(learner: Learner) -> None:
    record = read_record(learner.cards)
    side = record.cards["tcp-time-wait-side"]
    assert side.fields is not None
    assert [release for release, _ in side.fields["Back"]] == ["v1", "v2"]
    assert [release for release, _ in side.fields["Front"]] == ["v1"]
    assert side.field_at("Back", record.index, "v1") == side.fields["Back"][0][1]
    assert side.field_at("Back", record.index, "v2") == side.fields["Back"][1][1]
    moved = record.cards["tcp-time-wait-length"].fields
    assert moved is not None and [r for r, _ in moved["Breadcrumb"]] == ["v1", "v2"]
    assert set(moved) == {"Front", "Back", "Extra", "Sources", "Breadcrumb", "CardId", "SourceFile"}
    assert record.cards["tcp-syn-cookies"].fields is not None
    text = (learner.cards / "releases.json").read_text(encoding="utf-8")
    assert '"fields": {"Front": [["v1", "' in text


def test_sync_applies_v2_and_keeps_the_learner(learner: Learner, tmp_path: Path) -> None:
    untouched = learner.collection.read_bytes()
    plan = sync_json(learner)
    assert learner.collection.read_bytes() == untouched  # the dry run wrote nothing
    assert plan["counts"] == EXPECTED_COUNTS
    assert plan["applied"] is False and plan["backup"] is None
    assert {(f["id"], f["field"], f["kind"]) for f in plan["fields"]} == {
        ("tcp-time-wait-side", "Back", "conflict"),
        ("dns-ttl-term", "Back", "updated"),
        ("tcp-time-wait-length", "Breadcrumb", "updated"),
        ("tcp-time-wait-length", "SourceFile", "updated"),
    }
    before = learner.collection.read_bytes()

    report = tmp_path / "fixes.md"
    applied = sync_json(learner, "--apply", "--report-edits", str(report))
    assert applied["applied"] is True
    assert {k: v for k, v in applied.items() if k not in ("applied", "backup")} == {
        k: v for k, v in plan.items() if k not in ("applied", "backup")
    }
    backup = Path(applied["backup"])
    assert backup.parent == learner.collection.parent / "backups" and backup.suffix == ".colpkg"

    col = Collection(str(learner.collection))
    try:
        assert col.note_count() == 8
        side = note_of(col, "tcp-time-wait-side")
        assert side["Back"] == LEARNER_BACK  # the conflict: the learner's value kept
        # an open conflict: still v1's note, so that the next sync reports it again
        assert "deckgen::changed::v1" in side.tags and "deckgen::changed::v2" not in side.tags
        term = note_of(col, "dns-ttl-term")
        assert "before asking again" in term["Back"]  # the other edit applied
        assert "marked" in term.tags
        length = note_of(col, "tcp-time-wait-length")
        assert "my-own-tag" in length.tags and "topic::dns" in length.tags
        assert "topic::tcp" not in length.tags and "tcp-time-wait" not in length.tags
        assert {c.did for c in length.cards()} == {col.decks.id_for_name(DNS)}
        own = note_of(col, "dns-resolution-order").cards()[0]
        assert own.did == col.decks.id_for_name(OWN_DECK)
        retired = note_of(col, "tcp-handshake-diagram")
        assert "deckgen::retired" in retired.tags
        assert all(c.queue == -1 for c in retired.cards())
        new = note_of(col, "tcp-syn-cookies")
        assert new.guid == note_guid("sample-deck", "tcp-syn-cookies")
        assert {c.did for c in new.cards()} == {col.decks.id_for_name(TCP)}
        (image,) = re.findall(r'src="([0-9a-f]{20}\.png)"', new["Back"])
        media = Path(col.media.dir()) / image
        assert media.read_bytes() == (learner.cards / "net" / "img" / "cookie.png").read_bytes()
        after = scheduling(col)
        assert {k: after[k] for k in learner.schedule} == learner.schedule
    finally:
        col.close()
    assert learner.collection.read_bytes() != before

    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Edits to Sample Deck, against release v2\n\n1 edited field(s).")
    line = next(
        n
        for n, row in enumerate((learner.cards / "net/tcp.md").read_text().splitlines(), 1)
        if row.startswith("A: The **active closer**")
    )
    assert "## `tcp-time-wait-side` · Back\n" in text
    assert f"In `cards/net/tcp.md:{line}`; the release changed it too." in text
    assert f"Learner's text:\n\n```\n{LEARNER_BACK}\n```" in text
    assert "the side that sends FIN first." in text  # the source the learner changed

    synced = learner.collection.read_bytes()
    again = sync_json(learner, "--apply")
    assert again["applied"] is False and again["backup"] is None
    assert again["counts"] == EXPECTED_COUNTS | {
        "new": 0,
        "updated": 0,
        "unchanged": 7,  # every note of v2; the retired one is not counted
        "moved": 0,
        "retired": 0,
        "fields updated": 0,
    }  # the conflict and the learner's own deck are reported again; nothing is written
    assert learner.collection.read_bytes() == synced


def test_the_plan_reads_as_a_table(learner: Learner) -> None:
    code, out = deckgen(
        "sync", "--cards", str(learner.cards), "--collection", str(learner.collection)
    )
    assert code == 0, out
    assert re.search(r"^new +1$", out, re.M) and re.search(r"^conflicts +1$", out, re.M)
    assert "conflict    tcp-time-wait-side: Back: your edit kept; the release changed it" in out
    assert f"moved       tcp-time-wait-length: {TCP} → {DNS}" in out
    assert f"stays       dns-resolution-order: in your deck {OWN_DECK}" in out
    assert "retired     tcp-handshake-diagram: old" in out
    assert "dry run, nothing written" in out


def test_a_record_without_field_fingerprints_keeps_what_it_cannot_prove_unedited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A v1 recorded before deckgen kept field fingerprints (as the deck's own v2026.12): a
    field whose v1 value the record cannot tell is kept unless the note is provably untouched
    (its modification time is still the release's, as Anki 25.02+ imports it)."""
    learner = v1_collection(tmp_path, monkeypatch)
    record = read_record(learner.cards)
    record.cards = {k: replace(v, fields=None) for k, v in record.cards.items()}
    write_record(record)
    assert '"fields"' not in (learner.cards / "releases.json").read_text(encoding="utf-8")
    edit(learner.cards / "lang" / "rust.md", "value is {{c2::dropped}}", "value is {{c2::freed}}")
    release_v2(learner, monkeypatch)
    record = read_record(learner.cards)
    # Unchanged since v1: its fingerprint proves its fields are v1's. Changed: known from v2 on.
    unchanged = record.cards["rust-two-mut-borrows"].fields
    assert unchanged is not None and len(unchanged) == 7
    assert all([r for r, _ in history] == ["v1"] for history in unchanged.values())
    term = record.cards["dns-ttl-term"]
    assert term.fields is not None and [r for r, _ in term.fields["Back"]] == ["v2"]
    assert term.field_at("Back", record.index, "v1") is None
    report = tmp_path / "fixes.md"
    plan = sync_json(learner, "--apply", "--report-edits", str(report))
    assert {(f["id"], f["field"], f["kind"]) for f in plan["fields"]} == {
        ("tcp-time-wait-side", "Back", "unknown"),  # edited by the learner
        ("dns-ttl-term", "Back", "unknown"),  # marked by the learner: touched
        ("tcp-time-wait-length", "Breadcrumb", "unknown"),  # tagged by the learner: touched
        ("tcp-time-wait-length", "SourceFile", "unknown"),
        ("rust-ownership-rule", "Text", "updated"),  # untouched since v1's import
    }
    col = Collection(str(learner.collection))
    try:
        assert "freed" in note_of(col, "rust-ownership-rule")["Text"]
        assert "before asking again" not in note_of(col, "dns-ttl-term")["Back"]
    finally:
        col.close()
    assert sync_json(learner)["counts"]["conflicts"] == 4  # still reported, never overwritten
    text = report.read_text(encoding="utf-8")
    assert "2 edited field(s)" in text  # a contributor fixes no breadcrumb or file name
    assert "## `dns-ttl-term` · Back\n" in text and "## `tcp-time-wait-side` · Back\n" in text
    assert text.count("maybe an edit: the release record cannot tell") == 2


def test_profile_finds_the_collection_in_ankis_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_cards: Path
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("Anki's data folder on Linux (XDG_DATA_HOME)")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    collection = tmp_path / "data" / "Anki2" / "User 1" / "collection.anki2"
    code, out = deckgen("sync", "--cards", str(sample_cards), "--profile", "User 1")
    assert code == 1
    assert f"{collection}:1:1: DG905 [error] no Anki profile 'User 1'; " in out
    assert "Anki2 has no profile" in out
    collection.parent.mkdir(parents=True)
    collection.write_bytes(b"")
    assert profile_collection("User 1") == collection
    (collection.parent.parent / "Work").mkdir()
    (collection.parent.parent / "Work" / "collection.anki2").write_bytes(b"")
    code, out = deckgen("sync", "--cards", str(sample_cards), "--profile", "user1")
    assert code == 1
    assert (
        "DG905 [error] no Anki profile 'user1' (did you mean 'User 1'?); profiles here: User 1, "
        "Work\n" in out
    )


def test_sync_needs_exactly_one_collection() -> None:
    code, out = deckgen("sync")
    assert code == 2 and "--collection PATH or --profile NAME" in out
    code, out = deckgen("sync", "--collection", "a", "--profile", "b")
    assert code == 2


def test_a_renamed_topic_renames_its_deck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """v2 only retitles the DNS topic and the Networking round: their decks are renamed, with
    the learner's own sub-deck inside, instead of new decks beside the old ones."""
    learner = v1_collection(tmp_path, monkeypatch)
    col = Collection(str(learner.collection))
    own = col.decks.id(f"{DNS}::Mine")
    card = note_of(col, "dns-ttl-term").cards()[1]
    col.set_deck([card.id], own)  # type: ignore[arg-type]
    col.close()
    edit(learner.cards / "syllabus.yaml", "title: DNS", "title: Domain names")
    edit(learner.cards / "syllabus.yaml", '"1 · Networking"', '"1 · Networks"')
    release(learner.cards, "v2", V2_TIME, monkeypatch)
    new_round, new_topic = f"{DECK}::1 · Networks", f"{DECK}::1 · Networks::Domain names"
    plan = sync_json(learner, "--apply")
    assert plan["renames"] == [
        {"old": f"{DECK}::1 · Networking", "new": new_round},
        {"old": f"{new_round}::DNS", "new": new_topic},
    ]
    assert plan["counts"]["moved"] == 0
    assert plan["counts"]["not moved"] == 2  # My hard ones, and the sub-deck Mine
    col = Collection(str(learner.collection))
    try:
        names = {d.name for d in col.decks.all_names_and_ids()}
        assert f"{DECK}::1 · Networking" not in names and DNS not in names
        ttl = note_of(col, "dns-ttl-term").cards()
        assert [col.decks.name(c.did) for c in ttl] == [new_topic, f"{new_topic}::Mine"]
        tcp = note_of(col, "tcp-time-wait-side").cards()
        assert [col.decks.name(c.did) for c in tcp] == [f"{new_round}::TCP"]
        assert note_of(col, "dns-ttl-term")["Breadcrumb"] == "1 · Networks › Domain names"
        assert scheduling(col) == learner.schedule
    finally:
        col.close()
    assert sync_json(learner)["counts"]["updated"] == 0


def test_a_sync_that_anki_refuses_midway_is_rolled_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DNS topic is retitled, and the learner has a filtered deck of the new deck's name:
    the cards cannot move into it, and everything done before in the transaction is undone."""
    learner = v1_collection(tmp_path, monkeypatch)
    edit(learner.cards / "syllabus.yaml", "title: DNS", "title: Domain names")
    edit(learner.cards / "net" / "dns.md", "may cache a record.", "may cache a record again.")
    release(learner.cards, "v2", V2_TIME, monkeypatch)
    col = Collection(str(learner.collection))
    col.decks.new_filtered(f"{DECK}::1 · Networking::Domain names")
    col.close()
    untouched = state(learner.collection, learner.schedule)
    code, out = deckgen(
        "sync", "--cards", str(learner.cards), "--collection", str(learner.collection), "--apply"
    )
    assert code == 1, out
    assert "DG905" in out and "FilteredDeckError" in out and "rolled back whole" in out
    assert state(learner.collection, learner.schedule) == untouched
    assert len(list((learner.collection.parent / "backups").iterdir())) == 1


def test_a_release_of_new_templates_updates_the_note_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v2 changes only the card style: each note type's CSS is replaced, as an import would."""
    learner = v1_collection(tmp_path, monkeypatch)
    templates = tmp_path / "templates"
    shutil.copytree(PROJECT / "templates", templates)
    style = templates / "anki" / "style.css"
    style.write_text(style.read_text(encoding="utf-8") + "\n.v2-rule { color: teal; }\n")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(V2_TIME))
    code, out = deckgen(
        "release", "--cards", str(learner.cards), "--templates", str(templates), "v2"
    )
    assert code == 0, out
    plan = sync_json(learner, "--templates", str(templates), "--apply")
    used = ["basic", "cloze", "reversed"]  # the .apkg brings only the note types its notes use
    assert sorted(plan["note_types"]) == used
    assert plan["counts"]["updated"] == 7  # every note: its deckgen::changed:: tag
    col = Collection(str(learner.collection))
    try:
        for key in used:
            notetype = col.models.by_name(f"{DECK} · {CARD_TYPES[key].label}")
            assert notetype is not None and ".v2-rule { color: teal; }" in notetype["css"]
        assert "teal" in note_of(col, "dns-ttl-term").cards()[0].answer()
        assert scheduling(col) == learner.schedule
    finally:
        col.close()
    again = sync_json(learner, "--templates", str(templates))
    assert again["note_types"] == [] and again["counts"]["updated"] == 0


def test_delete_retired_deletes_the_retired_note(learner: Learner) -> None:
    plan = sync_json(learner, "--apply", "--delete-retired")
    assert plan["delete_retired"] is True and plan["retired"] == [
        {"id": "tcp-handshake-diagram", "reason": "old"}
    ]
    col = Collection(str(learner.collection))
    try:
        assert col.note_count() == 7 and not col.find_notes('"CardId:tcp-handshake-diagram"')
    finally:
        col.close()
    assert sync_json(learner, "--delete-retired")["counts"]["retired"] == 0


def test_learner_html_reads_as_markdown() -> None:
    assert readable("<b>Active</b> closer<br>sends <code>FIN</code> &amp; waits") == (
        "**Active** closer\nsends `FIN` & waits"
    )
    assert readable("<ul><li>one</li><li><i>two</i></li></ul>") == "- one\n- *two*"


def test_the_backup_opens_as_the_collection_before_the_sync(
    learner: Learner, tmp_path: Path
) -> None:
    from anki._backend import RustBackend

    applied = sync_json(learner, "--apply")
    restored = tmp_path / "restored"
    restored.mkdir()
    RustBackend().import_collection_package(
        col_path=str(restored / "collection.anki2"),
        backup_path=applied["backup"],
        media_folder=str(restored / "collection.media"),
        media_db=str(restored / "collection.media.db2"),
    )
    col = Collection(str(restored / "collection.anki2"))
    try:
        assert col.note_count() == 7
        assert not col.find_notes('"CardId:tcp-syn-cookies"')
        assert note_of(col, "tcp-time-wait-side")["Back"] == LEARNER_BACK
        restored_schedule = scheduling(col)
        del restored_schedule[-1]  # a restored backup forces a full sync, as Anki's own does
        assert restored_schedule == {k: v for k, v in learner.schedule.items() if k != -1}
    finally:
        col.close()


def test_theirs_overwrites_the_conflict(learner: Learner) -> None:
    plan = sync_json(learner, "--apply", "--theirs")
    assert plan["counts"]["overwritten"] == 1 and plan["counts"]["conflicts"] == 0
    col = Collection(str(learner.collection))
    try:
        assert "sends FIN first" in note_of(col, "tcp-time-wait-side")["Back"]
    finally:
        col.close()


def test_a_collection_open_in_anki_is_refused_untouched(learner: Learner) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(learner.collection)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        before = learner.collection.read_bytes()
        for apply in ((), ("--apply",)):
            code, out = deckgen(
                "sync",
                "--cards",
                str(learner.cards),
                "--collection",
                str(learner.collection),
                *apply,
            )
            assert code == 1, out
            assert "DG905" in out and "open in Anki" in out
        assert learner.collection.read_bytes() == before
        assert not (learner.collection.parent / "backups").exists()
    finally:
        holder.kill()
        holder.communicate()


HOLD = """
import sys, time
from anki.collection import Collection
col = Collection(sys.argv[1])
print("open", flush=True)
time.sleep(60)
"""


def test_a_collection_of_another_schema_is_refused_untouched(learner: Learner) -> None:
    col = Collection(str(learner.collection))
    col.close(downgrade=True)  # schema 11, as Anki before 2.1.50 keeps it
    before = learner.collection.read_bytes()
    code, out = deckgen(
        "sync", "--cards", str(learner.cards), "--collection", str(learner.collection), "--apply"
    )
    assert code == 1
    assert "schema 11, older than schema 18" in out and "update Anki desktop" in out
    assert learner.collection.read_bytes() == before


def test_a_collection_of_a_newer_schema_is_refused_untouched(learner: Learner) -> None:
    with sqlite3.connect(learner.collection) as connection:
        connection.execute("update col set ver = 19")
    connection.close()
    before = learner.collection.read_bytes()
    code, out = deckgen(
        "sync", "--cards", str(learner.cards), "--collection", str(learner.collection), "--apply"
    )
    assert code == 1
    assert "schema 19, newer than schema 18" in out and "pip install -U anki" in out
    assert learner.collection.read_bytes() == before


def test_a_collection_without_this_deck_is_refused(learner: Learner, tmp_path: Path) -> None:
    other = open_collection(tmp_path / "other")
    path = other.path
    other.close()
    code, out = deckgen("sync", "--cards", str(learner.cards), "--collection", path)
    assert code == 1
    assert "holds no note of deck 'sample-deck'" in out


def test_unreleased_changes_are_refused(learner: Learner) -> None:
    edit(learner.cards / "net" / "dns.md", "before asking again", "before it asks again")
    code, out = deckgen(
        "sync", "--cards", str(learner.cards), "--collection", str(learner.collection)
    )
    assert code == 1
    assert "DG905" in out and "differ from release v2" in out


def test_without_the_anki_package_sync_says_how_to_install_it(
    learner: Learner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "anki.buildinfo", None)
    code, out = deckgen(
        "sync", "--cards", str(learner.cards), "--collection", str(learner.collection)
    )
    assert code == 1
    assert "pip install 'deckgen-anki[sync]'" in out


# ------------------------------------------------------------------ kills


KILL = """
import os, signal, sys
import anki.collection, anki.dbproxy
import deckgen.sync
from deckgen.cli import main

point = sys.argv[1]

def killing(owner, name):
    real = getattr(owner, name)
    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(owner, name, wrapper)

owner, name = {
    "backup": (anki.collection.Collection, "create_backup"),
    "add": (anki.collection.Collection, "add_notes"),
    "update": (anki.collection.Collection, "update_notes"),
    "move": (anki.collection.Collection, "set_deck"),
    "commit": (anki.dbproxy.DBProxy, "transact"),
}[point]
killing(owner, name)
sys.argv = ["deckgen", *sys.argv[2:]]
main()
"""


def state(collection: Path, schedule: dict[int, tuple[Any, ...]]) -> tuple[Any, ...]:
    """The notes (by GUID), each note's cards' decks and queues, and the schedule of the cards
    that existed before the sync: what a sync changes, without the ids a sync makes up."""
    col = Collection(str(collection))
    try:
        notes = sorted(tuple(r) for r in col.db.all("select guid, flds, tags from notes"))
        cards = sorted(
            tuple(r)
            for r in col.db.all(
                "select n.guid, c.ord, c.did, c.queue from cards c join notes n on c.nid = n.id"
            )
        )
        now = scheduling(col)
        return notes, cards, {k: now.get(k) for k in schedule}
    finally:
        col.close()


@pytest.mark.parametrize("point", ["backup", "add", "update", "move", "commit"])
def test_a_kill_leaves_the_collection_untouched_or_synced(
    learner: Learner, tmp_path: Path, point: str
) -> None:
    synced_copy = tmp_path / "synced"
    synced_copy.mkdir()
    shutil.copy(learner.collection, synced_copy / "collection.anki2")
    untouched = state(learner.collection, learner.schedule)
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            KILL,
            point,
            "sync",
            "--cards",
            str(learner.cards),
            "--collection",
            str(learner.collection),
            "--apply",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    code, out = deckgen(
        "sync",
        "--cards",
        str(learner.cards),
        "--collection",
        str(synced_copy / "collection.anki2"),
        "--apply",
    )
    assert code == 0, out
    synced = state(synced_copy / "collection.anki2", learner.schedule)
    assert synced != untouched
    after = state(learner.collection, learner.schedule)  # it opens
    assert after == (synced if point == "commit" else untouched)


def test_a_deck_without_sections_syncs_and_renames_a_topic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A syllabus without sections: decks are <Deck>::<Topic>, the Breadcrumb is the topic's
    title alone, and a retitled topic still renames its deck; the learner's tag stays."""
    cards = tmp_path / "project" / "cards"
    shutil.copytree(FIXTURES / "sample" / "cards", cards)
    without_sections(cards)
    release(cards, "v1", V1_TIME, monkeypatch)
    (package,) = build(cards, tmp_path / "dist", formats=["apkg"]).paths
    collection = tmp_path / "anki" / "collection.anki2"
    col = open_collection(tmp_path / "anki")
    try:
        import_package(col, package)
        note = note_of(col, "dns-ttl-term")
        assert note["Breadcrumb"] == "DNS"
        note.add_tag("mine")
        col.update_note(note)
    finally:
        col.close()
    edit(cards / "syllabus.yaml", "title: DNS", "title: Domain names")
    release(cards, "v2", V2_TIME, monkeypatch)
    learner = Learner(cards.parent, cards, collection, {}, [])
    plan = sync_json(learner, "--apply")
    assert plan["renames"] == [{"old": f"{DECK}::DNS", "new": f"{DECK}::Domain names"}]
    assert plan["counts"]["moved"] == 0
    col = Collection(str(collection))
    try:
        note = note_of(col, "dns-ttl-term")
        assert {col.decks.name(c.did) for c in note.cards()} == {f"{DECK}::Domain names"}
        assert note["Breadcrumb"] == "Domain names"
        assert "mine" in note.tags and "topic::dns" in note.tags
        assert not [t for t in note.tags if t.startswith(("round::", "section::"))]
    finally:
        col.close()
