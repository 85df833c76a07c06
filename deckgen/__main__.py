"""Allows `python -m deckgen`."""

from __future__ import annotations

from deckgen.cli import main

main()
