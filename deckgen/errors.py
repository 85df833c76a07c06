"""Diagnostics with source locations, and the one exception family deckgen raises."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deckgen.rules import RULES, Severity, severity_of


@dataclass(frozen=True, order=True)
class Location:
    """A place in a source file; line and column are 1-based, 0 means unknown."""

    path: Path
    line: int = 0
    col: int = 0

    def file(self, relative_to: Path | None = None) -> str:
        """The file's path, relative to `relative_to` where it lies below it."""
        path = self.path
        if relative_to is not None:
            with contextlib.suppress(ValueError):
                # absolute(), not resolve(): a symbolic link is named as the author sees it
                path = path.absolute().relative_to(relative_to.absolute())
        return path.as_posix()

    def display(self, relative_to: Path | None = None) -> str:
        text = self.file(relative_to)
        if self.line:
            text += f":{self.line}"
            if self.col:
                text += f":{self.col}"
        return text


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in the sources, ready to print like a compiler message.

    `related` names other places that explain it, each with a short note (the first definition
    of a duplicate id, the question a near-duplicate resembles), as compilers print `note:`s.
    """

    location: Location
    message: str
    code: str
    severity: Severity = Severity.ERROR
    related: tuple[tuple[Location, str], ...] = ()

    def __post_init__(self) -> None:
        # A code outside the catalogue is deckgen's bug: it has no name, no docs, no severity.
        # Checked whenever assertions run (always in the tests, not under `python -O`).
        assert self.code in RULES, f"diagnostic code {self.code!r} is not in deckgen.rules"

    def display(self, relative_to: Path | None = None) -> str:
        """One line: `path:line: message`, then any related places in parentheses."""
        text = f"{self.location.display(relative_to)}: {self.message}"
        notes = "; ".join(f"{where.display(relative_to)}: {note}" for where, note in self.related)
        return f"{text} ({notes})" if notes else text


def os_error_diagnostic(error: OSError, fallback: Path, doing: str) -> Diagnostic:
    """A located DG121 for a file the system refused (read-only, a file in the way, disk full).

    The location is the path the system named, else `fallback` (the folder being written).
    """
    named = error.filename
    path = Path(os.fsdecode(named)) if isinstance(named, str | bytes | os.PathLike) else fallback
    reason = error.strerror or str(error) or type(error).__name__
    return Diagnostic(Location(path), f"{doing}: {reason}", "DG121")


class DeckgenError(Exception):
    """Raised when sources cannot be compiled; carries every problem found, not just the first."""

    def __init__(self, diagnostics: Sequence[Diagnostic], *, after_writing: bool = False) -> None:
        self.diagnostics = tuple(sorted(diagnostics, key=lambda d: d.location))
        # raised once a build had begun writing: the outputs finished before it are kept
        self.after_writing = after_writing
        super().__init__("\n".join(d.display() for d in self.diagnostics))


class DiagnosticSink:
    """Collects diagnostics while a stage runs, so all of them can be reported at once."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def report(
        self,
        location: Location,
        message: str,
        code: str,
        related: Sequence[tuple[Location, str]] = (),
    ) -> None:
        """Record a finding; its severity comes from the rule catalogue (deckgen.rules)."""
        self.items.append(Diagnostic(location, message, code, severity_of(code), tuple(related)))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise DeckgenError(self.errors)
