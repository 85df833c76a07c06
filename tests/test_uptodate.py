"""Up-to-date builds and lints (deckgen.uptodate): nothing changed, nothing done — and any change
to an input, an output or the command line builds again."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.cli import cli

UP_TO_DATE = "nothing changed since the last build"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(sample_cards: Path, epoch: Callable[[int], None]) -> Run:
    root = sample_cards.parent

    def invoke(*args: str) -> tuple[int, str, str]:
        with contextlib.chdir(root):
            result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


BUILD = ("build", "--format", "apkg", "--format", "html", "--out", "out")


def test_a_second_build_with_nothing_changed_is_replayed_and_writes_nothing(
    run: Run, sample_cards: Path
) -> None:
    code, first_out, first_err = run(*BUILD)
    assert code == 0 and UP_TO_DATE not in first_err
    out = sample_cards.parent / "out"
    before = _digests(out)
    times = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    code, second_out, second_err = run(*BUILD)
    assert code == 0 and UP_TO_DATE in second_err
    assert second_out == first_out  # the same paths, one per line
    assert first_err.splitlines()[-1] == second_err.splitlines()[-1]  # "built N notes into …"
    assert _digests(out) == before
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == times  # not even rewritten


def _edit_card(cards: Path) -> None:
    card = sorted(cards.rglob("*.md"))[0]
    card.write_text(card.read_text().replace("A: ", "A: Changed. ", 1))


def _add_file(cards: Path) -> None:
    (cards / "notes.txt").write_text("a file the loader sees (a card's image could be one)")


def _pyproject_option(cards: Path) -> None:
    (cards.parent / "pyproject.toml").write_text('[tool.deckgen.options]\npaper = "letter"\n')


def _deckgen_setting(cards: Path) -> None:
    os.environ["DECKGEN_FILE_BUDGET_SECONDS"] = "60"


@pytest.mark.parametrize(
    "change", [_edit_card, _add_file, _pyproject_option, _deckgen_setting], ids=lambda f: f.__name__
)
def test_any_changed_input_builds_again(
    run: Run, sample_cards: Path, change: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DECKGEN_FILE_BUDGET_SECONDS", raising=False)
    assert run(*BUILD)[0] == 0
    change(sample_cards)
    code, _, err = run(*BUILD)
    assert code == 0 and UP_TO_DATE not in err
    assert UP_TO_DATE in run(*BUILD)[2]  # and the new state is recorded in turn


@pytest.mark.parametrize(
    "extra",
    [["--tag", "net"], ["--out", "elsewhere"], ["--format", "csv"], ["-o", "paper=letter"]],
)
def test_another_command_line_builds_again(run: Run, extra: list[str]) -> None:
    assert run(*BUILD)[0] == 0
    code, _, err = run(*BUILD, *extra)
    assert code == 0, err
    assert UP_TO_DATE not in err


def test_another_clock_builds_again(run: Run, epoch: Callable[[int], None]) -> None:
    assert run(*BUILD)[0] == 0
    epoch(1_900_000_000)
    assert UP_TO_DATE not in run(*BUILD)[2]


def test_a_changed_template_builds_again(run: Run, sample_cards: Path) -> None:
    templates = sample_cards.parent / "my-templates"
    assert run("templates", "copy", str(templates))[0] == 0
    with_templates = (*BUILD, "--templates", str(templates))
    assert run(*with_templates)[0] == 0
    assert UP_TO_DATE in run(*with_templates)[2]
    css = next(templates.rglob("*.css"))
    css.write_text(css.read_text() + "\n/* changed */\n")
    assert UP_TO_DATE not in run(*with_templates)[2]


@pytest.mark.parametrize("damage", ["delete", "edit"])
def test_a_deleted_or_edited_output_is_written_again(
    run: Run, sample_cards: Path, damage: str
) -> None:
    assert run(*BUILD)[0] == 0
    out = sample_cards.parent / "out"
    before = _digests(out)
    page = next(out.rglob("index.html"))
    if damage == "delete":
        page.unlink()
    else:
        page.write_text("<p>edited by hand</p>")
    code, _, err = run(*BUILD)
    assert code == 0 and UP_TO_DATE not in err
    assert _digests(out) == before


def test_no_cache_never_replays(run: Run) -> None:
    assert run(*BUILD)[0] == 0
    assert UP_TO_DATE not in run(*BUILD, "--no-cache")[2]


def test_a_failed_build_is_not_recorded(run: Run, sample_cards: Path) -> None:
    assert run(*BUILD)[0] == 0
    card = sorted(sample_cards.rglob("*.md"))[0]
    good = card.read_text()
    card.write_text(good + "\n## not-a-card-heading\n")
    first = run(*BUILD)
    assert first[0] == 1
    assert run(*BUILD)[0] == 1  # the second run checks again, and fails again
    card.write_text(good)
    assert UP_TO_DATE in run(*BUILD)[2]  # back to the inputs of the first build


def test_warnings_are_replayed(run: Run, sample_cards: Path) -> None:
    dns = sample_cards / "net" / "dns.md"
    dns.write_text(dns.read_text().replace("Source: RFC 1035 §3.2.1\n", "", 1))  # DG311
    code, _, first = run(*BUILD)
    warned = [line for line in first.splitlines() if ": DG311" in line]
    assert code == 0 and warned
    second = run(*BUILD)[2]
    assert UP_TO_DATE in second
    assert [line for line in second.splitlines() if ": DG" in line] == warned


def test_a_fifo_or_a_link_outside_the_deck_is_never_read(run: Run, sample_cards: Path) -> None:
    """Hashing the deck must not block on a FIFO nor read a file the loader would refuse."""
    os.mkfifo(sample_cards / "pipe")
    (sample_cards / "secret.txt").symlink_to("/etc/hostname")
    code, _, err = run(*BUILD)  # would hang on the FIFO (the test's timeout) if it were opened
    assert code == 0, err
    assert UP_TO_DATE in run(*BUILD)[2]


LOADED_MODULES = """
import sys
from deckgen.cli import main
try:
    main()
finally:
    print("\\n".join(sorted(sys.modules)), file=sys.stderr)
"""


def test_an_up_to_date_build_imports_neither_the_pipeline_nor_the_exporters(
    sample_cards: Path,
) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    command = [sys.executable, "-c", LOADED_MODULES, *BUILD]

    def modules() -> tuple[str, set[str]]:
        done = subprocess.run(
            command, cwd=sample_cards.parent, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stderr, set(done.stderr.split())

    _, loaded = modules()
    assert "deckgen.build" in loaded
    second, loaded = modules()
    assert UP_TO_DATE in second
    heavy = {"genanki", "jinja2", "markdown_it", "typst", "pygments", "deckgen.build"}
    assert not heavy & loaded
    assert not {m for m in loaded if m.startswith("deckgen.exporters")}


def test_exporter_flags_still_parse_and_show_in_help(run: Run) -> None:
    code, _, err = run(*BUILD, "--format", "pdf", "--paper", "letter")
    assert code == 0, err
    assert UP_TO_DATE in run(*BUILD, "--format", "pdf", "--paper", "letter")[2]
    code, out, _ = run("build", "--help")
    assert "--paper" in out and "-o, --option NAME=VALUE" in out
    code, _, err = run(*BUILD, "--papr", "letter")
    assert code == 2 and "--paper" in err  # did you mean, with the exporters' flags loaded


# --------------------------------------------------------------------------- lint


def test_a_second_lint_is_replayed_with_the_same_findings(run: Run, sample_cards: Path) -> None:
    card = sorted(sample_cards.rglob("*.md"))[0]
    card.write_text(card.read_text().replace("A: ", "A: TODO ", 1))
    first = run("lint", "--cards", "cards")
    second = run("lint", "--cards", "cards")
    assert first == second
    only = run("lint", "--cards", "cards", str(card.relative_to(sample_cards.parent)))
    assert "cards in the given paths" in only[2]


def test_a_lint_with_errors_runs_again(
    run: Run, sample_cards: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import deckgen.lint

    card = sorted(sample_cards.rglob("*.md"))[0]
    card.write_text(card.read_text() + "\n## not-a-card-heading\n")
    calls = []
    real = deckgen.lint.lint_deck
    monkeypatch.setattr(deckgen.lint, "lint_deck", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert run("lint", "--cards", "cards")[0] == 1
    assert run("lint", "--cards", "cards")[0] == 1
    assert len(calls) == 2
    card.write_text(card.read_text().replace("\n## not-a-card-heading\n", ""))
    assert run("lint", "--cards", "cards")[0] == 0
    assert run("lint", "--cards", "cards")[0] == 0
    assert len(calls) == 3  # the clean lint was replayed
