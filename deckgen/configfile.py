"""Reading the deck's YAML config files (deck.yaml, syllabus.yaml, published-ids.yaml) safely,
and YAML that remembers the line of every key (those files and a card file's front matter)."""

from __future__ import annotations

import functools
import json
import os
import stat
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from deckgen.errors import Diagnostic, DiagnosticSink, Location
from deckgen.rules import Severity
from deckgen.suggest import suggest

# The real files are a few KiB; the cap keeps a hostile one from costing memory or time.
MAX_CONFIG_BYTES = 256 * 1024
# The findings reported for one config file: a hostile file can hold thousands of mistakes.
MAX_REPORTS_PER_FILE = 20
MAX_YAML_BYTES = 16 * 1024  # a card file's front matter: topic, section and tags
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows, where the lstat check remains
_BINARY = getattr(os, "O_BINARY", 0)


class NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors and aliases.

    deckgen's files never need them, and a chain of them (a "billion laughs" document) makes
    a few hundred bytes expand into gigabytes.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (*name) are not allowed here", event.start_mark
            )
        return super().compose_node(parent, index)


def read_config_text(path: Path, sink: DiagnosticSink, limit: int = MAX_CONFIG_BYTES) -> str | None:
    """The text of a config file, read only if it is a regular file of at most `limit` bytes.

    `path` is always `<cards>/<name>`, so a regular file there is inside the cards folder; a
    symbolic link is refused whatever it points to. Returns None when the file does not exist
    (not reported: only the caller knows whether it must) or was refused (reported, located).
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        sink.report(Location(path, 1), f"cannot read {path.name}: {exc.strerror}", "DG110")
        return None
    if stat.S_ISLNK(info.st_mode):
        sink.report(
            Location(path, 1),
            f"{path.name} is a symbolic link: config files are read only as regular files "
            "in the cards folder",
            "DG110",
        )
        return None
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
        sink.report(Location(path, 1), f"{path.name} is not a regular file", "DG110")
        return None
    try:
        # O_NOFOLLOW: the file cannot be swapped for a link between the check and the read.
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY)
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        sink.report(Location(path, 1), f"cannot read {path.name}: {exc.strerror}", "DG110")
        return None
    if len(data) > limit:
        sink.report(
            Location(path, 1),
            f"{path.name} is over {limit // 1024} KiB: not read",
            "DG111",
        )
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        sink.report(Location(path, 1), f"not UTF-8 text: {exc.reason}", "DG101")
        return None


def load_yaml(
    text: str,
    path: Path,
    sink: DiagnosticSink,
    *,
    loader: type[NoAliasLoader] = NoAliasLoader,
    first_line: int = 1,
    code: str = "DG101",
) -> Any:
    """Parse YAML safely; on failure record `path:line` (1-based, offset by first_line)."""
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + (mark.line if mark is not None else 0)
        col = mark.column + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        sink.report(Location(path, line, col), f"invalid YAML: {problem}", code)
        return None
    except RecursionError:  # PyYAML composes nested collections recursively
        sink.report(Location(path, first_line), "YAML nested too deeply to read", "DG111")
        return None


def extend_capped(
    sink: DiagnosticSink,
    items: list[Diagnostic],
    path: Path,
    limit: int = MAX_REPORTS_PER_FILE,
) -> None:
    """Copy at most `limit` of one file's findings into `sink`, then one line for the rest.

    The summary keeps an error's code and place when any left-off finding is an error, so
    leaving findings off never turns a failing file into a passing one.
    """
    sink.extend(items[:limit])
    rest = items[limit:]
    if not rest:
        return
    first = next((d for d in rest if d.severity is Severity.ERROR), rest[0])
    sink.report(
        first.location,
        f"\u2026 and {len(rest)} more problem{'s' if len(rest) > 1 else ''} in {path.name}",
        first.code,
    )


# --------------------------------------------------------------------------- YAML with lines


_LINE_RECORDS = frozenset({"__lines__", "__cols__", "__line__", "__col__"})


class _LineLoader(NoAliasLoader):
    """A safe loader without aliases that remembers the line of every mapping key."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    # Keys become strings ('1: x' is an unknown key '1', not a crash further on).
    mapping = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    lines, cols = {}, {}
    for key_node, _ in node.value:
        key = str(loader.construct_object(key_node))
        lines[key] = key_node.start_mark.line
        cols[key] = key_node.start_mark.column + 1
    mapping["__lines__"] = lines
    mapping["__cols__"] = cols
    mapping["__line__"] = node.start_mark.line
    mapping["__col__"] = node.start_mark.column + 1
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def load_yaml_with_lines(
    text: str, path: Path, first_line: int, sink: DiagnosticSink, code: str = "DG101"
) -> Any:
    """Parse YAML safely; on failure record `path:line` (1-based, offset by first_line)."""
    if len(text) > MAX_YAML_BYTES and path.suffix == ".md":
        sink.report(
            Location(path, first_line),
            f"front matter over {MAX_YAML_BYTES // 1024} KiB: keep it to topic, section and tags",
            "DG111",
        )
        return None
    return load_yaml(text, path, sink, loader=_LineLoader, first_line=first_line, code=code)


def key_line(mapping: dict[str, Any], key: str, first_line: int) -> int:
    """The line of `key` in a mapping from load_yaml_with_lines (the mapping's, if absent)."""
    line: int = mapping.get("__lines__", {}).get(key, mapping.get("__line__", 0))
    return first_line + line


def key_location(mapping: dict[str, Any], key: str, path: Path, first_line: int = 1) -> Location:
    """Where `key` is written in a mapping from load_yaml_with_lines: its line and column (the
    mapping's own, if the key is absent)."""
    col = mapping.get("__cols__", {}).get(key, mapping.get("__col__", 0))
    return Location(path, key_line(mapping, key, first_line), col)


def without_lines(mapping: dict[str, Any]) -> dict[str, Any]:
    """The mapping's own keys, without the line records load_yaml_with_lines adds (only those:
    a key of the file's own such as `__x` stays, to be reported as unknown)."""
    return {k: v for k, v in mapping.items() if k not in _LINE_RECORDS}


def plain(value: Any) -> Any:
    """A value from load_yaml_with_lines with every line record taken out, at every depth."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in without_lines(value).items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# ------------------------------------------------------------------------- schema validation

# Keys deckgen once read under another name: a file that still uses one is told the new name.
RENAMED_KEYS = {"rounds": "sections", "round": "section"}
_TYPE_WORDS = {
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}


def key_hint(key: str, known: Iterable[str]) -> str:
    """A ' (did you mean …?)' suffix for an unknown key: its new name if deckgen renamed it,
    else the closest known key, else ''."""
    known = set(known)
    new = RENAMED_KEYS.get(key)
    return f" (did you mean '{new}'?)" if new in known else suggest(key, known)


def schema_text(name: str) -> str:
    """The text of deckgen's JSON Schema `deckgen/schemas/<name>.schema.json`."""
    return resources.files("deckgen").joinpath("schemas", f"{name}.schema.json").read_text("utf-8")


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """One of deckgen's own JSON Schemas, parsed (`deck.yaml`, `syllabus.yaml`)."""
    schema: dict[str, Any] = json.loads(schema_text(name))
    return schema


def check_schema(data: dict[str, Any], schema_name: str, path: Path, sink: DiagnosticSink) -> bool:
    """Report (DG110, at the offending key) every way `data`, a mapping from
    load_yaml_with_lines, breaks deckgen's schema `schema_name`; True if it breaks none."""
    import jsonschema  # only a build or lint that reads config needs it

    schema = load_schema(schema_name)
    validator = jsonschema.Draft202012Validator(schema)
    found = [_schema_problem(e, data, path) for e in validator.iter_errors(plain(data))]
    problems = sorted({p for group in found for p in group}, key=lambda p: (p[0], p[1]))
    for where, message in problems:
        sink.report(where, message, "DG110")
    return not problems


def _schema_problem(error: Any, data: Any, path: Path) -> list[tuple[Location, str]]:
    """The located messages for one jsonschema error."""
    node, where, key = data, key_location(data, "", path), path.name
    for step in error.absolute_path:
        if isinstance(node, dict):
            where = key_location(node, str(step), path)
            key = str(step)
        elif isinstance(step, int):
            key = f"{key}[{step + 1}]" if not key.endswith("]") else key
            if isinstance(node[step], dict):
                where = key_location(node[step], "", path)
        node = node[step]
    schema = error.schema
    named = "" if key == path.name else f"'{key}' "
    if error.validator == "additionalProperties":
        known = set(schema.get("properties", {}))
        extra = sorted(set(without_lines(node)) - known)
        inside = path.name if key == path.name else f"'{key}'"
        return [
            (key_location(node, k, path), f"unknown key '{k}' in {inside}{key_hint(k, known)}")
            for k in extra
        ]
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in node]
        inside = path.name if key == path.name else f"'{key}'"
        return [(where, f"{inside} needs '{k}'") for k in missing]
    if error.validator == "type":
        types = error.validator_value
        words = [
            _TYPE_WORDS[t]
            for t in ([types] if isinstance(types, str) else types)
            if t in _TYPE_WORDS
        ]
        return [(where, f"{named or 'it '}must be {' or '.join(words)}")]
    if error.validator == "minItems":
        return [(where, f"{named}must be a non-empty list")]
    if error.validator == "minLength":
        return [(where, f"{named}must not be empty")]
    if "title" in schema:  # a named shape: a slug, a whole number >= 0
        return [(where, f"{named}must be {schema['title']}")]
    return [(where, f"{named}{error.message}")]
