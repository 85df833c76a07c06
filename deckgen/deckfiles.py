"""Which files make a deck and its templates: names only, no parsing, so the up-to-date check
of a build (deckgen.uptodate) can list them without importing the pipeline."""

from __future__ import annotations

import os
from pathlib import Path

DECK_FILE = "deck.yaml"
SYLLABUS_FILE = "syllabus.yaml"
PACKAGE_TEMPLATES = Path(__file__).parent / "templates"  # in an installed wheel
SOURCE_TEMPLATES = Path(__file__).parent.parent / "templates"  # in a source checkout


def default_templates_dir() -> Path:
    return SOURCE_TEMPLATES if SOURCE_TEMPLATES.is_dir() else PACKAGE_TEMPLATES


# What a deck folder may hold besides cards, never read as card files: hidden folders (.git,
# .venv), the build's output and dependencies, and a project's own documents at the top, so
# a flat deck (deck.yaml beside its card files, no cards/ folder) can be a project of its own.
NOT_CARD_FOLDERS = {"dist", "node_modules"}  # at the top of the deck folder
NOT_CARD_FILES = {"readme.md", "changelog.md", "contributing.md", "license.md"}  # at the top


def project_folder(cards_dir: Path) -> Path:
    """The folder of the deck's project: the one holding a `cards/` folder (its dist/,
    CHANGELOG.md and pyproject.toml are there), or a flat deck's own folder."""
    cards = Path(os.path.abspath(cards_dir))  # noqa: PTH100 (no symlinks resolved)
    return cards.parent if cards.name == "cards" else cards


def deck_files(cards_dir: Path, pattern: str) -> list[Path]:
    """Files under the cards folder that match `pattern`, without what NOT_CARD_* name, in a
    stable order."""

    def wanted(path: Path) -> bool:
        parts = path.relative_to(cards_dir).parts
        if any(part.startswith(".") for part in parts):
            return False
        if len(parts) == 1:
            return parts[0].lower() not in NOT_CARD_FILES
        return parts[0] not in NOT_CARD_FOLDERS

    found = (p for p in cards_dir.rglob(pattern) if wanted(p))
    return sorted(found, key=lambda p: p.relative_to(cards_dir).as_posix())
