"""One venv per `anki` release, cached outside the checkout, and the driver run in each.

The venvs live in `<user cache>/deckgen-test-anki/<version>/venv` (on Linux
`~/.cache/deckgen-test-anki/…`; `DECKGEN_TEST_ANKI_CACHE` moves the whole folder). Each holds
exactly the pins below and nothing else; a stamp written last says it is complete, so an
interrupted install is redone on the next run, and a lock lets two test runs share the cache.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

PROJECT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("driver.py")
CACHE_ENV = "DECKGEN_TEST_ANKI_CACHE"

# What each release needs, resolved by pip on Python 3.11 and pinned exactly. The older
# releases also pull in beautifulsoup4; 26.x dropped it.
_COMMON = (
    "certifi==2026.10.19.post1",
    "charset-normalizer==3.5.3",
    "decorator==5.3.1",
    "distro==1.9.0",
    "idna==3.20",
    "Markdown==3.11.3",
    "orjson==3.13.0",
    "protobuf==7.36.2",
    "PySocks==1.7.1",
    "requests==2.34.2",
    "typing_extensions==4.16.0",
    "urllib3==2.8.0",
)
_SOUP = ("beautifulsoup4==4.15.0", "soupsieve==4.1.3")
PINS: dict[str, tuple[str, ...]] = {
    "2.1.54": ("anki==2.1.54", *_SOUP, *_COMMON),
    "2.1.66": ("anki==2.1.66", *_SOUP, *_COMMON),
    "24.11": ("anki==24.11", *_SOUP, *_COMMON),
    "26.9.3": ("anki==26.9.3", *_COMMON),
}


@dataclass(frozen=True)
class Target:
    """One release and one of its importers, with what reading its source says it does.

    `stamps_import_time`: an *updated* note's modification time becomes the time of the import
    (rslib's `update_note_inner_without_cards(mark_note_modified=true)` in the backend importer
    up to 24.11), instead of the package's (the backend importer from 25.02 on, and the legacy
    importer, which copies the note's row). An added note keeps the package's time everywhere.
    `update_conditions`: the import takes "if newer / always / never" options (23.10 on).
    """

    version: str
    importer: str  # "backend" (Rust, Collection.import_anki_package) or "legacy" (Python)
    stamps_import_time: bool
    update_conditions: bool
    why: str

    @property
    def id(self) -> str:
        return f"{self.version}-{self.importer}"


TARGETS = (
    Target(
        "2.1.54",
        "legacy",
        stamps_import_time=False,
        update_conditions=False,
        why="Anki desktop's default importer up to 2.1.54 (the new one was a preference)",
    ),
    Target(
        "2.1.54",
        "backend",
        stamps_import_time=True,
        update_conditions=False,
        why="2.1.54's opt-in new importer: the first Rust importer generation",
    ),
    Target(
        "2.1.66",
        "backend",
        stamps_import_time=True,
        update_conditions=False,
        why="the last 2.1.x: desktop default importer 2.1.55 to 2.1.66, path-only API",
    ),
    Target(
        "24.11",
        "backend",
        stamps_import_time=True,
        update_conditions=True,
        why="the last release that stamps an updated note with the import time",
    ),
    Target(
        "26.9.3",
        "backend",
        stamps_import_time=False,
        update_conditions=True,
        why="the newest on PyPI; it ships no legacy importer any more",
    ),
)


def _real_cache_home() -> str | None:
    # Read once, at import: the tests' autouse fixture points XDG_CACHE_HOME at a temporary
    # folder for each test, which would make every venv (and pip's own cache) cold.
    return os.environ.get("XDG_CACHE_HOME")


_XDG_CACHE_HOME = _real_cache_home()
_CACHE_ROOT = Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("deckgen-test-anki"))


def cache_root() -> Path:
    root = _CACHE_ROOT.expanduser().resolve()
    if root.is_relative_to(PROJECT):
        raise RuntimeError(f"the anki venv cache {root} lies inside the checkout {PROJECT}")
    return root


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.pop("PIP_REQUIRE_VIRTUALENV", None)
    if _XDG_CACHE_HOME is None:
        env.pop("XDG_CACHE_HOME", None)
    else:
        env["XDG_CACHE_HOME"] = _XDG_CACHE_HOME
    return env


def _run(command: Sequence[str | Path], timeout: float) -> None:
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_subprocess_env(),
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, command))} exited {done.returncode}:\n"
            f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )


def _works(python: Path, pins: Sequence[str]) -> bool:
    """Whether the venv's anki imports and is the pinned release (a damaged venv is redone)."""
    check = (
        "import importlib.metadata as m, anki.buildinfo, anki.collection;print(m.version('anki'))"
    )
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", check],
            capture_output=True,
            text=True,
            timeout=120,
            env=_subprocess_env(),
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0 and f"anki=={done.stdout.strip()}" in pins


def ensure_venv(version: str) -> Path:
    """The python of `version`'s venv, made on first use; reused while its stamp matches."""
    pins = PINS[version]
    root = cache_root()
    folder = root / version
    venv = folder / "venv"
    python = venv / "bin" / "python"
    stamp = folder / "stamp.json"
    wanted = {"pins": list(pins), "python": sys.version, "base": sys.base_prefix}
    with _locked(root / f"{version}.lock"):
        try:
            if json.loads(stamp.read_text(encoding="utf-8")) == wanted and _works(python, pins):
                return python
        except (OSError, ValueError):
            pass
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        _run([sys.executable, "-m", "venv", venv], timeout=300)
        _run(
            [python, "-m", "pip", "install", "--quiet", "--no-input", "--only-binary=:all:", *pins],
            timeout=1200,
        )
        if not _works(python, pins):
            raise RuntimeError(f"{venv}: anki {version} was installed but does not import")
        partial = stamp.with_suffix(".partial")
        partial.write_text(json.dumps(wanted), encoding="utf-8")
        partial.replace(stamp)
    return python


class DriverError(AssertionError):
    """The driver failed: a bug of the harness, not an observed behaviour of Anki."""


def run_driver(
    python: Path, collection: Path, steps: Sequence[Mapping[str, Any]], timeout: float = 300
) -> dict[str, Any]:
    """Run the steps on one collection in one process of the release's python; its answer."""
    collection.parent.mkdir(parents=True, exist_ok=True)
    request = json.dumps({"collection": str(collection), "steps": list(steps)})
    done = subprocess.run(
        [str(python), "-I", str(DRIVER)],
        input=request,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_subprocess_env(),
        check=False,
    )
    if done.returncode != 0:
        raise DriverError(f"driver exited {done.returncode}:\n{done.stderr[-6000:]}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer
