"""The load stage: deck.yaml, syllabus.yaml, the id record and the card files, read and checked
as sources; and the parser of one card file (Markdown into cards, with line numbers), which the
compile stage runs on each file that load read."""

from __future__ import annotations

import difflib
import functools
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from deckgen.cardtypes import (
    CARD_TYPES,
    CONTENT_FIELDS,
    MAX_TYPED_ANSWER_CHARS,
    CardType,
    card_type_named,
    implied_card_type,
)
from deckgen.configfile import (
    MAX_REPORTS_PER_FILE,
    NoAliasLoader,
    extend_capped,
    load_yaml,
    read_config_text,
)
from deckgen.errors import Diagnostic, DiagnosticSink, Location
from deckgen.history import ReleaseRecord, read_record
from deckgen.ids import IdLock, read_lock
from deckgen.markdown import CLOZE_OPEN_RE, make_parser
from deckgen.model import (
    Card,
    DeckInfo,
    Round,
    Subtopic,
    Syllabus,
    Text,
    Topic,
)
from deckgen.safety import (
    file_name_problem,
    plain_text_problem,
    repository_problem,
    title_problem,
)
from deckgen.vcs import git

log = logging.getLogger(__name__)

DECK_FILE = "deck.yaml"
SYLLABUS_FILE = "syllabus.yaml"

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*(?:::[a-z0-9]+(?:[-_][a-z0-9]+)*)*$")
MAX_ID_LENGTH = 80
# Limits that keep a hostile or broken file from hanging a build (a real card file is ~10 KiB).
MAX_FILE_BYTES = 128 * 1024
MAX_LINE_CHARS = 5_000
MAX_TOKENS = 20_000
MAX_NESTING = 18  # markdown-it stops nesting at 20 and would silently flatten the rest
MAX_CLOZE_NUMBER = 50
MAX_YAML_BYTES = 16 * 1024
# A real syllabus has tens of entries; these keep a hostile one from costing minutes.
MAX_SYLLABUS_ROUNDS = 500
MAX_SYLLABUS_TOPICS = 2_000
MAX_SYLLABUS_SUBTOPICS = 10_000  # over all topics
MAX_SUGGEST_CHOICES = 500  # more candidates than this and no suggestion is offered
FIELD_NAMES = (*CONTENT_FIELDS, "Extra", "Source", "Tags", "Type")
FIELD_RE = re.compile(rf"^ {{0,3}}({'|'.join(FIELD_NAMES)}):(?:[ \t]+|$)(.*)$")
FRONT_MATTER_KEYS = {"topic": str, "round": str, "tags": list}
SINGLE_LINE_FIELDS = {"Tags", "Type"}


# --------------------------------------------------------------------------- YAML with lines


class _LineLoader(NoAliasLoader):
    """A safe loader without aliases that remembers the line of every mapping key."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    # Keys become strings ('1: x' is an unknown key '1', not a crash further on).
    mapping = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    lines = {}
    for key_node, _ in node.value:
        lines[str(loader.construct_object(key_node))] = key_node.start_mark.line
    mapping["__lines__"] = lines
    mapping["__line__"] = node.start_mark.line
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _load_yaml(
    text: str, path: Path, first_line: int, sink: DiagnosticSink, code: str = "DG101"
) -> Any:
    """Parse YAML safely; on failure record `path:line` (1-based, offset by first_line)."""
    if len(text) > MAX_YAML_BYTES and path.suffix == ".md":
        sink.report(
            Location(path, first_line),
            f"front matter over {MAX_YAML_BYTES // 1024} KiB: keep it to topic, round and tags",
            "DG111",
        )
        return None
    return load_yaml(text, path, sink, loader=_LineLoader, first_line=first_line, code=code)


def _key_line(mapping: dict[str, Any], key: str, first_line: int) -> int:
    line: int = mapping.get("__lines__", {}).get(key, mapping.get("__line__", 0))
    return first_line + line


def _public(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if not k.startswith("__")}


def suggest(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean …?)' suffix for a misspelt id, or ''.

    Bounded: only candidates whose length allows a close match are compared, no suggestion
    is made among more than MAX_SUGGEST_CHOICES of them, and answers are remembered.
    """
    return _suggest(word, frozenset(choices))


@functools.lru_cache(maxsize=1024)
def _suggest(word: str, choices: frozenset[str]) -> str:
    size = len(word)
    # difflib's ratio is 2*matches/(len(a)+len(b)) <= 2*min/(sum): drop hopeless lengths
    near = [c for c in choices if 2 * min(size, len(c)) >= 0.6 * (size + len(c))]
    if len(near) > MAX_SUGGEST_CHOICES:
        near = [c for c in near if c[:1] == word[:1]]
    if len(near) > MAX_SUGGEST_CHOICES:
        return ""
    matches = difflib.get_close_matches(word, sorted(near), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


# --------------------------------------------------------------------------- deck and syllabus


def load_deck_info(cards_dir: Path, sink: DiagnosticSink) -> DeckInfo:
    path = cards_dir / DECK_FILE
    if not os.path.lexists(path):
        sink.report(
            Location(path), f"missing {DECK_FILE}: every deck needs an id and a name", "DG110"
        )
        return DeckInfo(id="deck", name="Deck")
    source = read_config_text(path, sink)
    data = _load_yaml(source, path, 1, sink) if source is not None else None
    if not isinstance(data, dict):
        if data is not None:
            sink.report(Location(path, 1), f"{DECK_FILE} must be a mapping", "DG110")
        return DeckInfo(id="deck", name="Deck")
    values = _public(data)
    for key in sorted(set(values) - {"id", "name", "description", "repository", "options"}):
        sink.report(
            Location(path, _key_line(data, key, 1)), f"unknown key '{key}' in {DECK_FILE}", "DG110"
        )
    deck_id = values.get("id")
    if not isinstance(deck_id, str) or not ID_RE.match(deck_id):
        sink.report(
            Location(path, _key_line(data, "id", 1)), "deck 'id' must be a lowercase slug", "DG110"
        )
        deck_id = "deck"
    name = values.get("name")
    name_problem = title_problem(name) if isinstance(name, str) else "must be a string"
    if name_problem:
        sink.report(
            Location(path, _key_line(data, "name", 1)), f"deck 'name' {name_problem}", "DG110"
        )
        name = "Deck"
    description = values.get("description") or ""
    text_problem = (
        plain_text_problem(description) if isinstance(description, str) else "must be text"
    )
    if text_problem:
        where = Location(path, _key_line(data, "description", 1))
        sink.report(where, f"deck 'description' {text_problem}", "DG110")
        description = ""
    repository = values.get("repository") or ""
    url_problem = (
        repository_problem(repository) if isinstance(repository, str) else "must be a string"
    )
    if repository and url_problem:
        where = Location(path, _key_line(data, "repository", 1))
        sink.report(where, f"deck 'repository' {url_problem}", "DG110")
        repository = ""
    return DeckInfo(
        id=deck_id,
        name=str(name),
        description=str(description),
        repository=str(repository or git_remote_url(cards_dir)),
        options=_deck_options(data, path, sink),
    )


def _deck_options(
    data: dict[str, Any], path: Path, sink: DiagnosticSink
) -> tuple[tuple[str, str, int], ...]:
    """deck.yaml's `options:`, defaults for exporter options (checked against the exporters at
    build time, where it is known which formats are written)."""
    value = data.get("options")
    if value is None:
        return ()
    if not isinstance(value, dict):
        where = Location(path, _key_line(data, "options", 1))
        sink.report(where, "'options' must be a mapping of option names to values", "DG110")
        return ()
    found = []
    for name, setting in _public(value).items():
        line = _key_line(value, name, 1)
        if isinstance(setting, bool) or not isinstance(setting, str | int | float):
            sink.report(Location(path, line), f"option '{name}' must be a single value", "DG110")
            continue
        found.append((name, str(setting), line))
    return tuple(found)


def git_remote_url(folder: Path) -> str:
    """The web address of the `origin` remote of the git checkout holding `folder`, or ''.

    Used for "report a mistake" links when deck.yaml names no repository.
    """
    url = git(folder, "remote", "get-url", "origin") or ""
    scp = re.match(r"^[\w.-]+@([\w.-]+):(.+)$", url)  # git@github.com:owner/repo.git
    if scp:
        url = f"https://{scp.group(1)}/{scp.group(2)}"
    url = url.removesuffix(".git").rstrip("/")
    return "" if repository_problem(url) else url


def load_syllabus(path: Path, sink: DiagnosticSink) -> Syllabus:
    """The syllabus at `path`; at most MAX_REPORTS_PER_FILE of its problems, then a summary."""
    found = DiagnosticSink()
    syllabus = _read_syllabus(path, found)
    extend_capped(sink, found.items, path)
    return syllabus


def _over_limits(path: Path, data: dict[str, Any], sink: DiagnosticSink) -> bool:
    """Report (DG111, located) a syllabus with more entries than a real one could need."""
    subtopics = 0
    topics = data.get("topics")
    if isinstance(topics, list):
        subtopics = sum(
            len(t["subtopics"])
            for t in topics
            if isinstance(t, dict) and isinstance(t.get("subtopics"), list)
        )
    rounds = data.get("rounds")
    for key, what, count, limit in (
        ("rounds", "rounds", len(rounds) if isinstance(rounds, list) else 0, MAX_SYLLABUS_ROUNDS),
        ("topics", "topics", len(topics) if isinstance(topics, list) else 0, MAX_SYLLABUS_TOPICS),
        ("topics", "subtopics", subtopics, MAX_SYLLABUS_SUBTOPICS),
    ):
        if count > limit:
            sink.report(
                Location(path, _key_line(data, key, 1)),
                f"the syllabus has {count} {what} (limit {limit}): not read",
                "DG111",
            )
            return True
    return False


def _read_syllabus(path: Path, sink: DiagnosticSink) -> Syllabus:
    if not os.path.lexists(path):
        sink.report(
            Location(path), "missing syllabus: rounds and topics are defined there", "DG110"
        )
        return Syllabus((), ())
    source = read_config_text(path, sink)
    data = _load_yaml(source, path, 1, sink) if source is not None else None
    if not isinstance(data, dict):
        if data is not None:
            sink.report(
                Location(path, 1),
                "the syllabus must be a mapping with 'rounds' and 'topics'",
                "DG110",
            )
        return Syllabus((), (), Location(path))
    if _over_limits(path, data, sink):
        return Syllabus((), (), Location(path))

    def items(key: str) -> list[dict[str, Any]]:
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            sink.report(
                Location(path, _key_line(data, key, 1)),
                f"'{key}' must be a list of mappings",
                "DG110",
            )
            return []
        return value

    def text(entry: dict[str, Any], key: str, required: bool = True) -> str:
        value = entry.get(key)
        where = Location(path, _key_line(entry, key, 1))
        if isinstance(value, str) and value.strip():
            # titles name Anki decks and breadcrumbs; summaries are shown as plain text
            problem = title_problem(value.strip()) if key == "title" else plain_text_problem(value)
            if problem:
                sink.report(where, f"'{key}' {problem}", "DG110")
                return ""
            return value.strip()
        if required or value is not None:
            sink.report(where, f"'{key}' must be a non-empty string", "DG110")
        return ""

    def count(entry: dict[str, Any]) -> int:
        value = entry.get("min_cards", 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            where = Location(path, _key_line(entry, "min_cards", 1))
            sink.report(where, "'min_cards' must be a whole number >= 0", "DG110")
            return 0
        return value

    seen: dict[str, int] = {}

    def ident(entry: dict[str, Any]) -> str:
        value = text(entry, "id")
        line = _key_line(entry, "id", 1)
        if value and not ID_RE.match(value):
            sink.report(
                Location(path, line), f"syllabus id '{value}' must be a lowercase slug", "DG110"
            )
        elif value in seen:
            sink.report(
                Location(path, line),
                f"duplicate syllabus id '{value}' (first defined at line {seen[value]})",
                "DG110",
            )
        seen.setdefault(value, line)
        return value

    def subtopic_entries(topic: dict[str, Any]) -> list[dict[str, Any]]:
        value = topic.get("subtopics") or []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            where = Location(path, _key_line(topic, "subtopics", 1))
            sink.report(where, "'subtopics' must be a list of mappings", "DG110")
            return []
        return value

    rounds = tuple(
        Round(id=ident(r), title=text(r, "title"), summary=text(r, "summary", required=False))
        for r in items("rounds")
    )
    round_ids = frozenset(r.id for r in rounds)
    unknown_rounds = 0
    topics = []
    for t in items("topics"):
        topic_id = ident(t)
        topic_rounds = t.get("rounds")
        if not isinstance(topic_rounds, list) or not topic_rounds:
            sink.report(
                Location(path, _key_line(t, "rounds", 1)),
                "'rounds' must be a non-empty list",
                "DG110",
            )
            topic_rounds = []
        for r in topic_rounds:
            if not isinstance(r, str) or r not in round_ids:
                unknown_rounds += 1  # suggestions only for the problems that will be shown
                hint = suggest(str(r), round_ids) if unknown_rounds <= MAX_REPORTS_PER_FILE else ""
                sink.report(
                    Location(path, _key_line(t, "rounds", 1)),
                    f"unknown round '{r}'{hint}",
                    "DG110",
                )
        subtopics = tuple(
            Subtopic(
                id=ident(s), title=text(s, "title"), min_cards=count(s), line=_key_line(s, "id", 1)
            )
            for s in subtopic_entries(t)
        )
        topics.append(
            Topic(
                id=topic_id,
                title=text(t, "title"),
                rounds=tuple(str(r) for r in topic_rounds),
                min_cards=count(t),
                subtopics=subtopics,
                line=_key_line(t, "id", 1),
            )
        )
    return Syllabus(rounds=rounds, topics=tuple(topics), location=Location(path))


# --------------------------------------------------------------------------- card files


@dataclass
class _Field:
    name: str
    line: int  # 0-based line of the marker
    first: str  # the text after the marker on its own line
    col: int  # 1-based column where that text starts


@dataclass
class _Section:
    """A card's heading and the top-level field markers found below it."""

    id: str
    line: int  # 0-based line of the heading
    end: int  # 0-based line where the card stops (exclusive)
    fields: list[_Field]
    stray_line: int | None = None  # first content line before any field marker


def _split_sections(tokens: list[Token], lines: list[str]) -> tuple[list[_Section], list[int]]:
    """Find cards (H2 headings) and field markers using the token stream's line maps.

    Returns the sections and the 0-based lines of field markers found outside any card.
    """
    sections: list[_Section] = []
    outside: list[int] = []
    current: _Section | None = None
    for i, token in enumerate(tokens):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        if token.type == "heading_open" and token.tag in ("h1", "h2"):
            if current is not None:
                current.end = start
                current = None
            if token.tag == "h2":
                current = _Section(tokens[i + 1].content.strip(), start, len(lines), [])
                sections.append(current)
            continue
        if token.type == "front_matter":
            continue
        if token.type == "paragraph_open":
            for line_no in range(start, end):
                match = FIELD_RE.match(lines[line_no])
                if match is None:
                    if current is not None and not current.fields and current.stray_line is None:
                        current.stray_line = line_no
                    continue
                if current is None:
                    outside.append(line_no)
                else:
                    current.fields.append(
                        _Field(match.group(1), line_no, match.group(2), match.start(2) + 1)
                    )
        elif current is not None and not current.fields and current.stray_line is None:
            current.stray_line = start
    return sections, outside


def _field_text(lines: list[str], field: _Field, stop: int) -> str:
    body = [field.first, *lines[field.line + 1 : stop]]
    while body and not body[-1].strip():
        body.pop()
    return "\n".join(body)


def _split_tags(value: str) -> list[str]:
    return [t for t in re.split(r"[\s,]+", value.strip()) if t]


@functools.cache
def _structure_parser() -> MarkdownIt:
    """The file-level parse needs block structure and line maps only, not inline parsing."""
    md = make_parser()
    md.disable(["inline", "text_join"])
    return md


def _within_limits(path: Path, lines: list[str], sink: DiagnosticSink) -> bool:
    """Refuse pathological input before the Markdown parser spends time on it."""
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_CHARS:
            sink.report(
                Location(path, number),
                f"line of {len(line):,} characters (limit {MAX_LINE_CHARS:,}): break it up",
                "DG111",
            )
            return False
    return True


def _tokens_within_limits(path: Path, tokens: list[Token], sink: DiagnosticSink) -> bool:
    if len(tokens) > MAX_TOKENS:
        sink.report(
            Location(path, 1),
            f"{len(tokens):,} Markdown blocks (limit {MAX_TOKENS:,}): split the file",
            "DG111",
        )
        return False
    deep = next((t for t in tokens if t.level >= MAX_NESTING), None)
    if deep is not None:
        line = deep.map[0] + 1 if deep.map else 1
        sink.report(
            Location(path, line),
            "lists or quotes nested too deeply for Markdown to keep (split them up)",
            "DG111",
        )
        return False
    return True


def parse_card_file(path: Path, text: str, syllabus: Syllabus, sink: DiagnosticSink) -> list[Card]:
    """Parse one Markdown file into cards; every problem goes to `sink` with its line."""
    lines = text.splitlines()
    if not _within_limits(path, lines, sink):
        return []
    tokens = _structure_parser().parse(text)
    if not _tokens_within_limits(path, tokens, sink):
        return []
    sections, outside = _split_sections(tokens, lines)
    for line_no in outside:
        sink.report(
            Location(path, line_no + 1),
            "field outside a card: start each card with a '## card-id' heading",
            "DG106",
        )
    if not sections:
        if outside:
            return []
        log.debug("%s has no cards", path)
        return []

    meta = _front_matter(path, tokens, syllabus, sink)
    if meta is None:
        return []
    topic_id, round_id, file_tags = meta

    cards = []
    for section in sections:
        card = _build_card(path, lines, section, topic_id, round_id, file_tags, syllabus, sink)
        if card is not None:
            cards.append(card)
    return cards


def _front_matter(
    path: Path, tokens: list[Token], syllabus: Syllabus, sink: DiagnosticSink
) -> tuple[str, str, tuple[str, ...]] | None:
    token = next((t for t in tokens if t.type == "front_matter"), None)
    if token is None:
        sink.report(
            Location(path, 1),
            "missing front matter: a file of cards starts with '---', "
            "then at least 'topic: <id>', then '---'",
            "DG101",
        )
        return None
    first_line = (token.map[0] if token.map else 0) + 2  # 1-based line after the opening '---'
    data = _load_yaml(token.content, path, first_line, sink)
    if data is None:
        if not token.content.strip():
            sink.report(Location(path, 1), "empty front matter: 'topic' is required", "DG102")
        return None
    if not isinstance(data, dict):
        sink.report(Location(path, first_line), "front matter must be a mapping of keys", "DG102")
        return None
    ok = True
    for key, value in _public(data).items():
        where = Location(path, _key_line(data, key, first_line))
        expected = FRONT_MATTER_KEYS.get(key)
        if expected is None:
            known = ", ".join(sorted(FRONT_MATTER_KEYS))
            sink.report(
                where,
                f"unknown front-matter key '{key}'{suggest(key, FRONT_MATTER_KEYS)}"
                f" (known keys: {known})",
                "DG102",
            )
            ok = False
        elif key == "tags" and isinstance(value, str):
            data[key] = _split_tags(value)
        elif not isinstance(value, expected) or (
            expected is list and not all(isinstance(v, str) for v in value)
        ):
            kind = "a list of strings" if expected is list else "a string"
            sink.report(where, f"front-matter key '{key}' must be {kind}", "DG102")
            ok = False
    topic_id = str(data.get("topic"))
    if "topic" not in data:
        sink.report(Location(path, first_line), "front matter needs 'topic: <topic id>'", "DG102")
        return None
    if not ok:
        return None
    topic = syllabus.topic(topic_id)
    if topic is None:
        sink.report(
            Location(path, _key_line(data, "topic", first_line)),
            f"unknown topic '{topic_id}'{suggest(topic_id, (t.id for t in syllabus.topics))}",
            "DG202",
        )
        return None
    round_id = str(data.get("round") or (topic.rounds[0] if topic.rounds else ""))
    if syllabus.round(round_id) is None:
        sink.report(
            Location(path, _key_line(data, "round", first_line)),
            f"unknown round '{round_id}'{suggest(round_id, (r.id for r in syllabus.rounds))}",
            "DG201",
        )
        return None
    tags = data.get("tags") or []
    tag_line = _key_line(data, "tags", first_line)
    good_tags = _check_tags(path, tag_line, tags, syllabus, sink)
    return topic_id, round_id, tuple(good_tags)


def _check_tags(
    path: Path, line: int, tags: Iterable[str], syllabus: Syllabus, sink: DiagnosticSink
) -> list[str]:
    vocabulary = syllabus.vocabulary()
    good = []
    for tag in tags:
        if not TAG_RE.match(tag):
            sink.report(Location(path, line), f"tag '{tag}' is not a lowercase slug", "DG203")
        elif tag.split("::")[0] not in vocabulary:
            sink.report(
                Location(path, line),
                f"unknown tag '{tag}'{suggest(tag, vocabulary)}: tags come from the syllabus",
                "DG203",
            )
        else:
            good.append(tag)
    return good


def _build_card(
    path: Path,
    lines: list[str],
    section: _Section,
    topic_id: str,
    round_id: str,
    file_tags: tuple[str, ...],
    syllabus: Syllabus,
    sink: DiagnosticSink,
) -> Card | None:
    where = Location(path, section.line + 1)
    errors_before = len(sink.errors)
    if not section.id:
        sink.report(where, "missing card id: write the id after '## '", "DG103")
    elif not ID_RE.match(section.id) or len(section.id) > MAX_ID_LENGTH:
        sink.report(
            where,
            f"invalid card id '{section.id}': use lowercase letters, digits and single hyphens "
            f"(at most {MAX_ID_LENGTH} characters)",
            "DG104",
        )
    if section.stray_line is not None:
        sink.report(
            Location(path, section.stray_line + 1),
            f"text before the first field of card '{section.id}': start it with 'Q:' or 'Cloze:'",
            "DG106",
        )

    texts: dict[str, Text] = {}
    sources: list[Text] = []
    tags: list[str] = list(file_tags)
    type_name: str | None = None
    for k, field in enumerate(section.fields):
        stop = section.fields[k + 1].line if k + 1 < len(section.fields) else section.end
        body = _field_text(lines, field, stop)
        field_where = Location(path, field.line + 1)
        if field.name in SINGLE_LINE_FIELDS and "\n" in body.strip():
            sink.report(field_where, f"'{field.name}:' takes a single line", "DG106")
        if field.name == "Source":
            if body.strip():
                sources.append(Text(body, field.line + 1, field.col))
            else:
                sink.report(field_where, "empty 'Source:'", "DG109")
            continue
        if field.name in texts or (field.name == "Type" and type_name is not None):
            sink.report(
                field_where, f"duplicate field '{field.name}:' in card '{section.id}'", "DG106"
            )
            continue
        if field.name == "Tags":
            tags.extend(_check_tags(path, field.line + 1, _split_tags(body), syllabus, sink))
        elif field.name == "Type":
            type_name = body.strip()
        else:
            texts[field.name] = Text(body, field.line + 1, field.col)

    card_type = _card_type(where, section.id, type_name, texts, sink)
    for name, value in texts.items():
        if not value.markdown.strip():
            sink.report(
                Location(path, value.line), f"empty '{name}:' in card '{section.id}'", "DG109"
            )
    if card_type is not None and card_type.cloze:
        _check_deletions(path, section.id, texts["Cloze"], sink)
    if card_type is not None and card_type.typed_answer:
        _check_typed_answer(path, section.id, texts["A"], sink)
    if card_type is None or len(sink.errors) > errors_before:
        return None
    return Card(
        id=section.id,
        type=card_type,
        location=where,
        round=round_id,
        topic=topic_id,
        front=texts.get("Q"),
        back=texts.get("A"),
        text=texts.get("Cloze"),
        extra=texts.get("Extra"),
        sources=tuple(sources),
        tags=tuple(dict.fromkeys(tags)),
    )


def _check_deletions(path: Path, card_id: str, text: Text, sink: DiagnosticSink) -> None:
    numbers = {int(n) for n in CLOZE_OPEN_RE.findall(text.markdown)}
    if not numbers:
        sink.report(
            Location(path, text.line),
            f"cloze card '{card_id}' has no deletions: mark them as {{{{c1::…}}}}",
            "DG305",
        )
    elif max(numbers) > MAX_CLOZE_NUMBER:
        sink.report(
            Location(path, text.line),
            f"cloze card '{card_id}' has deletion c{max(numbers)}: Anki would make one card "
            f"per number; at most c{MAX_CLOZE_NUMBER}",
            "DG302",
        )


def _check_typed_answer(path: Path, card_id: str, answer: Text, sink: DiagnosticSink) -> None:
    """Anki compares a typed answer with the field's text letter by letter: it must be short."""
    text = answer.markdown.strip()
    if "\n" in text or len(text) > MAX_TYPED_ANSWER_CHARS:
        sink.report(
            Location(path, answer.line, answer.col),
            f"the answer of type-answer card '{card_id}' is what the learner types and is "
            f"compared letter by letter: keep it to one line of at most "
            f"{MAX_TYPED_ANSWER_CHARS} characters and put the explanation in 'Extra:'",
            "DG307",
        )


def _card_type(
    where: Location,
    card_id: str,
    type_name: str | None,
    texts: dict[str, Text],
    sink: DiagnosticSink,
) -> CardType | None:
    """The card's declared (or implied) type, when its content fields are the type's own."""
    if type_name is None:
        card_type = implied_card_type(texts)
    else:
        found = card_type_named(type_name)
        if found is None:
            names = ", ".join(CARD_TYPES)
            hint = suggest(type_name, list(CARD_TYPES))
            sink.report(
                where,
                f"unknown card type '{type_name}' (expected one of: {names}){hint}",
                "DG107",
            )
            return None
        card_type = found
    missing = [f"'{name}:'" for name in card_type.fields if name not in texts]
    if missing:
        what = "cloze card" if card_type.cloze else "card"
        needs = "a 'Cloze:' field" if card_type.cloze else " and ".join(missing)
        sink.report(where, f"{what} '{card_id}' needs {needs}", "DG108")
        return None
    if any(name in texts for name in card_type.forbidden):
        sink.report(where, f"card '{card_id}' mixes 'Cloze:' with 'Q:'/'A:'", "DG108")
        return None
    return card_type


def card_files(cards_dir: Path) -> list[Path]:
    """Every Markdown file under the cards folder, in a stable order."""
    return sorted(cards_dir.rglob("*.md"), key=lambda p: p.relative_to(cards_dir).as_posix())


def read_config(cards_dir: Path, sink: DiagnosticSink) -> tuple[DeckInfo, Syllabus]:
    """The deck's identity and syllabus; problems go to `sink`."""
    if not cards_dir.is_dir():
        sink.report(Location(cards_dir), "cards folder not found", "DG110")
        return DeckInfo("deck", "Deck"), Syllabus((), ())
    info = load_deck_info(cards_dir, sink)
    syllabus = load_syllabus(cards_dir / SYLLABUS_FILE, sink)
    return info, syllabus


@dataclass(frozen=True)
class Sources:
    """What the load stage read: the deck's identity and syllabus, the record of published ids,
    and the bytes of every card file that may be read, in a stable order."""

    root: Path  # the cards folder
    info: DeckInfo
    syllabus: Syllabus
    lock: IdLock
    history: ReleaseRecord
    files: tuple[tuple[Path, bytes], ...]
    diagnostics: tuple[Diagnostic, ...]  # why a config file or a card file could not be read


def load_sources(cards_dir: Path) -> Sources:
    """Read every source under `cards_dir`; never raises for problems in them (they are in
    `diagnostics`), only for a folder the system refuses to read."""
    sink = DiagnosticSink()
    info, syllabus = read_config(cards_dir, sink)
    lock = read_lock(cards_dir)
    sink.extend(lock.problems)  # reading the record never raises: its problems come here
    history = read_record(cards_dir)
    sink.extend(history.problems)  # nor does reading the release history
    files = []
    if cards_dir.is_dir():
        for path in card_files(cards_dir):
            data = read_card_source(path, cards_dir, sink)
            if data is not None:
                files.append((path, data))
    log.info("read %d card files from %s", len(files), cards_dir)
    return Sources(cards_dir, info, syllabus, lock, history, tuple(files), tuple(sink.items))


def read_card_source(path: Path, root: Path, sink: DiagnosticSink) -> bytes | None:
    """The bytes of a card file, or None (reported) when it must not or cannot be read."""
    name_problem = file_name_problem(path.relative_to(root).as_posix())
    if name_problem:
        sink.report(Location(path, 1), name_problem, "DG106")
        return None
    if not path.resolve().is_relative_to(root.resolve()):
        sink.report(
            Location(path, 1), "links to a file outside the cards folder: not read", "DG405"
        )
        return None
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        sink.report(
            Location(path, 1),
            f"file is {size / 1024:,.0f} KiB (limit {MAX_FILE_BYTES // 1024} KiB): split it",
            "DG111",
        )
        return None
    return path.read_bytes()


def parse_card_bytes(
    path: Path, data: bytes, syllabus: Syllabus, sink: DiagnosticSink
) -> list[Card]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        sink.report(Location(path, 1), f"not UTF-8 text: {exc.reason}", "DG101")
        return []
    return parse_card_file(path, text, syllabus, sink)


def drop_duplicate_ids(cards: list[Card], sink: DiagnosticSink) -> list[Card]:
    """Keep the first card of each id; report every later one with both places."""
    first_seen: dict[str, Card] = {}
    kept = []
    for card in cards:
        first = first_seen.get(card.id)
        if first is not None:
            sink.report(
                card.location,
                f"duplicate id '{card.id}'",
                "DG105",
                related=[(first.location, "first defined here")],
            )
            continue
        first_seen[card.id] = card
        kept.append(card)
    return kept
