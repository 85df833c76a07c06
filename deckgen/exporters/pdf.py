"""The PDF exporter: cut-out duplex cards and a study sheet, typeset by Typst."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar, TypeGuard

from deckgen.atomic import atomic_output
from deckgen.cache import Cache, file_stamp, fingerprint
from deckgen.deckfiles import default_templates_dir
from deckgen.errors import DeckgenError, DiagnosticSink
from deckgen.exporters import ExportContext, Option
from deckgen.printing import (
    LAYOUTS,
    PAPERS,
    PART_TIMESTAMP,
    PrintCard,
    PrintOptions,
    TypstDocument,
    cards_page,
    cards_parts,
    join_pdfs,
    parse_grid,
    print_cards,
    sheet_page,
)
from deckgen.render import RenderedCard, RenderedDeck

log = logging.getLogger(__name__)


PRINT_CHECK_BATCH = 800  # cards typeset at once by the print check: bounds Typst's memory


def overflow_message(card_id: str, side: str) -> str:
    """DG320's one wording, for lint's print check and for a build's PDF alike."""
    return (
        f"the {side} of '{card_id}' does not fit a printed card even at the smallest size: "
        "shorten it or move background to Extra:"
    )


def print_options(values: Mapping[str, str]) -> PrintOptions:
    """The print layout the option values ask for; an option not given has its declared default,
    the one default of each (also what --help, `deckgen formats` and lint's print check use)."""
    given = {o.name: o.default for o in PdfExporter.options if o.default is not None}
    given.update(values)
    cols, rows = parse_grid(given["grid"])
    return PrintOptions(paper=given["paper"], cols=cols, rows=rows)


class PdfExporter:
    """Writes `<stem>-cards-<paper>.pdf` (cut-out, duplex) and `<stem>-sheet-<paper>.pdf`."""

    name: ClassVar[str] = "pdf"
    suffix: ClassVar[str] = ".pdf"
    description: ClassVar[str] = "printable PDFs: duplex cut-out cards and a study sheet"
    default: ClassVar[bool] = True
    options: ClassVar[tuple[Option, ...]] = (
        Option("paper", "Paper size of the PDFs.", "a4", choices=tuple(sorted(PAPERS))),
        Option(
            "grid",
            "Cards per page of the cut-out PDF, COLSxROWS.",
            "2x4",
            check=lambda text: print_options({"grid": text}),
        ),
        Option(
            "pdf_layout",
            "Only this PDF: cut-out 'cards' or the study 'sheet' (default: both).",
            choices=LAYOUTS,
        ),
    )

    def export(self, deck: RenderedDeck, out_dir: Path, context: ExportContext) -> list[Path]:
        options = print_options(context.options)
        layout = context.options.get("pdf_layout")
        layouts = [layout] if layout else list(LAYOUTS)
        cards = print_cards(deck, context.cache)
        typeset = []  # every PDF typeset before any is written: a broken sheet.typ writes none
        for name in layouts:
            target = out_dir / f"{context.stem}-{name}-{options.paper}{self.suffix}"
            if name == "cards" and not _own_template(context.templates_dir, "cards.typ"):
                pdf, overflows = self._cards_in_parts(deck, cards, options, context, target)
                typeset.append((target, pdf))
                self._report(deck, overflows, context)
                continue
            make_page = cards_page if name == "cards" else sheet_page
            page = make_page(deck, cards, options, context.timestamp, context.templates_dir)
            with (
                TypstDocument(page, deck.media, deck=deck, cards=cards, output=target) as document,
                context.status.waiting(f"typesetting {target.name} ({len(cards):,} cards)"),
            ):
                typeset.append((target, document.pdf(context.timestamp)))
                if name == "cards":
                    self._report(deck, document.overflows(), context)
        for target, pdf in typeset:
            with atomic_output(target) as tmp:
                tmp.write_bytes(pdf)
            log.info("wrote %s (%d bytes)", target, len(pdf))
        return [target for target, _ in typeset]

    def check(self, rendered: RenderedDeck, sink: DiagnosticSink, cache: Cache) -> None:
        """Lay the cards out as the default cut-out PDF does and report any that cannot fit.

        Whether a card fits depends on that card alone, so results are cached per card and only
        new or changed cards are typeset.
        """
        template = default_templates_dir() / "print" / "cards.typ"
        layout = fingerprint(str(template), template.read_bytes())
        media = {m.name: m for m in rendered.media}
        overflows: list[tuple[str, str]] = []
        todo: list[tuple[str, RenderedCard]] = []
        for card in rendered.cards:
            stamps = [file_stamp(media[name].path) for name in card.media if name in media]
            fields = [f"{name}={text.markdown}" for name, text in card.card.markdown_fields()]
            key = fingerprint(layout, card.card.type.key, *fields, repr(stamps))
            known = cache.get("print", key)
            if isinstance(known, list):
                overflows.extend((card.card.id, side) for side in known)
            else:
                todo.append((key, card))
        for start in range(0, len(todo), PRINT_CHECK_BATCH):  # batches bound Typst's memory
            batch = todo[start : start + PRINT_CHECK_BATCH]
            subset = RenderedDeck(rendered.deck, tuple(card for _, card in batch), rendered.media)
            printed = print_cards(subset)  # only the cards not cached above
            source = cards_page(subset, printed, print_options({}), timestamp=0)
            try:
                with TypstDocument(source, rendered.media, deck=subset, cards=printed) as document:
                    found = document.overflows()
            except DeckgenError as error:  # Typst refused a card (an image it cannot decode…)
                sink.extend(error.diagnostics)
                return
            overflows.extend(found)
            for key, card in batch:
                cache.put(
                    "print", key, [side for card_id, side in found if card_id == card.card.id]
                )
        by_id = {r.card.id: r.card for r in rendered.cards}
        for card_id, side in sorted(overflows):
            sink.report(by_id[card_id].location, overflow_message(card_id, side), "DG320")

    @staticmethod
    def _cards_in_parts(
        deck: RenderedDeck,
        cards: list[PrintCard],
        options: PrintOptions,
        context: ExportContext,
        target: Path,
    ) -> tuple[bytes, list[tuple[str, str]]]:
        """The cut-out cards typeset a part at a time (printing.cards_parts), each part taken
        from the cache when its source is unchanged, then joined; and the cards that overflow."""
        parts = cards_parts(deck, cards, options, context.templates_dir)
        # fingerprint() holds Typst's version too: its fonts and layout make the parts.
        keys = [fingerprint("cards part", page.text) for page, _ in parts]
        typeset: dict[int, tuple[bytes, tuple[tuple[str, str], ...]]] = {}
        for number, key in enumerate(keys):
            kept = context.cache.get("typeset", key)
            if _is_typeset_part(kept):
                typeset[number] = kept
        label = f"typesetting {target.name}"
        context.status.count(label, len(typeset), len(parts))

        def typeset_part(number: int) -> tuple[bytes, tuple[tuple[str, str], ...]]:
            page, on_part = parts[number]
            with TypstDocument(page, deck.media, deck=deck, cards=on_part, output=target) as doc:
                return doc.pdf(PART_TIMESTAMP), tuple(doc.overflows())

        todo = [number for number in range(len(parts)) if number not in typeset]
        # Two parts at a time: Typst releases the GIL, and a part bounds its memory.
        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            for number, made in zip(todo, pool.map(typeset_part, todo), strict=True):
                context.cache.put("typeset", keys[number], made)
                typeset[number] = made
                context.status.count(label, len(typeset), len(parts))
        typeset = dict(sorted(typeset.items()))
        pdf = join_pdfs([data for data, _ in typeset.values()], context.timestamp)
        return pdf, [overflow for _, found in typeset.values() for overflow in found]

    @staticmethod
    def _report(
        deck: RenderedDeck, overflows: Sequence[tuple[str, str]], context: ExportContext
    ) -> None:
        by_id = {r.card.id: r.card for r in deck.cards}
        for card_id, side in overflows:
            card = by_id[card_id]
            context.sink.report(card.location, overflow_message(card_id, side), "DG320")


def _own_template(templates_dir: Path | None, name: str) -> bool:
    """Whether `--templates` holds a `print/<name>` of its own, other than an unchanged copy of
    deckgen's (typeset whole, as it was written: only deckgen's own cards.typ is known to make
    each sheet of its cards alone)."""
    if templates_dir is None:
        return False
    yours = templates_dir / "print" / name
    if not yours.is_file():
        return False
    return yours.read_bytes() != (default_templates_dir() / "print" / name).read_bytes()


def _is_typeset_part(value: object) -> TypeGuard[tuple[bytes, tuple[tuple[str, str], ...]]]:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], bytes)
        and isinstance(value[1], tuple)
        and all(isinstance(item, tuple) and len(item) == 2 for item in value[1])
    )
