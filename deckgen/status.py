"""How far a long stage has got: the pipeline reports it, the command line shows it on a terminal.

A stage that works through many items (card files, notes) reports `count(label, done, total)`;
one that waits on a single long call (Typst typesetting a PDF) runs it inside `waiting(label)`.
`NO_STATUS` ignores both: what the pipeline uses unless a command asks to show progress.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, TextIO, TypeVar


class Status(Protocol):
    def count(self, label: str, done: int, total: int) -> None:
        """`done` of `total` items of the stage `label`; done == total ends the stage."""

    def waiting(self, label: str) -> AbstractContextManager[None]:
        """Around one long call that cannot count: the stage `label` lasts as long as it."""


class NoStatus:
    def count(self, label: str, done: int, total: int) -> None:
        return None

    def waiting(self, label: str) -> AbstractContextManager[None]:
        return contextlib.nullcontext()


NO_STATUS: Status = NoStatus()

T = TypeVar("T")


def counted(items: Sequence[T], status: Status, label: str, every: int = 500) -> Iterator[T]:
    """The items, telling `status` how many have been taken: none at first (the stage starts),
    then every `every` items, and once all are (which ends the stage)."""
    status.count(label, 0, len(items))
    for number, item in enumerate(items, start=1):
        if number % every == 0:
            status.count(label, number, len(items))
        yield item
    status.count(label, len(items), len(items))


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
BAR_WIDTH = 24


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """`[#########---------------]`: how much of `total` is done."""
    filled = width if total <= 0 else width * min(done, total) // total
    return "[" + "#" * filled + "-" * (width - filled) + "]"


class TerminalStatus:
    """One line of a terminal, redrawn in place: `label [####----] done/total` for a stage that
    counts, `label... 12 s` for one that waits on a single call. Drawn only once the stage has run
    `delay` seconds (a quick build prints nothing more) and at most every `interval`; erased when
    the stage ends, so the lines printed after it start on a clean line."""

    def __init__(
        self,
        stream: TextIO,
        style: Callable[[str], str] = lambda text: text,
        *,
        delay: float = 0.5,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream, self._style, self._clock = stream, style, clock
        self._delay, self._interval = delay, interval
        self._lock = threading.Lock()
        self._label: str | None = None
        self._started = self._drawn = 0.0
        self._shown = False

    def count(self, label: str, done: int, total: int) -> None:
        now = self._clock()
        if label != self._label:
            self._label, self._started, self._drawn = label, now, 0.0
        if done >= total:
            self._label = None
            self.clear()
            return
        if now - self._started < self._delay or now - self._drawn < self._interval:
            return
        self._drawn = now
        self._draw(f"{label} {bar(done, total)} {done:,}/{total:,}")

    @contextlib.contextmanager
    def waiting(self, label: str) -> Iterator[None]:
        started = self._clock()
        stop = threading.Event()

        def tick() -> None:
            wait = self._delay
            while not stop.wait(wait):
                self._draw(f"{label}... {self._clock() - started:.0f} s")
                wait = 1.0

        thread = threading.Thread(target=tick, name="deckgen-status", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.clear()

    def clear(self) -> None:
        with self._lock:
            if self._shown:
                self._stream.write("\r\x1b[K")
                self._stream.flush()
                self._shown = False

    def _draw(self, text: str) -> None:
        with self._lock:
            self._stream.write("\r\x1b[K" + self._style("deckgen: " + _CONTROL_RE.sub("?", text)))
            self._stream.flush()
            self._shown = True
