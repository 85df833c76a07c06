"""End to end: a session studied in the static site (headless Chromium, ts-fsrs), exported, then
written into a real Anki collection with `deckgen sync --reviews`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from deckgen.build import build
from tests.ankiutil import import_package, open_collection
from tests.test_site_study import T0, answer, browser, export_file, open_tab, site
from tests.test_sync_reviews import card_of, ms, run

__all__ = ["browser", "site"]  # the fixtures, imported for pytest

anki = pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402


def test_a_session_studied_on_the_site_lands_in_anki(
    browser: Any, site: Path, sample_cards: Path, tmp_path: Path
) -> None:
    tab = open_tab(browser, site)
    tab.click("#review-start")
    for rating in (3, 3, 1, 4, 2, 3, 3):
        answer(tab, rating)
    tab.keyboard.press("Escape")
    later = T0 + dt.timedelta(days=3, hours=2)  # the next day's reviews, and more answers
    tab.clock.set_fixed_time(later)
    tab.reload()
    tab.click("#review-start")
    for rating in (3, 2, 4):
        answer(tab, rating)
    tab.keyboard.press("Escape")
    exported = export_file(tab, tmp_path)
    data = json.loads(exported.read_text("utf-8"))
    reviewed = [c for c in data["cards"] if c["reviews"]]
    assert len(reviewed) >= 5

    (package,) = build(sample_cards, tmp_path / "dist", formats=["apkg"]).paths
    col = open_collection(tmp_path / "anki")
    import_package(col, package)
    col.set_config("fsrs", True)
    collection = Path(col.path)
    col.close()
    plan = run(sample_cards, collection, exported, "--apply")
    assert plan["counts"]["written"] == len(reviewed)
    assert plan["counts"]["reviews written"] == sum(len(c["reviews"]) for c in reviewed) == 10

    col = Collection(str(collection))
    try:
        today, cutoff = col.sched.today, col.sched.day_cutoff
        ids: list[int] = []
        for entry in reviewed:
            card = card_of(col, entry["card"], entry["ord"])
            rows = col.db.all("select id, ease, time from revlog where cid = ?", card.id)
            want = [[r["rating"], r["duration_ms"]] for r in entry["reviews"]]
            assert [row[1:] for row in rows] == want, entry["card"]
            # the page's clock is fixed: the first session's answers share one ms, and their
            # rows' ids move on by 1 ms each, in the file's order
            moved = [
                row[0] - ms(r["review"]) for row, r in zip(rows, entry["reviews"], strict=True)
            ]
            assert all(0 <= m < 10 for m in moved), moved
            ids += [row[0] for row in rows]
            state = entry["state"]
            assert (card.type, card.reps, card.lapses) == (
                state["state"],
                state["reps"],
                state["lapses"],
            )
            due_s = ms(state["due"]) / 1000
            if state["state"] == 2:
                due_day = today + int((due_s - (cutoff - 86_400)) // 86_400)
                assert (card.queue, card.due, card.ivl) == (2, due_day, state["scheduled_days"])
            else:
                assert (card.queue, card.due) == (1, int(due_s))
            assert card.memory_state.stability == pytest.approx(state["stability"], abs=5.1e-5)
            assert card.memory_state.difficulty == pytest.approx(state["difficulty"], abs=5.1e-4)
        t0 = int(T0.timestamp() * 1000)
        assert sorted(i - t0 for i in ids if i - t0 < 10) == list(range(7))
    finally:
        col.close()
    again = run(sample_cards, collection, exported, "--apply")
    assert again["counts"]["reviews written"] == 0 and again["applied"] is False
