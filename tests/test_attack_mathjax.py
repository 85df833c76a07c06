"""TeX against the real MathJax 3, as Anki runs it on every card: what lint refuses would have been
a link or a remote load, and what lint lets through never is.

MathJax comes from the npm registry (`npm pack mathjax@3.2.2`, 6 MB, into a temporary folder)
and runs in one headless Chromium page that typesets field after field, as Anki's reviewer does
card after card, with every TeX extension loaded (`tex-chtml-full.js`), a stronger configuration
than Anki's own, and every request recorded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from deckgen.errors import DiagnosticSink
from deckgen.render import html_renderer
from deckgen.safety import math_problems
from deckgen.sanitize import sanitize
from tests.conftest import CHROMIUM

playwright = pytest.importorskip("playwright.sync_api")

NPM = shutil.which("npm")
if (CHROMIUM is None or NPM is None) and os.environ.get("CI") != "true":
    pytest.skip("Chromium and npm are needed (.ci/run installs Chromium)", allow_module_level=True)

MATHJAX_VERSION = "3.2.2"

# Each is what a card would ship if lint did not look at its TeX: (Markdown, what MathJax does)
DANGEROUS = [
    (r"\(\href{javascript:alert(1)}{x}\)", "javascript:alert(1)"),
    (r"\(\style{background-image:url(https://t.example/a.png)}{y}\)", "t.example"),
    (r"\(\class{x-injected}{y}\)", "x-injected"),
    (r"\(\cssId{x-injected-id}{y}\)", "x-injected-id"),
    (r"\[\href{https://t.example/}{x}\]", "t.example"),
]
PLAIN = [
    r"\(\frac{a}{b} \le \sqrt{x_1^2 + x_2^2}\)",
    r"\[\sum_{i=1}^{n} i = \frac{n(n+1)}{2}\]",
    r"\(\mathrm{RTT}_{min} \cdot \log_2 N \approx \alpha\)",
    r"\(\begin{pmatrix} a & b \\ c & d \end{pmatrix}\)",
    r"\(\text{cwnd} \gets \max(\text{cwnd}/2, 2 \cdot \text{MSS})\)",
]


@pytest.fixture(scope="module")
def mathjax(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mathjax")
    subprocess.run(
        [str(NPM), "pack", f"mathjax@{MATHJAX_VERSION}", "--silent"],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=300,
    )
    with tarfile.open(folder / f"mathjax-{MATHJAX_VERSION}.tgz") as archive:
        archive.extractall(folder, filter="data")
    return folder / "package" / "es5"


@pytest.fixture(scope="module")
def typeset(
    mathjax: Path, chromium: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], tuple[str, list[str]]]]:
    """Typeset a field's HTML with MathJax; return the resulting HTML and every request made.

    One page loads MathJax once and typesets one field after another into the same element,
    as Anki's reviewer does card after card; before each, MathJax forgets the last one (its
    equation labels and macros, and the typeset items of the page).
    """
    page_file = tmp_path_factory.mktemp("pages") / "card.html"
    page_file.write_text(
        "<!doctype html><meta charset=utf-8><script>window.MathJax = {tex: {inlineMath:"
        " [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']]},"
        " startup: {typeset: false}};</script>"
        f'<script src="{(mathjax / "tex-chtml-full.js").as_uri()}"></script>'
        '<div id="card"></div>',
        encoding="utf-8",
    )
    context = chromium.new_context()
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    tab = context.new_page()
    tab.goto(page_file.as_uri())
    tab.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    tab.evaluate("MathJax.startup.promise")

    def run(field_html: str) -> tuple[str, list[str]]:
        del requests[:]
        tab.evaluate(
            """html => {
                MathJax.typesetClear();
                MathJax.texReset();
                const card = document.getElementById("card");
                card.innerHTML = html;
                return MathJax.typesetPromise([card]);
            }""",
            field_html,
        )
        tab.wait_for_timeout(100)
        out = tab.inner_html("#card")
        tab.evaluate('document.getElementById("card").replaceChildren()')
        return out, [u for u in requests if not u.startswith("file://")]

    yield run
    context.close()


def field_html(markdown: str) -> str:
    """A field as deckgen renders and sanitizes it, before the TeX check."""
    return sanitize(html_renderer().render(markdown))


@pytest.mark.parametrize(("markdown", "effect"), DANGEROUS)
def test_refused_tex_would_have_been_active_in_mathjax(
    typeset: Callable[[str], tuple[str, list[str]]], markdown: str, effect: str
) -> None:
    html = field_html(markdown)
    assert math_problems(html), html  # lint refuses it (DG404 in the card's file)
    out, requests = typeset(html)
    assert effect in out or any(effect in u for u in requests), out  # and it was dangerous


@pytest.mark.parametrize("markdown", PLAIN)
def test_allowed_tex_typesets_inert(
    typeset: Callable[[str], tuple[str, list[str]]], markdown: str
) -> None:
    html = field_html(markdown)
    assert math_problems(html) == []
    out, requests = typeset(html)
    assert "mjx-container" in out  # MathJax did typeset it
    assert requests == []
    for active in (r"<script[\s>]", r"\shref=", r"javascript:", r"url\(", r"\son[a-z]+="):
        assert not re.search(active, out, re.IGNORECASE), (active, out[:300])


def test_the_real_deck_math_check_is_the_one_lint_uses(sample_cards: Path) -> None:
    """The renderer reports exactly these problems for a card (not a private copy of them)."""
    from dataclasses import replace

    from deckgen.compile import load_deck
    from deckgen.model import Text
    from deckgen.render import CardRenderer

    deck = load_deck(sample_cards)
    sink = DiagnosticSink()
    card = replace(deck.cards[0], front=Text(DANGEROUS[0][0], 1))
    CardRenderer(deck, sink).render(card)
    assert {d.code for d in sink.items} == {"DG404"}
    assert all("\\href" in d.message for d in sink.items)
