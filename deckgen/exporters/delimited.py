"""CSV and TSV: one row per note, for Anki's text importer and for every other flashcard app."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import ClassVar

from deckgen.atomic import atomic_output
from deckgen.exporters import ExportContext, Option
from deckgen.notetypes import anki_tags, context_fields, note_guid
from deckgen.render import RenderedDeck
from deckgen.safety import csv_cell, guid_cell
from deckgen.status import counted
from deckgen.templating import template_environment

DIALECTS = ("anki", "plain")

COLUMNS = ("guid", "notetype", "deck", "front", "back", "tags")
HTML_COLUMNS = frozenset({"front", "back"})


def rows(deck: RenderedDeck, context: ExportContext, dialect: str = "anki") -> list[list[str]]:
    """GUID, note type, deck, front (or cloze text), back (or back extra), tags.

    The GUID is the .apkg's (deck id and card id), so the .apkg and the text import update the
    same notes. For Anki it is written verbatim (see safety.guid_cell); the plain dialect, for
    spreadsheets and other apps, treats it like any other cell.

    A type-answer card's back is its answer alone: Anki's stock "Basic (type in the answer)"
    compares the typed text with the whole Back field, so its Extra and Sources cannot come
    along (the .apkg keeps them); one warning says so."""
    env = template_environment(context.templates_dir)
    sources_template = env.get_template("anki/sources.html")
    footer = env.get_template("delimited/back-footer.html")
    result = []
    dropped = []
    for rendered in counted(deck.cards, context.status, "writing the rows"):
        card = rendered.card
        fields = context_fields(context, deck.deck, rendered, sources_template)
        extra = footer.render(fields=fields).strip()
        if card.type.cloze:  # Anki's stock Cloze note type: Text and Back Extra
            front, back = fields["Text"], extra
        elif card.type.typed_answer:  # Anki compares what is typed with the whole Back field
            front, back = fields["Front"], fields["Back"]
            if extra:
                dropped.append(card)
        else:
            front, back = fields["Front"], "\n".join(p for p in (fields["Back"], extra) if p)
        guid = note_guid(deck.deck.info.id, card.id)
        cells = [
            guid,
            card.type.stock_notetype,  # present in every new collection (English names)
            deck.deck.deck_path(card),
            front,
            back,
            " ".join([*anki_tags(deck.deck, rendered), *context.note_tags.get(card.id, ())]),
        ]
        # No cell may read as a spreadsheet formula (OWASP CSV injection), whatever it holds.
        row = [
            csv_cell(cell, html_cell=column in HTML_COLUMNS)
            for column, cell in zip(COLUMNS, cells, strict=True)
        ]
        if dialect == "anki":
            row[0] = guid_cell(guid)
        result.append(row)
    if dropped:
        context.sink.report(
            dropped[0].location,
            f"{len(dropped)} type-answer card(s) such as '{dropped[0].id}' leave out their "
            "Extra and Sources here: Anki's stock 'Basic (type in the answer)' compares the "
            "typed text with the whole Back field (the .apkg keeps them)",
            "DG330",
        )
    return result


def render_table(table: list[list[str]], separator: str, dialect: str) -> str:
    buffer = io.StringIO()
    if dialect == "anki":
        name = "Tab" if separator == "\t" else "Comma"
        buffer.write(
            f"#separator:{name}\n#html:true\n#guid column:1\n#notetype column:2\n"
            "#deck column:3\n#tags column:6\n"
        )
    writer = csv.writer(buffer, delimiter=separator, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    if dialect == "plain":
        writer.writerow(COLUMNS)
    writer.writerows(table)
    return buffer.getvalue()


class _DelimitedExporter:
    separator: ClassVar[str]
    name: ClassVar[str]
    suffix: ClassVar[str]
    description: ClassVar[str]
    default: ClassVar[bool] = False
    options: ClassVar[tuple[Option, ...]] = (
        Option(
            "csv_dialect",
            "CSV/TSV: 'anki' adds Anki's import directives; 'plain' a header row for other apps.",
            "anki",
            choices=DIALECTS,
        ),
    )

    def export(self, deck: RenderedDeck, out_dir: Path, context: ExportContext) -> list[Path]:
        dialect = context.options.get("csv_dialect", "anki")
        if dialect not in DIALECTS:
            raise ValueError(f"unknown CSV dialect '{dialect}' (choose {', '.join(DIALECTS)})")
        text = render_table(rows(deck, context, dialect), self.separator, dialect)
        variant = "" if dialect == "anki" else f"-{dialect}"
        target = out_dir / f"{context.stem}{variant}{self.suffix}"
        with atomic_output(target) as tmp:
            tmp.write_text(text, encoding="utf-8", newline="")
        return [target]


class CsvExporter(_DelimitedExporter):
    """Comma-separated values with Anki's import directives (or a plain header row)."""

    separator = ","
    name = "csv"
    suffix = ".csv"
    description = "comma-separated notes for Anki's text import and other apps"


class TsvExporter(_DelimitedExporter):
    """Tab-separated values with Anki's import directives (or a plain header row)."""

    separator = "\t"
    name = "tsv"
    suffix = ".tsv"
    description = "tab-separated notes for Anki's text import and other apps"
