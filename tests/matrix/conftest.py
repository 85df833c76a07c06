"""Fixtures of the Anki release matrix: one target per (release, importer), its venv, its driver."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.matrix.harness import TARGETS, Target, ensure_venv, run_driver

Steps = Sequence[Mapping[str, Any]]
Anki = Callable[[Steps], dict[str, Any]]


@pytest.fixture(scope="session")
def anki_venvs(request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """The python of each release's venv, made or checked once a session.

    The releases that the selected tests use are readied together (installing is mostly
    waiting on downloads and disk), so a cold cache costs about one install, not one each.
    """
    wanted = sorted(
        {
            item.callspec.params["target"].version
            for item in request.session.items
            if hasattr(item, "callspec") and isinstance(item.callspec.params.get("target"), Target)
        }
    )
    made: dict[str, Path] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(wanted))) as pool:
        for version, python in zip(wanted, pool.map(ensure_venv, wanted), strict=True):
            made[version] = python

    def python_of(version: str) -> Path:
        if version not in made:
            made[version] = ensure_venv(version)
        return made[version]

    return python_of


@pytest.fixture(params=TARGETS, ids=[target.id for target in TARGETS])
def target(request: pytest.FixtureRequest) -> Target:
    value: Target = request.param
    return value


@pytest.fixture
def anki(target: Target, anki_venvs: Callable[[str], Path], tmp_path: Path) -> Anki:
    """Run steps on one fresh collection of the target release (one collection per test)."""
    python = anki_venvs(target.version)
    collection = tmp_path / "anki" / "collection.anki2"

    def run(steps: Steps) -> dict[str, Any]:
        return run_driver(python, collection, steps)

    return run
