"""`deckgen lint` as a library call: the pipeline up to the check stage, every finding located."""

from __future__ import annotations

from pathlib import Path

from deckgen.cache import Cache
from deckgen.check import CheckedDeck, check_deck
from deckgen.compile import compile_deck
from deckgen.load import load_sources
from deckgen.status import NO_STATUS, Status


def lint_deck(
    cards_dir: Path,
    *,
    print_check: bool = False,
    cache: Cache | None = None,
    status: Status = NO_STATUS,
) -> CheckedDeck:
    """Load, compile and check the deck in `cards_dir`; never raises for problems in the cards.

    `print_check` lays out the printed cards to find those too long for their cell (DG320).
    Per-file work comes from `cache` (default: the project's cache folder) when unchanged;
    `status` is told how far compiling has got.
    """
    cache = cache if cache is not None else Cache.for_cards(cards_dir)
    compiled = compile_deck(load_sources(cards_dir), cache, status)
    return check_deck(compiled, print_check=print_check, cache=cache)
