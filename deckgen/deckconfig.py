"""deck.yaml and syllabus.yaml: the deck's identity and its rounds, topics and subtopics, read
and checked with the line of every problem."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from deckgen.cardfile import ID_RE
from deckgen.configfile import (
    MAX_REPORTS_PER_FILE,
    extend_capped,
    key_line,
    load_yaml_with_lines,
    read_config_text,
    without_lines,
)
from deckgen.errors import DiagnosticSink, Location
from deckgen.model import DeckInfo, Round, Subtopic, Syllabus, Topic
from deckgen.safety import (
    language_problem,
    plain_text_problem,
    repository_problem,
    title_problem,
)
from deckgen.suggest import suggest
from deckgen.vcs import git

DECK_FILE = "deck.yaml"
SYLLABUS_FILE = "syllabus.yaml"
# A real syllabus has tens of entries; these keep a hostile one from costing minutes.
MAX_SYLLABUS_ROUNDS = 500
MAX_SYLLABUS_TOPICS = 2_000
MAX_SYLLABUS_SUBTOPICS = 10_000  # over all topics


def load_deck_info(cards_dir: Path, sink: DiagnosticSink) -> DeckInfo:
    path = cards_dir / DECK_FILE
    if not os.path.lexists(path):
        sink.report(
            Location(path), f"missing {DECK_FILE}: every deck needs an id and a name", "DG110"
        )
        return DeckInfo(id="deck", name="Deck")
    source = read_config_text(path, sink)
    data = load_yaml_with_lines(source, path, 1, sink) if source is not None else None
    if not isinstance(data, dict):
        if data is not None:
            sink.report(Location(path, 1), f"{DECK_FILE} must be a mapping", "DG110")
        return DeckInfo(id="deck", name="Deck")
    values = without_lines(data)
    known = {"id", "name", "description", "repository", "language", "options"}
    for key in sorted(set(values) - known):
        sink.report(
            Location(path, key_line(data, key, 1)), f"unknown key '{key}' in {DECK_FILE}", "DG110"
        )
    deck_id = values.get("id")
    if not isinstance(deck_id, str) or not ID_RE.match(deck_id):
        sink.report(
            Location(path, key_line(data, "id", 1)), "deck 'id' must be a lowercase slug", "DG110"
        )
        deck_id = "deck"
    name = values.get("name")
    name_problem = title_problem(name) if isinstance(name, str) else "must be a string"
    if name_problem:
        sink.report(
            Location(path, key_line(data, "name", 1)), f"deck 'name' {name_problem}", "DG110"
        )
        name = "Deck"
    description = values.get("description") or ""
    text_problem = (
        plain_text_problem(description) if isinstance(description, str) else "must be text"
    )
    if text_problem:
        where = Location(path, key_line(data, "description", 1))
        sink.report(where, f"deck 'description' {text_problem}", "DG110")
        description = ""
    repository = values.get("repository") or ""
    url_problem = (
        repository_problem(repository) if isinstance(repository, str) else "must be a string"
    )
    if repository and url_problem:
        where = Location(path, key_line(data, "repository", 1))
        sink.report(where, f"deck 'repository' {url_problem}", "DG110")
        repository = ""
    language = values.get("language", "en")
    language_error = language_problem(language) if isinstance(language, str) else "must be text"
    if language_error:
        where = Location(path, key_line(data, "language", 1))
        sink.report(where, f"deck 'language' {language_error}", "DG110")
        language = "en"
    return DeckInfo(
        id=deck_id,
        language=language,
        name=str(name),
        description=str(description),
        repository=str(repository or git_remote_url(cards_dir)),
        options=_deck_options(data, path, sink),
        id_line=key_line(data, "id", 1),
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
        where = Location(path, key_line(data, "options", 1))
        sink.report(where, "'options' must be a mapping of option names to values", "DG110")
        return ()
    found = []
    for name, setting in without_lines(value).items():
        line = key_line(value, name, 1)
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
                Location(path, key_line(data, key, 1)),
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
    data = load_yaml_with_lines(source, path, 1, sink) if source is not None else None
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
                Location(path, key_line(data, key, 1)),
                f"'{key}' must be a list of mappings",
                "DG110",
            )
            return []
        return value

    def text(entry: dict[str, Any], key: str, required: bool = True) -> str:
        value = entry.get(key)
        where = Location(path, key_line(entry, key, 1))
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
            where = Location(path, key_line(entry, "min_cards", 1))
            sink.report(where, "'min_cards' must be a whole number >= 0", "DG110")
            return 0
        return value

    seen: dict[str, int] = {}

    def ident(entry: dict[str, Any]) -> str:
        value = text(entry, "id")
        line = key_line(entry, "id", 1)
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
            where = Location(path, key_line(topic, "subtopics", 1))
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
                Location(path, key_line(t, "rounds", 1)),
                "'rounds' must be a non-empty list",
                "DG110",
            )
            topic_rounds = []
        for r in topic_rounds:
            if not isinstance(r, str) or r not in round_ids:
                unknown_rounds += 1  # suggestions only for the problems that will be shown
                hint = suggest(str(r), round_ids) if unknown_rounds <= MAX_REPORTS_PER_FILE else ""
                sink.report(
                    Location(path, key_line(t, "rounds", 1)),
                    f"unknown round '{r}'{hint}",
                    "DG110",
                )
        subtopics = tuple(
            Subtopic(
                id=ident(s), title=text(s, "title"), min_cards=count(s), line=key_line(s, "id", 1)
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
                line=key_line(t, "id", 1),
            )
        )
    return Syllabus(rounds=rounds, topics=tuple(topics), location=Location(path))
