"""Exporter options in the plug-in shape: declared once, offered by the CLI, defaulted from
deck.yaml or pyproject.toml, and open to an exporter deckgen has never heard of."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.build import build
from deckgen.cli import cli
from deckgen.errors import DeckgenError
from deckgen.exporters import available_exporters

PLUGIN_ROOT = Path(__file__).parent.parent  # where `tests.plugins.shout` imports from


@pytest.fixture
def shout_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Install the test exporter the way pip would: a distribution with an entry point."""
    site = tmp_path / "site-packages"
    info = site / "deckgen_shout-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: deckgen-shout\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[deckgen.exporters]\nshout = tests.plugins.shout:ShoutExporter\n"
    )
    monkeypatch.syspath_prepend(str(site))
    if str(PLUGIN_ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(PLUGIN_ROOT))
    available_exporters.cache_clear()
    yield
    available_exporters.cache_clear()


@pytest.mark.usefixtures("shout_installed")
def test_a_third_party_exporter_and_its_option_work_without_touching_the_cli(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["formats"])
    assert "shout: card ids, loudly (a test plug-in)" in listed.output
    assert "--shout-case, -o shout_case=… [upper|lower]" in listed.output
    out = tmp_path / "out"
    args = ["build", "--cards", str(sample_cards), "--out", str(out), "--format", "shout", "-q"]
    done = runner.invoke(cli, [*args, "-o", "shout_case=lower", "-o", "shout_times=2"])
    assert done.exit_code == 0, done.output
    text = (out / "sample-deck.shout.txt").read_text()
    first = text.splitlines()[0]
    assert text.splitlines()[1] == first and first.islower()
    assert text == text.lower() and len(text.splitlines()) == 2 * 7
    refused = runner.invoke(cli, [*args, "-o", "shout_times=many"])
    assert refused.exit_code == 1
    assert "--option:1:1: DG903 [error] option 'shout_times': invalid literal" in refused.output


def test_options_default_from_deck_yaml_then_pyproject(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    (sample_cards.parent / "pyproject.toml").write_text(
        '[tool.deckgen.options]\npaper = "letter"\ncsv_dialect = "plain"\n'
    )
    deck = sample_cards / "deck.yaml"
    deck.write_text(deck.read_text() + "options:\n  csv_dialect: anki\n")
    paths = build(sample_cards, tmp_path / "a", formats=["pdf", "csv"]).paths
    names = sorted(p.name for p in paths)
    assert names == [
        "sample-deck-cards-letter.pdf",
        "sample-deck-sheet-letter.pdf",
        "sample-deck.csv",
    ]
    assert (tmp_path / "a" / "sample-deck.csv").read_text().startswith("#separator:Comma")
    # the command line wins over both
    paths = build(
        sample_cards, tmp_path / "b", formats=["csv"], options={"csv_dialect": "plain"}
    ).paths
    assert [p.name for p in paths] == ["sample-deck-plain.csv"]


def test_a_bad_option_in_deck_yaml_is_located_with_a_suggestion(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    deck = sample_cards / "deck.yaml"
    lines = deck.read_text().splitlines()
    deck.write_text("\n".join([*lines, "options:", "  papr: letter", "  grid: 9x9"]) + "\n")
    with pytest.raises(DeckgenError) as refused:
        build(sample_cards, tmp_path / "dist", formats=["pdf"])
    shown = [d.display(sample_cards.parent) for d in refused.value.diagnostics]
    assert shown == [
        f"cards/deck.yaml:{len(lines) + 2}: unknown option 'papr' (did you mean 'paper'?); "
        "options of the installed formats: csv_dialect, grid, paper, pdf_layout "
        "(see `deckgen formats`)",
        f"cards/deck.yaml:{len(lines) + 3}: option 'grid': the grid must be between 1x1 and 6x8 "
        "cards",
    ]
    assert not (tmp_path / "dist").exists()


def test_an_option_of_a_format_not_written_is_ignored(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    paths = build(
        sample_cards, tmp_path / "dist", formats=["json"], options={"paper": "letter"}
    ).paths
    assert [p.name for p in paths] == ["sample-deck.json"]


def test_a_format_declared_in_the_source_tree_but_not_installed_says_reinstall(
    sample_cards: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import deckgen.cli

    monkeypatch.setattr(deckgen.cli, "source_tree_formats", lambda: {"epub"})
    done = CliRunner().invoke(cli, ["build", "--cards", str(sample_cards), "--format", "epub"])
    assert done.exit_code == 2
    assert "run `pip install -e .` again" in done.output
    typo = CliRunner().invoke(cli, ["build", "--cards", str(sample_cards), "--format", "pfd"])
    assert "did you mean 'pdf'?" in typo.output


def test_the_source_tree_formats_are_read_from_pyproject() -> None:
    from deckgen.cli import source_tree_formats

    assert {"apkg", "pdf", "html", "csv", "tsv", "json"} <= source_tree_formats()
