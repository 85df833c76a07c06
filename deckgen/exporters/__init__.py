"""Exporter plug-ins: the built-in formats live here; their shared interface is deckgen.plugins."""

from __future__ import annotations

from deckgen.plugins import (
    ENTRY_POINT_GROUP,
    DeckChecker,
    ExportContext,
    Exporter,
    Option,
    OptionValue,
    available_exporters,
    declared_options,
    default_formats,
    exporter_options,
    resolve_options,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "DeckChecker",
    "ExportContext",
    "Exporter",
    "Option",
    "OptionValue",
    "available_exporters",
    "declared_options",
    "default_formats",
    "exporter_options",
    "resolve_options",
]
