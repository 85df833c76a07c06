"""The plug-in interface: what an exporter is, what it is given, and how installed ones are found.

It sits below the check stage, so that lint can ask an exporter to check what only that format
knows (the PDF measures print overflow) without importing any exporter.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from deckgen.cache import Cache
from deckgen.errors import DiagnosticSink
from deckgen.render import RenderedDeck

ENTRY_POINT_GROUP = "deckgen.exporters"


@dataclass(frozen=True)
class ExportContext:
    """What every exporter needs besides the deck: the output name, the clock and the templates."""

    stem: str  # file name without suffix; shows the selection, e.g. "my-deck--networking"
    timestamp: int  # seconds since the epoch; fixed per source state so builds are reproducible
    templates_dir: Path | None = None
    options: Mapping[str, str] = field(default_factory=dict)  # format options, e.g. paper
    sink: DiagnosticSink = field(default_factory=DiagnosticSink)  # warnings found on export


class Exporter(Protocol):
    name: ClassVar[str]
    suffix: ClassVar[str]
    description: ClassVar[str]
    default: ClassVar[bool]

    def export(self, deck: RenderedDeck, out_dir: Path, context: ExportContext) -> list[Path]:
        """Write the deck's files into out_dir (atomically) and return their paths."""
        ...


@runtime_checkable
class DeckChecker(Protocol):
    """An exporter that can also check a deck for problems only its format has (lint asks it)."""

    def check(self, deck: RenderedDeck, sink: DiagnosticSink, cache: Cache) -> None:
        """Report format-specific problems of the rendered deck to `sink`."""
        ...


@functools.cache
def available_exporters() -> dict[str, type[Exporter]]:
    """Every installed exporter by format name, the built-ins included (they register alike)."""
    found: dict[str, type[Exporter]] = {}
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        found[entry.name] = entry.load()
    return found


def default_formats() -> list[str]:
    return [name for name, cls in available_exporters().items() if cls.default]
