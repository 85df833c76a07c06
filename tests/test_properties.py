"""Property-based tests: arbitrary input never escapes as anything but a located DeckgenError,
rendering is stable, and escaping round-trips through HTML, Typst and CSV."""

from __future__ import annotations

import csv
import functools
import html
import io
import json
import re
from pathlib import Path

import pytest
import typst
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deckgen.cache import Cache
from deckgen.cardfile import parse_card_file
from deckgen.compile import compile_deck
from deckgen.errors import DeckgenError, DiagnosticSink
from deckgen.exporters.delimited import render_table
from deckgen.lint import lint_deck
from deckgen.load import load_sources
from deckgen.model import Syllabus
from deckgen.sanitize import sanitize
from deckgen.typstmarkup import TypstRenderer, typst_string
from tests.conftest import FIXTURES

# Derandomized (a fixed seed) and bounded, so CI runs the same examples every time.
PROFILE = settings(
    derandomize=True,
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Any code point UTF-8 can encode, as st.text() draws by default: every one but the surrogates
# (category Cs). Said so, Hypothesis need not encode all 1.1 million code points to find out
# (its `codec="utf-8"` default costs 2 s per process: its tables live in a fresh folder per run).
utf8 = st.characters(exclude_categories=["Cs"])

# Markdown-shaped noise: single characters that mean something somewhere, plus whole tokens.
markdownish = st.lists(
    st.sampled_from(
        [
            *"ab #*_`[]()!<>{}:-=>|\\\n\t&;\"'~$^@%/.",
            "c1::",
            "{{",
            "}}",
            "Q: ",
            "A: ",
            "## x\n",
            "---\n",
            "```",
            "<script>",
            "\\(",
            "\\)",
        ]
    ),
    max_size=120,
).map("".join)
yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(utf8, max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(utf8, max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@functools.cache
def sample_syllabus() -> Syllabus:
    """The sample deck's syllabus, read once: the examples below only read it."""
    return load_sources(FIXTURES / "sample" / "cards").syllabus


@PROFILE
@given(body=markdownish)
def test_any_card_body_loads_or_fails_with_a_location(sample_cards: Path, body: str) -> None:
    # One copy of the deck for every example, each writing its own fuzz.md: the deck's own
    # files come from this test's lint cache after the first example, fuzz.md never (it is new).
    path = sample_cards / "lang" / "fuzz.md"
    path.write_text(f"---\ntopic: rust\n---\n\n## rust-fuzz\nQ: {body}\n\nA: {body}\n")
    try:
        result = lint_deck(sample_cards, print_check=False)
        for diagnostic in result.diagnostics:
            assert diagnostic.location.path.name
            assert diagnostic.code.startswith("DG")
        assert [r.card for r in result.rendered.cards] == list(result.deck.cards)
    except DeckgenError as error:
        located = all(d.location.line >= 1 for d in error.diagnostics)
        assert located, error.diagnostics  # noqa: PT017 - inspecting a raise that may not happen


@PROFILE
@given(
    front=st.dictionaries(
        st.sampled_from(["topic", "section", "round", "tags", "topik", "x"]),
        yaml_values,
        max_size=4,
    )
)
def test_any_front_matter_is_accepted_or_located(front: dict[str, object]) -> None:
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n\n## a-b\nQ: x\n\nA: y\n"
    sink = DiagnosticSink()
    cards = parse_card_file(Path("fuzz.md"), text, sample_syllabus(), sink)
    assert cards or sink.errors
    assert all(d.location.line >= 1 for d in sink.items)


@PROFILE
@given(text=st.text(utf8, max_size=200))
def test_raw_yaml_text_never_crashes(text: str) -> None:
    sink = DiagnosticSink()
    text = f"---\n{text}\n---\n## a-b\nQ: x\n\nA: y\n"
    parse_card_file(Path("fuzz.md"), text, sample_syllabus(), sink)
    assert all(d.location.line >= 1 for d in sink.items)


@PROFILE
@given(fragment=st.text(utf8, max_size=200) | markdownish)
def test_sanitizing_is_idempotent(fragment: str) -> None:
    once = sanitize(fragment)
    assert sanitize(once) == once


@PROFILE
@given(text=st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc"]), max_size=120))
def test_text_round_trips_through_html(text: str) -> None:
    cleaned = sanitize(f"<p>{html.escape(text)}</p>")
    visible = html.unescape(re.sub(r"<[^>]+>", "", cleaned))
    assert visible == text


@pytest.fixture(scope="module")
def compiler(tmp_path_factory: pytest.TempPathFactory) -> typst.Compiler:
    """One Typst compiler for every example: it loads its fonts once (`typst.compile` loads
    them for each call, 25 ms). Each example's source replaces the empty main file."""
    main = tmp_path_factory.mktemp("typst") / "main.typ"
    main.write_text("", encoding="utf-8")
    return typst.Compiler(str(main))


@PROFILE
@given(text=st.text(utf8, max_size=120))
def test_text_round_trips_through_typst(compiler: typst.Compiler, text: str) -> None:
    assert json.loads(compiler.eval(typst_string(text))) == text


@PROFILE
@given(text=markdownish)
def test_typst_rendering_of_any_markdown_compiles(compiler: typst.Compiler, text: str) -> None:
    source = f"#set page(width: 10cm, height: auto)\n{TypstRenderer().render(text)}\n"
    compiler.compile(input=source.encode(), format="pdf", pdf_tags=False)


@PROFILE
@given(
    rows=st.lists(
        st.lists(st.text(utf8, max_size=30), min_size=6, max_size=6), min_size=1, max_size=5
    ),
    separator=st.sampled_from([",", "\t"]),
)
def test_cells_round_trip_through_csv(rows: list[list[str]], separator: str) -> None:
    rows = [[cell.replace("\r", "") for cell in row] for row in rows]
    text = render_table(rows, separator, "plain")
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    assert parsed[1:] == rows


def test_rendering_twice_gives_the_same_html() -> None:
    sources = load_sources(FIXTURES / "sample" / "cards")
    first, again = (compile_deck(sources, Cache(None)).rendered for _ in range(2))
    assert first == again


@settings(max_examples=500, deadline=None)
@given(deck_id=st.text(min_size=1, max_size=40), card_id=st.text(max_size=60))
def test_the_note_guid_is_genankis(deck_id: str, card_id: str) -> None:
    """deckgen computes genanki's `guid_for` itself, faster: every id gives the same GUID."""
    import genanki

    from deckgen.notetypes import note_guid

    assert note_guid(deck_id, card_id) == genanki.guid_for(deck_id, card_id)


def test_the_note_guid_of_a_hash_with_leading_zero_digits_is_genankis() -> None:
    """A hash whose top base-91 digits are zero gives a shorter GUID: the same as genanki's."""
    import genanki

    from deckgen.notetypes import note_guid

    shortest = min((f"card-{n}" for n in range(20_000)), key=lambda c: len(note_guid("d", c)))
    assert len(note_guid("d", shortest)) < 10
    assert note_guid("d", shortest) == genanki.guid_for("d", shortest)
