"""One card file into cards: the parser of a Markdown file of cards (front matter, `## id`
headings, field markers) with the line of every problem, which the compile stage runs on each
file that load read."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

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
from deckgen.configfile import key_hint, key_line, load_yaml_with_lines, without_lines
from deckgen.errors import DiagnosticSink, Location
from deckgen.markdown import CLOZE_OPEN_RE, make_parser
from deckgen.model import Card, Syllabus, Text
from deckgen.suggest import suggest

log = logging.getLogger(__name__)

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*(?:::[a-z0-9]+(?:[-_][a-z0-9]+)*)*$")
MAX_ID_LENGTH = 80
# Limits that keep a hostile or broken file from hanging a build (load caps its size).
MAX_LINE_CHARS = 5_000
MAX_TOKENS = 20_000
MAX_NESTING = 18  # markdown-it stops nesting at 20 and would silently flatten the rest
MAX_CLOZE_NUMBER = 50
FIELD_NAMES = (*CONTENT_FIELDS, "Extra", "Source", "Tags", "Type")
FIELD_RE = re.compile(rf"^ {{0,3}}({'|'.join(FIELD_NAMES)}):(?:[ \t]+|$)(.*)$")
FRONT_MATTER_KEYS = {"topic": str, "section": str, "tags": list}
SINGLE_LINE_FIELDS = {"Tags", "Type"}
# A line at a card's top level that starts `Word:` is a mistyped field marker (DG114) when the
# word is a field name in another case, a common other name for one, or within this similarity
# of one and at most a letter longer or shorter; any other `Word:` line (`Note: …`, `Cloud: …`)
# is the field's content.
WORD_COLON_RE = re.compile(r"^ {0,3}([A-Za-z][A-Za-z-]*):(?:[ \t]|$)")
FIELD_ALIASES = {"answer": "A", "question": "Q", "hint": "Extra"}
FIELD_ALIASES |= {f"{word}s": name for word, name in FIELD_ALIASES.items()}
NEAR_FIELD_RATIO = 0.8


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
    near_misses: list[tuple[int, int, str, str]] = dataclasses.field(default_factory=list)
    # (0-based line, 1-based column, word, field name) of each mistyped field marker
    heading: str = ""  # the heading's marker when it is not '##' ('###', '#'): DG115


def near_field(word: str, rest: str) -> str | None:
    """The field name `word` (written before a ':' and followed by `rest`) is a mistyping of,
    or None."""
    lowered = word.lower()
    for name in FIELD_NAMES:
        if name.lower() == lowered:
            return name
    if lowered in FIELD_ALIASES:
        return FIELD_ALIASES[lowered]
    best = max(FIELD_NAMES, key=lambda n: difflib.SequenceMatcher(None, lowered, n.lower()).ratio())
    ratio = difflib.SequenceMatcher(None, lowered, best.lower()).ratio()
    # at most one letter more or less: 'Sources', 'Clozes', not 'Resource' or 'Extract'
    if ratio < NEAR_FIELD_RATIO or abs(len(word) - len(best)) > 1:
        return None
    # 'Close: the socket…' is prose; a mistyped 'Cloze:' holds a deletion
    return None if best == "Cloze" and "{{c" not in rest else best


def _followed_by_field(tokens: list[Token], i: int, lines: list[str]) -> bool:
    """Whether the heading opened at tokens[i] is followed directly by a field marker."""
    nxt = tokens[i + 3] if i + 3 < len(tokens) else None
    return (
        nxt is not None
        and nxt.type == "paragraph_open"
        and nxt.map is not None
        and FIELD_RE.match(lines[nxt.map[0]]) is not None
    )


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
        if token.type == "heading_open":
            card_like = token.tag == "h2" or _followed_by_field(tokens, i, lines)
            if token.tag not in ("h1", "h2") and not card_like:
                continue  # a heading inside a field's content
            if current is not None:
                current.end = start
                current = None
            if card_like:
                current = _Section(tokens[i + 1].content.strip(), start, len(lines), [])
                if token.tag != "h2":
                    current.heading = token.markup
                sections.append(current)
            continue
        if token.type == "front_matter":
            continue
        if token.type == "paragraph_open":
            for line_no in range(start, end):
                match = FIELD_RE.match(lines[line_no])
                near = WORD_COLON_RE.match(lines[line_no]) if match is None else None
                name = (
                    near_field(near.group(1), lines[line_no][near.end() :])
                    if near is not None
                    else None
                )
                if near is not None and name is not None and current is not None:
                    current.near_misses.append((line_no, near.start(1) + 1, near.group(1), name))
                    continue
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


def parse_card_file(
    path: Path,
    text: str,
    syllabus: Syllabus,
    sink: DiagnosticSink,
    unchecked: list[tuple[str, int]] | None = None,
) -> list[Card]:
    """Parse one Markdown file into cards; every problem goes to `sink` with its line.

    When the file fails as a whole (its front matter), the (id, 1-based line) of each card
    heading in it, none of them checked, are added to `unchecked`.
    """
    # Lines are split at '\n' only, as markdown-it splits them (after turning '\r\n' and '\r'
    # into '\n'): str.splitlines() also breaks at U+2028, U+0085, form feed, … and would shift
    # every line number after one.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
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
        if any(t.type == "front_matter" for t in tokens):
            sink.report(
                Location(path, 1),
                "file has front matter but no cards: nothing in it is built "
                "(start each card with a '## card-id' heading)",
                "DG116",
            )
        log.debug("%s has no cards", path)
        return []

    meta = _front_matter(path, tokens, syllabus, sink)
    if meta is None:
        if unchecked is not None:
            unchecked.extend((s.id, s.line + 1) for s in sections if s.id)
        return []
    topic_id, section_id, file_tags = meta

    cards = []
    for section in sections:
        card = _build_card(path, lines, section, topic_id, section_id, file_tags, syllabus, sink)
        if card is not None:
            cards.append(card)
    return cards


YAML_ONLY_BREAKS = {0x85: " ", 0x2028: " ", 0x2029: " "}
CARD_HEADING_RE = re.compile(r"^## +(\S+)", re.MULTILINE)


def heading_ids(text: str) -> list[tuple[str, int]]:
    """The (id, 1-based line) of every '## id' line: the cards of a file that cannot be parsed."""
    return [
        (m.group(1), text.count("\n", 0, m.start()) + 1) for m in CARD_HEADING_RE.finditer(text)
    ]


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
    # YAML also breaks lines at NEL, U+2028 and U+2029, which would shift the lines it names:
    # in front matter (ids and tags) they can only be spaces.
    content = token.content.translate(YAML_ONLY_BREAKS)
    data = load_yaml_with_lines(content, path, first_line, sink)
    if data is None:
        if not token.content.strip():
            sink.report(Location(path, 1), "empty front matter: 'topic' is required", "DG102")
        return None
    if not isinstance(data, dict):
        sink.report(Location(path, first_line), "front matter must be a mapping of keys", "DG102")
        return None
    ok = True
    for key, value in without_lines(data).items():
        where = Location(path, key_line(data, key, first_line))
        expected = FRONT_MATTER_KEYS.get(key)
        if expected is None:
            known = ", ".join(sorted(FRONT_MATTER_KEYS))
            sink.report(
                where,
                f"unknown front-matter key '{key}'{key_hint(key, FRONT_MATTER_KEYS)}"
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
            Location(path, key_line(data, "topic", first_line)),
            f"unknown topic '{topic_id}'{suggest(topic_id, (t.id for t in syllabus.topics))}",
            "DG202",
        )
        return None
    section_id = str(data.get("section") or (topic.sections[0] if topic.sections else ""))
    if section_id and syllabus.section(section_id) is None:
        ids = [s.id for s in syllabus.sections]
        why = suggest(section_id, ids) if ids else ": the syllabus has no sections"
        sink.report(
            Location(path, key_line(data, "section", first_line)),
            f"unknown section '{section_id}'{why}",
            "DG201",
        )
        return None
    tags = data.get("tags") or []
    tag_line = key_line(data, "tags", first_line)
    good_tags = _check_tags(path, tag_line, tags, syllabus, sink)
    return topic_id, section_id, tuple(good_tags)


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
    section_id: str,
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
    if section.heading:
        sink.report(
            where,
            f"'{section.heading} {section.id}' is followed by fields, but card headings are "
            f"'## id': write '## {section.id}'",
            "DG115",
        )
    for line_no, col, word, name in section.near_misses:
        sink.report(
            Location(path, line_no + 1, col),
            f"'{word}:' is not a field (did you mean '{name}:'?)",
            "DG114",
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
        section=section_id,
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
