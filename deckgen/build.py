"""The pipeline in one place: load → compile → check → select → export.

* load (deckgen.load): deck.yaml, syllabus.yaml, the id record and the bytes of every card file;
* compile (deckgen.compile): each file on its own, cached: parsed, rendered to HTML and checked
  by the field and card rules (rendering comes before selecting because those checks need the
  HTML, and a bad card anywhere stops the build);
* check (deckgen.check): the deck rules over every card (duplicates, coverage, published ids);
* select (deckgen.selection): the cards the tags choose, and only the media they use;
* export (deckgen.exporters): each format written from the selected cards.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from deckgen.atomic import check_output_folder
from deckgen.cache import Cache
from deckgen.check import check_deck
from deckgen.clock import build_clock
from deckgen.compile import compile_deck
from deckgen.deckfiles import DECK_FILE, project_folder
from deckgen.errors import DeckgenError, Diagnostic, Location, os_error_diagnostic
from deckgen.exporters import (
    ExportContext,
    OptionValue,
    available_exporters,
    default_formats,
    resolve_options,
)
from deckgen.history import ReleaseRecord
from deckgen.load import load_sources
from deckgen.model import DeckInfo
from deckgen.notetypes import card_template_problems
from deckgen.release import ShippedNote, Stamp, release_stamps, shipped_notes
from deckgen.render import RenderedDeck
from deckgen.selection import select_cards, selection_suffix
from deckgen.status import NO_STATUS, Status
from deckgen.templating import syntax_problems, template_environment, template_problem

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    paths: tuple[Path, ...]
    deck: RenderedDeck
    warnings: tuple[Diagnostic, ...] = ()


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


def _stamps(
    history: ReleaseRecord,
    deck: RenderedDeck,
    templates_dir: Path | None,
    clock: int,
    origin: str,
    status: Status,
    cache: Cache,
    file_digests: Mapping[Path, str],
) -> tuple[dict[str, ShippedNote], dict[str, Stamp]]:
    """Each note as the package ships it, and when it last changed (deckgen.release); a broken
    --templates file is located."""
    try:
        env = template_environment(templates_dir)
        notes = shipped_notes(deck, env, status, cache, file_digests)
        return notes, release_stamps(history, notes, clock, origin)
    except DeckgenError:
        raise
    except Exception as error:  # the note types' templates are rendered to fingerprint them
        _located(error, templates_dir)


def _located(error: Exception, templates_dir: Path | None) -> NoReturn:
    """Raise a failure of your templates as its located DG120, and any other as it is."""
    problem = template_problem(error, templates_dir) if templates_dir is not None else None
    if problem is None:
        raise error
    raise DeckgenError([problem]) from error


def _check_templates(templates_dir: Path, deck: RenderedDeck) -> None:
    """Your templates parsed, and your Anki templates checked as Anki would check them."""
    problems = syntax_problems(templates_dir)
    if not problems:
        try:
            env = template_environment(templates_dir)
            problems = card_template_problems(env, deck.deck, templates_dir)
        except Exception as error:  # rendering them to check them: a render-time mistake
            _located(error, templates_dir)
    if problems:
        raise DeckgenError(problems)


COMMAND_LINE = Path("--option")  # where a command-line option value is reported


def option_layers(
    cards_dir: Path, info: DeckInfo, given: Mapping[str, str]
) -> list[dict[str, OptionValue]]:
    """Where option values come from, highest precedence first: the command line, deck.yaml's
    `options:`, then `[tool.deckgen.options]` in the project's pyproject.toml."""
    command_line = {k: OptionValue(v, Location(COMMAND_LINE)) for k, v in given.items()}
    deck_file = cards_dir / DECK_FILE
    from_deck = {k: OptionValue(v, Location(deck_file, line)) for k, v, line in info.options}
    pyproject = _pyproject_options(project_folder(cards_dir) / "pyproject.toml")
    return [command_line, from_deck, pyproject]


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


def _export(
    deck: RenderedDeck, formats: Sequence[str], out_dir: Path, context: ExportContext, say: Progress
) -> list[Path]:
    """Write each format; a failure the user can fix becomes a located DeckgenError."""
    exporters = available_exporters()
    paths: list[Path] = []
    name = ""
    try:
        check_output_folder(out_dir, context.stem)
        for name in formats:
            say(f"writing {name}")
            paths.extend(exporters[name]().export(deck, out_dir, context))
    except DeckgenError as error:
        error.after_writing = bool(name)  # so that no one claims that nothing was written
        raise
    except Exception as error:
        problem = _export_problem(error, name, out_dir, context.templates_dir)
        if problem is None:
            raise  # deckgen's own bug: the CLI reports it as an internal error
        raise DeckgenError([problem], after_writing=bool(name)) from error
    return paths


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
    status: Status = NO_STATUS,
) -> BuildResult:
    """Compile the cards into every requested format; nothing is written if any card is bad.
    `progress` is told each stage as it starts, `status` how far a long one has got."""
    say = progress or (lambda _message: None)
    exporters = available_exporters()
    chosen = list(dict.fromkeys(formats)) or default_formats()
    unknown = [f for f in chosen if f not in exporters]
    if unknown:
        raise ValueError(f"unknown format(s): {', '.join(unknown)}")

    cache = Cache.for_cards(cards_dir, enabled=use_cache)
    # the files' bytes are not kept past it
    compiled = compile_deck(load_sources(cards_dir), cache, status)
    # the PDF exporter measures print overflow as it writes, so the check leaves it out here
    checked = check_deck(compiled, cache=cache)
    if checked.errors:
        raise DeckgenError(checked.errors)
    say(f"loaded {len(compiled.deck.cards)} cards from {cards_dir}")
    selected = select_cards(compiled.rendered, include, exclude)
    if include or exclude:
        say(f"selected {len(selected.cards)} of {len(compiled.rendered.cards)} cards")
    info = compiled.deck.info
    resolved = resolve_options(chosen, option_layers(cards_dir, info, options or {}))
    if templates_dir is not None:  # before anything is written
        _check_templates(templates_dir, selected)
    clock, origin = build_clock(cards_dir, templates_dir)
    notes, stamped = _stamps(
        compiled.history,
        selected,
        templates_dir,
        clock,
        origin,
        status,
        cache,
        compiled.file_digests,
    )
    context = ExportContext(
        stem=f"{info.id}{selection_suffix(include, exclude, info.section.tag)}",
        timestamp=clock,
        templates_dir=templates_dir,
        options=resolved,
        note_times={card_id: stamp.time for card_id, stamp in stamped.items()},
        note_tags={card_id: (stamp.tag,) for card_id, stamp in stamped.items()},
        note_fields={card_id: note.fields for card_id, note in notes.items()},
        status=status,
        cache=cache,
    )
    paths = _export(selected, chosen, out_dir, context, say)
    cache.prune()
    warnings = (*checked.warnings, *context.sink.items)
    return BuildResult(paths=tuple(paths), deck=selected, warnings=warnings)
