"""deck.yaml and syllabus.yaml: the deck's identity and its sections, topics and subtopics, read
and checked (against deckgen/schemas/, then value by value) with the place of every problem."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deckgen.cardfile import ID_RE
from deckgen.configfile import (
    MAX_REPORTS_PER_FILE,
    check_schema,
    extend_capped,
    key_line,
    key_location,
    load_yaml_with_lines,
    read_config_text,
    without_lines,
)
from deckgen.deckfiles import DECK_FILE, SYLLABUS_FILE
from deckgen.errors import DiagnosticSink, Location
from deckgen.model import DeckInfo, Section, SectionNames, Subtopic, Syllabus, Topic
from deckgen.safety import (
    language_problem,
    plain_text_problem,
    repository_problem,
    title_problem,
)
from deckgen.starter import slug
from deckgen.suggest import suggest
from deckgen.vcs import git

# A real syllabus has tens of entries; these keep a hostile one from costing minutes.
MAX_SYLLABUS_SECTIONS = 500
MAX_SYLLABUS_TOPICS = 2_000
MAX_SYLLABUS_SUBTOPICS = 10_000  # over all topics
# Tag prefixes deckgen gives notes itself (`topic::tcp`, `deckgen::changed::v1`): a section
# tag may not be one of them.
RESERVED_TAG_PREFIXES = frozenset({"topic", "deckgen"})


def load_deck_info(cards_dir: Path, sink: DiagnosticSink) -> DeckInfo:
    """deck.yaml, checked against deckgen/schemas/deck.yaml.schema.json, then value by value
    (names, text, addresses, language); a refused value is reported and its default used. At
    most MAX_REPORTS_PER_FILE problems are reported, then a summary."""
    found = DiagnosticSink()
    info = _read_deck_info(cards_dir, found)
    extend_capped(sink, found.items, cards_dir / DECK_FILE)
    return info


def check_section_tag(
    info: DeckInfo, syllabus: Syllabus, cards_dir: Path, sink: DiagnosticSink
) -> None:
    """Report a section tag prefix that is also a syllabus id: `<id>::x` would then be both a
    card's section and a tag under that id, and `--tag <id>::x` could not tell them apart."""
    tag = info.section.tag
    if syllabus.sections and tag in syllabus.vocabulary():
        sink.report(
            Location(cards_dir / DECK_FILE, info.section.line or 1),
            f"section tag '{tag}' is also a syllabus id: choose another `section: {{tag: …}}`",
            "DG110",
        )


def _read_deck_info(cards_dir: Path, sink: DiagnosticSink) -> DeckInfo:
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
    check_schema(data, DECK_FILE, path, sink)  # structure: keys, types, required, shapes
    values = without_lines(data)

    def checked(key: str, problem: Callable[[str], str | None], default: str) -> str:
        """The string value of `key` if its own check passes, else (reported) `default`.
        A value of the wrong type was reported by the schema check."""
        value = values.get(key)
        if not isinstance(value, str) or not value:
            return default
        found = problem(value)
        if found:
            sink.report(key_location(data, key, path), f"deck '{key}' {found}", "DG110")
            return default
        return value

    deck_id = values.get("id")
    deck_id = deck_id if isinstance(deck_id, str) and ID_RE.match(deck_id) else "deck"
    return DeckInfo(
        id=deck_id,
        language=checked("language", language_problem, "en"),
        name=checked("name", title_problem, "Deck"),
        description=checked("description", plain_text_problem, ""),
        repository=checked("repository", repository_problem, "") or git_remote_url(cards_dir),
        options=_deck_options(data),
        id_line=key_line(data, "id", 1),
        section=_section_names(data, path, sink),
    )


def _section_names(data: dict[str, Any], path: Path, sink: DiagnosticSink) -> SectionNames:
    """deck.yaml's `section:` (label, plural, tag), defaults filled in from the label."""
    value = data.get("section")
    if not isinstance(value, dict):
        return SectionNames()
    names: dict[str, str] = {}
    for key in ("label", "plural"):
        text = value.get(key)
        problem = title_problem(text) if isinstance(text, str) and text else None
        if problem:
            sink.report(key_location(value, key, path), f"section '{key}' {problem}", "DG110")
        elif isinstance(text, str) and text:
            names[key] = text
    label = names.get("label", SectionNames.label)
    tag = value.get("tag")
    if isinstance(tag, str) and tag in RESERVED_TAG_PREFIXES:
        sink.report(
            key_location(value, "tag", path),
            f"section 'tag' must not be '{tag}': deckgen tags notes '{tag}::…' itself",
            "DG110",
        )
    if not isinstance(tag, str) or not ID_RE.match(tag) or tag in RESERVED_TAG_PREFIXES:
        tag = slug(label, fallback=SectionNames.tag)
        tag = SectionNames.tag if tag in RESERVED_TAG_PREFIXES else tag
    line = key_line(value, "tag", 1) if "tag" in value else key_line(data, "section", 1)
    plural = names.get("plural", f"{label}s")
    return SectionNames(label=label, plural=plural, tag=tag, line=line)


def _deck_options(data: dict[str, Any]) -> tuple[tuple[str, str, int], ...]:
    """deck.yaml's `options:`, defaults for exporter options (checked against the exporters at
    build time, where it is known which formats are written). The schema check reported the
    ones that are not single values."""
    value = data.get("options")
    if not isinstance(value, dict):
        return ()
    return tuple(
        (name, str(setting), key_line(value, name, 1))
        for name, setting in without_lines(value).items()
        if not isinstance(setting, bool) and isinstance(setting, str | int | float)
    )


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
    sections = data.get("sections")
    for key, what, count, limit in (
        (
            "sections",
            "sections",
            len(sections) if isinstance(sections, list) else 0,
            MAX_SYLLABUS_SECTIONS,
        ),
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


def _entries(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The mappings listed under `key` (the schema check reported anything else there)."""
    value = data.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _read_syllabus(path: Path, sink: DiagnosticSink) -> Syllabus:
    if not os.path.lexists(path):
        sink.report(Location(path), "missing syllabus: its topics are defined there", "DG110")
        return Syllabus((), ())
    source = read_config_text(path, sink)
    data = load_yaml_with_lines(source, path, 1, sink) if source is not None else None
    if not isinstance(data, dict):
        if data is not None:
            sink.report(
                Location(path, 1),
                "the syllabus must be a mapping with 'topics' (and optionally 'sections')",
                "DG110",
            )
        return Syllabus((), (), Location(path))
    if _over_limits(path, data, sink):
        return Syllabus((), (), Location(path))
    check_schema(data, SYLLABUS_FILE, path, sink)  # structure: keys, types, required, shapes

    def text(entry: dict[str, Any], key: str) -> str:
        value = entry.get(key)
        if isinstance(value, str) and value and not value.strip() and key == "title":
            sink.report(key_location(entry, key, path), "'title' must not be blank", "DG110")
        if not isinstance(value, str) or not value.strip():
            return ""
        # titles name Anki decks and breadcrumbs; summaries are shown as plain text
        problem = title_problem(value.strip()) if key == "title" else plain_text_problem(value)
        if problem:
            sink.report(key_location(entry, key, path), f"'{key}' {problem}", "DG110")
            return ""
        return value.strip()

    def count(entry: dict[str, Any]) -> int:
        value = entry.get("min_cards", 0)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    seen: dict[str, int] = {}

    def ident(entry: dict[str, Any]) -> str:
        value = entry.get("id")
        if not isinstance(value, str) or not ID_RE.match(value):
            return ""
        line = key_line(entry, "id", 1)
        if value in seen:
            sink.report(
                key_location(entry, "id", path),
                f"duplicate syllabus id '{value}' (first defined at line {seen[value]})",
                "DG110",
            )
        seen.setdefault(value, line)
        return value

    sections = tuple(
        Section(id=ident(s), title=text(s, "title"), summary=text(s, "summary"))
        for s in _entries(data, "sections")
    )
    section_ids = frozenset(s.id for s in sections)
    unknown = 0
    topics = []
    for t in _entries(data, "topics"):
        topic_id = ident(t)
        named = t.get("sections")
        topic_sections = [s for s in named if isinstance(s, str)] if isinstance(named, list) else []
        if "sections" in data and "sections" not in t:
            sink.report(
                key_location(t, "", path),
                f"topic '{topic_id}' needs 'sections': the syllabus has sections",
                "DG110",
            )
        elif named is not None and "sections" not in data:
            sink.report(
                key_location(t, "sections", path),
                "'sections' names sections, but the syllabus has no 'sections:' list",
                "DG110",
            )
            topic_sections = []
        for s in topic_sections:
            if s not in section_ids:
                unknown += 1  # suggestions only for the problems that will be shown
                hint = suggest(s, section_ids) if unknown <= MAX_REPORTS_PER_FILE else ""
                sink.report(
                    key_location(t, "sections", path), f"unknown section '{s}'{hint}", "DG110"
                )
        subtopics = tuple(
            Subtopic(
                id=ident(s), title=text(s, "title"), min_cards=count(s), line=key_line(s, "id", 1)
            )
            for s in _entries(t, "subtopics")
        )
        topics.append(
            Topic(
                id=topic_id,
                title=text(t, "title"),
                sections=tuple(topic_sections),
                min_cards=count(t),
                subtopics=subtopics,
                line=key_line(t, "id", 1),
            )
        )
    return Syllabus(sections=sections, topics=tuple(topics), location=Location(path))
