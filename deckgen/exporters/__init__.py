"""Exporter plug-ins: the built-in formats live here; their shared interface is deckgen.plugins."""

from __future__ import annotations

from deckgen.plugins import (
    ENTRY_POINT_GROUP,
    DeckChecker,
    ExportContext,
    Exporter,
    available_exporters,
    default_formats,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "DeckChecker",
    "ExportContext",
    "Exporter",
    "available_exporters",
    "default_formats",
]
