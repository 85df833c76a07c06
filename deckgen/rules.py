"""The catalogue of rules: every diagnostic deckgen emits has a code, a name and a severity.

Only data, at the bottom of the layers: deckgen.errors reads severities here, the rule functions
(deckgen.checks) register against these codes, and `deckgen rules` prints this table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


E = Severity.ERROR
W = Severity.WARNING


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str


_RULES = [
    # DG1xx: files, front matter and card structure
    Rule("DG101", "invalid-yaml", E, "YAML that does not parse (front matter, deck or syllabus)"),
    Rule("DG102", "front-matter-schema", E, "unknown front-matter keys, wrong types, no topic"),
    Rule("DG103", "missing-id", E, "a card heading without an id"),
    Rule("DG104", "invalid-id", E, "an id that is not a lowercase slug"),
    Rule("DG105", "duplicate-id", E, "two cards with the same id"),
    Rule("DG106", "card-structure", E, "fields outside a card, repeated, or text before a field"),
    Rule(
        "DG107",
        "unknown-card-type",
        E,
        "a Type: that no card type has (`deckgen new --help`)",
    ),
    Rule("DG108", "missing-field", E, "a basic card without Q:/A:, a cloze card without Cloze:"),
    Rule("DG109", "empty-field", E, "an empty question, answer or source"),
    Rule(
        "DG110",
        "deck-config",
        E,
        "deck.yaml or syllabus.yaml is missing, malformed or breaks its schema",
    ),
    Rule("DG111", "resource-limit", E, "a file, line, nesting or structure too large to compile"),
    Rule("DG112", "check-budget", E, "a file too slow to check, or too many similar questions"),
    Rule("DG113", "placeholder", E, "a field still holding `deckgen new`'s TODO placeholder"),
    Rule("DG114", "unknown-field", E, "a mistyped field name (Sources:, Answer:, a:) in a card"),
    Rule("DG115", "card-heading", E, "a card under a '#' or '###' heading instead of '## id'"),
    Rule("DG116", "skipped-file", W, "a card file that is not read (.MD) or holds no cards"),
    # DG12x: what a build reads besides the cards, and what it writes
    Rule(
        "DG120",
        "template-error",
        E,
        "a --templates template that is missing, fails to render, or that Anki or Typst refuses",
    ),
    Rule("DG121", "io-error", E, "a file or folder that cannot be written or read (--out, …)"),
    Rule("DG122", "output-symlink", E, "an output folder or output file that is a symbolic link"),
    # DG2xx: the syllabus vocabulary and coverage
    Rule("DG201", "unknown-section", E, "a section the syllabus does not define"),
    Rule("DG202", "unknown-topic", E, "a topic the syllabus does not define"),
    Rule("DG203", "unknown-tag", E, "a tag that is not a syllabus id"),
    Rule("DG210", "coverage", E, "a topic or subtopic with fewer cards than its minimum"),
    Rule("DG211", "no-subtopic", W, "a card of a topic with subtopics that names none of them"),
    # DG3xx: card content
    Rule("DG301", "near-duplicate", W, "two questions that are almost the same text"),
    Rule("DG302", "cloze-syntax", E, "broken or unbalanced cloze markup"),
    Rule("DG303", "cloze-in-code", E, "a cloze deletion inside inline code or a code block"),
    Rule("DG304", "code-fence-language", W, "a fenced code block that names no language"),
    Rule("DG305", "cloze-without-deletions", E, "a cloze card with no {{c1::…}} deletion"),
    Rule("DG306", "cloze-outside-cloze-card", E, "cloze markup in a basic or reversed card"),
    Rule("DG307", "typed-answer-shape", E, "a type-answer card whose answer is not one short line"),
    Rule("DG310", "answer-too-long", W, "an answer over the word or list-item limit"),
    Rule("DG311", "missing-source", W, "a card without a Source:"),
    Rule(
        "DG312",
        "several-facts",
        W,
        "a question asking several things, or an answer listing or packing many facts",
    ),
    Rule("DG320", "print-overflow", W, "a card too long for its printed cell at the smallest size"),
    Rule("DG330", "format-leaves-out", W, "content a format cannot carry (CSV type-answer extras)"),
    # DG4xx: media, links and HTML
    Rule("DG401", "missing-media", E, "an image file that does not exist"),
    Rule("DG402", "oversized-media", W, "an image larger than the size limit"),
    Rule("DG403", "broken-link", E, "a relative link to a file that does not exist"),
    Rule("DG404", "unsafe-html", E, "scripts, event handlers, javascript: URLs, remote resources"),
    Rule("DG405", "media-outside", E, "an image outside the cards folder or of a wrong type"),
    # DG5xx: identity over time
    Rule("DG501", "published-id-removed", E, "a published card id that disappeared"),
    Rule("DG502", "retired-id-reused", E, "a retired card id used again"),
    Rule("DG503", "released-type-changed", E, "a released card whose Type: changed"),
    Rule("DG504", "released-card-moved", W, "a released card moved to another topic or section"),
    Rule("DG505", "deck-id-changed", E, "a deck.yaml id other than the released deck's"),
    # DG9xx: command-level problems
    Rule(
        "DG901",
        "empty-selection",
        E,
        "a `--tag` or `--exclude-tag` naming no tag, or an empty selection",
    ),
    Rule("DG902", "build-clock", E, "a SOURCE_DATE_EPOCH or commit time unusable as the clock"),
    Rule("DG903", "export-option", E, "a format option that the exporter refuses"),
    Rule(
        "DG904", "release-refused", E, "a malformed or taken release version, or nothing to release"
    ),
    Rule(
        "DG905",
        "sync-refused",
        E,
        "a collection open in Anki, of another schema or without this deck; unreleased cards",
    ),
    Rule(
        "DG906",
        "progress-refused",
        E,
        "a progress file for `sync --reviews` that breaks its schema or is of another deck",
    ),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def severity_of(code: str) -> Severity:
    return RULES[code].severity
