"""The pipeline in one place: load and lint → render → select → export."""

from __future__ import annotations

import logging
import os
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from deckgen.atomic import check_output_folder
from deckgen.cache import Cache
from deckgen.errors import DeckgenError, Diagnostic, Location, os_error_diagnostic
from deckgen.exporters import (
    ExportContext,
    OptionValue,
    available_exporters,
    default_formats,
    resolve_options,
)
from deckgen.lint import lint_deck
from deckgen.load import DECK_FILE
from deckgen.model import DeckInfo
from deckgen.render import RenderedDeck
from deckgen.selection import check_selection, is_selected, selection_suffix
from deckgen.templating import template_problem
from deckgen.vcs import git

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    paths: tuple[Path, ...]
    deck: RenderedDeck
    warnings: tuple[Diagnostic, ...] = ()


def _git_commit_time(folder: Path) -> tuple[int, bool] | None:
    """The newest commit time touching `folder` and whether it has uncommitted changes."""
    newest = git(folder, "log", "-1", "--format=%ct", "--", ".")
    dirty = git(folder, "status", "--porcelain", "--", ".")
    if not newest or dirty is None:
        return None
    return int(newest), bool(dirty)


MAX_CLOCK_SKEW_SECONDS = 300  # Anki 2.1.54 refuses packages stamped in the future


def _clock_in_future(where: Path, clock: int, origin: str) -> DeckgenError:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(clock))
    return DeckgenError(
        [
            Diagnostic(
                Location(where),
                f"the build clock ({origin}) is {stamp}, in the future: Anki refuses or "
                "never updates such notes, and every later release would be older. Fix the "
                "commit date or SOURCE_DATE_EPOCH",
                "DG902",
            )
        ]
    )


def source_date_epoch(cards_dir: Path) -> int:
    """The build's clock, fixed by the sources so that builds are reproducible.

    SOURCE_DATE_EPOCH wins; else the newest git commit of the cards; else (or when the cards
    have uncommitted edits) the newest file modification time. It grows as the cards change,
    which Anki needs: it only updates a note whose incoming modification time is newer. A clock
    in the future (a commit dated ahead by its author, who may be anyone sending a pull
    request) is refused: it would stamp every note and block every later release.
    """
    now = int(time.time()) + MAX_CLOCK_SKEW_SECONDS
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if env:
        try:
            clock = int(env)
        except ValueError:
            raise DeckgenError(
                [
                    Diagnostic(
                        Location(Path("SOURCE_DATE_EPOCH")), f"not a whole number: {env!r}", "DG902"
                    )
                ]
            ) from None
        if clock < 0:
            raise DeckgenError(
                [Diagnostic(Location(Path("SOURCE_DATE_EPOCH")), f"negative: {env!r}", "DG902")]
            )
        if clock > now:
            raise _clock_in_future(Path("SOURCE_DATE_EPOCH"), clock, "SOURCE_DATE_EPOCH")
        return clock
    newest_file = max(
        (int(p.stat().st_mtime) for p in cards_dir.rglob("*") if p.is_file()), default=0
    )
    git = _git_commit_time(cards_dir)
    if git is None:
        clock, origin = newest_file, "the newest file time in the cards folder"
    else:
        commit_time, dirty = git
        clock = max(commit_time, newest_file) if dirty else commit_time
        origin = "the newest commit of the cards folder"
    if clock > now:
        raise _clock_in_future(cards_dir, clock, origin)
    return clock


def _export_problem(
    error: Exception, name: str, out_dir: Path, templates_dir: Path | None
) -> Diagnostic | None:
    """The located diagnostic for an export failure that the user causes and can fix, else None."""
    if templates_dir is not None and (problem := template_problem(error, templates_dir)):
        return problem
    if isinstance(error, OSError):  # a read-only or missing --out, a file in the way, a full disk
        doing = f"cannot write the {name} output" if name else "cannot use the output folder"
        return os_error_diagnostic(error, out_dir, doing)
    if name and type(error) is ValueError:  # how exporters refuse options; not subclasses
        return Diagnostic(
            Location(out_dir), f"the {name} exporter refused its options: {error}", "DG903"
        )
    return None


COMMAND_LINE = Path("--option")  # where a command-line option value is reported


def option_layers(
    cards_dir: Path, info: DeckInfo, given: Mapping[str, str]
) -> list[dict[str, OptionValue]]:
    """Where option values come from, highest precedence first: the command line, deck.yaml's
    `options:`, then `[tool.deckgen.options]` in the project's pyproject.toml."""
    command_line = {k: OptionValue(v, Location(COMMAND_LINE)) for k, v in given.items()}
    deck_file = cards_dir / DECK_FILE
    from_deck = {k: OptionValue(v, Location(deck_file, line)) for k, v, line in info.options}
    return [command_line, from_deck, _pyproject_options(cards_dir.parent / "pyproject.toml")]


def _pyproject_options(path: Path) -> dict[str, OptionValue]:
    # pyproject.toml lies outside the cards folder: the maintainers' file, not a contributor's.
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise DeckgenError([Diagnostic(Location(path), f"cannot read: {error}", "DG903")]) from None
    table = data.get("tool", {}).get("deckgen", {}).get("options", {})
    if not isinstance(table, dict):
        message = "[tool.deckgen.options] must be a table"
        raise DeckgenError([Diagnostic(Location(path), message, "DG903")])
    return {str(k): OptionValue(str(v), Location(path)) for k, v in table.items()}


def build(
    cards_dir: Path,
    out_dir: Path,
    formats: Sequence[str] = (),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    templates_dir: Path | None = None,
    progress: Progress | None = None,
    options: Mapping[str, str] | None = None,
    use_cache: bool = True,
) -> BuildResult:
    """Compile the cards into every requested format; nothing is written if any card is bad."""
    say = progress or (lambda _message: None)
    exporters = available_exporters()
    chosen = list(dict.fromkeys(formats)) or default_formats()
    unknown = [f for f in chosen if f not in exporters]
    if unknown:
        raise ValueError(f"unknown format(s): {', '.join(unknown)}")

    # The PDF exporter measures print overflow itself, so lint need not lay the cards out.
    cache = Cache.for_cards(cards_dir, enabled=use_cache)
    checked = lint_deck(cards_dir, print_check=False, cache=cache)
    if checked.errors:
        raise DeckgenError(checked.errors)
    deck, rendered = checked.deck, checked.rendered
    say(f"loaded {len(deck.cards)} cards from {cards_dir}")
    check_selection(deck, include, exclude)
    selected_cards = tuple(c for c in rendered.cards if is_selected(c.card, include, exclude))
    used = {name for c in selected_cards for name in c.media}
    selected = RenderedDeck(
        deck=replace(
            deck,
            cards=tuple(c.card for c in selected_cards),
            selection=(*include, *(f"-{t}" for t in exclude)),
        ),
        cards=selected_cards,
        media=tuple(m for m in rendered.media if m.name in used),
    )
    if include or exclude:
        say(f"selected {len(selected_cards)} of {len(rendered.cards)} cards")

    resolved = resolve_options(chosen, option_layers(cards_dir, deck.info, options or {}))
    context = ExportContext(
        stem=f"{deck.info.id}{selection_suffix(include, exclude)}",
        timestamp=source_date_epoch(cards_dir),
        templates_dir=templates_dir,
        options=resolved,
    )
    paths: list[Path] = []
    name = ""
    try:
        check_output_folder(out_dir, context.stem)
        for name in chosen:
            say(f"writing {name}")
            paths.extend(exporters[name]().export(selected, out_dir, context))
    except DeckgenError as error:
        error.after_writing = bool(name)  # so that no one claims that nothing was written
        raise
    except Exception as error:
        problem = _export_problem(error, name, out_dir, templates_dir)
        if problem is None:
            raise  # deckgen's own bug: the CLI reports it as an internal error
        raise DeckgenError([problem], after_writing=bool(name)) from error
    cache.prune()
    warnings = (*checked.warnings, *context.sink.items)
    return BuildResult(paths=tuple(paths), deck=selected, warnings=warnings)
