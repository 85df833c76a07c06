"""The plug-in interface: what an exporter is, what it is given, and how installed ones are found.

It sits below the check stage, so that lint can ask an exporter to check what only that format
knows (the PDF measures print overflow) without importing any exporter.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from deckgen.cache import Cache
from deckgen.errors import DeckgenError, Diagnostic, DiagnosticSink, Location
from deckgen.render import RenderedDeck
from deckgen.status import NO_STATUS, Status

ENTRY_POINT_GROUP = "deckgen.exporters"


@dataclass(frozen=True)
class ExportContext:
    """What every exporter needs besides the deck: the output name, the clock and the templates."""

    stem: str  # file name without suffix; shows the selection, e.g. "my-deck--networking"
    timestamp: int  # seconds since the epoch; fixed per source state so builds are reproducible
    templates_dir: Path | None = None
    options: Mapping[str, str] = field(default_factory=dict)  # format options, e.g. paper
    sink: DiagnosticSink = field(default_factory=DiagnosticSink)  # warnings found on export
    # Per card id, from the release history: when its note last changed (else `timestamp`) and
    # the tags that say in which release (see deckgen.release).
    note_times: Mapping[str, int] = field(default_factory=dict)
    note_tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Per card id, its note's fields (deckgen.notetypes.note_fields), rendered once by the
    # build for the release stamps; an exporter reads them with notetypes.context_fields.
    note_fields: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # How far a long export has got (notes written, a PDF typeset): shown on a terminal.
    status: Status = NO_STATUS
    # Where an exporter may keep work from one build for the next (the PDF's typeset parts).
    cache: Cache = field(default_factory=lambda: Cache(None))


@dataclass(frozen=True)
class Option:
    """One setting an exporter declares: the CLI flag (`--paper`), `-o paper=letter`, the
    `options:` of deck.yaml and `deckgen formats` are all made from this declaration."""

    name: str  # a Python identifier; the flag is --name-with-dashes
    help: str
    default: str | None = None  # None: not set unless asked for
    choices: tuple[str, ...] = ()
    check: Callable[[str], object] | None = None  # raises ValueError for a value it refuses
    hidden: bool = False  # set by deckgen itself (the preview), not offered to users

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def problem(self, value: str) -> str | None:
        """Why `value` is refused for this option, or None."""
        if self.choices and value not in self.choices:
            return f"'{value}' is not one of {', '.join(self.choices)}"
        if self.check is not None:
            try:
                self.check(value)
            except ValueError as error:
                return str(error)
        return None


class Exporter(Protocol):
    name: ClassVar[str]
    suffix: ClassVar[str]
    description: ClassVar[str]
    default: ClassVar[bool]
    # An exporter without options need not declare any (see `exporter_options`).

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


def exporter_options(exporter: type[Exporter]) -> tuple[Option, ...]:
    """The options an exporter declares (`options: ClassVar[tuple[Option, ...]]`), or ()."""
    declared = getattr(exporter, "options", ())
    return tuple(o for o in declared if isinstance(o, Option))


def declared_options(exporters: Iterable[type[Exporter]]) -> dict[str, Option]:
    """Every option the given exporters declare, by name (exporters may share one, e.g. CSV
    and TSV share `csv_dialect`: the first declaration's help is used)."""
    found: dict[str, Option] = {}
    for exporter in exporters:
        for option in exporter_options(exporter):
            found.setdefault(option.name, option)
    return found


@dataclass(frozen=True)
class OptionValue:
    """A value given for an option, and where it was given (for a located error)."""

    value: str
    where: Location


def resolve_options(
    formats: Sequence[str],
    layers: Sequence[Mapping[str, OptionValue]],
    exporters: Mapping[str, type[Exporter]] | None = None,
) -> dict[str, str]:
    """The options of one build: for each option the chosen formats declare, the first layer
    that sets it (command line, then deck.yaml, then pyproject.toml), else its default.

    A name no chosen format declares, or a value an option refuses, is a DG903 error at the
    place it was given; every problem is reported, not just the first.
    """
    installed = exporters if exporters is not None else available_exporters()
    chosen = [installed[name] for name in formats if name in installed]
    known = declared_options(chosen)
    everything = declared_options(installed.values())
    problems: list[Diagnostic] = []
    resolved = {name: o.default for name, o in known.items() if o.default is not None}
    for layer in reversed(layers):  # lowest precedence first, so higher layers overwrite
        for name, given in layer.items():
            option = known.get(name)
            if option is None:
                if name in everything:
                    continue  # an option of a format this build does not write
                offered = sorted(n for n, o in everything.items() if not o.hidden)
                close = difflib.get_close_matches(name, offered, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                listed = ", ".join(offered) or "none"
                problems.append(
                    Diagnostic(
                        given.where,
                        f"unknown option '{name}'{hint}; options of the installed formats: "
                        f"{listed} (see `deckgen formats`)",
                        "DG903",
                    )
                )
                continue
            problem = option.problem(given.value)
            if problem:
                problems.append(Diagnostic(given.where, f"option '{name}': {problem}", "DG903"))
                continue
            resolved[name] = given.value
    if problems:
        raise DeckgenError(problems)
    return resolved
