"""The record of published card ids: a learner's review history hangs on each of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from deckgen.atomic import atomic_output

LOCK_FILE = "published-ids.yaml"

_HEADER = """\
# Card ids that have shipped. A learner's review history hangs on each of them, so
# `deckgen lint` fails when one disappears or a retired one comes back.
# Record new ids before a release with `deckgen lock`; retire a card on purpose with
# `deckgen retire ID --reason "..."` (see CONTRIBUTING.md).
"""


@dataclass
class IdLock:
    path: Path
    published: list[str] = field(default_factory=list)
    retired: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # id -> line in the file

    @property
    def exists(self) -> bool:
        return self.path.is_file()


def read_lock(cards_dir: Path) -> IdLock:
    path = cards_dir / LOCK_FILE
    lock = IdLock(path)
    if not path.is_file():
        return lock
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    lock.published = [str(i) for i in data.get("published") or []]
    lock.retired = {str(k): str(v) for k, v in (data.get("retired") or {}).items()}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip().removeprefix("- ").split(":")[0].strip()
        if stripped in lock.retired or stripped in lock.published:
            lock.lines.setdefault(stripped, number)
    return lock


def write_lock(lock: IdLock) -> None:
    body = {
        "published": sorted(set(lock.published) - set(lock.retired)),
        "retired": dict(sorted(lock.retired.items())),
    }
    with atomic_output(lock.path) as tmp:
        tmp.write_text(
            _HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
