"""The command line: the only module that prints, exits or knows about click."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from deckgen import __version__
from deckgen.build import build as run_build
from deckgen.errors import DeckgenError
from deckgen.exporters import available_exporters, default_formats
from deckgen.selection import SelectionError

F = TypeVar("F", bound=Callable[..., Any])


def _use_color() -> bool | None:
    # click already strips colour when stderr is not a terminal; NO_COLOR turns it off everywhere.
    return False if os.environ.get("NO_COLOR") else None


def _note(message: str, *, fg: str | None = None, bold: bool = False) -> None:
    click.secho(message, err=True, fg=fg, bold=bold, color=_use_color())


def _report(error: DeckgenError) -> None:
    cwd = Path.cwd()
    for diagnostic in error.diagnostics:
        location = diagnostic.location.display(cwd)
        label = click.style(f"{diagnostic.severity.value}", fg="red", bold=True)
        click.echo(
            f"{location}: {label}: {diagnostic.message} [{diagnostic.code}]",
            err=True,
            color=_use_color(),
        )
    files = {d.location.path for d in error.diagnostics}
    count = len(error.diagnostics)
    _note(
        f"{count} problem{'s' if count != 1 else ''} in {len(files)} file"
        f"{'s' if len(files) != 1 else ''}; nothing was written.",
        fg="red",
    )


def cards_option(function: F) -> F:
    return click.option(
        "--cards",
        "cards_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("cards"),
        show_default=True,
        help="Folder with the card Markdown, deck.yaml and syllabus.yaml.",
    )(function)


def _format_help() -> str:
    lines = [f"{name}: {cls.description}" for name, cls in available_exporters().items()]
    return "Output format; repeat for several. Installed: " + "; ".join(lines) + "."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
@click.option("-v", "--verbose", is_flag=True, help="Log what each stage does.")
def cli(verbose: bool) -> None:
    """deckgen compiles Markdown flashcards into Anki decks and other study formats.

    \b
    Examples:
      deckgen build                      # every default format into ./dist
      deckgen build --tag networking     # only the networking round
      deckgen build --tag tcp --exclude-tag tcp-congestion
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@cli.command()
@cards_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Folder to write the outputs into.",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    metavar="FORMAT",
    shell_complete=lambda *_: list(available_exporters()),
    help=_format_help(),
)
@click.option(
    "--tag",
    "include",
    multiple=True,
    metavar="TAG",
    help="Only cards with this tag or a tag under it (TAG::…); repeat for a union.",
)
@click.option(
    "--exclude-tag", "exclude", multiple=True, metavar="TAG", help="Leave out cards with this tag."
)
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Use your own Jinja templates folder instead of the built-in one.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress messages, only errors.")
def build(
    cards_dir: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    templates_dir: Path | None,
    quiet: bool,
) -> None:
    """Build the deck into ./dist. Prints the written paths on stdout, one per line.

    A card matches --tag X when its round, topic or one of its tags is X or starts with X::.
    A filtered build writes files whose names show the selection.

    \b
    Examples:
      deckgen build
      deckgen build --tag networking
      deckgen build --cards my-cards --out out --format apkg
    """
    installed = available_exporters()
    for name in formats:
        if name not in installed:
            raise click.BadParameter(
                f"'{name}' is not an installed format (installed: {', '.join(installed)})",
                param_hint="--format",
            )

    def progress(message: str) -> None:
        if not quiet:
            _note(f"deckgen: {message}", fg="cyan")

    try:
        result = run_build(
            cards_dir,
            out_dir,
            formats=formats or default_formats(),
            include=include,
            exclude=exclude,
            templates_dir=templates_dir,
            progress=progress,
        )
    except SelectionError as error:
        raise click.UsageError(error.diagnostics[0].message) from None
    except DeckgenError as error:
        _report(error)
        sys.exit(1)
    for path in result.paths:
        click.echo(str(path))
    if not quiet:
        _note(
            f"deckgen: built {len(result.deck.cards)} notes into {len(result.paths)} file(s)",
            fg="green",
            bold=True,
        )


def main() -> None:
    cli(prog_name="deckgen")
