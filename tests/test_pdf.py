"""Printable PDFs, read back as a reader would: pages, sizes, text, duplex alignment, ink."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pytest
import typst
from click.testing import CliRunner
from pypdf import PdfReader

from deckgen.build import build
from deckgen.cli import cli
from deckgen.exporters import ExportContext, Option
from deckgen.exporters.pdf import PdfExporter, print_options
from deckgen.lint import lint_deck
from deckgen.printing import CUT_MARGIN_MM, PAPERS, PrintOptions
from deckgen.typstmarkup import typst_string, typst_text
from tests.conftest import PROJECT, SampleBuild, bench_synth

MM = 72 / 25.4  # PDF points per millimetre
A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)


def build_pdfs(cards: Path, out: Path, **options: str) -> dict[str, Path]:
    include = tuple(t for t in [options.pop("tag", "")] if t)
    result = build(cards, out, formats=["pdf"], include=include, options=options)
    return {("cards" if "-cards-" in p.name else "sheet"): p for p in result.paths}


def page_texts(path: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages]


def shared_pdfs(sample_build: SampleBuild) -> dict[str, Path]:
    """The PDFs of the session's sample build: default options (A4, 2x4)."""
    return {layout: sample_build.pdf(layout) for layout in ("cards", "sheet")}


def test_both_documents_parse_with_page_size_and_count(sample_build: SampleBuild) -> None:
    pdfs = shared_pdfs(sample_build)
    assert sorted(p.name for p in pdfs.values()) == [
        "sample-deck-cards-a4.pdf",
        "sample-deck-sheet-a4.pdf",
    ]
    cards = PdfReader(pdfs["cards"])
    assert len(cards.pages) == 2  # 7 cards fit one 2x4 sheet: fronts, then backs
    for page in cards.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, 0.01)
    sheet = PdfReader(pdfs["sheet"])
    assert len(sheet.pages) >= 3  # title, contents, cards
    outline_titles = [item.title for item in sheet.outline if not isinstance(item, list)]
    assert outline_titles[:1] == ["Contents"] or "1 · Networking" in outline_titles


def test_card_text_is_on_the_right_pages(sample_build: SampleBuild) -> None:
    fronts, backs = page_texts(sample_build.pdf("cards"))
    expected = {
        "tcp-time-wait-side": (
            "Which side of a TCP connection enters TIME_WAIT?",
            "The active closer: the side that sends the first FIN.",
        ),
        "dns-ttl-term": ("TTL (DNS)", "The number of seconds a resolver may cache a record."),
        "rust-two-mut-borrows": ("Why does this not compile?", "error E0499"),
        "dns-resolution-order": (
            "A recursive resolver asks a […] server, then a […] server",
            "asks a root server, then a TLD server, then the authoritative",
        ),
        "rust-ownership-rule": ("Each value in Rust has [how many?]", "exactly one owner"),
    }
    for card_id, (question, answer) in expected.items():
        assert card_id in fronts and card_id in backs
        assert question in fronts, question
        assert answer in backs, answer
        assert answer not in fronts


def test_sheet_groups_cards_and_links_sources(sample_build: SampleBuild) -> None:
    sheet = sample_build.pdf("sheet")
    text = " ".join(page_texts(sheet))
    assert text.index("1 · Networking") < text.index("TCP") < text.index("2 · Languages")
    assert "Twice the maximum segment lifetime" in text
    links = {
        annotation.get_object()["/A"]["/URI"]
        for page in PdfReader(sheet).pages
        for annotation in page.get("/Annots", [])
        if "/URI" in annotation.get_object().get("/A", {})
    }
    assert "https://www.rfc-editor.org/rfc/rfc9293#section-3.4.2" in links
    reader = PdfReader(sheet)
    numbers = [" ".join((p.extract_text() or "").split()[-1:]) for p in reader.pages[1:]]
    assert numbers[:2] == ["1", "2"]  # page numbers start after the title page


def _id_positions(path: Path, card_id: str) -> list[tuple[int, float, float]]:
    """(page index, x, y) of the first character of every occurrence of the card id."""
    document = pdfium.PdfDocument(path)
    found = []
    for index in range(len(document)):
        textpage = document[index].get_textpage()
        searcher = textpage.search(card_id, match_case=True, match_whole_word=True)
        hit = searcher.get_next()
        if hit:
            left, bottom, _, _ = textpage.get_charbox(hit[0])
            found.append((index, left, bottom))
    return found


@pytest.mark.parametrize(("paper", "size"), [("a4", A4), ("letter", LETTER)])
def test_backs_sit_behind_their_fronts_for_long_edge_duplex(
    sample_cards: Path,
    tmp_path: Path,
    epoch: Callable[[int], None],
    paper: str,
    size: tuple[float, float],
) -> None:
    pdf = build_pdfs(sample_cards, tmp_path / "dist", paper=paper, grid="2x4")["cards"]
    width, height = size
    cell_w = (width - 2 * CUT_MARGIN_MM * MM) / 2
    cell_h = (height - 2 * CUT_MARGIN_MM * MM) / 4

    def cell(x: float, y: float) -> tuple[int, int]:
        col = int((x - CUT_MARGIN_MM * MM) // cell_w)
        row = int((height - y - CUT_MARGIN_MM * MM) // cell_h)
        return col, row

    seen = set()
    for card_id in (
        "tcp-time-wait-side",
        "tcp-handshake-diagram",
        "dns-ttl-term",
        "rust-two-mut-borrows",
        "rust-ownership-rule",
    ):
        (front_page, fx, fy), (back_page, bx, by) = _id_positions(pdf, card_id)
        assert (front_page, back_page) == (0, 1)
        (fcol, frow), (bcol, brow) = cell(fx, fy), cell(bx, by)
        assert brow == frow
        assert bcol == 1 - fcol  # mirrored column
        # the label sits at the same place inside the mirrored cell
        offset_front = fx - (CUT_MARGIN_MM * MM + fcol * cell_w)
        offset_back = bx - (CUT_MARGIN_MM * MM + bcol * cell_w)
        assert offset_back == pytest.approx(offset_front, abs=0.5)
        assert by == pytest.approx(fy, abs=0.5)
        seen.add((fcol, frow))
    assert {col for col, _ in seen} == {0, 1}  # both columns were checked


def test_every_occupied_cell_has_ink_inside_it(sample_build: SampleBuild) -> None:
    """Rendered like a printer would: ink in the 7 used cells, none in the empty eighth."""
    pdf = sample_build.pdf("cards")
    page = pdfium.PdfDocument(pdf)[0]
    scale = 1.0
    bitmap = page.render(scale=scale, grayscale=True)
    pixels, stride = bytes(bitmap.buffer), bitmap.stride
    margin = CUT_MARGIN_MM * MM * scale
    cell_w = (bitmap.width - 2 * margin) / 2
    cell_h = (bitmap.height - 2 * margin) / 4

    def ink(col: int, row: int) -> int:
        x0, y0 = int(margin + col * cell_w) + 4, int(margin + row * cell_h) + 4
        x1, y1 = int(x0 + cell_w) - 8, int(y0 + cell_h) - 8
        return sum(1 for y in range(y0, y1) for x in range(x0, x1) if pixels[y * stride + x] < 128)

    counts = [ink(k % 2, k // 2) for k in range(8)]
    assert all(count > 50 for count in counts[:7]), counts
    assert counts[7] == 0


HOSTILE = [
    '#read("/etc/passwd")',
    '#include "main.typ"',
    "$x^2$ and [brackets] and \\backslash",
    "@ref <label> // not a comment /* nor this */",
    '"); #panic("escaped") #("',
    "= not a heading",
    "#{ 1 + 1 }",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaping_function_round_trips(text: str) -> None:
    source = f"#set page(width: 20cm, height: auto)\n{typst_text(text)}\n#{typst_string(text)}"
    pdf = typst.compile(source.encode(), format="pdf", pdf_tags=False)
    path_text = " ".join(
        (PdfReader(__import__("io").BytesIO(pdf)).pages[0].extract_text() or "").split()
    )
    assert path_text.count(" ".join(text.split())) == 2


def test_hostile_card_text_prints_literally(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    tmp_path: Path,
    epoch: Callable[[int], None],
) -> None:
    body = "\n\n".join(
        f"`{h}`" if i % 2 else h.replace("<label>", "&lt;label&gt;") for i, h in enumerate(HOSTILE)
    )
    write_card(
        "lang/hostile.md",
        "---\ntopic: rust\n---\n\n## rust-hostile\nQ: What does Typst do with this?\n\n"
        f'A: {body}\n\n```typst\n#read("/etc/passwd")\n```\n\nSource: RFC 9293\n',
    )
    pdfs = build_pdfs(sample_cards, tmp_path / "dist")
    for pdf in pdfs.values():
        text = " ".join(page_texts(pdf))
        assert "root:" not in text  # /etc/passwd was never read
        for hostile in (
            '#read("/etc/passwd")',
            '#include "main.typ"',
            "@ref",
            '"); #panic("escaped") #("',
            "#{ 1 + 1 }",
        ):
            assert hostile in text, hostile


def test_filtered_letter_build_names_and_selects(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(sample_cards.parent)
        result = CliRunner().invoke(
            cli, ["build", "--format", "pdf", "--tag", "dns", "--paper", "letter"]
        )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "dist/sample-deck--dns-cards-letter.pdf",
        "dist/sample-deck--dns-sheet-letter.pdf",
    ]
    cards_pdf = sample_cards.parent / "dist" / "sample-deck--dns-cards-letter.pdf"
    reader = PdfReader(cards_pdf)
    assert (float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)) == (
        pytest.approx(LETTER, 0.01)
    )
    text = " ".join(page_texts(cards_pdf))
    assert "dns-ttl-term" in text
    assert "tcp-time-wait-side" not in text


def test_pdfs_are_byte_identical_and_dated_by_the_sources(
    sample_build: SampleBuild, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    one = shared_pdfs(sample_build)  # built by the session, in its own folders and cache
    two = build_pdfs(sample_cards, tmp_path / "two")
    for layout in ("cards", "sheet"):
        assert one[layout].read_bytes() == two[layout].read_bytes()
    for layout in ("cards", "sheet"):  # the cards' parts are dated 1970: their join is not
        reader = PdfReader(one[layout])
        info = reader.metadata
        assert info is not None
        assert str(info["/CreationDate"]).startswith("D:20231114")  # SOURCE_DATE_EPOCH 1700000000
        assert str(info["/ModDate"]).startswith("D:20231114")
        assert info["/Title"] == "Sample Deck"
        xmp = reader.xmp_metadata
        assert xmp is not None
        assert xmp.xmp_create_date.isoformat().startswith("2023-11-14T22:13:20")
        assert xmp.xmp_modify_date.isoformat().startswith("2023-11-14T22:13:20")


def test_overflowing_card_is_reported_not_silently_cut(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    tmp_path: Path,
    epoch: Callable[[int], None],
) -> None:
    code = "\n".join(f"let x{i} = {i};" for i in range(90))
    write_card(
        "lang/long.md",
        f"---\ntopic: rust\n---\n\n## rust-long\nQ: What does this do?\n\n```rust\n{code}\n```\n\n"
        "A: Nothing useful.\n\nSource: RFC 9293\n",
    )
    result = build(sample_cards, tmp_path / "dist", formats=["pdf"])
    overflow = [d.display(sample_cards.parent) for d in result.warnings if d.code == "DG320"]
    assert overflow == [
        "cards/lang/long.md:5: the front of 'rust-long' does not fit a printed card even at "
        "the smallest size: shorten it or move background to Extra:"
    ]


def test_paper_sizes_match_the_standard() -> None:
    assert PAPERS["a4"] == (210.0, 297.0)
    assert tuple(round(v / 25.4, 2) for v in PAPERS["letter"]) == (8.5, 11.0)


def test_print_layout_defaults_are_the_declared_options(monkeypatch: pytest.MonkeyPatch) -> None:
    declared = {o.name: o.default for o in PdfExporter.options}
    assert declared == {"paper": "a4", "grid": "2x4", "pdf_layout": None}
    assert print_options({}) == PrintOptions(paper="a4", cols=2, rows=4)
    assert print_options({"grid": "3x2"}) == PrintOptions(paper="a4", cols=3, rows=2)
    # The declaration is the only default: change it and every unset layout follows.
    changed = tuple(
        Option(o.name, o.help, {"paper": "letter", "grid": "1x1"}.get(o.name, o.default))
        for o in PdfExporter.options
    )
    monkeypatch.setattr(PdfExporter, "options", changed)
    assert print_options({}) == PrintOptions(paper="letter", cols=1, rows=1)
    assert print_options({"paper": "a4"}) == PrintOptions(paper="a4", cols=1, rows=1)


def test_an_export_without_options_writes_the_default_paper(
    sample_cards: Path, tmp_path: Path
) -> None:
    rendered = lint_deck(sample_cards, print_check=False).rendered
    context = ExportContext(stem="plain", timestamp=0, options={"pdf_layout": "sheet"})
    (path,) = PdfExporter().export(rendered, tmp_path, context)
    assert path.name == "plain-sheet-a4.pdf"
    page = PdfReader(path).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, 0.01)


def test_a_grid_outside_the_limits_is_refused_by_the_option() -> None:
    (grid,) = [o for o in PdfExporter.options if o.name == "grid"]
    assert grid.problem("7x1") == "the grid must be between 1x1 and 6x8 cards"
    assert grid.problem("2by4") == "grid '2by4' is not COLSxROWS, e.g. 2x4"
    assert grid.problem("6x8") is None


def test_print_check_lint_rule(sample_cards: Path, write_card: Callable[[str, str], Path]) -> None:
    code = "\n".join(f"let x{i} = {i};" for i in range(90))
    write_card(
        "lang/long.md",
        f"---\ntopic: rust\n---\n\n## rust-long\nQ: What?\n\nA: Look:\n\n```rust\n{code}\n```\n\n"
        "Source: RFC 9293\n",
    )
    found = [d for d in lint_deck(sample_cards, print_check=True).diagnostics if d.code == "DG320"]
    assert [(d.location.line, d.message) for d in found] == [
        (
            5,
            "the back of 'rust-long' does not fit a printed card even at the smallest size: "
            "shorten it or move background to Extra:",
        )
    ]
    assert not [
        d for d in lint_deck(sample_cards, print_check=False).diagnostics if d.code == "DG320"
    ]


# --------------------------------------------------------------------------- typeset in parts

PARTS_DECK = 480  # cards: 60 sheets at 2x4, so parts of 25, 25 and 10 sheets
FRONT_CELL_RE = re.compile(r'^#cell\(\d+, \d+, "([^"]+)", "front"', re.MULTILINE)
NPAGES = "{http://ns.adobe.com/xap/1.0/t/pg/}NPages"


def parts_deck(folder: Path) -> Path:
    """The benchmark's vocabulary deck of PARTS_DECK cards (every topic has some)."""
    synth = bench_synth()
    corpus = synth.template_corpus(PARTS_DECK)
    return Path(synth.write_deckgen(folder, "parts", corpus, subtopics=False))


@pytest.fixture
def typst_sources(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Typst source of every document the build typesets, in order."""
    import typst

    sources: list[str] = []
    compiler = typst.Compiler

    def recording(main: str, *args: Any, **kwargs: Any) -> Any:
        sources.append(Path(main).read_text())
        return compiler(main, *args, **kwargs)

    monkeypatch.setattr(typst, "Compiler", recording)
    return sources


@pytest.mark.usefixtures("epoch")
def test_a_deck_of_many_sheets_is_typeset_in_parts_and_joined_in_order(
    tmp_path: Path, typst_sources: list[str]
) -> None:
    cards = parts_deck(tmp_path / "deck")
    pdf = build_pdfs(cards, tmp_path / "out", pdf_layout="cards")["cards"]
    assert len(typst_sources) == 3  # three parts, no whole document
    sheets = -(-PARTS_DECK // 8)
    assert len(PdfReader(pdf).pages) == 2 * sheets
    with pikepdf.open(pdf) as joined:  # the metadata counts the joined pages, not a part's
        assert joined.open_metadata()[NPAGES] == str(2 * sheets)
    # Syllabus order, as the deck is written: 12 cards to a file, file k is topic k, in round
    # k % 5 (the rounds are its sections). Each card's id is printed on its front and on its
    # back, on the two pages of its sheet.
    ids = [m[1] for source in typst_sources for m in FRONT_CELL_RE.finditer(source)]

    def place(card_id: str) -> tuple[int, int, int]:
        number = int(card_id.removeprefix("v"))
        topic = number // (PARTS_DECK // 40)
        return topic % 5, topic, number

    order = sorted(ids, key=place)
    assert len(order) == PARTS_DECK
    texts = page_texts(pdf)
    for index in (0, 199, 200, 399, 400, PARTS_DECK - 1):  # the edges of every part
        sheet = index // 8
        assert order[index] in texts[2 * sheet], (index, order[index])
        assert order[index] in texts[2 * sheet + 1], (index, order[index])


@pytest.mark.usefixtures("epoch")
def test_editing_one_card_typesets_only_its_part_again(
    tmp_path: Path, typst_sources: list[str]
) -> None:
    cards = parts_deck(tmp_path / "deck")
    build_pdfs(cards, tmp_path / "first", pdf_layout="cards")
    assert len(typst_sources) == 3
    edited = sorted(cards.rglob("*.md"))[-1]
    edited.write_text(edited.read_text().replace("A: ", "A: Changed. ", 1))
    typst_sources.clear()
    warm = build_pdfs(cards, tmp_path / "warm", pdf_layout="cards")["cards"]
    assert len(typst_sources) == 1  # the part holding the edited card
    assert "Changed." in typst_sources[0]
    # the same bytes as a build that typesets every part afresh
    cold = build(
        cards, tmp_path / "cold", formats=["pdf"], options={"pdf_layout": "cards"}, use_cache=False
    ).paths[0]
    assert warm.read_bytes() == cold.read_bytes()
    assert "Changed." in " ".join(page_texts(warm))


@pytest.mark.usefixtures("epoch")
def test_your_own_cards_template_is_typeset_whole(
    sample_cards: Path, tmp_path: Path, typst_sources: list[str]
) -> None:
    templates = tmp_path / "templates"
    (templates / "print").mkdir(parents=True)
    own = (PROJECT / "templates" / "print" / "cards.typ").read_text()
    (templates / "print" / "cards.typ").write_text(
        own.replace("// Generated", "// Mine. Generated")
    )
    result = build(
        sample_cards,
        tmp_path / "out",
        formats=["pdf"],
        templates_dir=templates,
        options={"pdf_layout": "cards"},
    )
    assert len(typst_sources) == 1
    assert typst_sources[0].startswith("// Mine.")
    assert "datetime(year: 2023, month: 11, day: 14" in typst_sources[0]  # dated whole
    assert len(PdfReader(result.paths[0]).pages) >= 2
    # an unchanged copy of deckgen's own (deckgen templates copy) is typeset in parts
    (templates / "print" / "cards.typ").write_text(own)
    typst_sources.clear()
    build(
        sample_cards,
        tmp_path / "copy",
        formats=["pdf"],
        templates_dir=templates,
        options={"pdf_layout": "cards"},
        use_cache=False,
    )
    assert len(typst_sources) == 1
    assert "datetime(year: 1970, month: 1, day: 1" in typst_sources[0]  # a part's clock
