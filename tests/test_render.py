"""Markdown → HTML as the build renders it (the compile stage): highlighting, math passthrough,
media, sources, and the HTML allow-list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from deckgen.cache import Cache
from deckgen.compile import compile_deck
from deckgen.highlight import highlight_code, pygments_css
from deckgen.load import load_sources
from deckgen.render import RenderedDeck
from deckgen.rules import Severity
from deckgen.sanitize import sanitize, unsafe_html
from deckgen.sourceline import source_markdown


def compiled(cards: Path) -> tuple[RenderedDeck, list[str]]:
    """The cards as a build renders them (load, then compile), and the errors found."""
    result = compile_deck(load_sources(cards), Cache(None))
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    return result.rendered, [
        d.display(cards.parent) for d in sorted(errors, key=lambda d: d.location)
    ]


def rendered_deck(cards: Path) -> RenderedDeck:
    rendered, errors = compiled(cards)
    assert errors == []
    return rendered


def render_one(cards: Path, write: Callable[[str, str], Path], body: str) -> dict[str, str]:
    write("net/one.md", f"---\ntopic: tcp\n---\n\n## tcp-one\n{body}\n")
    card = next(c for c in rendered_deck(cards).cards if c.card.id == "tcp-one")
    return {
        "front": card.front,
        "back": card.back,
        "extra": card.extra,
        "sources": "\n".join(card.sources),
    }


def render_errors(cards: Path, write: Callable[[str, str], Path], body: str) -> list[str]:
    write("net/one.md", f"---\ntopic: tcp\n---\n\n## tcp-one\n{body}\n")
    _, errors = compiled(cards)
    assert errors
    return errors


def test_code_is_highlighted_into_classes() -> None:
    html = highlight_code('fn main() { println!("hi"); }\n', "rust")
    assert html.startswith('<pre class="highlight"><code class="language-rust">')
    assert '<span class="k">fn</span>' in html
    assert "style=" not in html


def test_unknown_language_is_escaped_not_lost() -> None:
    assert highlight_code("<b>x</b>\n", "nosuchlang") == (
        '<pre class="highlight"><code class="language-nosuchlang">&lt;b&gt;x&lt;/b&gt;\n'
        "</code></pre>\n"
    )


def test_pygments_css_has_light_and_night_rules() -> None:
    css = pygments_css(".highlight", (".nightMode", ".night_mode"))
    assert ".highlight .k {" in css
    assert ".nightMode .highlight .k, .night_mode .highlight .k {" in css


def test_tables_strikethrough_and_math(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    html = render_one(
        sample_cards,
        write_card,
        "Q: Sum \\(a_1 < b^2\\)?\n\nA: ~~no~~\n\n| a | b |\n|--:|---|\n| 1 | 2 |\n\n"
        "\\[ \\sum_i x_i \\]",
    )
    assert html["front"] == "<p>Sum \\(a_1 &lt; b^2\\)?</p>"
    assert "<s>no</s>" in html["back"]
    assert '<th style="text-align:right">a</th>' in html["back"]
    assert "\\[ \\sum_i x_i \\]" in html["back"]


def test_cloze_markup_survives_rendering(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card(
        "net/one.md",
        "---\ntopic: tcp\n---\n## tcp-one\nCloze: {{c1::**SYN**::first}} then {{c2::ACK}}\n",
    )
    card = next(c for c in rendered_deck(sample_cards).cards if c.card.id == "tcp-one")
    assert card.text == "<p>{{c1::<strong>SYN</strong>::first}} then {{c2::ACK}}</p>"


def test_images_become_content_hashed_media(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    (sample_cards / "net" / "img" / "copy.png").write_bytes(
        (sample_cards / "net" / "img" / "handshake.png").read_bytes()
    )
    html = render_one(
        sample_cards, write_card, "Q: a\n\n![one](img/handshake.png)\n\nA: ![two](img/copy.png)"
    )
    rendered = rendered_deck(sample_cards)
    (media,) = rendered.media  # same bytes, one media file
    assert f'<img src="{media.name}" alt="one">' in html["front"]
    assert f'<img src="{media.name}" alt="two">' in html["back"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Q: a\n\nA: ![x](img/none.png)", "cards/net/one.md:8:4: missing image 'img/none.png'"),
        (
            "Q: a\n\nA: ![x](https://evil.example/x.png)",
            "cards/net/one.md:8:4: unsafe image in card 'tcp-one': remote or inline resource "
            "'https://evil.example/x.png'",
        ),
        (
            "Q: a\n\nA: ![x](../../../etc/passwd)",
            "cards/net/one.md:8:4: image '../../../etc/passwd' is outside the cards folder",
        ),
        (
            "Q: a\n\nA: ok\n\n<script>alert(1)</script>",
            "cards/net/one.md:10: unsafe HTML in card 'tcp-one': HTML tag <script> is not allowed",
        ),
        (
            'Q: <b onclick="x()">a</b>\n\nA: b',
            "cards/net/one.md:6:4: unsafe HTML in card 'tcp-one': event-handler attribute "
            "'onclick'",
        ),
        (
            'Q: a\n\nA: <a href="javascript:alert(1)">b</a>',
            "cards/net/one.md:8:4: unsafe HTML in card 'tcp-one': URL scheme 'javascript:'",
        ),
        (
            'Q: a\n\nA: <img src="http://tracker.example/p.gif">',
            "cards/net/one.md:8: unsafe HTML in card 'tcp-one': remote or inline resource",
        ),
        (
            'Q: a\n\nA: <iframe src="x"></iframe>',
            "cards/net/one.md:8: unsafe HTML in card 'tcp-one': HTML tag <iframe> is not allowed",
        ),
    ],
)
def test_bad_media_and_unsafe_html_are_errors(
    sample_cards: Path, write_card: Callable[[str, str], Path], body: str, expected: str
) -> None:
    errors = render_errors(sample_cards, write_card, body)
    assert any(e.startswith(expected) for e in errors), errors


def test_harmless_html_is_allowed(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    html = render_one(sample_cards, write_card, "Q: Press <kbd>Ctrl</kbd>\n\nA: H<sub>2</sub>O")
    assert "<kbd>Ctrl</kbd>" in html["front"]
    assert "<sub>2</sub>" in html["back"]


def test_markdown_javascript_links_are_errors(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    errors = render_errors(sample_cards, write_card, "Q: [x](javascript:alert(1))\n\nA: b")
    assert errors == [
        "cards/net/one.md:6:4: unsafe link in card 'tcp-one': URL scheme 'javascript:' is not allowed (use https:)"  # noqa: E501
    ]


@pytest.mark.parametrize(
    "fragment",
    [
        '<p onmouseover="x()">a</p>',
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        '<img src="https://tracker.example/p.gif">',
        '<div style="background:url(https://x.example/a.png)">a</div>',
        "<style>body{}</style>",
        '<a href=" jav&#x09;ascript:alert(1)">x</a>',
    ],
)
def test_sanitizer_and_checker_agree(fragment: str) -> None:
    assert unsafe_html(fragment), fragment
    cleaned = sanitize(fragment)
    for bad in ("onmouseover", "<script", "javascript", "tracker.example", "url(", "<style"):
        assert bad not in cleaned.lower()


@pytest.mark.parametrize(
    ("source", "markdown"),
    [
        (
            "RFC 9293 §3.3.2",
            "[RFC 9293 §3.3.2](https://www.rfc-editor.org/rfc/rfc9293#section-3.3.2)",
        ),
        ("RFC 8446", "[RFC 8446](https://www.rfc-editor.org/rfc/rfc8446)"),
        (
            "RFC 8446 §B.3, ciphers",
            "[RFC 8446 §B.3](https://www.rfc-editor.org/rfc/rfc8446#appendix-B.3), ciphers",
        ),
        ("https://example.org/a", "<https://example.org/a>"),
        ("[Docs](https://example.org)", "[Docs](https://example.org)"),
    ],
)
def test_source_shorthands(source: str, markdown: str) -> None:
    assert source_markdown(source) == markdown
