"""An attacker's pull request against the media checks and the printed PDFs (issue 11).

SVG files that smuggle script or remote loads past a pattern match, images whose header promises
more pixels than any machine has memory for, card text that tries to close Typst markup, and
links that a PDF viewer would open. Each is refused with the card's `path:line`, or printed as
inert text, and never ends in a traceback.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from pypdf import PdfReader

from deckgen.build import build
from deckgen.cli import cli
from deckgen.errors import DeckgenError
from deckgen.exporters.pdf import print_options
from deckgen.lint import lint_deck
from deckgen.media import media_problem, svg_problem
from deckgen.printing import TypstDocument, cards_page, print_cards, sheet_page
from deckgen.typstmarkup import TypstRenderer, cloze_back
from tests.conftest import PROJECT, cpu_seconds

FRONT = "---\ntopic: rust\n---\n\n## rust-evil\n"
DANGER = "is an SVG with scripts, event handlers or external references"
NS = 'xmlns="http://www.w3.org/2000/svg"'


def findings(cards: Path, *, print_check: bool = False) -> list[str]:
    """Every diagnostic of a lint run, as `path:line: CODE message`."""
    result = lint_deck(cards, print_check=print_check)
    return [f"{d.location.display(cards.parent)}: {d.code} {d.message}" for d in result.diagnostics]


def use_image(cards: Path, write_card: Callable[[str, str], Path], name: str, data: bytes) -> None:
    (cards / "lang" / name).write_bytes(data)
    write_card("lang/evil.md", f"{FRONT}Q: Look\n\nA: ![x]({name})\n\nSource: RFC 9293\n")


def png(width: int, height: int, pixels: bytes = b"\0" * 64) -> bytes:
    """A PNG with a hand-made IHDR (valid CRCs) that claims `width` x `height` RGB pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def pillow_image(fmt: str, size: tuple[int, int] = (40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, fmt)
    return buffer.getvalue()


def uri_links(pdf: Path | bytes) -> list[str]:
    """Every link annotation's target in a PDF, as a viewer would open it."""
    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    targets = []
    for page in reader.pages:
        for annotation in page.get("/Annots", []):
            action = annotation.get_object().get("/A", {})
            if "/URI" in action:
                targets.append(str(action["/URI"]))
            else:  # a launch or remote-go-to action would be worse than a URI
                assert action.get("/S") in (None, "/GoTo"), action
    return targets


def pdf_text(pdf: Path | bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


# --------------------------------------------------------------------------- SVG

SVG_ATTACKS = [
    (  # the prefix is bound to the SVG namespace: a browser runs this script
        "namespaced-script",
        f'<svg {NS} xmlns:s="http://www.w3.org/2000/svg">\n<g/>\n<s:script>alert(1)</s:script>'
        "</svg>",
        f"DG404 image 'x.svg' {DANGER}: <script> (line 3)",
    ),
    (
        "dtd-entity",
        f'<!DOCTYPE svg [<!ENTITY js "javascript:alert(1)">]>\n<svg {NS}><use href="&js;"/></svg>',
        f"{DANGER}: a <!DOCTYPE> declaration (line 1)",
    ),
    (
        "external-dtd",
        '<?xml version="1.0"?>\n<!DOCTYPE svg SYSTEM "https://evil.example/x.dtd">\n<svg/>',
        f"{DANGER}: a <!DOCTYPE> declaration (line 2)",
    ),
    (
        "namespaced-foreign-object",
        f'<svg {NS} xmlns:s="http://www.w3.org/2000/svg"><s:foreignObject>'
        '<div xmlns="http://www.w3.org/1999/xhtml">hi</div></s:foreignObject></svg>',
        f"{DANGER}: <foreignObject> (line 1)",
    ),
    (
        "entity-encoded-javascript",
        f'<svg {NS}><use href="&#106;avascript&#x3a;alert(1)"/></svg>',
        f"{DANGER}: link href='javascript:alert(1)' on <use> (line 1; only #id may be linked)",
    ),
    (
        "entity-encoded-https-xlink",
        f'<svg {NS} xmlns:xlink="http://www.w3.org/1999/xlink">\n'
        '<use xlink:href="&#104;ttps://evil.example/x.svg#a"/></svg>',
        f"{DANGER}: link href='https://evil.example/x.svg#a' on <use> (line 2;",
    ),
    (
        "css-import",
        f"<svg {NS}><style>@import url(https://evil.example/x.css);</style></svg>",
        f"{DANGER}: <style> (line 1)",
    ),
    (
        "css-import-in-style-attribute",
        f'<svg {NS}><rect style="@import url(//evil.example/x.css)"/></svg>',
        f"{DANGER}: style property '@import url(//evil.example/x.css)' on <rect> (line 1)",
    ),
    (
        "remote-url-in-style",
        f'<svg {NS}><rect style="fill: url(https://evil.example/p.svg#g)"/></svg>',
        f"{DANGER}: style value 'url(https://evil.example/p.svg#g)' for fill on <rect>",
    ),
    (
        "remote-url-in-fill",
        f'<svg {NS}><rect fill="URL( https://evil.example/p.svg#g)"/></svg>',
        f"{DANGER}: url( https://evil.example/p.svg#g) in fill= on <rect> (line 1;",
    ),
    (
        "css-escape-spells-url",
        f'<svg {NS}><rect fill="u\\72l(https://evil.example/p)"/></svg>',
        f"{DANGER}: backslash in fill= on <rect> (line 1)",
    ),
    (
        "use-remote-href",
        f'<svg {NS}><use href="https://evil.example/x.svg#a"/></svg>',
        f"{DANGER}: link href='https://evil.example/x.svg#a' on <use>",
    ),
    (
        "use-other-file",
        f'<svg {NS}><use href="other.svg#a"/></svg>',
        f"{DANGER}: link href='other.svg#a' on <use>",
    ),
    ("image-href", f'<svg {NS}><image href="a.png"/></svg>', f"{DANGER}: <image> (line 1)"),
    ("anchor", f'<svg {NS}><a href="#x"><rect/></a></svg>', f"{DANGER}: <a> (line 1)"),
    ("onload", f'<svg {NS} onload="alert(1)"/>', f"{DANGER}: event handler onload= on <svg>"),
    ("onclick-upper", f'<svg {NS}><rect ONCLICK="x"/></svg>', "event handler ONCLICK= on <rect>"),
    (
        "set-rewrites-href",
        f'<svg {NS}><set attributeName="href" to="javascript:alert(1)"/></svg>',
        f"{DANGER}: <set> (line 1)",
    ),
    (
        "xhtml-namespace",
        f'<svg {NS}><g xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></g></svg>',
        f"{DANGER}: <g> from namespace 'http://www.w3.org/1999/xhtml' (line 1)",
    ),
    (
        "stylesheet-instruction",
        f'<?xml version="1.0"?>\n<?xml-stylesheet href="https://evil.example/x.css"?>\n<svg {NS}/>',
        f"{DANGER}: processing instruction <?xml-stylesheet?> (line 2)",
    ),
    (
        "xml-base",
        f'<svg {NS} xml:base="https://evil.example/"/>',
        f"{DANGER}: attribute base from namespace",
    ),
    (
        "reference-cycle",
        f'<svg {NS}><g id="a"><use href="#a"/></g></svg>',
        f"{DANGER}: a reference cycle",
    ),
    (  # ten levels of ten <use> each: 10^9 elements to draw from a file of 2 KiB
        "use-bomb",
        f'<svg {NS}><g id="l0"><path d="M0 0"/></g>'
        + "".join(f'<g id="l{i + 1}">' + f'<use href="#l{i}"/>' * 10 + "</g>" for i in range(9))
        + "</svg>",
        "DG111 image 'x.svg' is an SVG with more than 250,000 elements once <use> and url(#id) "
        "are expanded (limit 250,000)",
    ),
    (
        "deep-nesting",
        f"<svg {NS}>" + "<g>" * 300 + "</g>" * 300 + "</svg>",
        "DG111 image 'x.svg' is an SVG with elements nested deeper than 256 (limit 256)",
    ),
    (
        "not-svg",
        '<html xmlns="http://www.w3.org/1999/xhtml"><svg/></html>',
        "DG405 image 'x.svg' is not an SVG file (checked by content): its root element is <html>",
    ),
    (
        "undefined-entity",
        f"<svg {NS}>\n<text>&xxe;</text></svg>",
        "is not an SVG file (checked by content): not well-formed XML at line 2",
    ),
]


@pytest.mark.parametrize(
    ("svg", "expected"),
    [(svg, msg) for _, svg, msg in SVG_ATTACKS],
    ids=[c[0] for c in SVG_ATTACKS],
)
def test_hostile_svg_is_refused_at_the_cards_line(
    sample_cards: Path, write_card: Callable[[str, str], Path], svg: str, expected: str
) -> None:
    use_image(sample_cards, write_card, "x.svg", svg.encode())
    found = findings(sample_cards)
    assert any(
        line.startswith("cards/lang/evil.md:8:4: ") and expected in line for line in found
    ), found


DIAGRAM = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- TCP three-way handshake, drawn by hand -->
<svg {NS} xmlns:xlink="http://www.w3.org/1999/xlink" width="320" height="180"
     viewBox="0 0 320 180" version="1.1">
  <title>Three-way handshake</title>
  <desc>SYN, SYN-ACK, ACK between a client and a server</desc>
  <defs>
    <path id="arrow" d="M0,0 L8,4 L0,8 z" fill="#333"/>
    <linearGradient id="lane" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#e8f0fe"/><stop offset="1" stop-color="#ffffff"/>
    </linearGradient>
    <symbol id="host" viewBox="0 0 20 20"><rect width="20" height="20" rx="3"/></symbol>
    <clipPath id="frame"><rect width="320" height="180"/></clipPath>
  </defs>
  <g clip-path="url(#frame)" font-family="'DejaVu Sans', sans-serif" font-size="12">
    <rect width="320" height="180" fill="url(#lane)"/>
    <use xlink:href="#host" x="30" y="10" width="20" height="20" fill="#1f4e79"/>
    <use href="#host" x="270" y="10" width="20" height="20" style="fill:#1f4e79;opacity:0.9"/>
    <line x1="40" y1="30" x2="40" y2="170" stroke="#999" stroke-dasharray="4 2"/>
    <line x1="280" y1="30" x2="280" y2="170" stroke="#999" stroke-dasharray="4 2"/>
    <polyline points="40,50 280,80" fill="none" stroke="#333"/>
    <polyline points="280,90 40,120" fill="none" stroke="#333"/>
    <path d="M40 130 L280 160" stroke="#333" stroke-width="1.5"/>
    <use href="#arrow" x="272" y="156"/>
    <text x="150" y="58" text-anchor="middle" xml:space="preserve">SYN</text>
    <text x="150" y="100" text-anchor="middle">SYN<tspan dx="2" fill="#b00">-ACK</tspan></text>
    <text x="150" y="140" text-anchor="middle">ACK &amp; data</text>
    <circle cx="40" cy="50" r="3"/><ellipse cx="280" cy="90" rx="3" ry="2"/>
    <polygon points="0,0 4,0 2,3" transform="translate(150 170) rotate(180)"/>
  </g>
</svg>
"""


def test_a_real_diagram_is_accepted_and_printed(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    tmp_path: Path,
    epoch: Callable[[int], None],
) -> None:
    use_image(sample_cards, write_card, "handshake.svg", DIAGRAM.encode())
    assert media_problem(sample_cards / "lang" / "handshake.svg") is None
    assert not [line for line in findings(sample_cards) if "evil.md" in line]
    result = build(sample_cards, tmp_path / "dist", formats=["pdf", "json"])
    card = next(c for c in result.deck.cards if c.card.id == "rust-evil")
    assert len(card.media) == 1 and card.media[0].endswith(".svg")
    assert any(m.name == card.media[0] for m in result.deck.media)


def test_a_64_kib_svg_is_checked_in_linear_time(
    sample_cards: Path, write_card: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """The old regex backtracked quadratically on whitespace after `href=`: 24 s for 64 KiB."""
    padding = " " * 66_000
    fine = f'<svg {NS}><rect id="a"/><use href={padding}"#a"/></svg>'.encode()
    hostile = f'<svg {NS}><use href={padding}"https://evil.example/x.svg#a"/></svg>'.encode()
    flat = (f"<svg {NS}>" + '<path d="M0 0 L10 10" stroke="#000"/>\n' * 1800 + "</svg>").encode()
    for data, refused in ((fine, False), (hostile, True), (flat, False)):
        assert len(data) >= 64 * 1024
        path = tmp_path / "big.svg"
        path.write_bytes(data)
        start = cpu_seconds()
        problem = media_problem(path)
        elapsed = cpu_seconds() - start
        assert elapsed < 0.5, elapsed
        assert (problem is not None) == refused, problem
    use_image(sample_cards, write_card, "x.svg", hostile)
    start = cpu_seconds()
    found = findings(sample_cards)
    assert cpu_seconds() - start < 5  # the whole lint; the old check alone took minutes
    assert any(
        line.startswith(f"cards/lang/evil.md:8:4: DG404 image 'x.svg' {DANGER}: link href=")
        for line in found
    ), found


# --------------------------------------------------------------------------- raster images


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        (
            "bomb.png",
            lambda: png(80_000, 80_000),
            "DG111 image 'bomb.png' is an image of more than 80 megapixels (limit 8192 pixels "
            "a side and 40 megapixels)",
        ),
        (
            "wide.png",
            lambda: png(100_000, 1),
            "DG111 image 'wide.png' is a 100000×1 image (limit 8192 pixels a side",
        ),
        ("square.png", lambda: png(7000, 7000), "DG111 image 'square.png' is a 7000×7000 image"),
        (
            "png.jpg",
            lambda: pillow_image("PNG"),
            "DG405 image 'png.jpg' is not a JPG file (checked by content): it is a PNG image",
        ),
        (
            "gif.webp",
            lambda: pillow_image("GIF"),
            "DG405 image 'gif.webp' is not a WEBP file (checked by content): it is a GIF image",
        ),
        (
            "zero.png",
            lambda: png(0, 10),
            "DG405 image 'zero.png' is not a PNG file (checked by content): not a valid image",
        ),
        (
            "header-only.gif",
            lambda: b"GIF89a" + b"\xff" * 7,
            "DG405 image 'header-only.gif' is not a GIF file (checked by content)",
        ),
    ],
)
def test_raster_images_are_checked_by_header_and_pixel_count(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    name: str,
    make: Callable[[], bytes],
    expected: str,
) -> None:
    use_image(sample_cards, write_card, name, make())
    found = findings(sample_cards)
    assert any(
        line.startswith("cards/lang/evil.md:8:4: ") and expected in line for line in found
    ), found


def test_the_80000_pixel_png_is_refused_fast_in_little_memory(tmp_path: Path) -> None:
    """Only the header is read: with 512 MiB of address space, a decode (25 GB) cannot happen."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png(80_000, 80_000, b"\0" * 760_000))
    assert bomb.stat().st_size < 64 * 1024  # zlib packs 760 KB of zeros; the attack was 760 KB
    script = (
        "import resource, sys, time\n"
        "resource.setrlimit(resource.RLIMIT_AS, (512 * 2**20, 512 * 2**20))\n"
        "from pathlib import Path\n"
        "from deckgen.media import media_problem\n"
        "start = time.process_time()\n"
        "print(media_problem(Path(sys.argv[1])))\n"
        "print(time.process_time() - start)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(bomb)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    message, seconds = done.stdout.splitlines()
    assert message.startswith("is an image of more than 80 megapixels"), done.stdout
    assert float(seconds) < 0.5


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.png", "PNG"), ("a.jpg", "JPEG"), ("a.jpeg", "JPEG"), ("a.gif", "GIF"), ("a.webp", "WEBP")],
)
def test_real_images_of_every_allowed_type_pass(tmp_path: Path, name: str, fmt: str) -> None:
    path = tmp_path / name
    path.write_bytes(pillow_image(fmt, (8192, 4)))
    assert media_problem(path) is None


# --------------------------------------------------------------------------- Typst source


MARK_CARD = (
    "---\ntopic: rust\n---\n\n## rust-mark\nQ: What closes a highlight? <mark>\n\n"
    "A: The tag </mark> closes it, and </mark></mark> does not break anything.\n\n"
    "Source: RFC 9293\n"
)


def test_mark_tags_in_card_text_print_literally(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    tmp_path: Path,
    epoch: Callable[[int], None],
) -> None:
    write_card("lang/mark.md", MARK_CARD)
    result = CliRunner().invoke(
        cli, ["lint", "--cards", str(sample_cards), "--print-check", "--no-cache"]
    )
    assert result.exit_code == 0 and result.exception is None, (result.exception, result.output)
    pdfs = build(sample_cards, tmp_path / "dist", formats=["pdf"]).paths
    assert len(pdfs) == 2
    for pdf in pdfs:
        text = pdf_text(pdf)
        assert "What closes a highlight? <mark>" in text
        assert "The tag </mark> closes it, and </mark></mark> does not break anything." in text


def test_cloze_answers_are_highlighted_by_a_marker_card_text_cannot_forge() -> None:
    renderer = TypstRenderer()
    plain = renderer.render("a <mark>b</mark> c </mark>")
    assert "#highlight" not in plain
    assert '#"<mark>"' in plain and '#"</mark>"' in plain
    forged = "x {{c1::_y_}} <deckgen-answer-0>z</deckgen-answer-0> </mark>"
    back = renderer.render(cloze_back(forged))
    assert back.count("#highlight") == 1  # the deletion; not the card's own tags
    assert "#emph[" in back  # the tag is punctuation to Markdown: `_y_` stays emphasis
    assert '#"<deckgen-answer-0>"' in back and '#"</mark>"' in back


def test_svg_with_image_href_is_a_located_error_in_lint_and_build(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    tmp_path: Path,
    epoch: Callable[[int], None],
) -> None:
    (sample_cards / "lang" / "a.png").write_bytes(pillow_image("PNG"))
    use_image(sample_cards, write_card, "d.svg", f'<svg {NS}><image href="a.png"/></svg>'.encode())
    result = CliRunner().invoke(
        cli, ["lint", "--cards", str(sample_cards), "--print-check", "--no-cache"]
    )
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert f"lang/evil.md:8:4: DG404 [error] image 'd.svg' {DANGER}: <image> (line 1)" in (
        result.output
    )
    with pytest.raises(DeckgenError) as error:
        build(sample_cards, tmp_path / "dist", formats=["pdf"])
    assert [d.location.line for d in error.value.diagnostics] == [8]
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize("own_templates", [False, True], ids=["builtin", "own-templates"])
def test_an_image_typst_cannot_decode_is_a_located_build_error(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    tmp_path: Path,
    epoch: Callable[[int], None],
    own_templates: bool,
) -> None:
    """A valid header over broken pixel data passes the header check; Typst fails to decode it.
    With a templates folder of your own too, the card is at fault, not the template."""
    use_image(sample_cards, write_card, "broken.png", png(800, 600))
    templates = tmp_path / "templates" if own_templates else None
    if templates is not None:
        shutil.copytree(PROJECT / "templates" / "print", templates / "print")
    with pytest.raises(DeckgenError) as error:
        build(sample_cards, tmp_path / "dist", formats=["pdf"], templates_dir=templates)
    shown = [d.display(sample_cards.parent) for d in error.value.diagnostics]
    assert len(shown) == 1
    assert shown[0].startswith(
        "cards/lang/evil.md:5: card 'rust-evil' cannot be printed: failed to decode image"
    )
    assert shown[0].endswith("(the card's images: lang/broken.png)")
    assert error.value.diagnostics[0].code == "DG405"
    assert not (tmp_path / "dist").exists()


def test_an_image_typst_cannot_decode_is_a_lint_diagnostic(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    use_image(sample_cards, write_card, "broken.png", png(800, 600))
    found = findings(sample_cards, print_check=True)
    assert any("evil.md:5: DG405 card 'rust-evil' cannot be printed" in line for line in found)


# --------------------------------------------------------------------------- links in the PDF

BAD_TARGETS = [
    "smb://host/share",
    "../../etc/passwd",
    "notes.md",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "//evil.example/x",
    "https://user@evil.example/",
]


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_a_refused_link_target_is_printed_as_its_text(target: str) -> None:
    code = TypstRenderer().render(f"See [the label]({target}) and <https://ok.example/a>.")
    assert code.count("#link(") == 1 and '#link("https://ok.example/a")' in code
    assert "the label" in code  # as text: markdown-it leaves javascript: and file: unlinked


LINK_CARD = (
    "---\ntopic: rust\n---\n\n## rust-links\nQ: Where is it?\n\n"
    "A: In [the passwd file](../../etc/passwd) or [the share](smb://host/share).\n\n"
    "Source: <smb://host/share>\n"
    "Source: [a share](smb://host/other)\n"
    "Source: RFC 9293 §3.5\n"
)


def test_links_lint_would_refuse_are_not_links_in_either_pdf(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    """The print path on its own, as if lint had missed them: no viewer may open such a link."""
    write_card("lang/links.md", LINK_CARD)
    deck = lint_deck(sample_cards, print_check=False).rendered
    cards = print_cards(deck)
    options = print_options({})
    layouts = {"cards": cards_page, "sheet": sheet_page}
    for layout, make_source in layouts.items():
        source = make_source(deck, cards, options, 0)
        with TypstDocument(source, deck.media, deck=deck, cards=cards) as document:
            pdf = document.pdf(0)
        links = uri_links(pdf)
        assert not [link for link in links if "smb:" in link or "passwd" in link], links
        text = pdf_text(pdf)
        assert "the passwd file" in text and "the share" in text
        if layout == "sheet":  # only the sheet prints sources, and their links
            assert "smb://host/share" in text and "a share" in text
            assert "https://www.rfc-editor.org/rfc/rfc9293#section-3.5" in links


# ----------------------------------------------------------- red-team round: values and cost


@pytest.mark.parametrize(
    "attribute",
    [
        "mask=\"image-set('https://evil.example/track.png' 1x)\"",
        "style=\"mask:image-set('//evil.example/track.png' 1x)\"",
        "style=\"fill: -webkit-image-set('//evil.example/t.png' 1x)\"",
        "fill=\"-webkit-image-set('//evil.example/t.png' 1x)\"",
        'mask="image-set(&quot;//evil.example/t.png&quot; 1x)"',
        "mask=\"image('//evil.example/t.png')\"",
        "mask=\"cross-fade(url(#a), src('//evil.example/t.png'), 50%)\"",
        'mask="element(#a)"',
        "fill=\"src('//evil.example/t.png')\"",
        "transform=\"translate(1 2) image-set('//evil.example/t.png' 1x)\"",
    ],
)
def test_css_functions_that_load_are_refused_in_svg_values(attribute: str) -> None:
    """Only url(#id) and colour functions pass: image-set() and friends fetch from anywhere."""
    problem = svg_problem(
        f'<svg {NS}><rect id="a" width="9" height="9" {attribute}/></svg>'.encode()
    )
    assert problem is not None and problem.startswith(DANGER), problem


def test_ordinary_svg_values_still_pass() -> None:
    svg = (
        f'<svg {NS}><rect id="a"/><rect fill="rgb(1 2 3 / 50%)" stroke="#abc" '
        'stroke-width="1.5px" opacity=".5" mask="url(#a)" clip-path="url(\'#a\')" '
        'style="fill: rgba(1, 2, 3, 0.5) !important; stroke: none; font-size: 12pt" '
        'font-family="\'DejaVu Sans\', sans-serif" transform="translate(1 2) rotate(3)"/></svg>'
    )
    assert svg_problem(svg.encode()) is None


def test_svg_markers_are_refused_so_they_cannot_multiply_per_vertex(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    """A marker of 500 shapes on a path of 8000 vertices took 9.9 s and 2.1 GB to print."""
    shapes = '<rect width="1" height="1"/>' * 500
    vertices = " ".join(f"L{i % 97} {i % 89}" for i in range(8000))
    svg = (
        f'<svg {NS} width="100" height="100"><defs><marker id="m">{shapes}</marker></defs>'
        f'<path d="M0 0 {vertices}" marker-mid="url(#m)"/>'
        f'<g style="marker-mid: url(#m)"><path d="M0 0 L1 1 L2 2"/></g></svg>'
    )
    assert svg_problem(svg.encode()) == f"{DANGER}: <marker> (line 1)"
    no_marker = svg.replace("<marker", "<g").replace("</marker>", "</g>")
    assert "attribute marker-mid on <path>" in str(svg_problem(no_marker.encode()))
    use_image(sample_cards, write_card, "x.svg", svg.encode())
    start = cpu_seconds()
    found = findings(sample_cards, print_check=True)
    assert cpu_seconds() - start < 10
    assert any(line.startswith("cards/lang/evil.md:8:4: DG404") for line in found), found


def _timed_print(cards: Path, tmp_path: Path) -> float:
    """CPU seconds for `lint --print-check` plus a PDF build of the deck, which must not fail."""
    start = cpu_seconds()
    found = findings(cards, print_check=True)
    assert not [line for line in found if "evil.md" in line and "DG5" in line], found
    build(cards, tmp_path / "dist", formats=["pdf"])
    return cpu_seconds() - start


def test_very_wide_tables_are_printed_as_text_in_bounded_time(
    sample_cards: Path, write_card: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """Five tables of 1245 columns took Typst 12-21 s and 2 GB as #table(columns: 1245)."""
    columns = 1245
    table = "|" + "a|" * columns + "\n|" + "-|" * columns + "\n"  # header only: under 20,000 blocks
    answer = "\n\n".join([table] * 5)
    write_card("lang/evil.md", f"{FRONT}Q: Wide\n\nA: see\n\n{answer}\nSource: RFC 9293\n")
    typst = TypstRenderer().render(answer)
    assert "#table(" not in typst and "[table too large to print as a table]" in typst
    small = TypstRenderer().render("| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert small.startswith("#table(columns: 2,")
    assert _timed_print(sample_cards, tmp_path) < 10


def test_hostile_code_is_not_highlighted_by_typst(
    sample_cards: Path, write_card: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """`~~~md` with 24 lines of `<a ` took Typst 55-69 s to highlight, js backticks 10.9 s."""
    lines = "\n".join(["<a " * 1660] * 24)
    fences = f"~~~md\n{lines}\n~~~\n\n```js\n{'`' * 5000}\n```\n"
    write_card("lang/evil.md", f"{FRONT}Q: Code\n\nA: see\n\n{fences}\nSource: RFC 9293\n")
    typst = TypstRenderer().render(fences)
    assert 'lang: "' not in typst, typst[:200]
    assert 'lang: "rust"' in TypstRenderer().render("```Rust\nfn main() {}\n```\n")
    assert "lang: none" in TypstRenderer().render("```rust\n" + "x" * 241 + "\n```\n")
    assert _timed_print(sample_cards, tmp_path) < 10
