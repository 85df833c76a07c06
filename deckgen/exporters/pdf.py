"""The PDF exporter: cut-out duplex cards and a study sheet, typeset by Typst."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

from deckgen.atomic import atomic_output
from deckgen.exporters import ExportContext
from deckgen.printing import (
    LAYOUTS,
    PrintOptions,
    TypstDocument,
    cards_source,
    parse_grid,
    print_cards,
    sheet_source,
)
from deckgen.render import RenderedDeck

log = logging.getLogger(__name__)


def print_options(context: ExportContext) -> PrintOptions:
    cols, rows = parse_grid(context.options.get("grid", "2x4"))
    return PrintOptions(paper=context.options.get("paper", "a4"), cols=cols, rows=rows)


class PdfExporter:
    """Writes `<stem>-cards-<paper>.pdf` (cut-out, duplex) and `<stem>-sheet-<paper>.pdf`."""

    name: ClassVar[str] = "pdf"
    suffix: ClassVar[str] = ".pdf"
    description: ClassVar[str] = "printable PDFs: duplex cut-out cards and a study sheet"
    default: ClassVar[bool] = True

    def export(self, deck: RenderedDeck, out_dir: Path, context: ExportContext) -> list[Path]:
        options = print_options(context)
        layout = context.options.get("pdf_layout")
        layouts = [layout] if layout else list(LAYOUTS)
        cards = print_cards(deck)
        written = []
        for name in layouts:
            if name == "cards":
                source = cards_source(
                    deck, cards, options, context.timestamp, context.templates_dir
                )
            else:
                source = sheet_source(
                    deck, cards, options, context.timestamp, context.templates_dir
                )
            target = out_dir / f"{context.stem}-{name}-{options.paper}{self.suffix}"
            with TypstDocument(
                source, deck.media, deck=deck, cards=cards, output=target
            ) as document:
                pdf = document.pdf(context.timestamp)
                if name == "cards":
                    self._report_overflows(deck, document, context)
            with atomic_output(target) as tmp:
                tmp.write_bytes(pdf)
            log.info("wrote %s (%d bytes)", target, len(pdf))
            written.append(target)
        return written

    @staticmethod
    def _report_overflows(
        deck: RenderedDeck, document: TypstDocument, context: ExportContext
    ) -> None:
        by_id = {r.card.id: r.card for r in deck.cards}
        for card_id, side in document.overflows():
            card = by_id[card_id]
            context.sink.report(
                card.location,
                f"the {side} of '{card_id}' does not fit a printed card even at the smallest "
                "size: shorten it",
                "DG320",
            )
