"""Card rules: each reads one card, after the compile stage has rendered it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from deckgen.checks.registry import card_rule
from deckgen.errors import DiagnosticSink, Location
from deckgen.markdown import CLOZE_OPEN_RE
from deckgen.model import Card, Deck, Text

# Possessive runs: with plain `\s*\d*\s*` a `{{c` followed by thousands of spaces and no `:` is
# split between the two `\s*` every possible way (0.26 s per 5,000-character line). The runs
# cannot give anything back that the next item could use, so the matches are the same.
_CLOZE_LIKE_RE = re.compile(r"\{\{\s*+[cC]\s*+\d*+\s*+:{1,2}")


@card_rule("DG311")
def missing_source(card: Card, deck: Deck, sink: DiagnosticSink) -> None:
    if not card.sources:
        sink.report(
            card.location,
            f"card '{card.id}' has no Source: — cite an RFC section, official docs or a "
            "primary blog post",
            "DG311",
        )


@card_rule("DG211")
def no_subtopic(card: Card, deck: Deck, sink: DiagnosticSink) -> None:
    topic = deck.syllabus.topic(card.topic)
    if topic is not None and topic.subtopics:
        subtopics = {s.id for s in topic.subtopics}
        if not subtopics.intersection(card.tags):
            sink.report(
                card.location,
                f"card '{card.id}' names no subtopic of '{topic.id}' (one of: "
                f"{', '.join(sorted(subtopics))})",
                "DG211",
            )


def _is_cloze_text(card: Card, name: str) -> bool:
    return card.type.cloze and name == "text"


@card_rule("DG306")
def cloze_outside_cloze_card(card: Card, deck: Deck, sink: DiagnosticSink) -> None:
    """No cloze markup anywhere but the text of a cloze card (sources may quote it)."""
    for name, text in card.markdown_fields():
        if name == "source" or _is_cloze_text(card, name):
            continue
        if CLOZE_OPEN_RE.search(text.markdown):
            sink.report(
                Location(card.path, text.line),
                f"cloze markup in the {name} of '{card.id}', which is a {card.type.key} "
                "card: use 'Cloze:' for cloze cards",
                "DG306",
            )


def _at(card: Card, text: Text, line_offset: int, index: int) -> Location:
    """The source location of character `index` on line `line_offset` of a field's Markdown."""
    col = index + (text.col if line_offset == 0 else 1)
    return Location(card.path, text.line + line_offset, col)


def _lines(text: Text) -> Iterator[tuple[int, str]]:
    return enumerate(text.markdown.split("\n"))


@card_rule("DG302")
def cloze_syntax(card: Card, deck: Deck, sink: DiagnosticSink) -> None:
    """Well-formed, balanced `{{cN::…}}` in the text of a cloze card."""
    for name, text in card.markdown_fields():
        if not _is_cloze_text(card, name):
            continue
        for offset, line in _lines(text):
            for match in _CLOZE_LIKE_RE.finditer(line):
                if not CLOZE_OPEN_RE.match(line, match.start()):
                    sink.report(
                        _at(card, text, offset, match.start()),
                        f"malformed cloze '{match.group(0)}' in '{card.id}': write {{{{c1::…}}}}",
                        "DG302",
                    )
        _check_cloze_balance(card, text, sink)


def _check_cloze_balance(card: Card, text: Text, sink: DiagnosticSink) -> None:
    opened: list[tuple[int, int]] = []  # (line offset, column) of each open deletion
    numbers = set()
    for offset, line in _lines(text):
        for match in re.finditer(r"\{\{c(\d+)::|\}\}", line):
            if match.group(0) == "}}":
                if opened:
                    opened.pop()
                else:
                    sink.report(
                        _at(card, text, offset, match.start()),
                        f"'}}}}' without an opening {{{{c1:: in '{card.id}'",
                        "DG302",
                    )
            else:
                numbers.add(int(match.group(1)))
                opened.append((offset, match.start()))
    for offset, col in opened:
        sink.report(
            _at(card, text, offset, col),
            f"cloze deletion in '{card.id}' is never closed with '}}}}'",
            "DG302",
        )
    if 0 in numbers:
        sink.report(
            Location(card.path, text.line),
            f"'{{{{c0::' in '{card.id}': cloze numbers start at c1",
            "DG302",
        )
