"""`deckgen changes` and `deckgen release` as library calls: what a release would bring, and
recording one (the release history, the published ids and a CHANGELOG.md section)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deckgen.cache import Cache
from deckgen.check import CheckedDeck
from deckgen.clock import build_clock
from deckgen.deckfiles import project_folder
from deckgen.errors import DeckgenError, Diagnostic, Location
from deckgen.history import ReleaseRecord, version_problem, write_record
from deckgen.ids import write_lock
from deckgen.lint import lint_deck
from deckgen.release import (
    Change,
    ShippedNote,
    changelog_section,
    changes,
    clock_problem,
    field_fingerprints,
    prepend_changelog,
    record_release,
    shipped_notes,
)
from deckgen.suggest import suggest
from deckgen.templating import template_environment

CHANGELOG_FILE = "CHANGELOG.md"  # beside the cards folder: the project's, not a card file


@dataclass(frozen=True)
class Changes:
    checked: CheckedDeck
    history: ReleaseRecord
    since: str | None  # the release compared with; None before the first release
    changes: list[Change]
    fingerprints: dict[str, str]
    fields: dict[str, dict[str, str]]  # card id -> field -> its release.field_fingerprint
    notes: dict[str, ShippedNote]  # card id -> its note, as the .apkg writes it


def _refuse(where: Path, message: str) -> DeckgenError:
    return DeckgenError([Diagnostic(Location(where), message, "DG904")])


def deck_changes(
    cards_dir: Path,
    since: str | None = None,
    templates_dir: Path | None = None,
    cache: Cache | None = None,
) -> Changes:
    """What learners of release `since` (default: the last) would get from the working tree."""
    checked = lint_deck(cards_dir, cache=cache)
    if checked.errors:
        raise DeckgenError(checked.errors)
    history = checked.compiled.history
    if since is not None and history.release(since) is None:
        known = [r.version for r in history.releases]
        listed = f"; releases: {', '.join(known)}" if known else ": nothing is released yet"
        raise _refuse(
            history.path,
            f"no release '{since}' in the release history{suggest(since, known)}{listed}",
        )
    base = since if since is not None else (history.last.version if history.last else None)
    notes = shipped_notes(checked.rendered, template_environment(templates_dir))
    fingerprints = {card_id: note.fingerprint for card_id, note in notes.items()}
    found = changes(history, checked.rendered, fingerprints, checked.compiled.lock.retired, since)
    return Changes(checked, history, base, found, fingerprints, field_fingerprints(notes), notes)


@dataclass(frozen=True)
class Recorded:
    version: str
    clock: int
    changes: list[Change]
    paths: tuple[Path, ...]  # the files written


def make_release(
    cards_dir: Path,
    version: str,
    templates_dir: Path | None = None,
    cache: Cache | None = None,
) -> Recorded:
    """Record release `version`: refused when lint fails, the version is taken or malformed,
    nothing changed, or the clock is not after the last release."""
    problem = version_problem(version)
    if problem is not None:
        raise _refuse(Path("VERSION"), problem)
    found = deck_changes(cards_dir, None, templates_dir, cache)
    history = found.history
    if history.release(version) is not None:
        raise _refuse(history.path, f"release '{version}' exists already: choose a new version")
    if not found.changes:
        last = history.last.version if history.last else "?"
        raise _refuse(history.path, f"nothing changed since release {last}: nothing to release")
    clock, origin = build_clock(cards_dir, templates_dir)
    late = clock_problem(history, clock, origin, changed=True)
    if late is not None:
        raise DeckgenError([late])
    lock = found.checked.compiled.lock
    recorded = record_release(
        history,
        version,
        clock,
        found.checked.rendered,
        found.fingerprints,
        lock.retired,
        found.fields,
    )
    # The changelog first and the history last: the history is what makes the release happen,
    # and a rerun after a crash rewrites the same changelog section instead of adding one.
    changelog = project_folder(cards_dir) / CHANGELOG_FILE
    prepend_changelog(changelog, changelog_section(version, clock, recorded))
    lock.published = sorted(set(lock.published) | {c.id for c in found.checked.deck.cards})
    write_lock(lock)
    write_record(history)
    return Recorded(version, clock, recorded, (changelog, lock.path, history.path))
