"""A signed, content-addressed cache of per-file work (parsing, rendering, checks), for rebuilds.

An entry is keyed by a hash of everything its result depends on — the file's bytes, the deck
configuration, deckgen's and its libraries' versions — so a changed input simply misses. Results
that also depend on other files (images, link targets) carry those files' sizes and times and
are discarded when any of them changed. Entries are written atomically, so concurrent builds and
killed builds never leave a half-written entry behind.

Entries are pickles, and unpickling runs code, so an entry is only unpickled after its HMAC-SHA256
signature verifies under a random per-machine key kept in the user cache folder — never in a
checkout, where a pull request could plant entries. A forged, truncated or corrupt entry is a
miss. The cache lives in the user cache folder too (one folder per cards folder) unless
$DECKGEN_CACHE_DIR says otherwise; deckgen never follows a symbolic link inside it. Delete it at
any time: the next build is cold, never wrong.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import pickle
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import platformdirs

from deckgen import __version__

log = logging.getLogger(__name__)

CACHE_FORMAT = 2  # 2: entries are signed
ENV_DIR = "DECKGEN_CACHE_DIR"
ENV_DISABLE = "DECKGEN_NO_CACHE"
MAX_AGE_SECONDS = 14 * 24 * 3600
KEY_FILE = "signing.key"
KEY_BYTES = 32
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # real entries are far smaller; a larger file is not read
_MAGIC = b"DGCACHE2"
_MAC_BYTES = hashlib.sha256().digest_size
_NAMESPACE_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_ENTRY_RE = re.compile(r"[0-9a-f]{64}")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows, where the lstat checks remain
_BINARY = getattr(os, "O_BINARY", 0)


def _library_versions() -> str:
    found = []
    for name in ("markdown-it-py", "mdit-py-plugins", "pygments", "nh3", "typst", "pyyaml"):
        try:
            found.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            found.append(f"{name}=?")
    return ";".join(found)


def _code_digest() -> str:
    """A hash of deckgen's own modules: a changed check or sanitizer (a security fix within one
    version, an editable install) must never be served results the old code produced."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_VERSIONS = (
    f"deckgen={__version__};code={_code_digest()};format={CACHE_FORMAT};{_library_versions()}"
)


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
        stat_ = path.stat()
    except OSError:
        return None
    return (stat_.st_size, stat_.st_mtime_ns)


def stamps_match(stamps: Iterable[tuple[str, tuple[int, int] | None]]) -> bool:
    return all(file_stamp(Path(path)) == stamp for path, stamp in stamps)


# --------------------------------------------------------------------------- folders and key


def user_cache_root() -> Path:
    """deckgen's folder in the platform's user cache folder: the signing key and the caches."""
    return platformdirs.user_cache_path("deckgen")


def project_folder_name(cards_dir: Path) -> str:
    """One cache folder per cards folder, so that two checkouts never share entries."""
    return hashlib.sha256(os.fsencode(cards_dir.resolve())).hexdigest()[:32]


def _is_real_dir(path: Path) -> bool:
    """True for a folder that is not a symbolic link (lstat: the link itself is looked at)."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def _real_dir(path: Path, *, parents: bool = False) -> bool:
    """Create `path` if missing; True when it is then a real folder, not a symbolic link."""
    try:
        path.mkdir(mode=0o700, parents=parents, exist_ok=True)
    except OSError:
        return False
    if _is_real_dir(path):
        return True
    log.warning("cache folder %s is a symbolic link or not a folder: cache off", path)
    return False


def _read_key(path: Path) -> bytes | None:
    """The key in `path`; None (logged) when it is not a private 32-byte regular file.

    Raises FileNotFoundError when there is no key yet.
    """
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        private = os.name != "posix" or (
            info.st_uid == os.getuid() and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
        )
        if not stat.S_ISREG(info.st_mode) or info.st_size != KEY_BYTES or not private:
            log.warning("cache key %s is not a private %d-byte file: cache off", path, KEY_BYTES)
            return None
        return handle.read(KEY_BYTES + 1)


def _create_key(path: Path) -> None:
    """Write a new random key, atomically: a concurrent build's key, if first, wins."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # unlike rename, never replaces a key other builds already use
    finally:
        tmp.unlink(missing_ok=True)


def machine_key() -> bytes | None:
    """This machine's signing key, created on first use; None (cache off) when unavailable."""
    root = user_cache_root()
    try:
        root.parent.mkdir(parents=True, exist_ok=True)  # the platform's folder, maybe a link
    except OSError as exc:
        log.warning("user cache folder %s unavailable (%s): cache off", root.parent, exc)
        return None
    if not _real_dir(root):
        return None
    path = root / KEY_FILE
    try:
        try:
            return _read_key(path)
        except FileNotFoundError:
            _create_key(path)
            return _read_key(path)
    except OSError as exc:
        log.warning("cache key %s unavailable (%s): cache off", path, exc)
        return None


def _subfolders(folder: Path) -> Iterator[os.DirEntry[str]]:
    """The real folders directly in `folder`; links to folders are not entered."""
    try:
        with os.scandir(folder) as entries:
            found = [e for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    yield from found


# --------------------------------------------------------------------------- the cache


class Cache:
    """Signed pickles under `<folder>/<namespace>/<key[:2]>/<key>`; off when folder is None.

    `key` signs the entries; by default it is this machine's key from the user cache folder,
    and the cache is off when there is none.
    """

    def __init__(self, folder: Path | None, key: bytes | None = None) -> None:
        self.hits = 0
        self.misses = 0
        self.folder: Path | None = None
        self._key = b""
        if folder is None:
            return
        key = key if key is not None else machine_key()
        if key is None or not _real_dir(folder, parents=True):
            return
        self._key = key
        self.folder = folder

    @classmethod
    def for_cards(cls, cards_dir: Path, enabled: bool = True) -> Cache:
        """The project's cache: $DECKGEN_CACHE_DIR, else its own folder in the user cache."""
        if not enabled or os.environ.get(ENV_DISABLE):
            return cls(None)
        configured = os.environ.get(ENV_DIR)
        if configured:
            return cls(Path(configured))
        key = machine_key()
        projects = user_cache_root() / "projects"
        if key is None or not _real_dir(projects):
            return cls(None)
        return cls(projects / project_folder_name(cards_dir), key)

    def _off(self, path: Path) -> None:
        log.warning("cache folder %s is a symbolic link or not a folder: cache off", path)
        self.folder = None

    def _entry_dir(self, namespace: str, key: str, *, create: bool) -> Path | None:
        """`<folder>/<namespace>/<key[:2]>`, each a real folder (a link turns the cache off)."""
        if (
            self.folder is None
            or not _NAMESPACE_RE.fullmatch(namespace)
            or not _ENTRY_RE.fullmatch(key)
        ):
            return None
        directory = self.folder
        for part in (namespace, key[:2]):
            directory = directory / part
            if create:
                directory.mkdir(mode=0o700, exist_ok=True)
            try:
                info = directory.lstat()
            except FileNotFoundError:
                return None
            if not stat.S_ISDIR(info.st_mode):
                self._off(directory)
                return None
        return directory

    def _sign(self, namespace: str, key: str, payload: bytes) -> bytes:
        # The entry's place is signed too, so a valid entry copied under another key is a miss.
        message = b"%s\0%s\0%s" % (namespace.encode(), key.encode(), payload)
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _read(self, namespace: str, key: str) -> bytes | None:
        """The verified payload of an entry, or None."""
        directory = self._entry_dir(namespace, key, create=False)
        if directory is None:
            return None
        fd = os.open(directory / key, os.O_RDONLY | _NOFOLLOW | _BINARY)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                return None
            data = handle.read(MAX_ENTRY_BYTES + 1)
        head = len(_MAGIC) + _MAC_BYTES
        if len(data) < head or not data.startswith(_MAGIC):
            return None
        mac, payload = data[len(_MAGIC) : head], data[head:]
        if not hmac.compare_digest(mac, self._sign(namespace, key, payload)):
            return None
        return payload

    def get(self, namespace: str, key: str, *, counted: bool = True) -> Any:
        """The cached value, or None on a miss; never raises, and never unpickles unsigned data.

        `counted=False`: a lookup that only helps a miss (the earlier cards of a changed file)
        is left out of `hits` and `misses`, which count whole results."""
        if self.folder is None:
            return None
        try:
            payload = self._read(namespace, key)
        except OSError:  # missing, a link (O_NOFOLLOW), unreadable
            payload = None
        if payload is None:
            self.misses += counted
            return None
        try:
            value = pickle.loads(payload)
        except Exception:  # signed by us but unreadable now, e.g. a class that changed shape
            self.misses += counted
            return None
        self.hits += counted
        return value

    def put(self, namespace: str, key: str, value: Any) -> None:
        if self.folder is None:
            return
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            directory = self._entry_dir(namespace, key, create=True)
            if directory is None:
                return
            fd, name = tempfile.mkstemp(prefix=".tmp-", dir=directory)  # O_EXCL, mode 0600
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(_MAGIC + self._sign(namespace, key, payload) + payload)
                # rename never writes through a link at the entry's name: it replaces the link
                Path(name).replace(directory / key)
            finally:
                Path(name).unlink(missing_ok=True)
        except OSError as exc:  # a read-only or full disk only costs speed
            log.warning("cache write failed (%s); continuing without it", exc)

    def prune(self) -> None:
        """Drop entries nobody has written for two weeks (hits do not count: they only read).

        Only deckgen's own entry files are deleted, only inside the real cache folder: links
        are neither followed nor removed, so a link cannot aim the pruning anywhere else.
        """
        if self.folder is None or not _is_real_dir(self.folder):
            return
        cutoff = time.time() - MAX_AGE_SECONDS
        for namespace in _subfolders(self.folder):
            if not _NAMESPACE_RE.fullmatch(namespace.name):
                continue
            for shard in _subfolders(Path(namespace.path)):
                try:
                    with os.scandir(shard.path) as entries:
                        files = [
                            e
                            for e in entries
                            if _ENTRY_RE.fullmatch(e.name) or e.name.startswith(".tmp-")
                        ]
                except OSError:
                    continue
                for entry in files:
                    try:
                        if (
                            entry.is_file(follow_symlinks=False)
                            and entry.stat(follow_symlinks=False).st_mtime < cutoff
                        ):
                            Path(entry.path).unlink()
                    except OSError:
                        continue
