"""Diagnostics with source locations, and the one exception family deckgen raises."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a source file; line and column are 1-based, 0 means unknown."""

    path: Path
    line: int = 0
    col: int = 0

    def display(self, relative_to: Path | None = None) -> str:
        path = self.path
        if relative_to is not None:
            with contextlib.suppress(ValueError):
                # absolute(), not resolve(): a symbolic link is named as the author sees it
                path = path.absolute().relative_to(relative_to.absolute())
        text = path.as_posix()
        if self.line:
            text += f":{self.line}"
            if self.col:
                text += f":{self.col}"
        return text


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in the sources, ready to print like a compiler message."""

    location: Location
    message: str
    code: str = "DG000"
    severity: Severity = Severity.ERROR

    def display(self, relative_to: Path | None = None) -> str:
        return f"{self.location.display(relative_to)}: {self.message}"


class DeckgenError(Exception):
    """Raised when sources cannot be compiled; carries every problem found, not just the first."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(sorted(diagnostics, key=lambda d: d.location))
        super().__init__("\n".join(d.display() for d in self.diagnostics))


class DiagnosticSink:
    """Collects diagnostics while a stage runs, so all of them can be reported at once."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def report(self, location: Location, message: str, code: str) -> None:
        """Record a finding; its severity comes from the rule catalogue (deckgen.rules)."""
        from deckgen.rules import severity_of  # the catalogue imports this module

        self.items.append(Diagnostic(location, message, code, severity_of(code)))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise DeckgenError(self.errors)
