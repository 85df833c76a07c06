"""Print layouts: cards as Typst, laid out by Jinja templates, typeset in-process by Typst."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import itertools
import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jinja2

from deckgen.cache import Cache, fingerprint
from deckgen.errors import DeckgenError, Diagnostic, DiagnosticSink, Location
from deckgen.model import Card, Deck
from deckgen.render import MediaFile, RenderedCard, RenderedDeck
from deckgen.safety import printable
from deckgen.sourceline import source_markdown
from deckgen.templating import Origin, traced_render
from deckgen.typstmarkup import (
    Marked,
    TypstCode,
    TypstRenderer,
    cloze_back,
    cloze_front,
    typst_environment,
    typst_text,
)

# Where Typst's diagnostic places an error in the document's own source: line, column.
_MAIN_PLACE_RE = re.compile(r"┌─ (?:[^\n]*/)?main\.typ:(\d+):(\d+)")

PAPERS = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
LAYOUTS = ("cards", "sheet")
FONT = "Libertinus Serif"
MONO_FONT = "DejaVu Sans Mono"
CARD_SIZES_PT = (11.0, 10.0, 9.0, 8.0, 7.0)  # 7 pt is the smallest size a card may shrink to
CUT_MARGIN_MM = 10.0


@dataclass(frozen=True)
class PrintOptions:
    """A print layout. Its defaults are the PDF exporter's declared options (--paper, --grid):
    deckgen.exporters.pdf.print_options makes one from option values."""

    paper: str
    cols: int
    rows: int

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise ValueError(f"unknown paper '{self.paper}' (choose {', '.join(PAPERS)})")
        if not (1 <= self.cols <= 6 and 1 <= self.rows <= 8):
            raise ValueError("the grid must be between 1x1 and 6x8 cards")


def parse_grid(text: str) -> tuple[int, int]:
    """'2x4' → (2, 4): columns by rows."""
    try:
        cols, rows = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"grid '{text}' is not COLSxROWS, e.g. 2x4") from None
    return cols, rows


@dataclass(frozen=True)
class PrintCard:
    id: str
    label: str
    front: TypstCode
    back: TypstCode
    extra: TypstCode
    sources: tuple[TypstCode, ...]
    write_in: bool = False  # a type-answer card: its front has a line to write the answer on
    col: int = 0
    row: int = 0


def _fields(card: Card) -> tuple[str, str | Marked]:
    if card.type.cloze and card.text is not None:
        return cloze_front(card.text.markdown), cloze_back(card.text.markdown)
    front = card.front.markdown if card.front else ""
    back = card.back.markdown if card.back else ""
    return front, back


def print_cards(deck: RenderedDeck, cache: Cache | None = None) -> list[PrintCard]:
    """Every selected card as Typst markup, its images pointing at the staged media copies.

    Kept in `cache` a card file at a time: a file's cards are made again only when one of them
    (its text, type, topic title or images) changed.
    """
    cache = cache if cache is not None else Cache(None)
    by_path = {m.path: m.name for m in deck.media}
    result: list[PrintCard] = []
    renderer = TypstRenderer()  # one parser for every card: making one costs 0.3 ms
    for _, group in itertools.groupby(deck.cards, key=lambda r: r.card.path):
        rendered = list(group)
        key = fingerprint("print cards", *(_print_inputs(deck, r) for r in rendered))
        kept = cache.get("printcards", key)
        if isinstance(kept, list) and all(isinstance(c, PrintCard) for c in kept):
            result.extend(kept)
            continue
        made = [_print_card(deck, r, by_path, renderer) for r in rendered]
        cache.put("printcards", key, made)
        result.extend(made)
    return result


def _print_inputs(deck: RenderedDeck, rendered: RenderedCard) -> str:
    """All that a card's Typst markup is made from (the images by their content-named copies)."""
    card = rendered.card
    fields = [f"{name}={text.markdown}" for name, text in card.markdown_fields()]
    topic = deck.deck.syllabus.topic_title(card.topic)
    return repr((card.id, card.type.key, topic, str(card.path.parent), fields, rendered.media))


def _print_card(
    deck: RenderedDeck, rendered: RenderedCard, by_path: dict[Path, str], renderer: TypstRenderer
) -> PrintCard:
    card = rendered.card
    folder = card.path.parent

    def media_name(src: str) -> str | None:
        return by_path.get((folder / unquote(src)).resolve())

    renderer.media_name = media_name
    front, back = _fields(card)
    return PrintCard(
        id=card.id,
        label=typst_text(deck.deck.syllabus.topic_title(card.topic)),
        front=renderer.render(front),
        back=renderer.render(back),
        extra=renderer.render(card.extra.markdown) if card.extra else TypstCode(""),
        sources=tuple(renderer.render(source_markdown(s.markdown)) for s in card.sources),
        write_in=card.type.typed_answer,
    )


def _date(timestamp: int) -> tuple[TypstCode, str]:
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    code = (
        f"datetime(year: {moment.year}, month: {moment.month}, day: {moment.day}, "
        f"hour: {moment.hour}, minute: {moment.minute}, second: {moment.second})"
    )
    return TypstCode(code), moment.strftime("%Y-%m-%d")


def _common(deck: Deck, options: PrintOptions, timestamp: int) -> dict[str, Any]:
    page_w, page_h = PAPERS[options.paper]
    date_code, date_text = _date(timestamp)
    return {
        "title": deck.info.name,
        "author": deck.info.name,
        "description": deck.info.description,
        "date": date_code,
        "date_text": date_text,
        "page_w": page_w,
        "page_h": page_h,
        "font": FONT,
        "mono_font": MONO_FONT,
        # Typst takes the language and the region apart: `pt-BR` → lang "pt", region "BR".
        "lang": deck.info.language.split("-")[0],
        "region": next((p for p in deck.info.language.split("-")[1:] if p.isupper()), None),
    }


@dataclass(frozen=True)
class PrintPage:
    """A print template rendered: the Typst source, and what it was made from, so that a place
    Typst names in the source can be traced back to the template line that wrote it."""

    text: str
    template: jinja2.Template
    context: dict[str, Any]
    templates_dir: Path | None

    @classmethod
    def render(
        cls,
        name: str,
        context: dict[str, Any],
        templates_dir: Path | None,
        template: jinja2.Template | None = None,
    ) -> PrintPage:
        """`name` rendered; `template` is that template already loaded (for many renders)."""
        if template is None:
            template = typst_environment(templates_dir).get_template(name)
        return cls(template.render(**context), template, context, templates_dir)

    def offset(self, line: int, col: int) -> int | None:
        """The offset in `text` of a place as Typst's diagnostic names it: a 1-based line and a
        0-based column, in characters (`#foo` at a line's start is `1:1`: foo)."""
        lines = self.text.split("\n")
        if not 0 < line <= len(lines) or col < 0:
            return None
        return sum(len(text) + 1 for text in lines[: line - 1]) + col

    def origin(self, offset: int) -> Origin | None:
        """Where the source's character at `offset` came from, in a template of yours (None if
        it came from one of deckgen's own, or cannot be traced)."""
        traced = traced_render(self.template, self.context, self.text)
        found = traced.origin(offset) if traced is not None else None
        if found is None or self.templates_dir is None:
            return None
        if not found.location.path.resolve().is_relative_to(self.templates_dir.resolve()):
            return None
        return found


def card_sheets(
    deck: RenderedDeck, cards: Sequence[PrintCard], options: PrintOptions
) -> list[list[PrintCard]]:
    """The cards in syllabus order, a sheet (a page of fronts and its page of backs) at a time,
    each card placed in its cell."""
    per_page = options.cols * options.rows
    cards = _in_syllabus_order(deck, cards)
    sheets = []
    for start in range(0, len(cards), per_page):
        sheet = []
        for k, card in enumerate(cards[start : start + per_page]):
            row, col = divmod(k, options.cols)
            sheet.append(replace(card, col=col, row=row))
        sheets.append(sheet)
    return sheets


def cards_page(
    deck: RenderedDeck,
    cards: Sequence[PrintCard],
    options: PrintOptions,
    timestamp: int,
    templates_dir: Path | None = None,
    sheets: Sequence[Sequence[PrintCard]] | None = None,
    template: jinja2.Template | None = None,
) -> PrintPage:
    """The cut-out cards document, rendered from `print/cards.typ` (or `template`, that file
    already loaded): every card, or only the given `sheets` of them (card_sheets)."""
    page_w, page_h = PAPERS[options.paper]
    if sheets is None:
        sheets = card_sheets(deck, cards, options)
    context = {
        **_common(deck.deck, options, timestamp),
        "sheets": sheets,
        "cols": options.cols,
        "rows": options.rows,
        "sizes": CARD_SIZES_PT,
        "cell_w": round((page_w - 2 * CUT_MARGIN_MM) / options.cols, 3),
        "cell_h": round((page_h - 2 * CUT_MARGIN_MM) / options.rows, 3),
        "margin_x": CUT_MARGIN_MM,
        "margin_y": CUT_MARGIN_MM,
    }
    return PrintPage.render("print/cards.typ", context, templates_dir, template)


PART_SHEETS = 25  # sheets typeset as one part of the cut-out cards PDF (200 cards at 2x4)
PART_TIMESTAMP = 0  # the parts' clock: a part's source and PDF depend on its cards alone


def cards_parts(
    deck: RenderedDeck,
    cards: Sequence[PrintCard],
    options: PrintOptions,
    templates_dir: Path | None = None,
) -> list[tuple[PrintPage, list[PrintCard]]]:
    """The cut-out cards document as parts of PART_SHEETS sheets, each a whole Typst document
    of its own (and the cards on it), dated PART_TIMESTAMP: join_pdfs puts the parts' pages in
    one PDF and dates it. A sheet depends on its own cards only, so a part is typeset again
    only when one of its cards changes, and Typst's memory is bounded by a part (20,000 cards
    in parts: 1.1 GB; as one document, after the sheet in the same process: a 9 GB peak)."""
    sheets = card_sheets(deck, cards, options)
    template = typst_environment(templates_dir).get_template("print/cards.typ")
    parts = []
    for start in range(0, max(len(sheets), 1), PART_SHEETS):
        part = sheets[start : start + PART_SHEETS]
        page = cards_page(
            deck, cards, options, PART_TIMESTAMP, templates_dir, sheets=part, template=template
        )
        parts.append((page, [card for sheet in part for card in sheet]))
    return parts


def join_pdfs(parts: Sequence[bytes], timestamp: int) -> bytes:
    """One PDF of the parts' pages, in order, with the first part's document metadata (title,
    author, language) dated `timestamp` as Typst dates a document; the same parts and time give
    the same bytes (the file identifier is a digest of the content)."""
    import pikepdf  # here: only a PDF build needs it

    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    with contextlib.ExitStack() as stack:
        opened = [stack.enter_context(pikepdf.open(io.BytesIO(data))) for data in parts]
        joined = opened[0]
        for part in opened[1:]:
            joined.pages.extend(part.pages)
        for key in ("/CreationDate", "/ModDate"):
            joined.docinfo[key] = pikepdf.String(moment.strftime("D:%Y%m%d%H%M%SZ"))
        with joined.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            meta["xmp:CreateDate"] = meta["xmp:ModifyDate"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            meta["{http://ns.adobe.com/xap/1.0/t/pg/}NPages"] = str(len(joined.pages))
        out = io.BytesIO()
        joined.save(out, deterministic_id=True)
    return out.getvalue()


def _in_syllabus_order(deck: RenderedDeck, cards: Sequence[PrintCard]) -> list[PrintCard]:
    """Cards by section, then topic, as the syllabus lists them; file order within a topic."""
    syllabus = deck.deck.syllabus
    sections = {s.id: i for i, s in enumerate(syllabus.sections)}
    topics = {t.id: i for i, t in enumerate(syllabus.topics)}
    key = {
        r.card.id: (sections.get(r.card.section, 0), topics.get(r.card.topic, 0), n)
        for n, r in enumerate(deck.cards)
    }
    return sorted(cards, key=lambda c: key[c.id])


def sheet_page(
    deck: RenderedDeck,
    cards: Sequence[PrintCard],
    options: PrintOptions,
    timestamp: int,
    templates_dir: Path | None = None,
) -> PrintPage:
    """The study sheet, grouped section → topic in syllabus order (topic only in a syllabus
    without sections), from `print/sheet.typ`."""
    by_id = {c.id: c for c in cards}
    outline = deck.deck.syllabus.outline(deck.cards, lambda r: (r.card.section, r.card.topic))
    sections = [
        {
            "title": section.title if section else None,
            "topics": [
                {"title": topic.title, "cards": [by_id[r.card.id] for r in members]}
                for topic, members in topics
            ],
        }
        for section, topics in outline
    ]
    selection = ", ".join(deck.deck.selection) if deck.deck.selection else "all topics"
    context = {
        **_common(deck.deck, options, timestamp),
        "sections": sections,
        "card_count": len(cards),
        "selection": selection,
    }
    return PrintPage.render("print/sheet.typ", context, templates_dir)


class TypstDocument:
    """A Typst source compiled in a private folder that holds only the deck's media.

    Typst failing is never a traceback: it raises DeckgenError naming each card (file:line)
    that fails on its own when `deck` and `cards` are given, else the document (`output`).
    """

    def __init__(
        self,
        source: str | PrintPage,
        media: Sequence[MediaFile],
        *,
        deck: RenderedDeck | None = None,
        cards: Sequence[PrintCard] = (),
        output: Path | None = None,
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="deckgen-typst-")
        root = Path(self._tmp.name)
        (root / "media").mkdir()
        for item in media:
            shutil.copyfile(item.path, root / "media" / item.name)
        main = root / "main.typ"
        self._page = source if isinstance(source, PrintPage) else None
        main.write_text(source.text if isinstance(source, PrintPage) else source, encoding="utf-8")
        self._root = root
        self._media = {item.name: item for item in media}
        self._deck = deck
        self._cards = cards
        self._output = output
        import typst  # here: a build without a PDF need not load Typst (30 ms)

        # Only the bundled fonts: the same PDF on every machine.
        self._compiler = typst.Compiler(str(main), root=str(root), ignore_system_fonts=True)
        self.timestamp: int | None = None

    def pdf(self, timestamp: int) -> bytes:
        try:
            result = self._compiler.compile(format="pdf", pdf_tags=False, timestamp=timestamp)
        except RuntimeError as error:  # typst.TypstError and the plain errors of query()
            raise self._failure(error) from None
        assert isinstance(result, bytes)
        return result

    def overflows(self) -> list[tuple[str, str]]:
        """(card id, side) of every card that does not fit its cell at the smallest size."""
        try:
            raw = self._compiler.query("<overflow>", field="value")
        except RuntimeError as error:
            raise self._failure(error) from None
        return [(item["id"], item["side"]) for item in json.loads(raw)]

    def _original(self, name: str) -> str:
        """The card author's name for a staged media copy: its path in the cards folder."""
        item = self._media.get(name)
        if item is None:
            return f"media/{name}"
        root = self._deck.deck.root.resolve() if self._deck is not None else item.path.parent
        try:
            return item.path.relative_to(root).as_posix()
        except ValueError:
            return item.path.name

    def _explain(self, error: RuntimeError) -> str:
        """Typst's message and hints, naming the card's own files instead of the private copies."""
        message = str(getattr(error, "message", "") or error)
        message = message.removeprefix("failed to compile document: ")
        hints = [str(h) for h in getattr(error, "hints", None) or ()]
        text = "; ".join([message, *hints]).replace(str(self._root) + "/", "")
        text = re.sub(r"media/([0-9a-f]{20}\.[a-z]+)", lambda m: self._original(m[1]), text)
        return printable(text)

    def _failure(self, error: RuntimeError) -> DeckgenError:
        """The located error for a failed compile: each card that fails alone, else the document.

        Typst reports a place in the generated source, which is no place an author knows; a
        card's markup compiled on its own (milliseconds each, and only after a failure) is.
        """
        sink = DiagnosticSink()
        by_id = {r.card.id: r for r in self._deck.cards} if self._deck is not None else {}
        for card in self._cards:
            parts = [card.label, card.front, card.back, card.extra, *card.sources]
            body = "\n".join(f"#[{part}]" for part in parts if part)
            try:
                self._compiler.compile(
                    input=f"#set page(width: 120mm, height: auto)\n{body}\n".encode(),
                    format="pdf",
                    pdf_tags=False,
                )
            except RuntimeError as alone:
                known = by_id.get(card.id)
                where = known.card.location if known is not None else Location(Path(card.id))
                explained = self._explain(alone)
                image = "image" in explained or "SVG" in explained
                if image and known is not None and known.media:
                    # Typst names the image only by its place in the generated source.
                    names = ", ".join(self._original(name) for name in known.media)
                    explained += f" (the card's images: {names})"
                code = "DG405" if image else "DG111"
                sink.report(where, f"card '{card.id}' cannot be printed: {explained}", code)
        if not sink.items and (mistake := self._template_mistake(error)) is not None:
            sink.extend([mistake])
        if not sink.items:
            where = Location(self._output or Path("<typst>"))
            sink.report(where, f"Typst could not typeset the PDF: {self._explain(error)}", "DG111")
        return DeckgenError(sink.items)

    def _template_mistake(self, error: RuntimeError) -> Diagnostic | None:
        """DG120 at the line of your print template that wrote what Typst refused, when every
        card typesets on its own; naming the card too when the refused text is a card's."""
        place = _MAIN_PLACE_RE.search(str(getattr(error, "diagnostic", "")))
        if self._page is None or place is None:
            return None
        offset = self._page.offset(int(place[1]), int(place[2]))
        origin = self._page.origin(offset) if offset is not None else None
        if offset is None or origin is None:
            return None
        explained = self._explain(error)
        if not origin.in_value:
            return Diagnostic(origin.location, f"Typst error: {explained}", "DG120")
        card = self._card_at(offset)
        if card is None:
            message = f"Typst error in the value this template puts here: {explained}"
            return Diagnostic(origin.location, message, "DG120")
        message = f"Typst error in card '{card.id}' as this template puts it here: {explained}"
        related = ((card.location, f"card '{card.id}'"),)
        return Diagnostic(origin.location, message, "DG120", related=related)

    def _card_at(self, offset: int) -> Card | None:
        """The card whose printed text covers `offset` of the generated source, if one does."""
        assert self._page is not None
        text = self._page.text
        by_id = {r.card.id: r.card for r in self._deck.cards} if self._deck is not None else {}
        for card in self._cards:
            for part in (card.front, card.back, card.extra, *card.sources):
                start = text.find(part) if part else -1
                while start >= 0 and start <= offset:
                    if offset < start + len(part) and card.id in by_id:
                        return by_id[card.id]
                    start = text.find(part, start + 1)
        return None

    def close(self) -> None:
        self._tmp.cleanup()

    def __enter__(self) -> TypstDocument:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
