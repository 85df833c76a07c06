"""Crash-safe output: every file is written beside its target, then renamed into place."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from deckgen.errors import DeckgenError, Diagnostic, Location


def _symlink_problem(path: Path) -> Diagnostic | None:
    if not path.is_symlink():
        return None
    return Diagnostic(
        Location(path),
        "is a symbolic link: deckgen does not write through links (remove it, or choose "
        "another output folder)",
        "DG122",
    )


def refuse_symlink(path: Path) -> None:
    """Raise DeckgenError if `path` is a symbolic link: output written there would land elsewhere.

    Checked before anything is created, so a refused output leaves no file behind. A link made
    after the check is harmless: rename replaces the link itself, never what it points to.
    """
    problem = _symlink_problem(path)
    if problem is not None:
        raise DeckgenError([problem])


def check_output_folder(out_dir: Path, stem: str) -> None:
    """Before a build writes anything: refuse an output folder, or an output in it, that is a link.

    Every output is named `<stem>…` (`<stem>.apkg`, `<stem>-site`, …), so checking those names
    up front means a refused build has written nothing at all, not just the outputs before it.
    """
    refuse_symlink(out_dir)
    if not out_dir.is_dir():
        return
    with os.scandir(out_dir) as entries:
        problems = [
            problem
            for entry in entries
            if entry.name.startswith(stem)
            and (problem := _symlink_problem(Path(entry.path))) is not None
        ]
    if problems:
        raise DeckgenError(problems)


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto `path` only on success.

    Readers of `path` see the old file or the complete new one, never a partial write.
    """
    refuse_symlink(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


_RENAME_EXCHANGE = 2  # from <linux/fs.h>
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with Linux's renameat2(RENAME_EXCHANGE); False if unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    return bool(result == 0)


def replace_dir(staging: Path, target: Path) -> None:
    """Put a finished folder in place of `target` so readers see the old one or the new one.

    On Linux the two are exchanged in one atomic step; elsewhere the old folder is moved aside
    first, which leaves a moment in which neither exists.
    """
    refuse_symlink(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        try:
            staging.rename(target)
            return
        except OSError:
            if not target.exists():
                raise  # a concurrent build may have created it: exchange below
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # it now holds the previous site
        return
    old = target.with_name(f".{target.name}.{os.getpid()}.old")
    target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def empty_or_missing(folder: Path) -> bool:
    """Whether `folder` can take new files without touching anything already there."""
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))
