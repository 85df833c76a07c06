"""The site of a deck of thousands of cards in headless Chromium: its cards come from the data
files (cards-N.js), and the page holds only the window of them that is on the screen or near it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from deckgen.build import build
from deckgen.exporters.site import CHUNK, LISTED
from tests.conftest import CHROMIUM, bench_synth

playwright = pytest.importorskip("playwright.sync_api")

if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Chromium is not installed (.ci/run installs it)", allow_module_level=True)

CARDS = 2_500


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("large")
    cards = bench_synth().write_deck(folder, CARDS)
    (built,) = build(cards, folder / "dist", formats=["html"], use_cache=False).paths
    return built  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def rows(site: Path) -> list[list[Any]]:
    """Every card as the data files give it: id, section, topic, topic number, tags, ordinals,
    search text, HTML."""
    out: list[list[Any]] = []
    for n in range(1, -(-CARDS // CHUNK) + 1):
        text = (site / f"cards-{n}.js").read_text("utf-8")
        prefix = f"deckgenCards({n}, "
        assert text.startswith(prefix) and text.endswith(");\n")
        out += json.loads(text[len(prefix) : -3])
    return out


@pytest.fixture
def tab(chromium: Any, site: Path) -> Any:
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((site / "index.html").as_uri())
    yield page
    context.close()
    assert errors == []


def listed(tab: Any) -> list[str]:
    return tab.eval_on_selector_all("article.entry", "els => els.map(e => e.id)")  # type: ignore[no-any-return]


def test_every_card_is_in_the_data_files_and_only_the_first_in_the_page(
    site: Path, rows: list[list[Any]], tab: Any
) -> None:
    assert len(rows) == CARDS == len({r[0] for r in rows})
    page = (site / "index.html").read_text("utf-8")
    assert page.count('<article class="entry card"') == LISTED
    assert tab.inner_text("#status") == f"{CARDS} cards"
    assert listed(tab) == [r[0] for r in rows[:LISTED]]  # the page's order is the data's


def test_search_finds_cards_beyond_the_page_and_shows_a_window_of_them(
    rows: list[list[Any]], tab: Any
) -> None:
    last = rows[-1][0]
    tab.fill("#search", last)
    assert listed(tab) == [r[0] for r in rows if last in r[6].lower()]
    assert tab.locator(f"[id='{last}'] .face.front").is_visible()
    tab.click(f"[id='{last}'] button.reveal")
    assert tab.locator(f"[id='{last}'] .face.back").is_visible()
    word = "packet"
    found = [r[0] for r in rows if word in r[6].lower()]
    assert LISTED < len(found) < CARDS
    tab.fill("#search", "")
    tab.type("#search", word)  # key by key: each key narrows the previous key's matches
    assert tab.inner_text("#status") == f"{len(found)} of {CARDS} cards"
    assert listed(tab) == found[:LISTED]


def test_filters_select_from_the_whole_deck(rows: list[list[Any]], tab: Any) -> None:
    topic = rows[-1][2]
    expected = [r[0] for r in rows if r[2] == topic]
    tab.select_option("#filter-topic", topic)
    assert tab.inner_text("#status") == f"{len(expected)} of {CARDS} cards"
    assert listed(tab) == expected[:LISTED]
    section = rows[-1][1]
    tab.select_option("#filter-topic", "")
    tab.select_option("#filter-section", section)
    in_section = [r[0] for r in rows if r[1] == section]
    assert tab.inner_text("#status") == f"{len(in_section)} of {CARDS} cards"
    assert listed(tab) == in_section[:LISTED]
    visible_sections = tab.eval_on_selector_all(
        "main section.section", "els => els.filter(e => !e.hidden).map(e => e.dataset.section)"
    )
    assert visible_sections == [section]


def test_scrolling_adds_cards_and_study_walks_the_whole_selection(
    rows: list[list[Any]], tab: Any
) -> None:
    tab.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    tab.wait_for_function(f"() => document.querySelectorAll('article.entry').length > {LISTED}")
    shown = listed(tab)
    assert shown == [r[0] for r in rows[: len(shown)]]
    assert len(shown) < CARDS
    tab.click("#study-start")
    assert tab.inner_text("#study-position") == f"Card 1 of {CARDS}"
    tab.keyboard.press("ArrowLeft")  # to the last card of the deck, made when it is wanted
    assert tab.inner_text("#study-position") == f"Card {CARDS} of {CARDS}"
    assert listed(tab) == [rows[-1][0]]


def test_a_permalink_opens_a_card_far_down_the_deck(
    site: Path, rows: list[list[Any]], tab: Any
) -> None:
    target = rows[CARDS - 7][0]
    tab.goto((site / "index.html").as_uri() + "#" + target)
    tab.wait_for_function(
        f"() => document.activeElement && document.activeElement.id === '{target}'"
    )
    assert len(listed(tab)) <= LISTED
    assert tab.locator("#earlier").is_visible()
    tab.click("#earlier button")
    assert len(listed(tab)) > 7


def test_review_counts_the_whole_deck(rows: list[list[Any]], tab: Any) -> None:
    assert tab.inner_text("#review-start") == "Review (0 due, 20 new)"
    tab.click("#review-start")
    tab.keyboard.press("Space")
    tab.keyboard.press("3")
    answered = list(tab.evaluate("deckgenStudy.progress()")["cards"])
    assert answered == [f"{rows[0][0]}:{rows[0][5][0]}"]  # the deck's first card
    # the day's other 19 new cards, in deck order; the answered one is learning, due later
    queue = tab.evaluate("deckgenStudy.queue()")
    expected = [f"{r[0]}:{o}" for r in rows for o in (r[5] or [0])][1:20]
    assert queue == expected
