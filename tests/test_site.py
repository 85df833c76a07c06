"""The static site in headless Chromium, used as a person would: from disk, with the keyboard."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from deckgen.build import build
from deckgen.preview import STATUS_PATH
from tests.conftest import CHROMIUM, SampleBuild, running_preview, without_sections

playwright = pytest.importorskip("playwright.sync_api")

if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Chromium is not installed (.ci/run installs it)", allow_module_level=True)

# Screenshots go to the test's own folder unless a person asks for them; a relative
# $DECKGEN_SCREENSHOTS means the folder pytest was started from (tests run elsewhere).
SHOTS = (
    Path(os.environ["DECKGEN_SCREENSHOTS"]).absolute()
    if os.environ.get("DECKGEN_SCREENSHOTS")
    else None
)


@pytest.fixture
def site(sample_build: SampleBuild) -> Path:
    return sample_build.site


@pytest.fixture(scope="module")
def tab(chromium):  # type: ignore[no-untyped-def]
    """One tab for the tests of the built site: a context per test would cost each a renderer
    process of its own (0.3 s of CPU). `open_site` gives each test a clean one."""
    context = chromium.new_context()
    shared = context.new_page()
    yield shared
    context.close()


@pytest.fixture
def open_site(tab, site: Path):  # type: ignore[no-untyped-def]
    """Open the site in the tab as in a new browser profile: the site's storage (it keeps its
    state in localStorage only) emptied, at the given size and colour scheme. After the test:
    no script error happened and no request left the disk."""
    errors: list[str] = []

    def on_error(error) -> None:  # type: ignore[no-untyped-def]
        errors.append(str(error))

    def on_request(request) -> None:  # type: ignore[no-untyped-def]
        if not request.url.startswith("file://"):
            errors.append(f"network: {request.url}")

    def open_(width: int = 1200, height: int = 900, scheme: str = "light"):  # type: ignore[no-untyped-def]
        if tab.url.startswith("file://"):
            tab.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
        else:
            assert tab.url == "about:blank", tab.url  # only the first test finds it unused
        tab.set_viewport_size({"width": width, "height": height})
        tab.emulate_media(color_scheme=scheme)
        tab.goto(site.as_uri())
        assert tab.evaluate("localStorage.length") == 0
        return tab

    tab.on("pageerror", on_error)
    tab.on("request", on_request)
    yield open_
    tab.remove_listener("pageerror", on_error)
    tab.remove_listener("request", on_request)
    assert tab.url.startswith("file://"), tab.url  # where the next test can empty its storage
    assert errors == []  # no script errors and no request leaves the disk


@pytest.fixture
def page(open_site):  # type: ignore[no-untyped-def]
    return open_site()


def visible_ids(tab) -> list[str]:  # type: ignore[no-untyped-def]
    return tab.eval_on_selector_all(
        "article.entry", "els => els.filter(e => e.offsetParent !== null).map(e => e.id)"
    )


def test_all_cards_are_listed_by_section_and_topic(page) -> None:  # type: ignore[no-untyped-def]
    assert len(visible_ids(page)) == 7
    headings = page.locator("main h2, main h3").all_inner_texts()
    assert headings == ["1 · Networking", "TCP", "DNS", "2 · Languages", "Rust"]
    assert page.inner_text("#status") == "7 cards"
    image = page.locator("#tcp-handshake-diagram .face.back img")
    assert image.is_hidden()  # the answer's image, hidden until revealed
    page.click("#tcp-handshake-diagram button.reveal")
    assert image.is_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")


def test_search_and_filters(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#search", "time_wait")
    assert visible_ids(page) == ["tcp-time-wait-side", "tcp-time-wait-length"]
    assert page.inner_text("#status") == "2 of 7 cards"
    page.fill("#search", "")
    page.select_option("#filter-section", "lang")
    assert visible_ids(page) == ["rust-two-mut-borrows", "rust-ownership-rule"]
    page.select_option("#filter-section", "")
    page.select_option("#filter-topic", "dns")
    assert visible_ids(page) == ["dns-ttl-term", "dns-resolution-order"]
    page.select_option("#filter-topic", "")
    page.select_option("#filter-tag", "tcp-handshake")
    assert visible_ids(page) == ["tcp-handshake-diagram"]
    assert page.locator("section.section[data-section=lang]").is_hidden()


class TestWithoutSections:
    """The site of a deck whose syllabus has no sections: no section filter, topics on top."""

    @pytest.fixture
    def site(self, sample_cards: Path, tmp_path: Path) -> Path:
        without_sections(sample_cards)
        (built,) = build(sample_cards, tmp_path / "dist", formats=["html"]).paths
        return built / "index.html"

    def test_filters_and_study_work_without_a_section_filter(self, page) -> None:  # type: ignore[no-untyped-def]
        assert page.locator("#filter-section").count() == 0
        assert page.locator("main h2, main h3").all_inner_texts() == ["TCP", "DNS", "Rust"]
        page.select_option("#filter-topic", "dns")
        assert visible_ids(page) == ["dns-ttl-term", "dns-resolution-order"]
        assert page.locator("section.topic[data-topic=tcp]").is_hidden()
        page.click("#study-start")
        assert page.locator("#study-bar").is_visible()
        page.keyboard.press("Escape")
        page.select_option("#filter-topic", "")
        assert len(visible_ids(page)) == 7


def test_study_mode_with_the_keyboard_only(page) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#filter-topic", "dns")
    page.focus("#study-start")
    page.keyboard.press("Enter")
    assert page.inner_text("#study-position") == "Card 1 of 2"
    assert visible_ids(page) == ["dns-ttl-term"]
    back = page.locator("#dns-ttl-term .face.back")
    assert back.is_hidden()
    page.keyboard.press("Space")
    assert back.is_visible()
    assert "number of seconds a resolver may cache" in back.inner_text()
    page.keyboard.press("ArrowRight")
    assert visible_ids(page) == ["dns-resolution-order"]
    question = page.inner_text("#dns-resolution-order .face.front")
    assert "asks a [...] server, then a [...] server" in question  # cloze blanks
    page.keyboard.press("Space")
    assert "root" in page.inner_text("#dns-resolution-order .face.back .cloze >> nth=0")
    page.keyboard.press("m")
    page.keyboard.press("Escape")
    assert len(visible_ids(page)) == 2
    # the mark survives a reload (local storage) and drives the "only marked" filter
    page.reload()
    page.check("#only-marked")
    assert visible_ids(page) == ["dns-resolution-order"]
    focused = page.evaluate("document.activeElement.id")
    assert focused in ("only-marked", "")


def test_permalink_shows_its_card_even_when_filtered(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#filter-topic", "rust")
    page.goto(site.as_uri() + "#tcp-time-wait-length")
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'tcp-time-wait-length'"
    )
    assert "tcp-time-wait-length" in visible_ids(page)
    assert (
        page.get_attribute("#tcp-time-wait-length a.permalink", "href") == "#tcp-time-wait-length"
    )


def test_report_link_names_card_and_file(page) -> None:  # type: ignore[no-untyped-def]
    href = page.get_attribute("#tcp-time-wait-side a.report", "href")
    assert href.startswith("https://example.org/sample/issues/new?")
    assert "tcp-time-wait-side" in href and "cards%2Fnet%2Ftcp.md" in href


def test_buttons_are_real_and_focus_is_visible(page) -> None:  # type: ignore[no-untyped-def]
    page.keyboard.press("Tab")  # skip link first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.focus("#tcp-time-wait-side button.reveal")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    assert page.get_attribute("#tcp-time-wait-side button.reveal", "aria-expanded") == "true"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_themes_and_widths(open_site, scheme: str, width: int, height: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tab = open_site(width, height, scheme)
    dark = tab.evaluate("document.documentElement.classList.contains('nightMode')")
    assert dark == (scheme == "dark")
    background = tab.evaluate(
        "getComputedStyle(document.querySelector('article.entry')).backgroundColor"
    )
    assert background == ("rgb(30, 30, 30)" if dark else "rgb(255, 255, 255)")
    # nothing is wider than the screen (usable at phone width)
    overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    tab.click("#tcp-time-wait-length button.reveal")
    target = (SHOTS or tmp_path) / f"site-{width}-{scheme}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(target))
    assert target.stat().st_size > 10_000
    tab.click("#theme-toggle")
    assert tab.evaluate("document.documentElement.classList.contains('nightMode')") != dark


def test_preview_rebuilds_and_shows_findings(
    chromium, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:  # type: ignore[no-untyped-def]
    context = chromium.new_context()
    try:
        with running_preview(sample_cards, tmp_path / "out") as (_, _, url):
            tab = context.new_page()
            with tab.expect_response(lambda r: STATUS_PATH in r.url):
                tab.goto(url + "/")  # and the page knows the build it shows
            assert tab.locator("#lint").is_hidden()
            tcp = sample_cards / "net" / "tcp.md"
            tcp.write_text(tcp.read_text() + "\n## tcp-half-done\nQ: What is missing?\n")
            tab.wait_for_selector("#lint:not([hidden])", timeout=10_000)
            assert "tcp.md:35: DG108 [error] card 'tcp-half-done' needs 'A:'" in tab.inner_text(
                "#lint"
            )
            tcp.write_text(tcp.read_text() + "\nA: The answer.\n\nSource: RFC 9293\n")
            tab.wait_for_selector("#tcp-half-done", timeout=10_000)  # reloaded with the new card
            tab.wait_for_selector("#lint[hidden]", state="attached", timeout=10_000)
    finally:
        context.close()


def test_preview_reloads_on_the_card_just_edited(
    chromium, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:  # type: ignore[no-untyped-def]
    """A card far below the top of a short window: after the save, the reloaded page shows it."""
    context = chromium.new_context(viewport={"width": 800, "height": 300})
    errors: list[str] = []
    try:
        with running_preview(sample_cards, tmp_path / "out") as (_, _, url):
            tab = context.new_page()
            tab.on("pageerror", lambda error: errors.append(str(error)))
            with tab.expect_response(lambda r: STATUS_PATH in r.url):
                tab.goto(url + "/")
            card = tab.locator("#tcp-handshake-diagram")
            assert not in_view(tab, card)
            tcp = sample_cards / "net" / "tcp.md"
            with tab.expect_event("load", timeout=15_000):  # the reload
                tcp.write_text(tcp.read_text().replace("SYN, SYN-ACK, ACK.", "SYN, then ACK."))
            tab.wait_for_function(
                "() => document.getElementById('tcp-handshake-diagram').textContent"
                ".includes('SYN, then ACK.')"
            )
            assert "edited" in (card.get_attribute("class") or "")  # highlighted, for a moment
            tab.wait_for_function(
                "() => { const r = document.getElementById('tcp-handshake-diagram')"
                ".getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }",
                timeout=5_000,
            )
            assert in_view(tab, card)
            assert tab.evaluate("sessionStorage.length") == 0  # the focus is used once
    finally:
        context.close()
    assert errors == []


def in_view(tab, locator) -> bool:  # type: ignore[no-untyped-def]
    """Whether the element's top edge lies within the window."""
    box = locator.bounding_box()
    height = tab.evaluate("innerHeight")
    return box is not None and 0 <= box["y"] < height
