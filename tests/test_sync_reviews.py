"""`deckgen sync --reviews`: a progress file as the static site exports it, written into a real
collection of the official `anki` package (FSRS on), then read back with Anki's own scheduler."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import fsrs
import pytest

from deckgen.build import build
from deckgen.notetypes import note_guid
from tests.ankiutil import import_package, open_collection
from tests.test_sync import deckgen, scheduling

anki = pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402
from anki.scheduler.v3 import CardAnswer  # noqa: E402

DECK_ID = "sample-deck"
W = list(fsrs.Scheduler().parameters)
# Each card's answers: (rating, time after START). ts-fsrs State: 0 new, 1 learning, 2 review,
# 3 relearning; fsrs.State has the same numbers for the last three.
HISTORIES: dict[str, list[tuple[int, dt.timedelta]]] = {
    # graduates, then a review due before today: due in Anki now
    "tcp-time-wait-side": [(3, dt.timedelta()), (3, dt.timedelta(minutes=10, seconds=5))],
    # graduates, is reviewed late, then forgets: relearning (a 10 min step)
    "tcp-time-wait-length": [
        (3, dt.timedelta(hours=1)),
        (3, dt.timedelta(hours=1, minutes=11)),
        (3, dt.timedelta(days=5)),
        (1, dt.timedelta(days=29, hours=23, minutes=55)),
    ],
    # Easy at first sight, then Good: a review card due in the future
    "dns-ttl-term": [(4, dt.timedelta(hours=2)), (3, dt.timedelta(days=29))],
    # one Good just now: still learning, its 10 min step today
    "rust-ownership-rule": [(3, dt.timedelta(days=29, hours=23, minutes=58))],
}


# The histories whose days between reviews are the same counted in whole 24 h (ts-fsrs) or by
# Anki's day boundaries.
SAME_DAY_COUNTS = {"rust-ownership-rule", "tcp-time-wait-side"}


def iso(when: dt.datetime) -> str:
    return (
        when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    )


def studied(
    card_id: str, answers: list[tuple[int, dt.timedelta]], start: dt.datetime
) -> dict[str, Any]:
    """One card of a progress file: the answers replayed with the PyPI `fsrs` package (the site's
    ts-fsrs, fuzz off) in the shape study.js exports."""
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    card = fsrs.Card(card_id=1, due=start)
    reviews, before, reps, lapses = [], 0, 0, 0
    for n, (rating, after) in enumerate(answers):
        when = start + after
        lapses += before == 2 and rating == 1
        card, _ = scheduler.review_card(card, fsrs.Rating(rating), when)
        reviews.append(
            {"rating": rating, "review": iso(when), "state": before, "duration_ms": 4000 + n}
        )
        before, reps = int(card.state), reps + 1
    assert card.last_review is not None and card.stability and card.difficulty
    review = card.state == fsrs.State.Review
    days = (card.due - card.last_review).days if review else 0
    state = {
        "due": iso(card.due),
        "stability": round(card.stability, 8),
        "difficulty": round(card.difficulty, 8),
        "elapsed_days": 0,
        "scheduled_days": days,
        "learning_steps": 0 if review else card.step,
        "reps": reps,
        "lapses": lapses,
        "state": int(card.state),
        "last_review": iso(card.last_review),
    }
    return {"card": card_id, "ord": 0, "state": state, "reviews": reviews}


def progress_file(
    folder: Path, histories: dict[str, list[tuple[int, dt.timedelta]]], start: dt.datetime
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "$schema": "https://deckgen.dev/schemas/progress-v1.json",
        "version": 1,
        "deck": DECK_ID,
        "exported": iso(start + dt.timedelta(days=31)),
        "scheduler": {
            "name": "ts-fsrs",
            "version": "v5.4.2 using FSRS-6.0",
            "parameters": {
                "w": W,
                "request_retention": 0.9,
                "maximum_interval": 36500,
                "enable_fuzz": False,
                "enable_short_term": True,
                "learning_steps": ["1m", "10m"],
                "relearning_steps": ["10m"],
            },
        },
        "settings": {"new_per_day": 20, "request_retention": 0.9},
        "cards": [studied(c, a, start) for c, a in sorted(histories.items())],
    }
    path = folder / "sample-deck-progress.json"
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return path


@pytest.fixture
def setup(sample_cards: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """The sample deck imported into a new FSRS collection, and a progress file."""
    (package,) = build(sample_cards, tmp_path / "dist", formats=["apkg"]).paths
    col = open_collection(tmp_path / "anki")
    import_package(col, package)
    col.set_config("fsrs", True)
    path = Path(col.path)
    col.close()
    return sample_cards, path, progress_file(tmp_path, HISTORIES, start_of(path))


def start_of(collection: Path) -> dt.datetime:
    """When the histories start: 2 h after Anki's day rollover, 31 days ago (so every review is
    in the past, and where Anki's day boundaries fall among them is fixed)."""
    col = Collection(str(collection))
    try:
        cutoff = col.sched.day_cutoff
    finally:
        col.close()
    return dt.datetime.fromtimestamp(cutoff - 32 * 86_400 + 2 * 3600, dt.UTC)


def run(cards: Path, collection: Path, progress: Path, *args: str) -> dict[str, Any]:
    code, out = deckgen(
        "sync", "--cards", str(cards), "--collection", str(collection), "--reviews", str(progress),
        *args, "--format", "json",
    )  # fmt: skip
    assert code == 0, out
    return json.loads(out[: out.rindex("}") + 1])  # type: ignore[no-any-return]


def card_of(col: Collection, card_id: str, ord: int = 0) -> Any:
    cid = col.db.scalar(
        "select c.id from cards c join notes n on c.nid = n.id where n.guid = ? and c.ord = ?",
        note_guid(DECK_ID, card_id),
        ord,
    )
    return col.get_card(cid)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ms(text: str) -> int:
    return round(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def test_reviews_land_in_the_revlog_and_cards_are_scheduled_as_exported(
    setup: tuple[Path, Path, Path],
) -> None:
    cards, collection, progress = setup
    exported = {c["card"]: c for c in json.loads(progress.read_text())["cards"]}
    before = digest(collection)
    dry = run(cards, collection, progress)
    assert digest(collection) == before and not (collection.parent / "backups").exists()
    assert dry["applied"] is False and dry["counts"]["written"] == 4
    assert dry["counts"]["reviews written"] == 9
    applied = run(cards, collection, progress, "--apply")
    assert applied["applied"] is True and Path(applied["backup"]).is_file()
    drop = ("applied", "backup")
    assert {k: v for k, v in applied.items() if k not in drop} == {
        k: v for k, v in dry.items() if k not in drop
    }  # the dry run's plan is what --apply wrote

    col = Collection(str(collection))
    try:
        today, cutoff = col.sched.today, col.sched.day_cutoff
        for card_id, entry in exported.items():
            card = card_of(col, card_id)
            rows = col.db.all("select id, ease, time, type from revlog where cid = ?", card.id)
            expected = [
                [
                    ms(r["review"]),
                    r["rating"],
                    r["duration_ms"],
                    {0: 0, 1: 0, 2: 1, 3: 2}[r["state"]],
                ]
                for r in entry["reviews"]
            ]
            assert rows == expected, card_id
            state = entry["state"]
            due_s = ms(state["due"]) / 1000
            due_day = today + int((due_s - (cutoff - 86_400)) // 86_400)
            assert card.type == state["state"] and card.reps == state["reps"], card_id
            assert card.lapses == state["lapses"]
            if state["state"] == 2:
                assert (card.queue, card.due, card.ivl) == (2, due_day, state["scheduled_days"])
            else:  # a step due today: Anki's intraday learning queue, due in epoch seconds
                assert (card.queue, card.due) == (1, int(due_s)), card_id
            # Anki keeps stability to 4 decimals and difficulty to 3 (cards.data "s", "d")
            memory = card.memory_state
            assert memory.stability == pytest.approx(state["stability"], abs=5.1e-5)
            assert memory.difficulty == pytest.approx(state["difficulty"], abs=5.1e-4)
            assert card.last_review_time == ms(entry["reviews"][-1]["review"]) // 1000
            # Anki's own FSRS, replaying the revlog written, is FSRS on the same answers with the
            # days between them counted by Anki's day boundaries, where ts-fsrs counts whole
            # 24 h: dns-ttl-term's 28 days 22 h are 29 Anki days. So sync writes the exported
            # state, and Anki would move it only on a recompute (Reschedule on change).
            computed = col.compute_memory_state(card.id)
            assert computed.stability == pytest.approx(stability_in_anki_days(card_id), rel=1e-5)
            assert computed.difficulty == pytest.approx(state["difficulty"], rel=1e-4), card_id
            same = computed.stability == pytest.approx(state["stability"], rel=1e-4)
            assert same == (card_id in SAME_DAY_COUNTS), (card_id, computed.stability, state)
        # Anki's scheduler shows what the site would: the overdue review and the learning steps
        col.decks.select(col.decks.id_for_name("Sample Deck"))  # type: ignore[arg-type]
        queued = {q.card.id for q in col.sched.get_queued_cards(fetch_limit=50).cards}
        assert card_of(col, "tcp-time-wait-side").id in queued
        assert card_of(col, "dns-ttl-term").id not in queued  # due in the future
    finally:
        col.close()

    # a second run writes nothing
    schedule = schedule_of(collection)
    again = run(cards, collection, progress, "--apply")
    assert again["applied"] is False and again["backup"] is None
    assert again["counts"]["imported"] == 4 and again["counts"]["reviews written"] == 0
    assert schedule_of(collection) == schedule


def stability_in_anki_days(card_id: str) -> float:
    """The stability the PyPI fsrs package gives when the days between reviews are counted as
    Anki counts them, by its day boundaries (the histories start 2 h after one): each review
    moved to its Anki day's start, plus n seconds to keep the order."""
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    day_start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    card = fsrs.Card(due=day_start)
    for n, (rating, after) in enumerate(HISTORIES[card_id]):
        day = (after + dt.timedelta(hours=2)).days
        when = day_start + dt.timedelta(days=day, seconds=n)
        card, _ = scheduler.review_card(card, fsrs.Rating(rating), when)
    assert card.stability is not None
    return card.stability


def schedule_of(collection: Path) -> dict[int, tuple[Any, ...]]:
    col = Collection(str(collection))
    try:
        return scheduling(col)
    finally:
        col.close()


def test_a_card_reviewed_later_in_anki_is_left_alone(setup: tuple[Path, Path, Path]) -> None:
    cards, collection, progress = setup
    col = Collection(str(collection))
    card = card_of(col, "dns-ttl-term")
    col.decks.select(col.decks.id_for_name("Sample Deck"))  # type: ignore[arg-type]
    queued = col.sched.get_queued_cards(fetch_limit=50).cards
    top = next(q for q in queued if q.card.id == card.id)
    answered = col.get_card(card.id)
    answered.start_timer()
    col.sched.answer_card(
        col.sched.build_answer(card=answered, states=top.states, rating=CardAnswer.GOOD)
    )
    kept = col.db.first("select type, queue, due, ivl, data from cards where id = ?", card.id)
    log = col.db.all("select * from revlog where cid = ?", card.id)
    col.close()
    plan = run(cards, collection, progress, "--apply")
    (item,) = [c for c in plan["cards"] if c["card"] == "dns-ttl-term"]
    assert item["status"] == "reviewed in Anki" and "last reviewed in Anki" in item["detail"]
    assert plan["counts"]["written"] == 3
    col = Collection(str(collection))
    try:
        assert (
            col.db.first("select type, queue, due, ivl, data from cards where id = ?", card.id)
            == kept
        )
        assert col.db.all("select * from revlog where cid = ?", card.id) == log
    finally:
        col.close()
    code, out = deckgen(
        "sync", "--cards", str(cards), "--collection", str(collection), "--reviews", str(progress),
    )  # fmt: skip
    assert code == 0, out
    assert "reviewed in Anki  dns-ttl-term:0: last reviewed in Anki 20" in out, out
    assert "imported          tcp-time-wait-side:0: already in the collection" in out, out
    assert "nothing to write from" in out


def test_a_revlog_id_taken_by_another_card_moves_on_one_ms(
    setup: tuple[Path, Path, Path],
) -> None:
    cards, collection, progress = setup
    first = json.loads(progress.read_text())["cards"][0]
    taken = ms(first["reviews"][0]["review"])
    col = Collection(str(collection))
    other = card_of(col, "rust-two-mut-borrows").id
    for n in range(2):  # two rows of another card hold that ms and the next
        col.db.execute(
            "insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
            "values (?, ?, -1, 3, 1, 0, 2500, 1000, 1)",
            taken + n,
            other,
        )
    col.close()
    plan = run(cards, collection, progress, "--apply")
    (item,) = [c for c in plan["cards"] if c["card"] == first["card"]]
    assert item["revlog"][0]["id"] == taken + 2
    col = Collection(str(collection))
    try:
        cid = card_of(col, first["card"]).id
        assert col.db.scalar("select min(id) from revlog where cid = ?", cid) == taken + 2
    finally:
        col.close()
    again = run(cards, collection, progress, "--apply")  # the moved row is recognised
    assert again["counts"]["reviews written"] == 0 and again["counts"]["imported"] == 4


def test_reviews_studied_after_an_earlier_sync_are_added(
    setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    cards, collection, progress = setup
    early = {"dns-ttl-term": HISTORIES["dns-ttl-term"][:1]}
    early_file = progress_file(tmp_path / "early", early, start_of(collection))
    first = run(cards, collection, early_file, "--apply")
    assert first["counts"]["reviews written"] == 1
    plan = run(cards, collection, progress, "--apply")
    (item,) = [c for c in plan["cards"] if c["card"] == "dns-ttl-term"]
    exported = next(
        c for c in json.loads(progress.read_text())["cards"] if c["card"] == "dns-ttl-term"
    )
    assert item["status"] == "written"
    assert [e["id"] for e in item["revlog"]] == [ms(exported["reviews"][1]["review"])]
    (earlier,) = first["cards"][0]["revlog"]
    assert item["revlog"][0]["last_ivl"] == earlier["ivl"] > 0
    # two syncs within a second: two backups, the first (the collection before both) kept
    assert Path(first["backup"]).is_file() and Path(plan["backup"]) != Path(first["backup"])


def test_another_decks_file_is_refused_with_nothing_written(
    setup: tuple[Path, Path, Path],
) -> None:
    cards, collection, progress = setup
    text = progress.read_text()
    progress.write_text(text.replace('"deck": "sample-deck"', '"deck": "other-deck"'))
    before = digest(collection)
    code, out = deckgen(
        "sync", "--cards", str(cards), "--collection", str(collection), "--reviews", str(progress),
        "--apply",
    )  # fmt: skip
    assert code == 1
    assert f"{progress}:4:2: DG906 [error] this progress file is of deck 'other-deck'" in out
    assert digest(collection) == before and not (collection.parent / "backups").exists()


def test_a_file_that_breaks_the_schema_is_refused_at_the_value(
    setup: tuple[Path, Path, Path],
) -> None:
    cards, collection, progress = setup
    document = json.loads(progress.read_text())
    document["cards"][1]["reviews"][0]["rating"] = 5
    progress.write_text(json.dumps(document, indent=1))
    line = next(
        n for n, text in enumerate(progress.read_text().splitlines(), 1) if '"rating": 5' in text
    )
    before = digest(collection)
    code, out = deckgen(
        "sync", "--cards", str(cards), "--collection", str(collection), "--reviews", str(progress),
    )  # fmt: skip
    assert code == 1 and f"{progress}:{line}:" in out and "DG906" in out, out
    assert digest(collection) == before
    document["cards"][1]["reviews"][0]["rating"] = 3
    document["cards"][1]["reviews"][0]["review"] = "2026-13-45T00:00:00.000Z"  # the pattern's
    progress.write_text(json.dumps(document, indent=1))
    code, out = deckgen(
        "sync", "--cards", str(cards), "--collection", str(collection), "--reviews", str(progress),
    )  # fmt: skip
    assert code == 1 and "DG906 [error] card 'rust-ownership-rule': no such time" in out, out
    document["cards"][1]["reviews"][0]["review"] = document["cards"][1]["state"]["due"]
    document["cards"].append(document["cards"][0])
    progress.write_text(json.dumps(document, indent=1))
    code, out = deckgen(
        "sync", "--cards", str(cards), "--collection", str(collection), "--reviews", str(progress),
    )  # fmt: skip
    assert code == 1 and "DG906 [error] card 'dns-ttl-term' ord 0 is in the file twice" in out
    progress.write_text('{\n "version": 1,\n}')
    code, out = deckgen(
        "sync", "--cards", str(cards), "--collection", str(collection), "--reviews", str(progress),
    )  # fmt: skip
    assert code == 1 and f"{progress}:3:1: DG906 [error] not a progress file: invalid JSON" in out


def test_the_ordinal_names_the_card_of_a_cloze_deletion(
    setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    cards, collection, _ = setup
    history = {"dns-resolution-order": HISTORIES["dns-ttl-term"]}
    progress = progress_file(tmp_path / "c2", history, start_of(collection))
    document = json.loads(progress.read_text())
    document["cards"][0]["ord"] = 1  # {{c2::TLD}}
    progress.write_text(json.dumps(document))
    plan = run(cards, collection, progress, "--apply")
    assert plan["counts"]["written"] == 1
    col = Collection(str(collection))
    try:
        c1, c2 = card_of(col, "dns-resolution-order", 0), card_of(col, "dns-resolution-order", 1)
        assert plan["cards"][0]["anki_card"] == c2.id
        assert col.db.scalar("select count() from revlog where cid = ?", c2.id) == 2
        assert col.db.scalar("select count() from revlog where cid = ?", c1.id) == 0
        assert (c2.type, c1.type) == (2, 0)
    finally:
        col.close()
