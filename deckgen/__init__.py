"""deckgen: compile Markdown flashcards into Anki decks and other study formats."""

from __future__ import annotations

__version__ = "0.1.0"
