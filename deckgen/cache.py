"""A content-addressed cache of per-file work (parsing, rendering, checking), for fast rebuilds.

An entry is keyed by a hash of everything its result depends on — the file's bytes, the deck
configuration, deckgen's and its libraries' versions — so a changed input simply misses. Results
that also depend on other files (images, link targets) carry those files' sizes and times and
are discarded when any of them changed. Entries are written atomically, so concurrent builds and
killed builds never leave a half-written entry behind.

The cache folder is local state that deckgen itself writes; it is trusted like the virtualenv
(entries are pickles). Delete it at any time: the next build is cold, never wrong.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import time
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from deckgen import __version__

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
ENV_DIR = "DECKGEN_CACHE_DIR"
ENV_DISABLE = "DECKGEN_NO_CACHE"
MAX_AGE_SECONDS = 14 * 24 * 3600


def _library_versions() -> str:
    found = []
    for name in ("markdown-it-py", "mdit-py-plugins", "pygments", "nh3", "typst", "pyyaml"):
        try:
            found.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            found.append(f"{name}=?")
    return ";".join(found)


_VERSIONS = f"deckgen={__version__};format={CACHE_FORMAT};{_library_versions()}"


def fingerprint(*parts: bytes | str) -> str:
    """A hash of the parts and of every version the cached work depends on."""
    digest = hashlib.sha256(_VERSIONS.encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def file_stamp(path: Path) -> tuple[int, int] | None:
    """(size, modification time in ns) of a file, or None when it does not exist."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns)


def stamps_match(stamps: Iterable[tuple[str, tuple[int, int] | None]]) -> bool:
    return all(file_stamp(Path(path)) == stamp for path, stamp in stamps)


class Cache:
    """Pickled results under `<folder>/<namespace>/<key[:2]>/<key>`; off when folder is None."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_cards(cls, cards_dir: Path, enabled: bool = True) -> Cache:
        """The project's cache: $DECKGEN_CACHE_DIR, else `.deckgen-cache` beside the cards."""
        if not enabled or os.environ.get(ENV_DISABLE):
            return cls(None)
        configured = os.environ.get(ENV_DIR)
        folder = Path(configured) if configured else cards_dir.resolve().parent / ".deckgen-cache"
        return cls(folder)

    def _path(self, namespace: str, key: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / namespace / key[:2] / key

    def get(self, namespace: str, key: str) -> Any:
        path = self._path(namespace, key)
        if path is None:
            return None
        try:
            with path.open("rb") as handle:
                value = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, namespace: str, key: str, value: Any) -> None:
        path = self._path(namespace, key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            Path(name).replace(path)
        except OSError as exc:  # a read-only or full disk only costs speed
            log.warning("cache write failed (%s); continuing without it", exc)

    def prune(self) -> None:
        """Drop entries nobody has written for two weeks (hits do not count: they only read)."""
        if self.folder is None or not self.folder.is_dir():
            return
        cutoff = time.time() - MAX_AGE_SECONDS
        for path in self.folder.rglob("*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue
