"""The command line contract: exit codes, stdout carries only paths, errors name file and line."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.cli import cli


@pytest.fixture
def run(sample_cards: Path, epoch: Callable[[int], None]) -> Callable[..., tuple[int, str, str]]:
    runner = CliRunner()
    root = sample_cards.parent

    def invoke(*args: str) -> tuple[int, str, str]:
        with contextlib.chdir(root):
            result = runner.invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_build_prints_only_paths_on_stdout(
    run: Callable[..., tuple[int, str, str]], sample_cards: Path
) -> None:
    code, out, err = run("build")
    assert code == 0, err
    assert out.splitlines() == [  # every default format
        "dist/sample-deck.apkg",
        "dist/sample-deck-site",
        "dist/sample-deck-cards-a4.pdf",
        "dist/sample-deck-sheet-a4.pdf",
    ]
    assert "loaded 7 cards" in err
    assert (sample_cards.parent / "dist" / "sample-deck.apkg").is_file()


def test_quiet_build_prints_nothing_on_stderr(run: Callable[..., tuple[int, str, str]]) -> None:
    code, out, err = run("build", "-q", "--format", "apkg", "--tag", "rust")
    assert code == 0
    assert out == "dist/sample-deck--rust.apkg\n"
    assert err == ""


def test_selection_names_the_file(run: Callable[..., tuple[int, str, str]]) -> None:
    code, out, _ = run(
        "build", "--format", "apkg", "--tag", "net", "--tag", "rust", "--exclude-tag", "dns"
    )
    assert code == 0
    assert out == "dist/sample-deck--net+rust--not-dns.apkg\n"


def test_empty_selection_is_a_usage_error_listing_tags(
    run: Callable[..., tuple[int, str, str]], sample_cards: Path
) -> None:
    code, out, err = run("build", "--tag", "bgp")
    assert code == 2
    assert out == ""
    assert "no card matches --tag bgp" in err
    assert "known tags: dns, lang, net, rust, tcp, tcp-handshake, tcp-time-wait" in err
    assert not (sample_cards.parent / "dist").exists()


def test_unknown_format_is_a_usage_error(run: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = run("build", "--format", "docx")
    assert code == 2
    assert "'docx' is not an installed format (installed: apkg" in err


def test_bad_cards_exit_1_with_every_problem_and_write_nothing(
    run: Callable[..., tuple[int, str, str]],
    write_card: Callable[[str, str], Path],
    sample_cards: Path,
) -> None:
    write_card(
        "net/zz-broken.md",  # read after net/tcp.md, so its copy of the id is the duplicate
        "---\ntopic: tcp\n---\n\n"
        "## tcp-time-wait-side\nQ: again?\n\nA: yes\n\n"  # duplicate id, line 5
        "## tcp-no-type\nQ: where?\n\n"  # no answer, line 10
        "## tcp-bad-type\nType: flashcard\nQ: a\n\nA: b\n",  # unknown type, line 13
    )
    code, out, err = run("build")
    assert code == 1
    assert out == ""
    assert (
        "cards/net/zz-broken.md:5:1: DG105 [error] duplicate id 'tcp-time-wait-side'\n"
        "  cards/net/tcp.md:8:1: note: first defined here\n" in err
    )
    assert "cards/net/zz-broken.md:10:1: DG108 [error] card 'tcp-no-type' needs 'A:'\n" in err
    assert "cards/net/zz-broken.md:13:1: DG107 [error] unknown card type 'flashcard'" in err
    assert "3 errors, 0 warnings; nothing was written." in err
    assert "nothing was written" in err
    assert not (sample_cards.parent / "dist").exists()


def test_render_errors_also_block_the_build(
    run: Callable[..., tuple[int, str, str]],
    write_card: Callable[[str, str], Path],
    sample_cards: Path,
) -> None:
    write_card(
        "net/img-missing.md",
        "---\ntopic: tcp\n---\n\n## tcp-no-image\nQ: where?\n\nA: see\n\n![x](img/nope.png)\n",
    )
    code, _, err = run("build")
    assert code == 1
    assert "cards/net/img-missing.md:10:1: DG401 [error] missing image 'img/nope.png'" in err
    assert not (sample_cards.parent / "dist").exists()


def test_failed_build_leaves_previous_output_untouched(
    run: Callable[..., tuple[int, str, str]],
    write_card: Callable[[str, str], Path],
    sample_cards: Path,
) -> None:
    assert run("build", "--format", "apkg")[0] == 0
    package = sample_cards.parent / "dist" / "sample-deck.apkg"
    before = package.read_bytes()
    write_card("net/bad.md", "---\ntopic: [oops\n---\n## x-y\nQ: a\n\nA: b\n")
    assert run("build")[0] == 1
    assert package.read_bytes() == before
    assert sorted(p.name for p in package.parent.iterdir()) == ["sample-deck.apkg"]


@pytest.mark.parametrize("command", [[], *([name] for name in sorted(cli.commands))])
def test_every_command_has_help(command: list[str]) -> None:
    """Every registered command, found from the group itself: a new one is covered unasked."""
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output


def test_build_help_lists_installed_formats() -> None:
    result = CliRunner().invoke(cli, ["build", "--help"])
    assert "apkg: Anki package" in " ".join(result.output.split())


# What a command imports, read in a fresh interpreter after it ran: the stages, the exporters
# and their libraries load only for the commands that use them (`deckgen --version` and
# `deckgen --help` start in a fraction of the time a build takes to import).
LOADED_MODULES = """
import sys
from deckgen.cli import main
try:
    main()
finally:
    print("\\n".join(sorted(sys.modules)), file=sys.stderr)
"""
HEAVY = ("markdown_it", "jinja2", "genanki", "typst", "pygments", "anki", "watchfiles", "yaml")
NOT_FOR_HELP = ("deckgen.build", "deckgen.exporters", "deckgen.plugins", "deckgen.compile")


def loaded_by(*args: str) -> tuple[str, set[str]]:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout, set(done.stderr.split())


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["rules"]])
def test_version_and_help_import_neither_the_stages_nor_their_libraries(args: list[str]) -> None:
    out, modules = loaded_by(*args)
    assert out.strip()
    assert "deckgen.cli" in modules and "click" in modules  # what was read is the listing
    heavy = {m for m in modules if m.split(".")[0] in HEAVY or m.startswith(NOT_FOR_HELP)}
    assert not heavy


def test_help_lists_every_command_with_its_one_line_help() -> None:
    out, _ = loaded_by("--help")
    listed = " ".join(out.split())
    for name, command in cli.commands.items():
        short = command.get_short_help_str(limit=200)
        assert short and f"{name} {short[:20]}" in listed


def test_build_help_loads_the_exporters_for_their_flags() -> None:
    out, modules = loaded_by("build", "--help")
    assert "deckgen.exporters.pdf" in modules and "--paper" in out
    assert "deckgen.build" not in modules  # the build itself is imported only when it runs
