"""Progress of long stages: what the pipeline reports, and the line a terminal shows."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.build import build
from deckgen.cli import cli
from deckgen.status import TerminalStatus, bar, counted

ERASE = "\r\x1b[K"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A Status that keeps what it is told."""

    def __init__(self) -> None:
        self.counts: dict[str, list[tuple[int, int]]] = {}
        self.waited: list[str] = []

    def count(self, label: str, done: int, total: int) -> None:
        self.counts.setdefault(label, []).append((done, total))

    def waiting(self, label: str) -> AbstractContextManager[None]:
        @contextmanager
        def waited() -> Iterator[None]:
            self.waited.append(label)
            yield

        return waited()


def test_a_count_is_drawn_only_after_the_delay_and_erased_when_done() -> None:
    stream, clock = io.StringIO(), Clock()
    status = TerminalStatus(stream, delay=0.5, interval=0.1, clock=clock)
    status.count("compiling card files", 1, 40)
    clock.now += 0.3
    status.count("compiling card files", 2, 40)
    assert stream.getvalue() == ""  # a quick stage shows nothing
    clock.now += 0.3
    status.count("compiling card files", 10, 40)
    assert stream.getvalue() == f"{ERASE}deckgen: compiling card files {bar(10, 40)} 10/40"
    clock.now += 0.05
    status.count("compiling card files", 11, 40)  # too soon after the last drawing
    assert stream.getvalue().count(ERASE) == 1
    clock.now += 0.1
    status.count("compiling card files", 12, 40)
    assert stream.getvalue().endswith(f"{bar(12, 40)} 12/40")
    status.count("compiling card files", 40, 40)
    assert stream.getvalue().endswith(ERASE)  # the next line starts clean


def test_a_stage_that_ends_before_the_delay_writes_nothing() -> None:
    stream, clock = io.StringIO(), Clock()
    status = TerminalStatus(stream, clock=clock)
    for done in range(1, 11):
        status.count("writing the notes", done, 10)
    assert stream.getvalue() == ""


def test_the_bar_fills_with_the_count() -> None:
    assert bar(0, 10, width=10) == "[----------]"
    assert bar(5, 10, width=10) == "[#####-----]"
    assert bar(10, 10, width=10) == "[##########]"
    assert bar(3, 0, width=4) == "[####]"  # nothing to do is done


def test_control_characters_in_a_label_do_not_reach_the_terminal() -> None:
    stream, clock = io.StringIO(), Clock()
    status = TerminalStatus(stream, delay=0, interval=0, clock=clock)
    status.count("typesetting \x1b]0;owned\x07x.pdf", 1, 2)
    drawn = stream.getvalue().removeprefix(ERASE)
    assert "\x1b" not in drawn and "\x07" not in drawn
    assert "typesetting ?]0;owned?x.pdf" in drawn


def test_waiting_shows_the_seconds_then_erases_itself() -> None:
    stream = io.StringIO()
    status = TerminalStatus(stream, delay=0.01)
    before = threading.active_count()
    with status.waiting("typesetting deck-cards-a4.pdf"):
        time.sleep(0.2)
    text = stream.getvalue()
    assert f"{ERASE}deckgen: typesetting deck-cards-a4.pdf... 0 s" in text
    assert text.endswith(ERASE)
    assert threading.active_count() == before  # its ticking thread is gone


@pytest.mark.usefixtures("epoch")
def test_a_build_reports_each_long_stage_to_its_status(sample_cards: Path, tmp_path: Path) -> None:
    recorder = Recorder()
    result = build(
        sample_cards,
        tmp_path / "out",
        ["apkg", "pdf", "html", "csv"],
        use_cache=False,
        status=recorder,
    )
    files = len(list(sample_cards.rglob("*.md")))
    cards = len(result.deck.cards)
    compiled = recorder.counts["compiling card files"]
    assert [done for done, _ in compiled] == list(range(1, files + 1))
    assert {total for _, total in compiled} == {files}
    for label in ("rendering the notes", "rendering the site's cards", "writing the rows"):
        assert recorder.counts[label][-1] == (cards, cards), label
    written = recorder.counts["writing the notes"]
    assert written[-1] == (cards, cards)
    assert [done for done, _ in written] == sorted(done for done, _ in written)
    stem = next(p.name for p in result.paths if p.suffix == ".apkg").removesuffix(".apkg")
    # the cut-out cards are typeset a part at a time (one part here), the sheet in one call
    assert recorder.counts[f"typesetting {stem}-cards-a4.pdf"] == [(0, 1), (1, 1)]
    assert recorder.waited == [f"typesetting {stem}-sheet-a4.pdf ({cards:,} cards)"]


@pytest.mark.usefixtures("epoch")
def test_no_progress_line_when_stderr_is_not_a_terminal(sample_cards: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["build", "--cards", str(sample_cards), "--out", str(tmp_path / "out"), "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    assert ERASE not in result.output
    assert "[#" not in result.output


def test_counted_reports_every_so_many_items_and_the_end() -> None:
    recorder = Recorder()
    items = list(range(1200))
    assert list(counted(items, recorder, "rows", every=500)) == items
    assert recorder.counts["rows"] == [(0, 1200), (500, 1200), (1000, 1200), (1200, 1200)]
    assert list(counted([], recorder, "none")) == []
    assert recorder.counts["none"] == [(0, 0), (0, 0)]  # nothing to do still ends the stage
