"""Shared fixtures: copies of fixture decks in temporary folders, and an Anki collection."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from deckgen.cache import ENV_DIR, ENV_DISABLE

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Hypothesis's storage (examples, constants, Unicode tables): not `.hypothesis/` here.

    Session-wide: Hypothesis looks the folder up once. Its examples need not outlive the run:
    the property tests are derandomized, so a failure recurs on the next run anyway.
    """
    folder = tmp_path_factory.mktemp("hypothesis")
    set_hypothesis_home_dir(folder)
    yield folder
    set_hypothesis_home_dir(None)


@pytest.fixture(autouse=True)
def user_cache(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    hypothesis_home: Path,
) -> Path:
    """Nothing a test runs writes into the checkout or the real user cache.

    Each test gets a user cache folder (cache signing key, caches) of its own, deckgen's cache
    settings from the environment are dropped (a $DECKGEN_CACHE_DIR may point into the
    checkout), and the working folder is an empty one of the test's own, so a default output
    (`dist/`, a `.deckgen-cache/`) lands there, not in the folder pytest was started from.
    """
    folder = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))  # platformdirs' source on Linux
    monkeypatch.delenv(ENV_DIR, raising=False)
    monkeypatch.delenv(ENV_DISABLE, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
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
