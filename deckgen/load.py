"""The load stage: deck.yaml and syllabus.yaml (read by deckgen.deckconfig), the id record and
the card files, read and checked as sources; a card file's bytes are decoded here for the
parser of one card file (deckgen.cardfile), which the compile stage runs on each file."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from deckgen.cardfile import heading_ids, parse_card_file
from deckgen.deckconfig import check_section_tag, load_deck_info, load_syllabus
from deckgen.deckfiles import SYLLABUS_FILE, deck_files
from deckgen.errors import Diagnostic, DiagnosticSink, Location
from deckgen.history import ReleaseRecord, read_record
from deckgen.ids import IdLock, read_lock
from deckgen.model import Card, DeckInfo, Syllabus
from deckgen.safety import file_name_problem

log = logging.getLogger(__name__)

# Limits that keep a hostile or broken file from hanging a build (a real card file is ~10 KiB).
MAX_FILE_BYTES = 128 * 1024


def card_files(cards_dir: Path) -> list[Path]:
    """Every Markdown card file under the cards folder, in a stable order."""
    return [p for p in deck_files(cards_dir, "*.md") if p.suffix == ".md"]  # not '.MD' (DG116)


# Names a Markdown file may end in that are not a card file's '.md' (DG116).
OTHER_MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd", ".mkdn"}


def misnamed_card_files(cards_dir: Path) -> list[Path]:
    """Markdown files under the cards folder that are not read: they do not end in '.md'."""
    return [
        p
        for p in deck_files(cards_dir, "*")
        if p.suffix.lower() in OTHER_MARKDOWN_SUFFIXES and p.suffix != ".md" and p.is_file()
    ]


def read_config(cards_dir: Path, sink: DiagnosticSink) -> tuple[DeckInfo, Syllabus]:
    """The deck's identity and syllabus; problems go to `sink`."""
    if not cards_dir.is_dir():
        sink.report(Location(cards_dir), "cards folder not found", "DG110")
        return DeckInfo("deck", "Deck"), Syllabus((), ())
    info = load_deck_info(cards_dir, sink)
    syllabus = load_syllabus(cards_dir / SYLLABUS_FILE, sink)
    check_section_tag(info, syllabus, cards_dir, sink)
    return info, syllabus


@dataclass(frozen=True)
class Sources:
    """What the load stage read: the deck's identity and syllabus, the record of published ids,
    and the bytes of every card file that may be read, in a stable order."""

    root: Path  # the cards folder
    info: DeckInfo
    syllabus: Syllabus
    lock: IdLock
    history: ReleaseRecord
    files: tuple[tuple[Path, bytes], ...]
    diagnostics: tuple[Diagnostic, ...]  # why a config file or a card file could not be read


def load_sources(cards_dir: Path) -> Sources:
    """Read every source under `cards_dir`; never raises for problems in them (they are in
    `diagnostics`), only for a folder the system refuses to read."""
    sink = DiagnosticSink()
    info, syllabus = read_config(cards_dir, sink)
    lock = read_lock(cards_dir)
    sink.extend(lock.problems)  # reading the record never raises: its problems come here
    history = read_record(cards_dir)
    sink.extend(history.problems)  # nor does reading the release history
    files = []
    if cards_dir.is_dir():
        for path in misnamed_card_files(cards_dir):
            sink.report(
                Location(path, 1),
                f"card files end in .md: this file is not read (rename it to "
                f"'{path.with_suffix('.md').name}')",
                "DG116",
            )
        for path in card_files(cards_dir):
            data = read_card_source(path, cards_dir, sink)
            if data is not None:
                files.append((path, data))
    log.info("read %d card files from %s", len(files), cards_dir)
    return Sources(cards_dir, info, syllabus, lock, history, tuple(files), tuple(sink.items))


def read_card_source(path: Path, root: Path, sink: DiagnosticSink) -> bytes | None:
    """The bytes of a card file, or None (reported) when it must not or cannot be read."""
    name_problem = file_name_problem(path.relative_to(root).as_posix())
    if name_problem:
        sink.report(Location(path, 1), name_problem, "DG106")
        return None
    if not path.resolve().is_relative_to(root.resolve()):
        sink.report(
            Location(path, 1), "links to a file outside the cards folder: not read", "DG405"
        )
        return None
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        sink.report(
            Location(path, 1),
            f"file is {size / 1024:,.0f} KiB (limit {MAX_FILE_BYTES // 1024} KiB): split it",
            "DG111",
        )
        return None
    return path.read_bytes()


def parse_card_bytes(
    path: Path,
    data: bytes,
    syllabus: Syllabus,
    sink: DiagnosticSink,
    unchecked: list[tuple[str, int]] | None = None,
) -> list[Card]:
    """The cards of one file; when it fails as a whole, its cards' (id, line) go to
    `unchecked` (see parse_card_file)."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")  # a BOM is no part of the text
    except UnicodeDecodeError as exc:
        sink.report(Location(path, 1), f"not UTF-8 text: {exc.reason}", "DG101")
        if unchecked is not None:
            unchecked.extend(heading_ids(data.decode("utf-8", errors="replace")))
        return []
    return parse_card_file(path, text, syllabus, sink, unchecked)


def drop_duplicate_ids(cards: list[Card], sink: DiagnosticSink) -> list[Card]:
    """Keep the first card of each id; report every later one with both places."""
    first_seen: dict[str, Card] = {}
    kept = []
    for card in cards:
        first = first_seen.get(card.id)
        if first is not None:
            sink.report(
                card.location,
                f"duplicate id '{card.id}'",
                "DG105",
                related=[(first.location, "first defined here")],
            )
            continue
        first_seen[card.id] = card
        kept.append(card)
    return kept
