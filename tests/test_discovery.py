"""Commands find the deck from wherever in the project they run, and write dist/ beside it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.cli import cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("where", [".", "cards", "cards/net", "docs/notes"])
def test_the_deck_is_found_from_any_folder_of_the_project(
    sample_cards: Path, monkeypatch: pytest.MonkeyPatch, epoch: Callable[[int], None], where: str
) -> None:
    project = sample_cards.parent
    (project / where).mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(project / where)
    code, out = run("lint")
    assert code == 0 and "lint passed: 7 cards" in out
    code, out = run("build", "-q", "--format", "json")
    assert code == 0, out
    assert (project / "dist" / "sample-deck.json").is_file()  # beside the cards, not here
    assert not (project / where / "dist").exists() or where == "."


def test_outside_any_deck_the_message_names_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run("lint")
    assert code == 1 and "cards:1:1: DG110 [error] cards folder not found" in out
