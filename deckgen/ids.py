"""The record of published card ids: a learner's review history hangs on each of them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deckgen.atomic import atomic_output
from deckgen.configfile import extend_capped, load_yaml, read_config_text
from deckgen.errors import DeckgenError, Diagnostic, DiagnosticSink, Location

LOCK_FILE = "published-ids.yaml"

_HEADER = """\
# Card ids that have shipped. A learner's review history hangs on each of them, so
# `deckgen lint` fails when one disappears or a retired one comes back.
# `deckgen release` records new ids; retire a card on purpose with
# `deckgen retire ID --reason "..."` (see CONTRIBUTING.md).
"""


@dataclass
class IdLock:
    path: Path
    published: list[str] = field(default_factory=list)
    retired: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # id -> line in the file
    problems: tuple[Diagnostic, ...] = ()  # why the file could not be read; then it is empty

    @property
    def exists(self) -> bool:
        return self.path.is_file() and not self.path.is_symlink()


_TOP_KEY_RE = re.compile(r"([^\s#][^:]*?)\s*:")


def _key_lines(text: str) -> dict[str, int]:
    """The 1-based line of each top-level key in `text`, found in one pass over the lines."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _TOP_KEY_RE.match(line)
        if match:
            key = match.group(1)
            lines.setdefault(key, number)
            lines.setdefault(key.strip("'\""), number)
    return lines


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, list | dict)


def _fill(lock: IdLock, data: Any, text: str, sink: DiagnosticSink) -> None:
    """Check the record's shape and copy it into `lock`; problems go to `sink`."""
    if data is None:  # an empty file records nothing
        return
    if not isinstance(data, dict):
        sink.report(
            Location(lock.path, 1),
            f"{LOCK_FILE} must be a mapping with 'published' and 'retired'",
            "DG110",
        )
        return
    key_lines = _key_lines(text)
    unknown = DiagnosticSink()
    for key in sorted(str(k) for k in data if k not in ("published", "retired")):
        unknown.report(
            Location(lock.path, key_lines.get(key, 1)),
            f"unknown key '{key}' in {LOCK_FILE}",
            "DG110",
        )
    extend_capped(sink, unknown.items, lock.path)
    published = data.get("published") or []
    if not isinstance(published, list) or not all(_is_scalar(i) for i in published):
        sink.report(
            Location(lock.path, key_lines.get("published", 1)),
            "'published' must be a list of card ids",
            "DG110",
        )
        published = []
    retired = data.get("retired") or {}
    if not isinstance(retired, dict) or not all(_is_scalar(v) for v in retired.values()):
        sink.report(
            Location(lock.path, key_lines.get("retired", 1)),
            "'retired' must map card ids to the reason they were retired",
            "DG110",
        )
        retired = {}
    lock.published = [str(i) for i in published]
    lock.retired = {str(k): str(v) for k, v in retired.items()}
    known = set(lock.published) | set(lock.retired)
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip().removeprefix("- ").split(":")[0].strip()
        if stripped in known:
            lock.lines.setdefault(stripped, number)


def read_lock(cards_dir: Path) -> IdLock:
    """The record in the cards folder; never raises.

    A record that is refused (a symbolic link, too large) or malformed reads as empty, with the
    located reasons in `problems`; `deckgen.load.read_config` reports them.
    """
    path = cards_dir / LOCK_FILE
    lock = IdLock(path)
    sink = DiagnosticSink()
    text = read_config_text(path, sink)
    if text is not None:
        data = load_yaml(text, path, sink)
        if not sink.items:
            _fill(lock, data, text, sink)
    if sink.items:
        lock.published, lock.retired, lock.lines = [], {}, {}
        lock.problems = tuple(sink.items)
    return lock


def write_lock(lock: IdLock) -> None:
    if lock.problems:  # writing would replace a record that could not be read with less
        raise DeckgenError(lock.problems)
    body = {
        "published": sorted(set(lock.published) - set(lock.retired)),
        "retired": dict(sorted(lock.retired.items())),
    }
    with atomic_output(lock.path) as tmp:
        tmp.write_text(
            _HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
