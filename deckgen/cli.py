"""The command line: the only module that prints, exits or knows about click."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from deckgen import __version__
from deckgen.cardtypes import CARD_TYPES
from deckgen.errors import DeckgenError, Diagnostic, Location, os_error_diagnostic
from deckgen.rules import RULES, Severity

# Only the light modules above are imported up front, so that `deckgen --version` and
# `deckgen --help` start at once: each command imports the stages it runs when it runs, and the
# exporters (whose options are `deckgen build`'s flags) load when build parses or shows its help.
if TYPE_CHECKING:
    from deckgen.exporters import Option
    from deckgen.status import Status
    from deckgen.sync import Plan as SyncPlan

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE (sysexits.h): deckgen's own bug, not the user's input


def _color() -> bool | None:
    # click strips colour when the stream is not a terminal; NO_COLOR turns it off everywhere.
    return False if os.environ.get("NO_COLOR") else None


def printable(text: str) -> str:
    """deckgen.safety.printable, imported when first needed (its patterns compile on import)."""
    from deckgen.safety import printable as safe

    return safe(text)


def _json(document: object, *, ensure_ascii: bool = False) -> str:
    import json

    return printable(json.dumps(document, indent=2, ensure_ascii=ensure_ascii))


def _line(text: str) -> str:
    """One line safe for the terminal: card text and file names can hold escape sequences or
    line breaks that would otherwise move the cursor or print a fake "lint passed"."""
    return printable(text).replace("\n", "\\n")


def _note(message: str, *, fg: str | None = None, bold: bool = False) -> None:
    click.secho(_line(message), err=True, fg=fg, bold=bold, color=_color())


def _path(location: Location) -> str:
    """The location's file relative to the working folder (a ':' in its name is kept)."""
    return location.file(Path.cwd())


def _where(location: Location) -> str:
    """`path:line:col` relative to the working folder; line and column are at least 1."""
    return f"{_line(_path(location))}:{max(location.line, 1)}:{max(location.col, 1)}"


def _rule_name(code: str) -> str:
    rule = RULES.get(code)
    return rule.name if rule is not None else "error"


def _github_property(value: str) -> str:
    # GitHub's workflow-command escaping for property values (file=…, title=…)
    for raw, escaped in (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C")):
        value = value.replace(raw, escaped)
    return value


def _print_diagnostics(
    diagnostics: Sequence[Diagnostic], output_format: str = "text", *, err: bool = False
) -> None:
    if output_format == "json":
        payload = {
            "diagnostics": [
                {
                    "path": _path(d.location),
                    "line": max(d.location.line, 1),
                    "col": max(d.location.col, 1),
                    "code": d.code,
                    "rule": _rule_name(d.code),
                    "severity": d.severity.value,
                    "message": d.message,
                    "related": [
                        {
                            "path": _path(where),
                            "line": max(where.line, 1),
                            "col": max(where.col, 1),
                            "note": note,
                        }
                        for where, note in d.related
                    ],
                }
                for d in diagnostics
            ],
            "errors": sum(d.severity is Severity.ERROR for d in diagnostics),
            "warnings": sum(d.severity is Severity.WARNING for d in diagnostics),
        }
        click.echo(_json(payload), err=err)
        return
    for d in diagnostics:
        if output_format == "github":
            # an annotation has one place: the related ones go into its message
            notes = "; ".join(f"{_where(where)}: {note}" for where, note in d.related)
            message = printable(f"{d.message} ({notes})" if notes else d.message)
            for raw, escaped in (("%", "%25"), ("\r", "%0D"), ("\n", "%0A")):
                message = message.replace(raw, escaped)
            title = _github_property(f"{d.code} {_rule_name(d.code)}")
            click.echo(
                f"::{d.severity.value} file={_github_property(printable(_path(d.location)))},"
                f"line={max(d.location.line, 1)},col={max(d.location.col, 1)},"
                f"title={title}::{message}",
                err=err,
            )
            continue
        colour = "red" if d.severity is Severity.ERROR else "yellow"
        code = click.style(d.code, fg=colour, bold=True)
        message = _line(d.message)
        click.echo(
            f"{_where(d.location)}: {code} [{d.severity.value}] {message}", err=err, color=_color()
        )
        for where, note in d.related:
            label = click.style("note", fg="cyan")
            click.echo(f"  {_where(where)}: {label}: {_line(note)}", err=err, color=_color())


def _summary(diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    return (
        f"{errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}"
    )


def _verbose(ctx: click.Context) -> bool:
    return bool(ctx.find_root().params.get("verbose"))


def _traceback(error: BaseException) -> None:
    import traceback

    click.echo(printable("".join(traceback.format_exception(error))), err=True, nl=False)


def _internal_error(ctx: click.Context, error: Exception) -> NoReturn:
    """One line for a bug in deckgen (pip-style): the traceback only with --verbose."""
    if _verbose(ctx):
        _traceback(error)
        hint = "this is a bug in deckgen: please report it with the traceback above"
    else:
        hint = "run with --verbose for the traceback"
    _note(f"deckgen: internal error: {type(error).__name__}: {error} ({hint})", fg="red")
    ctx.exit(EXIT_INTERNAL_ERROR)


class DeckgenCommand(click.Command):
    """A command that runs inside deckgen's one error boundary, its `invoke`.

    DeckgenError becomes its diagnostics (in the command's --format) and exit 1; an OSError
    (a read-only folder, a full disk) a located DG121; a query matching nothing a usage error
    (exit 2); anything else is deckgen's bug: one line and exit 70, the traceback with -v.
    `diagnostics_on_stdout`: where the command prints its findings (lint's are its output);
    `failure_note` ends the text summary of a failure, e.g. with what was written.
    """

    def __init__(
        self,
        *args: Any,
        diagnostics_on_stdout: bool = False,
        failure_note: Callable[[DeckgenError], str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.diagnostics_on_stdout = diagnostics_on_stdout
        self.failure_note = failure_note

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # usage errors and deliberate exits are click's to report
        except DeckgenError as error:
            from deckgen.selection import SelectionError

            if isinstance(error, SelectionError):
                raise click.UsageError(error.diagnostics[0].message) from None
            self._fail(ctx, error)
        except BrokenPipeError:
            raise  # `deckgen build | head`: click's main exits quietly
        except OSError as error:  # outside a build's outputs: the cards folder, the id record…
            failure = DeckgenError([os_error_diagnostic(error, Path.cwd(), "cannot read or write")])
            failure.__cause__ = error
            self._fail(ctx, failure)
        except Exception as error:
            _internal_error(ctx, error)

    def _fail(self, ctx: click.Context, error: DeckgenError) -> NoReturn:
        if _verbose(ctx) and error.__cause__ is not None:
            _traceback(error.__cause__)  # what the library turned into the diagnostic
        output_format = str(ctx.params.get("output_format", "text"))
        _print_diagnostics(error.diagnostics, output_format, err=not self.diagnostics_on_stdout)
        if output_format == "text" and error.diagnostics:
            note = self.failure_note(error) if self.failure_note is not None else ""
            _note(f"{_summary(error.diagnostics)}{f'; {note}' if note else ''}", fg="red")
        ctx.exit(1)


class DeckgenGroup(click.Group):
    command_class = DeckgenCommand


def _build_failure_note(error: DeckgenError) -> str:
    if error.after_writing:
        return "the build stopped part-way: each output is either complete or untouched."
    return "nothing was written."


def text_or_json_option(help_text: str) -> Callable[[F], F]:
    """`--format text|json`, for the commands whose output is a listing."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help_text,
    )


def discover_cards(start: Path) -> Path | None:
    """The deck's cards folder for a command run in `start`: `start` itself when it holds
    deck.yaml, else the nearest `cards/` with a deck.yaml in `start` or a folder above it."""
    from deckgen.deckfiles import DECK_FILE

    if (start / DECK_FILE).is_file():
        return start
    for folder in (start, *start.parents):
        if (folder / "cards" / DECK_FILE).is_file():
            return folder / "cards"
    return None


def _cards_folder(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    if ctx.get_parameter_source(param.name or "") is not click.core.ParameterSource.DEFAULT:
        return value
    here = Path.cwd()
    found = discover_cards(here)
    if found is None:
        return value  # reported as "cards folder not found" by the command
    return _from_here(found)


def _from_here(path: Path) -> Path:
    """`path` relative to the working folder when it lies inside it, as the user would write it."""
    here = Path.cwd()
    return path.relative_to(here) if path.is_relative_to(here) else path


def cards_option(function: F) -> F:
    return click.option(
        "--cards",
        "cards_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("cards"),
        show_default=True,
        callback=_cards_folder,
        help="Folder with the card Markdown, deck.yaml and syllabus.yaml. Default: this folder "
        "if it has deck.yaml, else the nearest cards/ here or in a folder above.",
    )(function)


def templates_option(function: F) -> F:
    return click.option(
        "--templates",
        "templates_dir",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        default=None,
        help="Use your own Jinja templates folder instead of the built-in one.",
    )(function)


def tag_option(function: F) -> F:
    return click.option(
        "--tag",
        "include",
        multiple=True,
        metavar="TAG",
        help="Only cards with this tag or a tag under it (TAG::…); repeat for a union. "
        "The <section>::X and topic::X tags shown in Anki (round::X in this repository's deck) "
        "mean X.",
    )(function)


def no_cache_option(function: F) -> F:
    return click.option(
        "--no-cache", is_flag=True, help="Ignore the cache of parsed and rendered cards."
    )(function)


def _format_help() -> str:
    from deckgen.exporters import available_exporters

    lines = [f"{name}: {cls.description}" for name, cls in available_exporters().items()]
    return "Output format; repeat for several. Installed: " + "; ".join(lines) + "."


def _flag_parameter(option: Option) -> str:
    return f"opt_{option.name}"


def option_value_option(function: F) -> F:
    return click.option(
        "-o",
        "--option",
        "option_values",
        multiple=True,
        metavar="NAME=VALUE",
        help="Set an exporter option by name; repeat for several (see `deckgen formats`).",
    )(function)


def exporter_flags() -> list[click.Parameter]:
    """A flag for every option the installed exporters declare (--paper, --grid, …): the
    command line is made from the declarations, not written here."""
    from deckgen.exporters import available_exporters, declared_options

    flags: list[click.Parameter] = []
    for option in declared_options(available_exporters().values()).values():
        if option.hidden:
            continue
        default = f" (default: {option.default})" if option.default is not None else ""
        flags.append(
            click.Option(
                [option.flag, _flag_parameter(option)],
                type=click.Choice(option.choices) if option.choices else str,
                default=None,
                help=f"{option.help}{default}",
            )
        )
    return flags


class BuildCommand(DeckgenCommand):
    """`deckgen build`, whose --format help and exporter flags come from the installed
    exporters: they are loaded (each exporter imports its libraries) only when the command
    line holds an option that is not one of the command's own, or asks for help — never for
    `deckgen build` with its own options, whose up-to-date check (deckgen.uptodate) must not
    pay for importing every exporter, and never for `deckgen --help` or another command."""

    _params: list[click.Parameter]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._exporters_loaded = True  # the parameters click is given are set as they are
        self._own_only = False
        super().__init__(*args, **kwargs)
        self._exporters_loaded = False

    @property
    def params(self) -> list[click.Parameter]:
        if not self._exporters_loaded and not self._own_only:
            self._exporters_loaded = True
            self._params = self._with_exporters(self._params)
        return self._params

    @params.setter
    def params(self, value: list[click.Parameter]) -> None:
        self._params = value

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        self._own_only = not self._exporters_loaded and _own_options_only(args, self._params)
        try:
            return super().parse_args(ctx, args)
        finally:
            self._own_only = False

    @staticmethod
    def _with_exporters(params: list[click.Parameter]) -> list[click.Parameter]:
        """The exporter flags after -o; the installed formats in --format's help."""
        names = [p.name for p in params]
        for param in params:
            if param.name == "formats" and isinstance(param, click.Option):
                param.help = _format_help()
        at = names.index("option_values") + 1
        return [*params[:at], *exporter_flags(), *params[at:]]


def _own_options_only(args: Sequence[str], params: Sequence[click.Parameter]) -> bool:
    """Whether every option on the command line is one of `params` (not an exporter's flag,
    not --help): then the command is parsed without loading the exporters. A value that looks
    like an option (`--tag -x`) only costs loading them."""
    own = {name for p in params if isinstance(p, click.Option) for name in p.opts}
    for arg in args:
        if arg == "--":
            break
        if arg.startswith("-") and arg.split("=", 1)[0] not in own:
            return False
    return True


def _given_options(values: tuple[str, ...], flags: Mapping[str, str | None]) -> dict[str, str]:
    """The options given on the command line: -o NAME=VALUE, then the flags (which win)."""
    given: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{item}' is not NAME=VALUE", param_hint="-o")
        given[name.strip().replace("-", "_")] = value
    for parameter, flag in flags.items():
        if parameter.startswith("opt_") and flag is not None:
            given[parameter.removeprefix("opt_")] = flag
    return given


def _unknown_format(name: str, installed: Mapping[str, object]) -> str:
    from deckgen.suggest import suggest

    message = f"'{name}' is not an installed format (installed: {', '.join(installed)})"
    if name in source_tree_formats():
        message += (
            f"; it is declared in {SOURCE_PYPROJECT}, so the installed entry points are out of "
            "date: run `pip install -e .` again"
        )
    else:
        message += suggest(name, installed)
    return message


SOURCE_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def source_tree_formats() -> set[str]:
    """The formats the source checkout's pyproject.toml declares (empty for a wheel install)."""
    import tomllib

    from deckgen.exporters import ENTRY_POINT_GROUP

    try:
        data = tomllib.loads(SOURCE_PYPROJECT.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return set()
    group = data.get("project", {}).get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    return set(group) if isinstance(group, dict) else set()


@click.group(cls=DeckgenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
@click.option(
    "-v", "--verbose", is_flag=True, help="Log what each stage does; show tracebacks of failures."
)
def cli(verbose: bool) -> None:
    """deckgen compiles Markdown flashcards into Anki decks and other study formats.

    \b
    Examples:
      deckgen build                      # every default format into ./dist
      deckgen build --tag networking     # only the networking section
      deckgen lint                       # check every card, with file:line messages
      deckgen stats                      # cards per section and topic against the syllabus
    """
    import logging

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@cli.command(cls=BuildCommand, failure_note=_build_failure_note)
@cards_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the outputs into. Default: dist/ beside the cards folder (inside "
    "the deck's folder for a flat deck, whose deck.yaml is not in a cards/ folder).",
)
@click.option("--format", "formats", multiple=True, metavar="FORMAT", help="Output format.")
@tag_option
@click.option(
    "--exclude-tag",
    "exclude",
    multiple=True,
    metavar="TAG",
    help="Leave out cards with this tag or a tag under it; a tag no card has is an error.",
)
@templates_option
@option_value_option  # then the exporters' flags (BuildCommand)
@no_cache_option
@click.option("-q", "--quiet", is_flag=True, help="No progress messages, only errors.")
def build(
    cards_dir: Path,
    out_dir: Path | None,
    formats: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    templates_dir: Path | None,
    option_values: tuple[str, ...],
    no_cache: bool,
    quiet: bool,
    **flags: str | None,
) -> None:
    """Build the deck into dist/ beside the cards folder. Prints the written paths on stdout,
    one per line.

    A card matches --tag X when its section, topic or one of its tags is X or starts with X::.
    A filtered build writes files whose names show the selection. Cards with lint errors are
    never built: the errors are listed and nothing is written.

    \b
    Examples:
      deckgen build
      deckgen build --tag networking
      deckgen build --cards my-cards --out out --format apkg
      deckgen build --format pdf --tag networking --paper letter
      deckgen build --format csv -o csv_dialect=plain

    Every exporter option (see `deckgen formats`) is also a flag, can be given as
    -o NAME=VALUE, and can default from `options:` in deck.yaml or from
    [tool.deckgen.options] in pyproject.toml.
    """
    from deckgen import uptodate
    from deckgen.cache import Cache
    from deckgen.deckfiles import project_folder

    if out_dir is None:  # the project's dist/, wherever in the project the command runs
        out_dir = click.Path(file_okay=False, path_type=Path).convert(
            _from_here(project_folder(cards_dir)) / "dist", None, click.get_current_context()
        )
    options = _given_options(option_values, flags)

    def progress(message: str) -> None:
        if not quiet:
            _note(f"deckgen: {message}", fg="cyan")

    cache = Cache.for_cards(cards_dir, enabled=not no_cache)
    key = None
    if cache.folder is not None:
        key = uptodate.build_key(
            cards_dir, out_dir, formats, include, exclude, templates_dir, options
        )
    last = uptodate.recorded(cache, uptodate.NAMESPACE_BUILD, key)
    if last is not None:
        progress("nothing changed since the last build: its outputs are up to date")
        _built(last.paths, last.diagnostics, len(last.card_paths), quiet)
        return

    from deckgen.build import build as run_build
    from deckgen.exporters import available_exporters, default_formats

    installed = available_exporters()
    for name in formats:
        if name not in installed:
            raise click.BadParameter(_unknown_format(name, installed), param_hint="--format")
    with _terminal_status(quiet) as status:
        result = run_build(
            cards_dir,
            out_dir,
            formats=formats or default_formats(),
            include=include,
            exclude=exclude,
            templates_dir=templates_dir,
            progress=progress,
            options=options,
            use_cache=not no_cache,
            status=status,
        )
    card_paths = [rendered.card.path for rendered in result.deck.cards]
    uptodate.record(cache, uptodate.NAMESPACE_BUILD, key, result.paths, result.warnings, card_paths)
    _built([str(p) for p in result.paths], result.warnings, len(card_paths), quiet)


@contextlib.contextmanager
def _terminal_status(quiet: bool) -> Iterator[Status]:
    """Where a long stage shows how far it has got: stderr's last line, on a terminal only
    (erased when the command's work ends, however it ends)."""
    from deckgen.status import NO_STATUS, TerminalStatus

    if quiet or not sys.stderr.isatty():
        yield NO_STATUS
        return

    def style(text: str) -> str:
        return click.style(text, fg="cyan") if _color() is None else text

    status = TerminalStatus(sys.stderr, style)
    try:
        yield status
    finally:
        status.clear()


def _built(paths: Sequence[str], warnings: Sequence[Diagnostic], notes: int, quiet: bool) -> None:
    """What a build says when done: the paths on stdout, then its warnings and a summary."""
    for path in paths:
        click.echo(_line(path))
    if not quiet:
        if warnings:
            _print_diagnostics(warnings, err=True)
        _note(f"deckgen: built {notes} notes into {len(paths)} file(s)", fg="green", bold=True)


@cli.command()
@text_or_json_option("Output format.")
def formats(output_format: str) -> None:
    """List the installed output formats and the options each one takes.

    \b
    Examples:
      deckgen formats
      deckgen formats --format json
    """
    from deckgen.exporters import available_exporters, exporter_options

    rows: list[dict[str, Any]] = []
    for name, exporter in available_exporters().items():
        options = [o for o in exporter_options(exporter) if not o.hidden]
        rows.append(
            {
                "name": name,
                "description": exporter.description,
                "default": exporter.default,
                "options": [
                    {
                        "name": o.name,
                        "flag": o.flag,
                        "help": o.help,
                        "default": o.default,
                        "choices": list(o.choices),
                    }
                    for o in options
                ],
            }
        )
    if output_format == "json":
        click.echo(_json({"formats": rows}))
        return
    for row in rows:
        marker = " (default)" if row["default"] else ""
        click.echo(_line(f"{row['name']}{marker}: {row['description']}"))
        for option in row["options"]:
            choices = f" [{'|'.join(option['choices'])}]" if option["choices"] else ""
            default = f" (default: {option['default']})" if option["default"] is not None else ""
            click.echo(
                _line(
                    f"  {option['flag']}, -o {option['name']}=…{choices}  {option['help']}{default}"
                )
            )


@cli.command(diagnostics_on_stdout=True)
@cards_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, github for workflow annotations.",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option(
    "--print-check/--no-print-check",
    default=False,
    show_default=True,
    help="Also typeset the cut-out cards to find those too long for a cell (DG320). Results "
    "are cached per card; the first run on a large deck takes a while.",
)
@no_cache_option
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def lint(
    cards_dir: Path,
    output_format: str,
    strict: bool,
    print_check: bool,
    no_cache: bool,
    paths: tuple[Path, ...],
) -> None:
    """Check every card and report each problem as path:line:col: CODE message.

    With PATHS (files or folders), only the problems in them are reported; the whole deck is
    still checked, so rules across files (duplicate ids, published ids) still apply.
    Exits 1 when there are errors (or warnings with --strict), else 0. Rules are listed by
    `deckgen rules`.

    \b
    Examples:
      deckgen lint
      deckgen lint cards/net/tcp.md
      deckgen lint --strict --print-check
      deckgen lint --strict --print-check --format github
    """
    from deckgen import uptodate
    from deckgen.cache import Cache

    cache = Cache.for_cards(cards_dir, enabled=not no_cache)
    key = uptodate.lint_key(cards_dir, print_check) if cache.folder is not None else None
    last = uptodate.recorded(cache, uptodate.NAMESPACE_LINT, key)
    if last is not None:  # nothing changed since a lint without errors
        found, card_paths = last.diagnostics, [Path(p) for p in last.card_paths]
    else:
        from deckgen.lint import lint_deck

        with _terminal_status(quiet=False) as status:
            result = lint_deck(cards_dir, print_check=print_check, cache=cache, status=status)
        found, card_paths = result.diagnostics, [c.path for c in result.deck.cards]
        if not any(d.severity is Severity.ERROR for d in found):
            uptodate.record(cache, uptodate.NAMESPACE_LINT, key, [], found, card_paths)
    diagnostics = [d for d in found if _within(d.location.path, paths)]
    _print_diagnostics(diagnostics, output_format)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    warnings = [d for d in diagnostics if d.severity is Severity.WARNING]
    failed = bool(errors) or (strict and bool(warnings))
    if output_format == "text":
        verdict = "failed" if failed else "passed"
        count = (
            f"{len(card_paths)} cards"
            if not paths
            else f"{sum(_within(c, paths) for c in card_paths)} of"
            f" {len(card_paths)} cards in the given paths"
        )
        _note(f"lint {verdict}: {count}, {_summary(diagnostics)}", fg="red" if failed else "green")
    sys.exit(1 if failed else 0)


def _within(path: Path, roots: Sequence[Path]) -> bool:
    """Whether `path` is one of `roots` or lies under one of them (every path when no roots)."""
    if not roots:
        return True
    where = path.resolve()
    return any(where.is_relative_to(root.resolve()) for root in roots)


@cli.command()
def rules() -> None:
    """List every lint rule: code, severity, name and what it checks.

    \b
    Examples:
      deckgen rules
    """
    for rule in RULES.values():
        click.echo(f"{rule.code}  {rule.severity.value:<7}  {rule.name:<26} {rule.summary}")


@cli.command()
@cards_option
@text_or_json_option("A table for people, or JSON.")
def stats(cards_dir: Path, output_format: str) -> None:
    """Show cards per section, topic and subtopic, with their ids, against the syllabus minimum.

    A card counts once in its section and once in its topic; a topic is listed under its first
    section but counts its cards in every section; subtopics count the cards tagged with them.
    Sections are named as deck.yaml's `section:` names them (this repository's deck: rounds).

    \b
    Examples:
      deckgen stats
      deckgen stats --format json
    """
    from deckgen.compile import load_deck
    from deckgen.stats import coverage, coverage_footnotes

    deck = load_deck(cards_dir)
    rows = coverage(deck)
    if output_format == "json":
        payload = {
            "cards": len(deck.cards),
            "rows": [
                {
                    "kind": r.kind,
                    "id": r.id,
                    "title": r.title,
                    "cards": r.have,
                    "min_cards": r.need,
                    "ok": not r.short,
                }
                for r in rows
            ],
        }
        click.echo(_json(payload))
        return
    levels = [deck.info.section.label.lower()] if deck.syllabus.sections else []
    heading = " / ".join([*levels, "topic", "subtopic"])
    width = max([len(heading), *(len("  " * r.depth + r.title) for r in rows)])
    id_width = max([len("id"), *(len(r.id) for r in rows)]) + 2
    click.echo(f"{heading:<{width}} {'id':<{id_width}} {'cards':>5} {'min':>4}")
    for row in rows:
        label = "  " * row.depth + row.title
        need = str(row.need) if row.kind != "section" else ""
        status = click.style(" short", fg="red", bold=True) if row.short else ""
        line = f"{label:<{width}} {row.id:<{id_width}} {row.have:>5} {need:>4}{status}"
        click.echo(click.style(line, bold=True) if row.kind == "section" else line, color=_color())
    short = sum(r.short for r in rows)
    click.echo(f"{'total':<{width}} {'':<{id_width}} {len(deck.cards):>5}")
    for footnote in coverage_footnotes(deck):
        click.echo(_line(footnote))
    if short:
        _note(f"{short} topic(s) below their minimum", fg="red")


@cli.group()
def templates() -> None:
    """Work with the templates: the Anki note types, the print layouts and the site.

    A folder given with `--templates` needs only the files it changes: every other template
    comes from deckgen's own.

    \b
    Examples:
      deckgen templates copy my-templates
    """


@templates.command("copy")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def copy_templates(folder: Path) -> None:
    """Copy deckgen's own templates into FOLDER (missing or empty), to edit them.

    Keep only the files you change: the others then follow deckgen's updates.

    \b
    Examples:
      deckgen templates copy my-templates
      deckgen build --templates my-templates
    """
    import shutil

    from deckgen.atomic import empty_or_missing
    from deckgen.deckfiles import default_templates_dir

    if not empty_or_missing(folder):
        raise click.UsageError(f"{folder} is not an empty folder: nothing was copied")
    shutil.copytree(default_templates_dir(), folder, dirs_exist_ok=True)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        click.echo(_line(str(path)))
    _note(f"deckgen: copied the templates into {folder}; build with --templates {folder}")


@cli.command()
@click.argument(
    "folder", type=click.Path(file_okay=False, path_type=Path), default=Path(), required=False
)
def init(folder: Path) -> None:
    """Start a new deck in FOLDER (default: here), which must be empty or missing.

    Writes cards/deck.yaml, cards/syllabus.yaml, one card of every card type and a
    .gitignore; `deckgen build` then works in it.

    \b
    Examples:
      deckgen init spanish-verbs && cd spanish-verbs && deckgen build
    """
    from deckgen.starter import write_starter

    try:
        written = write_starter(folder)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    for path in written:
        click.echo(_line(str(path)))
    _note(
        f"deckgen: started a deck in {folder}; edit cards/deck.yaml and cards/syllabus.yaml, "
        "add cards (deckgen new TOPIC), then run deckgen lint and deckgen build",
        fg="green",
    )


@cli.command()
@cards_option
@click.argument("topic")
@click.argument("question", required=False, default="")
@click.option("--id", "card_id", help="The card id (a lowercase slug); made up if not given.")
@click.option(
    "--type",
    "card_type",
    type=click.Choice(list(CARD_TYPES)),
    default="basic",
    show_default=True,
    help="The card type: "
    + "; ".join(f"{key}: {kind.summary}" for key, kind in CARD_TYPES.items())
    + ".",
)
def new(cards_dir: Path, topic: str, question: str, card_id: str | None, card_type: str) -> None:
    """Add a card skeleton for TOPIC (a topic or subtopic id) in the right file.

    Prints `path:line` of the new card on stdout.

    \b
    Examples:
      deckgen new tcp-time-wait "How long does TIME_WAIT last?"
      deckgen new dnssec --type cloze
    """
    from deckgen.scaffold import scaffold_card

    try:
        made = scaffold_card(cards_dir, topic, question, card_id, card_type)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    where = f"{made.path}:{made.line}"
    click.echo(_line(where))
    for note in made.notes:
        _note(f"deckgen: {note}")
    _note(f"deckgen: added a card at {where}; fill in the fields, then run deckgen lint")


@cli.command()
@cards_option
@click.option(
    "--since", metavar="VERSION", help="Compare with this release instead of the last one."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for people, markdown as in CHANGELOG.md, json for tools.",
)
@click.option(
    "--check", is_flag=True, help="Exit 1 when anything is unreleased (for the release workflow)."
)
@templates_option
@no_cache_option
def changes(
    cards_dir: Path,
    since: str | None,
    output_format: str,
    check: bool,
    templates_dir: Path | None,
    no_cache: bool,
) -> None:
    """List the cards added, changed, moved and retired since the last (or a named) release.

    A card has changed when anything its note shows in Anki changed: a field, a tag, or its
    note type's templates or CSS.

    \b
    Examples:
      deckgen changes
      deckgen changes --since v2026.12 --format markdown
      deckgen changes --check      # after deckgen release, in the release workflow
    """
    import time

    from deckgen.cache import Cache
    from deckgen.history import UNRELEASED
    from deckgen.publish import deck_changes
    from deckgen.release import changelog_section, changes_document

    cache = Cache.for_cards(cards_dir, enabled=not no_cache)
    found = deck_changes(cards_dir, since, templates_dir, cache)
    if output_format == "json":
        click.echo(_json(changes_document(found.since, found.changes), ensure_ascii=True))
    elif output_format == "markdown":
        click.echo(changelog_section(UNRELEASED, int(time.time()), found.changes), nl=False)
    else:
        for change in found.changes:
            detail = f" ({change.detail})" if change.detail else ""
            click.echo(_line(f"{change.kind:<8} {change.id}: {change.question}{detail}"))
    base = f"release {found.since}" if found.since else "the first release"
    _note(f"deckgen: {len(found.changes)} change(s) since {base}")
    if check and found.changes:
        _note("deckgen: unreleased changes; record them with deckgen release VERSION", fg="red")
        sys.exit(1)


@cli.command()
@cards_option
@click.argument("version")
@templates_option
@no_cache_option
def release(cards_dir: Path, version: str, templates_dir: Path | None, no_cache: bool) -> None:
    """Record release VERSION: what every card's note holds, and what changed.

    Writes cards/releases.json (the release history), cards/published-ids.yaml and a section of
    CHANGELOG.md beside the cards folder. Refused when lint fails, VERSION exists, nothing
    changed, or the build clock is not after the last release. Builds then stamp each note with
    the time of the release it last changed in, so Anki updates exactly the changed ones.

    \b
    Examples:
      deckgen release v2026.12
    """
    from deckgen.cache import Cache
    from deckgen.publish import make_release
    from deckgen.release import change_counts

    cache = Cache.for_cards(cards_dir, enabled=not no_cache)
    recorded = make_release(cards_dir, version, templates_dir, cache)
    for path in recorded.paths:
        click.echo(_line(str(path)))
    _note(f"deckgen: recorded release {version}: {change_counts(recorded.changes)}", fg="green")


@cli.command()
@cards_option
@click.option(
    "--collection",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The Anki collection file (collection.anki2 in the profile's folder).",
)
@click.option(
    "--profile",
    metavar="NAME",
    help="The Anki profile whose collection to sync, in Anki's standard data folder.",
)
@click.option("--apply", is_flag=True, help="Back up the collection, then apply the plan.")
@click.option(
    "--theirs", is_flag=True, help="Conflicts: the release's value replaces the learner's edit."
)
@click.option(
    "--delete-retired",
    is_flag=True,
    help="Delete retired cards, with their review history, instead of suspending them.",
)
@click.option(
    "--report-edits",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write every field the learner edited, with its source, as Markdown.",
)
@click.option(
    "--reviews",
    "reviews_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PROGRESS.json",
    help="Instead: write the reviews of the site's exported progress file into the collection.",
)
@text_or_json_option("A table for people, or JSON.")
@templates_option
@no_cache_option
def sync(
    cards_dir: Path,
    collection: Path | None,
    profile: str | None,
    apply: bool,
    theirs: bool,
    delete_retired: bool,
    report_edits: Path | None,
    reviews_file: Path | None,
    output_format: str,
    templates_dir: Path | None,
    no_cache: bool,
) -> None:
    """Update your own Anki collection to the deck's last release, in place.

    Without --apply, prints the plan and writes nothing. With --apply, refuses a collection
    that Anki has open, one of another Anki schema or without this deck, makes Anki's own
    backup (its path is printed), then applies the plan in one transaction. Fields you edited
    are kept (a conflict when the release changed them too); your own tags, marked and leech
    stay; review history is never touched; retired cards are suspended and tagged
    deckgen::retired (deleted only with --delete-retired). Needs the official anki package:
    pip install 'deckgen-anki[sync]'.

    \b
    Examples:
      deckgen sync --profile "User 1"
      deckgen sync --collection "~/.local/share/Anki2/User 1/collection.anki2" --apply
      deckgen sync --profile "User 1" --report-edits my-fixes.md
      deckgen sync --profile "User 1" --reviews sample-deck-progress-2026-01-05.json --apply

    With --reviews, sync writes only the reviews of a progress file exported by the static
    site's study session (Progress → Export progress): each review becomes a row of Anki's
    review log, and each card is scheduled where the site left it. A card reviewed in Anki
    after its first exported review is left alone; reviews already written are not written
    again. The same checks, backup and single transaction apply.
    """
    from deckgen.cache import Cache
    from deckgen.sync import profile_collection, write_edits
    from deckgen.sync import sync as run_sync

    if (collection is None) == (profile is None):
        raise click.UsageError("give the collection: --collection PATH or --profile NAME")
    path = collection.expanduser() if collection is not None else profile_collection(profile or "")
    if reviews_file is not None:
        if theirs or delete_retired or report_edits is not None:
            raise click.UsageError(
                "--reviews writes reviews only: run --theirs, --delete-retired or "
                "--report-edits in a sync without it"
            )
        _sync_reviews(cards_dir, path, reviews_file, apply, output_format)
        return
    cache = Cache.for_cards(cards_dir, enabled=not no_cache)
    result = run_sync(
        cards_dir,
        path,
        apply=apply,
        theirs=theirs,
        delete_retired=delete_retired,
        templates_dir=templates_dir,
        cache=cache,
    )
    plan = result.plan
    if report_edits is not None:
        write_edits(report_edits, result.edits)
    if output_format == "json":
        _echo_sync_document(plan.document(), path, result.applied, result.backup)
    else:
        _print_plan(plan)
    if report_edits is not None:
        _note(f"deckgen: wrote {result.edit_count} edited field(s) to {report_edits}")
    if result.backup is not None:
        _note(f"deckgen: backed up to {result.backup} (Anki: File → Switch Profile → Open Backup)")
    if result.applied:
        _note(f"deckgen: synced {path} with release {plan.release}", fg="green")
    elif plan.empty:
        _note(f"deckgen: {path} is in sync with release {plan.release}: nothing to do")
    else:
        _note("deckgen: dry run, nothing written; --apply backs up and applies this plan")


def _echo_sync_document(
    document: dict[str, Any], path: Path, applied: bool, backup: Path | None
) -> None:
    extra = {"collection": str(path), "applied": applied, "backup": str(backup) if backup else None}
    click.echo(_json(document | extra, ensure_ascii=True))


def _sync_reviews(
    cards_dir: Path, path: Path, reviews_file: Path, apply: bool, output_format: str
) -> None:
    from deckgen.reviews import STATUSES, sync_reviews

    result = sync_reviews(cards_dir, path, reviews_file.expanduser(), apply=apply)
    plan = result.plan
    if output_format == "json":
        _echo_sync_document(plan.document(), path, result.applied, result.backup)
    else:
        counts = plan.counts()
        width = max(len(k) for k in counts)
        for kind, count in counts.items():
            click.echo(f"{kind:<{width}}  {count}")
        if plan.cards:
            click.echo()
        for item in plan.cards:
            what = item.detail or STATUSES[item.status]
            if item.status == "written":
                what = f"{len(item.entries)} review(s); {what}"
            click.echo(_line(f"{item.status:<17} {item.card}:{item.ord}: {what}"))
    if not plan.fsrs and not plan.empty:
        _note(
            "deckgen: the collection does not use FSRS (Deck options → FSRS): Anki keeps the "
            "due dates written, but schedules later answers with SM-2"
        )
    if result.backup is not None:
        _note(f"deckgen: backed up to {result.backup} (Anki: File → Switch Profile → Open Backup)")
    if result.applied:
        written = plan.counts()["reviews written"]
        _note(f"deckgen: wrote {written} review(s) into {path}", fg="green")
    elif plan.empty:
        _note(f"deckgen: nothing to write from {reviews_file} into {path}")
    else:
        _note("deckgen: dry run, nothing written; --apply backs up and writes these reviews")


def _print_plan(plan: SyncPlan) -> None:
    width = max(len(k) for k in plan.counts())
    for kind, count in plan.counts().items():
        click.echo(f"{kind:<{width}}  {count}")
    rows: list[tuple[str, str, str]] = []
    rows += [("new", t.card.id, t.deck) for t in plan.new]
    for update in plan.updates:
        parts = [*update.fields, *(["tags"] if update.tags is not None else [])]
        rows.append(("updated", update.id, ", ".join(parts)))
    hints = {
        "kept": "your edit kept (the release did not change it)",
        "conflict": "your edit kept; the release changed it too (--theirs takes the release's)",
        "unknown": "kept: not a value a release shipped, and your release is unknown",
        "overwritten": "your edit replaced by the release's (--theirs)",
    }
    rows += [(f.kind, f.id, f"{f.field}: {hints[f.kind]}") for f in plan.fields if f.edited]
    for move in plan.moves:
        if move.moved:
            rows.append(("moved", move.id, f"{move.old} → {move.new}"))
        else:
            rows.append(("stays", move.id, f"in your deck {move.old} (the release: {move.new})"))
    rows += [("renamed", old, f"→ {new}") for old, new in plan.renames.items()]
    rows += [("note type", n.key, "templates and CSS updated") for n in plan.notetypes]
    retired = "deleted" if plan.delete_retired else "retired"
    rows += [(retired, r.id, r.reason) for r in plan.retired]
    rows += [("skipped", card_id, why) for card_id, why in plan.skipped]
    if rows:
        click.echo()
    for kind, card_id, detail in rows:
        click.echo(_line(f"{kind:<11} {card_id}: {detail}"))


@cli.command()
@cards_option
@click.argument("card_id")
@click.option("--reason", required=True, help="Why the card goes (kept in the record).")
def retire(cards_dir: Path, card_id: str, reason: str) -> None:
    """Retire a published card on purpose, so that lint accepts its removal.

    Anki never deletes notes on import: learners keep the retired card until they delete it.
    A retired id can never be used again.

    \b
    Examples:
      deckgen retire tcp-old-card --reason "merged into tcp-time-wait-side"
    """
    from deckgen.ids import read_lock, write_lock
    from deckgen.suggest import suggest

    record = read_lock(cards_dir)
    if card_id in record.retired:
        raise click.UsageError(
            f"'{card_id}' is already retired ({record.retired[card_id]}) in {record.path}"
        )
    card = _card_location(cards_dir, card_id)
    if card_id not in record.published:
        if card is not None and card is not _UNKNOWN:
            raise click.UsageError(
                f"'{card_id}' was never released (it is not in {record.path}), so no learner "
                f"has it: just delete it from {_path(card)}:{card.line}"
            )
        raise click.UsageError(
            f"'{card_id}' is not a published id in {record.path}"
            + suggest(card_id, record.published)
        )
    record.retired[card_id] = reason
    write_lock(record)
    click.echo(_line(str(record.path)))
    if card is None:
        _note(f"deckgen: retired '{card_id}'")
    elif card is _UNKNOWN:
        _note(f"deckgen: retired '{card_id}'; delete its card from the Markdown, if any is left")
    else:
        _note(
            f"deckgen: retired '{card_id}'; now delete the card from {_path(card)}:{card.line}"
            " (lint fails with DG502 until it is gone)"
        )


_UNKNOWN = Location(Path())  # the cards did not load: where a card is cannot be told


def _card_location(cards_dir: Path, card_id: str) -> Location | None:
    """Where the card with this id is, None when no card has it, _UNKNOWN when the cards do
    not load."""
    from deckgen.compile import load_deck

    try:
        deck = load_deck(cards_dir)
    except DeckgenError:
        return _UNKNOWN
    return next((c.location for c in deck.cards if c.id == card_id), None)


@cli.command()
@cards_option
@tag_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on (0: any free).")
@templates_option
def preview(
    cards_dir: Path, include: tuple[str, ...], host: str, port: int, templates_dir: Path | None
) -> None:
    """Serve the deck's site on localhost and rebuild it when a card changes.

    The page reloads itself after each rebuild (one per burst of saves), shows the card you
    edited and lists the lint findings of the files you changed. Stop with Ctrl-C.

    \b
    Examples:
      deckgen preview
      deckgen preview --tag tcp --port 8001
    """
    import tempfile
    import threading

    from deckgen.preview import Previewer, serve

    with tempfile.TemporaryDirectory(prefix="deckgen-preview-") as out:
        previewer = Previewer(
            cards_dir, Path(out), include, templates_dir, lambda m: _note(f"deckgen: {m}")
        )
        stop = threading.Event()
        running = None
        try:
            running = serve(previewer, host, port, stop=stop)
            _note(
                f"deckgen: previewing on http://{host}:{running.server_address[1]}/ (Ctrl-C stops)",
                fg="green",
                bold=True,
            )
            stop.wait()
        except KeyboardInterrupt:  # also during the first build
            _note("deckgen: preview stopped")
        except OSError as error:
            raise click.UsageError(
                f"cannot serve on {host}:{port}: {error.strerror or error}; choose another "
                "--port (0 picks a free one)"
            ) from None
        finally:
            stop.set()
            if running is not None:
                running.close()


# The collector's first generation runs every 700 new objects by default: a build makes
# millions that live until it ends (a 10,000-card deck's cached cards, notes and rows), and
# collecting them young again and again was a sixth of a rebuild's time after a one-card edit.
# A larger first generation runs it a hundred times less often; cycles are still collected.
GC_THRESHOLDS = (100_000, 20, 100)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    cli(prog_name="deckgen")
