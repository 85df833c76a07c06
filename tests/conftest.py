"""Shared fixtures: copies of fixture decks in temporary folders, and an Anki collection."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user cache folder (cache signing key, caches) of each test's own, not the real one."""
    folder = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))  # platformdirs' source on Linux
    return folder


@pytest.fixture
def sample_cards(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/sample/cards."""
    target = tmp_path / "cards"
    shutil.copytree(FIXTURES / "sample" / "cards", target)
    return target


@pytest.fixture
def write_card(sample_cards: Path) -> Callable[[str, str], Path]:
    """Write an extra card file into the sample deck and return its path."""

    def write(relative: str, text: str) -> Path:
        path = sample_cards / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Set SOURCE_DATE_EPOCH for the builds of one test."""

    def set_epoch(value: int) -> None:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(value))

    set_epoch(1_700_000_000)
    return set_epoch
