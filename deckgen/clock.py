"""The build's clock: fixed by the sources (SOURCE_DATE_EPOCH, the last commit, the files'
times) so that builds are reproducible, and never in the future. Light on purpose: the
up-to-date check of a build (deckgen.uptodate) needs it before anything else is imported."""

from __future__ import annotations

import os
import time
from pathlib import Path

from deckgen.deckfiles import deck_files, default_templates_dir
from deckgen.errors import DeckgenError, Diagnostic, Location
from deckgen.vcs import git

MAX_CLOCK_SKEW_SECONDS = 300  # Anki 2.1.54 refuses packages stamped in the future


def _git_head(folder: Path) -> tuple[int, bool] | None:
    """The committer time of HEAD of the work tree holding `folder`, and whether the tree has
    uncommitted changes; None outside a work tree or without git."""
    head = git(folder, "log", "-1", "--format=%ct")
    dirty = git(folder, "status", "--porcelain", "--untracked-files=normal")
    if not head or dirty is None:
        return None
    return int(head), bool(dirty)


def _newest_file_time(cards_dir: Path, templates_dir: Path) -> int:
    """The newest modification time of the deck's files (not its outputs: a flat deck's dist/
    is inside it) and of its templates."""
    files = [*deck_files(cards_dir, "*"), *templates_dir.rglob("*")]
    return max((int(p.stat().st_mtime) for p in files if p.is_file()), default=0)


def _clock_error(where: Path, message: str) -> DeckgenError:
    return DeckgenError([Diagnostic(Location(where), message, "DG902")])


def utc_text(moment: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))


def build_clock(cards_dir: Path, templates_dir: Path | None = None) -> tuple[int, str]:
    """The build's clock and where it came from, fixed by the sources so builds are reproducible.

    SOURCE_DATE_EPOCH wins. Else, in a git work tree, the committer time of HEAD: a commit that
    changes only a template or deckgen's own code moves it too (a clock taken from the cards'
    own commits would not, and Anki would skip the release); with uncommitted changes, the
    newest file time of the cards and templates when later. Outside git, that file time alone.
    A clock in the future is refused: Anki 2.1.54 refuses such a package, and every later
    release would look older. deckgen.release refuses one that is not after the last release.
    """
    now = int(time.time()) + MAX_CLOCK_SKEW_SECONDS
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if env:
        where = Path("SOURCE_DATE_EPOCH")
        if not env.isdigit() or not env.isascii():
            raise _clock_error(where, f"not a whole number of seconds: {env!r}")
        clock, origin = int(env), "SOURCE_DATE_EPOCH"
    else:
        where = cards_dir
        templates = templates_dir if templates_dir is not None else default_templates_dir()
        files = _newest_file_time(cards_dir, templates)
        head = _git_head(cards_dir)
        if head is None:
            clock, origin = files, "the newest file time of the cards and templates"
        elif head[1] and files > head[0]:
            clock, origin = files, "the newest file time of uncommitted changes"
        else:
            clock, origin = head[0], "the time of the last commit"
    if clock > now:
        stamp = utc_text(clock)
        raise _clock_error(
            where,
            f"the build clock ({origin}) is {stamp}, in the future: Anki refuses or never "
            "updates such notes, and every later release would look older. Fix the commit "
            "date or SOURCE_DATE_EPOCH",
        )
    return clock, origin
