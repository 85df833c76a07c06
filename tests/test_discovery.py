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


def test_a_flat_deck_builds_into_its_own_dist_and_reads_only_its_cards(
    sample_cards: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deck whose deck.yaml sits beside its card files, in a project folder of its own: the
    outputs go inside it, and its README, .venv and dist/ are not card files."""
    flat = sample_cards.parent / "spanish"
    sample_cards.rename(flat)
    (flat / "README.md").write_text("# My deck\n\nNot a card file.\n")
    (flat / "CHANGELOG.md").write_text("# Changes\n")
    (flat / ".venv" / "lib").mkdir(parents=True)
    (flat / ".venv" / "lib" / "notes.md").write_text("no front matter\n")
    (flat / "node_modules" / "x").mkdir(parents=True)
    (flat / "node_modules" / "x" / "README.markdown").write_text("# x\n")
    monkeypatch.chdir(flat)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)  # the clock from the files' times
    passed = (0, "lint passed: 7 cards, 0 errors, 0 warnings\n")
    assert run("lint", "--strict") == passed
    assert run("build", "-q", "--format", "json")[0] == 0
    first = (flat / "dist" / "sample-deck.json").read_bytes()
    assert not (sample_cards.parent / "dist").exists()
    # the output written inside the deck is neither read nor moves the clock
    assert run("lint", "--strict") == passed
    assert run("build", "-q", "--format", "json")[0] == 0
    assert (flat / "dist" / "sample-deck.json").read_bytes() == first
    # its project files are in it too: the changelog a release writes, the pyproject options
    assert run("release", "v1")[0] == 0
    assert (flat / "CHANGELOG.md").read_text().count("## v1 ") == 1
    assert not (sample_cards.parent / "CHANGELOG.md").exists()
    assert run("lint", "--strict") == passed
    (flat / "pyproject.toml").write_text('[tool.deckgen.options]\ncsv_dialect = "plain"\n')
    assert run("build", "-q", "--format", "csv")[0] == 0
    assert (flat / "dist" / "sample-deck-plain.csv").is_file()  # the option from pyproject.toml
