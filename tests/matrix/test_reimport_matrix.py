"""Re-importing deckgen's packages on the Anki releases people run: what each one does today.

Each test builds its packages with this checkout (SOURCE_DATE_EPOCH fixed per release) and
replays a learner's history in a fresh collection of every target release: import, review,
import the next release. Where releases differ, the expectation is the `Target` fact that the
difference comes from (see tests/matrix/harness.py), so a release that changes fails here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deckgen.build import build
from deckgen.cache import Cache
from deckgen.publish import make_release
from tests.matrix.conftest import Anki
from tests.matrix.harness import PINS, PROJECT, Target

pytestmark = pytest.mark.anki_matrix

DECK = "Sample Deck"
TCP = "Sample Deck::1 · Networking::TCP"
DNS = "Sample Deck::1 · Networking::DNS"
# Three releases, ten minutes apart, all long before any test runs: each is newer than the one
# before, and each is older than the learner's import of the one before.
CLOCK_1, CLOCK_2, CLOCK_3 = 1_700_000_000, 1_700_000_600, 1_700_001_200
NOTES, CARDS = 7, 11  # the sample deck: 3 basic, 1 reversed (2 cards), 2 clozes (3 + 2), 1 basic

Snapshot = dict[str, Any]


def package(
    cards: Path,
    out: Path,
    clock: int,
    epoch: Callable[[int], None],
    templates: Path | None = None,
) -> str:
    epoch(clock)
    result = build(cards, out, formats=["apkg"], templates_dir=templates, use_cache=False)
    (path,) = result.paths
    return str(path)


def imported(target: Target, path: str) -> dict[str, Any]:
    return {"op": "import", "package": path, "importer": target.importer}


SNAPSHOT = {"op": "snapshot"}
LANGUAGES, NETWORKING = f"{DECK}::2 · Languages", f"{DECK}::1 · Networking"
LEARNED = 3  # cards in LANGUAGES: answered Good, they are in learning; the rest graduate


def learner(target: Target, first: str) -> list[dict[str, Any]]:
    """A learner imports the first release and studies every card once; then a snapshot."""
    return [
        imported(target, first),
        {"op": "review", "deck": LANGUAGES, "rating": "good", "limit": 50},
        {"op": "review", "deck": NETWORKING, "rating": "easy", "limit": 50},
        SNAPSHOT,
    ]


STUDIED = 4  # the steps of learner(): the next release's results start here


def counts(step: dict[str, Any]) -> dict[str, int]:
    assert "error" not in step, step["error"]
    return {key: step["counts"][key] for key in ("new", "updated", "duplicate", "conflicting")}


# The legacy importer logs one line a note, "[Skipped] field, field, …"; the backend lists them.
LEGACY_LOG_WORDS = {
    "new": "Added",
    "updated": "Updated",
    "duplicate": "Identical",
    "conflicting": "Skipped",
}


def logged(step: dict[str, Any], category: str) -> list[str]:
    """The notes an import logged under `category`, each as its fields joined."""
    if "lines" in step:
        prefix = f"[{LEGACY_LOG_WORDS[category]}] "
        return [line.removeprefix(prefix) for line in step["lines"] if line.startswith(prefix)]
    return [", ".join(fields) for fields in step["notes"][category]]


def notes_by_card_id(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    notes = {note["fields"]["CardId"]: note for note in snapshot["notes"]}
    assert len(notes) == len(snapshot["notes"]), "two notes of one card"
    return notes


def scheduling(snapshot: Snapshot) -> dict[int, tuple[Any, ...]]:
    """What a learner's reviews made of each card, and where the card is."""
    return {
        card["id"]: (
            card["nid"],
            card["ord"],
            card["ivl"],
            card["due"],
            card["queue"],
            card["deck"],
        )
        for card in snapshot["cards"]
    }


def decks_of(snapshot: Snapshot, note: dict[str, Any]) -> set[str]:
    return {card["deck"] for card in snapshot["cards"] if card["nid"] == note["id"]}


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def cut_section(path: Path, card_id: str) -> str:
    """Remove one `## card-id` section from a card file and return it."""
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(card_id)}\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
    assert match, (path, card_id)
    path.write_text(text[: match.start()] + text[match.end() :], encoding="utf-8")
    return match.group(0).rstrip("\n") + "\n"


def studied(result: dict[str, Any]) -> Snapshot:
    """The checks every scenario starts with: v1 added whole, every card answered once."""
    first, good, easy, snapshot = result["results"][:STUDIED]
    assert isinstance(snapshot, dict)
    assert counts(first) == {"new": NOTES, "updated": 0, "duplicate": 0, "conflicting": 0}
    assert len(good["answered"]) == LEARNED and len(easy["answered"]) == CARDS - LEARNED
    assert len(snapshot["cards"]) == snapshot["revlog"] == CARDS
    # In learning: queue 1, or 3 when the next step falls after Anki's day rollover (4 a.m.):
    # a run in the ten minutes before it sees the interday queue.
    learning = {
        card["id"]
        for card in snapshot["cards"]
        if card["ivl"] == 0 and card["type"] == 1 and card["queue"] in (1, 3)
    }
    graduated = {card["id"] for card in snapshot["cards"] if card["ivl"] > 0}
    assert learning == set(good["answered"]), "Good puts a new card in learning"
    assert graduated == set(easy["answered"]), "Easy graduates a new card"
    assert {note["mod"] for note in snapshot["notes"]} == {CLOCK_1}, "an added note keeps its time"
    return snapshot


# --- the harness itself ---------------------------------------------------------------------


def test_venv_holds_exactly_the_pins(target: Target, anki_venvs: Callable[[str], Path]) -> None:
    python = anki_venvs(target.version)
    assert not python.resolve().is_relative_to(PROJECT) and not python.is_relative_to(PROJECT)
    frozen = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "freeze",
            "--all",
            "--exclude",
            "pip",
            "--exclude",
            "setuptools",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    normal = {pin.lower().replace("_", "-") for pin in PINS[target.version]}
    assert {line.lower().replace("_", "-") for line in frozen} == normal


def test_driver_reports_the_release_and_its_apis(target: Target, anki: Anki) -> None:
    answer = anki([SNAPSHOT])
    assert [int(part) for part in answer["anki_version"].split(".")] == [
        int(part) for part in target.version.split(".")
    ]
    # 2.1.x takes a path and always updates "if newer"; 23.10 on takes a request with options.
    takes_request = "ImportAnkiPackageRequest" in answer["import_signature"]
    assert takes_request == target.update_conditions
    # The Python importer ships up to 24.11 (in 26.x only a shim over the backend is left).
    assert answer["legacy_importer_shipped"] == (target.version != "26.9.3")
    # A new collection's scheduler: v2 in 2.1.54, v3 in 2.1.66 and later (the driver uses either).
    assert answer["scheduler"] == ("v2" if target.version == "2.1.54" else "v3")
    assert answer["results"] == [
        {
            "notes": [],
            "cards": [],
            "notetypes": answer["results"][0]["notetypes"],
            "decks": ["Default"],
            "revlog": 0,
        }
    ]


# --- (a) an edited card ---------------------------------------------------------------------


def test_edited_release_updates_the_note_and_keeps_reviews(
    target: Target, anki: Anki, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    """v2 edits one answer. Its clock predates the learner's import of v1, yet every release
    updates: an *added* note keeps the package's time, and v2's is newer than that."""
    v1 = package(sample_cards, tmp_path / "v1", CLOCK_1, epoch)
    replace_in(sample_cards / "net" / "tcp.md", "sends the first FIN", "whose FIN goes out first")
    v2 = package(sample_cards, tmp_path / "v2", CLOCK_2, epoch)

    result = anki([*learner(target, v1), imported(target, v2), SNAPSHOT])
    before = studied(result)
    second, after = result["results"][STUDIED:]

    assert counts(second) == {"new": 0, "updated": NOTES, "duplicate": 0, "conflicting": 0}
    assert any("whose FIN goes out first" in note for note in logged(second, "updated"))
    notes = notes_by_card_id(after)
    assert "whose FIN goes out first" in notes["tcp-time-wait-side"]["fields"]["Back"]
    assert [n["id"] for n in after["notes"]] == [n["id"] for n in before["notes"]]
    assert scheduling(after) == scheduling(before)
    assert after["revlog"] == before["revlog"]
    mods = {note["mod"] for note in after["notes"]}
    if target.stamps_import_time:
        assert all(second["started"] <= mod <= second["finished"] for mod in mods), (
            "stamped with the time of the import"
        )
    else:
        assert mods == {CLOCK_2}, "an updated note keeps the package's time"


def test_release_older_than_the_last_import_is_skipped_where_anki_stamps_import_time(
    target: Target, anki: Anki, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    """THE BUG (issue 13): v2 updates the notes; v3, built after v2 but before the learner
    imported v2, is newer than v2 yet older than the import-time stamp that the backend importer
    up to 24.11 gave the updated notes, so those releases skip all of v3 as "duplicate": its
    edit never arrives. 25.02 on, and the legacy importer, keep the package's time and update."""
    tcp = sample_cards / "net" / "tcp.md"
    v1 = package(sample_cards, tmp_path / "v1", CLOCK_1, epoch)
    replace_in(tcp, "sends the first FIN", "whose FIN goes out first")
    v2 = package(sample_cards, tmp_path / "v2", CLOCK_2, epoch)
    replace_in(tcp, "SYN, SYN-ACK, ACK.", "SYN, then SYN-ACK, then ACK.")
    v3 = package(sample_cards, tmp_path / "v3", CLOCK_3, epoch)

    result = anki(
        [
            *learner(target, v1),
            imported(target, v2),
            imported(target, v3),
            SNAPSHOT,
        ]
    )
    before = studied(result)
    second, third, after = result["results"][STUDIED:]
    assert counts(second)["updated"] == NOTES
    handshake = notes_by_card_id(after)["tcp-handshake-diagram"]["fields"]["Back"]
    if target.stamps_import_time:
        assert counts(third) == {"new": 0, "updated": 0, "duplicate": NOTES, "conflicting": 0}
        assert "then SYN-ACK" not in handshake, "v3's edit is lost"
    else:
        assert counts(third) == {"new": 0, "updated": NOTES, "duplicate": 0, "conflicting": 0}
        assert "then SYN-ACK" in handshake
        assert {note["mod"] for note in after["notes"]} == {CLOCK_3}
    assert scheduling(after) == scheduling(before)
    assert after["revlog"] == before["revlog"]


def released(cards: Path, version: str, out: Path, clock: int, epoch: Callable[[int], None]) -> str:
    """`deckgen release VERSION` at `clock`, then that release's package."""
    epoch(clock)
    make_release(cards, version, cache=Cache(None))
    return package(cards, out, clock, epoch)


def test_recorded_releases_update_exactly_the_changed_notes_on_every_version(
    target: Target, anki: Anki, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    """With the release history (deckgen release), each note carries the time of the release
    it last changed in. v2 edits one card and v3 another, v3 built before the learner imports
    v2: every version updates exactly the edited note each time and calls the rest up to date,
    including the releases that stamp the import time (the note v3 edits still has v1's time)."""
    tcp = sample_cards / "net" / "tcp.md"
    v1 = released(sample_cards, "v1", tmp_path / "v1", CLOCK_1, epoch)
    replace_in(tcp, "sends the first FIN", "whose FIN goes out first")
    v2 = released(sample_cards, "v2", tmp_path / "v2", CLOCK_2, epoch)
    replace_in(tcp, "SYN, SYN-ACK, ACK.", "SYN, then SYN-ACK, then ACK.")
    v3 = released(sample_cards, "v3", tmp_path / "v3", CLOCK_3, epoch)

    result = anki([*learner(target, v1), imported(target, v2), imported(target, v3), SNAPSHOT])
    before = studied(result)
    second, third, after = result["results"][STUDIED:]
    one_of_seven = {"new": 0, "updated": 1, "duplicate": NOTES - 1, "conflicting": 0}
    assert counts(second) == one_of_seven
    assert counts(third) == one_of_seven
    notes = notes_by_card_id(after)
    assert "whose FIN goes out first" in notes["tcp-time-wait-side"]["fields"]["Back"]
    assert "then SYN-ACK" in notes["tcp-handshake-diagram"]["fields"]["Back"]
    assert scheduling(after) == scheduling(before)
    assert after["revlog"] == before["revlog"]


# --- (b) cards reordered in a file, a card moved to another file ----------------------------


def test_reordered_and_moved_cards_stay_the_same_notes(
    target: Target, anki: Anki, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    tcp = sample_cards / "net" / "tcp.md"
    v1 = package(sample_cards, tmp_path / "v1", CLOCK_1, epoch)
    side = cut_section(tcp, "tcp-time-wait-side")
    tcp.write_text(tcp.read_text(encoding="utf-8") + "\n" + side, encoding="utf-8")  # now last
    moved = cut_section(tcp, "tcp-time-wait-length")
    (sample_cards / "net" / "more-tcp.md").write_text(
        "---\ntopic: tcp\ntags: [tcp-time-wait]\n---\n\n" + moved, encoding="utf-8"
    )
    v2 = package(sample_cards, tmp_path / "v2", CLOCK_2, epoch)

    result = anki([*learner(target, v1), imported(target, v2), SNAPSHOT])
    before = studied(result)
    second, after = result["results"][STUDIED:]

    assert counts(second) == {"new": 0, "updated": NOTES, "duplicate": 0, "conflicting": 0}
    assert [n["id"] for n in after["notes"]] == [n["id"] for n in before["notes"]]
    assert [n["guid"] for n in after["notes"]] == [n["guid"] for n in before["notes"]]
    assert len(after["cards"]) == CARDS
    notes = notes_by_card_id(after)
    assert notes["tcp-time-wait-length"]["fields"]["SourceFile"] == "cards/net/more-tcp.md"
    assert notes["tcp-time-wait-side"]["fields"]["SourceFile"] == "cards/net/tcp.md"
    assert scheduling(after) == scheduling(before)  # same cards, same decks, same intervals
    assert after["revlog"] == before["revlog"]


# --- (c) a template-only change -------------------------------------------------------------


def test_css_change_updates_the_note_types_without_a_copy(
    target: Target, anki: Anki, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(PROJECT / "templates", templates)
    css = templates / "anki" / "style.css"
    original = css.read_text(encoding="utf-8")
    v1 = package(sample_cards, tmp_path / "v1", CLOCK_1, epoch, templates)
    css.write_text(original + "\n.marker-two { color: red; }\n", encoding="utf-8")
    v2 = package(sample_cards, tmp_path / "v2", CLOCK_2, epoch, templates)
    css.write_text(original + "\n.marker-three { color: blue; }\n", encoding="utf-8")
    v3 = package(sample_cards, tmp_path / "v3", CLOCK_3, epoch, templates)

    result = anki(
        [
            *learner(target, v1),
            imported(target, v2),
            SNAPSHOT,
            imported(target, v3),
            SNAPSHOT,
        ]
    )
    before = studied(result)
    second, after_two, third, after_three = result["results"][STUDIED:]
    ours = {ntid: nt for ntid, nt in before["notetypes"].items() if nt["name"].startswith(DECK)}
    assert ours, before["notetypes"]

    assert counts(second) == {"new": 0, "updated": NOTES, "duplicate": 0, "conflicting": 0}
    for snapshot in (after_two, after_three):
        assert snapshot["notetypes"].keys() == before["notetypes"].keys(), "no '+' copy"
        names = [nt["name"] for nt in snapshot["notetypes"].values()]
        assert not [name for name in names if name.endswith("+")]
        assert scheduling(snapshot) == scheduling(before)
    for ntid in ours:
        assert ".marker-two" in after_two["notetypes"][ntid]["css"]
        assert after_two["notetypes"][ntid]["mod"] == CLOCK_2, "a note type keeps its time"
    # v3's style is newer than v2's and older than the learner's import of v2. Every release
    # applies it, since no release stamps an updated note type with the import time; the
    # notes of the same package are skipped where updated notes were stamped.
    for ntid in ours:
        assert ".marker-three" in after_three["notetypes"][ntid]["css"]
        assert ".marker-two" not in after_three["notetypes"][ntid]["css"]
        assert after_three["notetypes"][ntid]["mod"] == CLOCK_3
    assert counts(third)["updated"] == (0 if target.stamps_import_time else NOTES)


# --- (d) a card whose topic changed ---------------------------------------------------------


def test_topic_move_updates_the_note_but_its_cards_stay_in_the_old_deck(
    target: Target, anki: Anki, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    """Anki never moves an existing card: a note whose topic changed keeps its cards in the
    deck of the old topic, though its tags and breadcrumb say the new one."""
    v1 = package(sample_cards, tmp_path / "v1", CLOCK_1, epoch)
    section = cut_section(sample_cards / "net" / "tcp.md", "tcp-time-wait-side")
    dns = sample_cards / "net" / "dns.md"
    dns.write_text(dns.read_text(encoding="utf-8") + "\n" + section, encoding="utf-8")
    v2 = package(sample_cards, tmp_path / "v2", CLOCK_2, epoch)

    result = anki([*learner(target, v1), imported(target, v2), SNAPSHOT])
    before = studied(result)
    second, after = result["results"][STUDIED:]

    assert counts(second) == {"new": 0, "updated": NOTES, "duplicate": 0, "conflicting": 0}
    note = notes_by_card_id(after)["tcp-time-wait-side"]
    assert "topic::dns" in note["tags"] and "topic::tcp" not in note["tags"]
    assert "DNS" in note["fields"]["Breadcrumb"] and "TCP" not in note["fields"]["Breadcrumb"]
    assert note["fields"]["SourceFile"] == "cards/net/dns.md"
    assert decks_of(before, note) == decks_of(after, note) == {TCP}, "the card did not move"
    assert DNS in after["decks"]  # where deckgen puts the card now: its cards are not there
    assert scheduling(after) == scheduling(before)
    assert after["revlog"] == before["revlog"]


# --- (e) a card whose type changed ----------------------------------------------------------


def test_type_change_basic_to_cloze_is_conflicting_now_and_later(
    target: Target, anki: Anki, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    """A note whose GUID exists with another note type is skipped, in every later release too:
    the learner keeps the basic card, with the text it had, for good."""
    tcp = sample_cards / "net" / "tcp.md"
    v1 = package(sample_cards, tmp_path / "v1", CLOCK_1, epoch)
    replace_in(
        tcp,
        "Q: Which side of a TCP connection enters TIME_WAIT?\n\n"
        "A: The **active closer**: the side that sends the first FIN.",
        "Cloze: The {{c1::active closer}} of a TCP connection enters TIME_WAIT.",
    )
    v2 = package(sample_cards, tmp_path / "v2", CLOCK_2, epoch)
    v3 = package(sample_cards, tmp_path / "v3", CLOCK_3, epoch)

    result = anki(
        [
            *learner(target, v1),
            imported(target, v2),
            SNAPSHOT,
            imported(target, v3),
            SNAPSHOT,
        ]
    )
    before = studied(result)
    second, after_two, third, after_three = result["results"][STUDIED:]

    assert counts(second) == {"new": 0, "updated": NOTES - 1, "duplicate": 0, "conflicting": 1}
    (skipped,) = logged(second, "conflicting")
    assert "tcp-time-wait-side" in skipped and "active closer" in skipped
    third_expected = (
        {"new": 0, "updated": 0, "duplicate": NOTES - 1, "conflicting": 1}
        if target.stamps_import_time
        else {"new": 0, "updated": NOTES - 1, "duplicate": 0, "conflicting": 1}
    )
    assert counts(third) == third_expected
    old = notes_by_card_id(before)["tcp-time-wait-side"]
    for snapshot in (after_two, after_three):
        note = notes_by_card_id(snapshot)["tcp-time-wait-side"]
        assert note["id"] == old["id"] and note["notetype"] == old["notetype"]
        assert note["fields"] == old["fields"], "the basic note is left as it was"
        assert snapshot["notetypes"].keys() == before["notetypes"].keys()
        assert scheduling(snapshot) == scheduling(before)
        assert len(snapshot["notes"]) == NOTES
