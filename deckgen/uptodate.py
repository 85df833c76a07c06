"""Up-to-date checks: a build (or a lint) whose every input is what it was last time, and whose
outputs are still what it wrote, is not run again; what it wrote and said is replayed.

A build's outputs are a function of its inputs, and this module hashes all of them:
- every file of the deck folder that the loader may read (deckgen.deckfiles: hidden folders and
  a flat deck's dist/ left out), by content; a symbolic link by its text, and by the content of
  its target only when that is a regular file inside the folder (the loader reads no other);
- the templates folder given, and deckgen's own templates and schemas;
- the project's pyproject.toml (its [tool.deckgen.options]);
- the command's arguments, the build's clock (deckgen.clock), the DECKGEN_* environment;
- deckgen's code, its libraries' versions (deckgen.cache.fingerprint) and the installed
  exporters: each entry point with its distribution's version.

The record of a build is kept in deckgen's signed cache (deckgen.cache) under that hash: the
paths it printed, the content hash of every file it wrote (output folders walked), its warnings
and its note count. It is used only when every one of those files still has that content, so a
deleted or hand-edited output is rebuilt. Only builds that succeed, and lints without errors,
are recorded. Nothing here imports the pipeline: a hit costs the hashing and two git calls.

An exporter from another distribution is trusted to change only with its version, as its
library versions are for the per-file cache: after editing one in place, build with
--no-cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from deckgen.cache import ENV_DIR, Cache, fingerprint
from deckgen.clock import build_clock
from deckgen.deckfiles import deck_files, default_templates_dir, project_folder
from deckgen.errors import DeckgenError, Diagnostic

log = logging.getLogger(__name__)

NAMESPACE_BUILD = "builds"
NAMESPACE_LINT = "lints"
ENTRY_POINT_GROUP = "deckgen.exporters"  # deckgen.plugins' group; that module is not light
SCHEMAS = Path(__file__).parent / "schemas"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True)
class Recorded:
    """What a build or a lint wrote and said, as it is replayed."""

    paths: tuple[str, ...]  # the outputs as the build returned them (a file or a folder each)
    files: tuple[tuple[str, str], ...]  # (path, sha256) of every file written
    diagnostics: tuple[Diagnostic, ...]  # a build's warnings; a lint's findings
    card_paths: tuple[str, ...]  # the file of each card (a build: of each selected note)


# --------------------------------------------------------------------------- hashing inputs


def _file_digest(path: Path) -> str | None:
    """The sha256 of a regular file read without following a link; None for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY | _NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None  # a FIFO or a device is never read: it could block or never end
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _entry(path: Path, root: Path) -> str:
    """One file of an input folder, as hashed: its content, or a link's text (and target)."""
    try:
        info = path.lstat()
    except OSError:
        return "gone"
    if stat.S_ISLNK(info.st_mode):
        try:
            text = path.readlink()
            target = path.resolve()
        except (OSError, RuntimeError):  # a loop of links
            return "link ?"
        inside = target.is_relative_to(root.resolve())
        return f"link {text} {_file_digest(target) if inside else 'outside'}"
    if stat.S_ISREG(info.st_mode):
        return f"file {_file_digest(path)}"
    return "folder" if stat.S_ISDIR(info.st_mode) else "other"


def _tree(digest: hashlib._Hash, label: str, root: Path, files: Iterable[Path]) -> None:
    digest.update(f"\0tree {label} {root}\0".encode())
    for path in files:
        relative = path.relative_to(root).as_posix()
        digest.update(f"{relative}\0{_entry(path, root)}\0".encode())


def _templates(digest: hashlib._Hash, label: str, root: Path | None) -> None:
    if root is not None and root.is_dir():
        files = sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix())
        _tree(digest, label, root, files)


def _exporters() -> str:
    """The installed exporters: name, object and distribution with its version."""
    found = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = entry.dist
        where = f"{dist.name}={dist.version}" if dist is not None else "?"
        found.append(f"{entry.name}={entry.value}@{where}")
    return ";".join(found)


def _environment() -> str:
    settings = sorted(os.environ.items())
    return ";".join(f"{k}={v}" for k, v in settings if k.startswith("DECKGEN_") and k != ENV_DIR)


def inputs_key(cards_dir: Path, templates_dir: Path | None, *arguments: str) -> str:
    """The hash of everything a lint of `cards_dir` depends on, and of `arguments`."""
    digest = hashlib.sha256()
    for argument in (str(Path.cwd()), str(cards_dir), *arguments):  # paths are printed as given
        digest.update(f"\0arg {argument}".encode())
    digest.update(f"\0env {_environment()}\0exporters {_exporters()}".encode())
    cards = Path(os.path.abspath(cards_dir))  # noqa: PTH100 (as given, no links resolved)
    _tree(digest, "cards", cards, deck_files(cards, "*"))
    _templates(digest, "templates", templates_dir)
    _templates(digest, "built-in templates", default_templates_dir())
    _templates(digest, "schemas", SCHEMAS)
    pyproject = project_folder(cards) / "pyproject.toml"
    digest.update(f"\0pyproject {_entry(pyproject, pyproject.parent)}".encode())
    return fingerprint(digest.hexdigest())


def build_key(
    cards_dir: Path,
    out_dir: Path,
    formats: Sequence[str],
    include: Sequence[str],
    exclude: Sequence[str],
    templates_dir: Path | None,
    options: Mapping[str, str],
) -> str | None:
    """The key of a build, or None when its clock cannot be read (the build will say why)."""
    try:
        clock, origin = build_clock(cards_dir, templates_dir)
    except DeckgenError:
        return None
    return inputs_key(
        cards_dir,
        templates_dir,
        "build",
        os.path.abspath(out_dir),  # noqa: PTH100
        "formats=" + ",".join(formats),
        "include=" + ",".join(include),
        "exclude=" + ",".join(exclude),
        f"templates={os.path.abspath(templates_dir) if templates_dir else ''}",  # noqa: PTH100
        "options=" + ";".join(f"{k}={v}" for k, v in sorted(options.items())),
        f"clock={clock} {origin}",
    )


def lint_key(cards_dir: Path, print_check: bool) -> str:
    return inputs_key(cards_dir, None, "lint", f"print_check={print_check}")


# --------------------------------------------------------------------------- outputs


def _written(paths: Iterable[Path]) -> tuple[tuple[str, str], ...] | None:
    """Every file under the outputs with its sha256; None when one is missing or not a file."""
    files: list[tuple[str, str]] = []
    for path in paths:
        inside = sorted(p for p in path.rglob("*") if not p.is_dir()) if path.is_dir() else [path]
        for file in inside:
            digest = _file_digest(file)
            if digest is None:
                return None
            files.append((str(file), digest))
    return tuple(files)


def record(
    cache: Cache,
    namespace: str,
    key: str | None,
    paths: Sequence[Path],
    diagnostics: Sequence[Diagnostic],
    card_paths: Sequence[Path],
) -> None:
    """Remember what a finished build or lint wrote and said, under its key."""
    if key is None or cache.folder is None:
        return
    files = _written(paths)
    if files is None:
        return
    recorded = Recorded(
        tuple(str(p) for p in paths),
        files,
        tuple(diagnostics),
        tuple(str(p) for p in card_paths),
    )
    cache.put(namespace, key, recorded)


def recorded(cache: Cache, namespace: str, key: str | None) -> Recorded | None:
    """The record under `key` when every file it wrote still has its content, else None."""
    if key is None:
        return None
    found = cache.get(namespace, key)
    if not isinstance(found, Recorded):
        return None
    if _written(Path(p) for p in found.paths) != found.files:
        log.info("the outputs of the last build changed since: building again")
        return None
    return found
