"""Card rules: each reads one card, after the compile stage has rendered it."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from markdown_it.token import Token

from deckgen.checks.fields import MAX_ANSWER_ITEMS
from deckgen.checks.registry import Field, card_rule, field_rule
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


# --------------------------------------------------------------------------- one fact per card

# DG312 flags the obvious signs that a card asks or answers several things at once (the
# minimum-information principle). The limits were measured on the shipped deck (issue 18,
# 388 cards): each of the 5 answers with 5 list items (none had 6) enumerates a set, which a
# cloze or one card per item serves better, while the two 4-item answers include a single
# mapping (one Tokio channel per need); each of the 4 answers with 6 or more distinct figures
# states several facts, while formulas and worked examples (RFC 6298's RTO, a rate-limit
# estimate, ephemeral ports over TIME-WAIT) stay at 5 or fewer. Long answers are DG310's.
MAX_FACT_LIST_ITEMS = 4  # more list items than this is an enumeration: a cloze or one card each
MAX_ANSWER_NUMBERS = 5  # distinct figures in one answer, identifiers (RFC 9293, TLS 1.3) aside

_ASK_WORDS = (
    "what|which|why|how|when|where|who|whom|whose|does|do|did|is|are|was|were|can|could"
    "|must|should|would|will|name"
)
_PREPOSITIONS = "(?:in|on|at|for|from|to|with|by|under)"
# ", and what …", "; or which …", ", and in which …": a second question joined to the first.
_JOINED_ASK_RE = re.compile(
    rf"[,;]\s++(?:and|or|but)\s++(?:also\s++)?(?:{_ASK_WORDS}|{_PREPOSITIONS}\s++(?:what|which|whom))\b",
    re.IGNORECASE,
)
# ", in which …" with no conjunction asks again only after a first question ("Which record …,
# in which zone …"); after an opening phrase ("In HPACK, at which index …") it is the first.
# A bare ", which …" is left alone: it is usually a relative clause.
_LISTED_ASK_RE = re.compile(rf"[,;]\s++{_PREPOSITIONS}\s++(?:what|which|whom)\b", re.IGNORECASE)
_ASK_WORD_RE = re.compile(rf"\b(?:{_ASK_WORDS})\b", re.IGNORECASE)
# A bare "…, and why?" asks for the reason of the same fact, which belongs on its answer; a
# code-reading card may also ask for its fix, since the fix is the other side of one diagnosis.
_FOLLOW_UPS = "why"
_CODE_FOLLOW_UPS = "why|what is the fix|how do you fix it|what fixes it"
_NUMBER_RE = re.compile(  # a time of day (13:42, 14:09:30) is one figure
    r"(?<![\w.§/-])(?:0x[0-9a-f]++|\d{1,2}:\d{2}(?::\d{2})?+|\d++(?:[.,]\d++)*+)(?![\w-])",
    re.IGNORECASE,
)
_IDENTIFIER_RE = re.compile(
    r"\b(?:RFC|BCP|STD)\s*+\d++|§\s*+[\d.]++"
    r"|\b(?:Go|TLS|Linux|Python|Rust|Node\.js|HTTP)\s*+\d++(?:\.\d++)*+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Shape:
    """What DG312 reads of a field: its prose outside code, its list items, whether it holds a
    code block."""

    prose: str
    items: int
    code: bool


def _shape(tokens: list[Token]) -> _Shape:
    words: list[str] = []
    items, code = 0, False
    for token in tokens:
        items += token.type == "list_item_open"
        code = code or token.type in ("fence", "code_block")
        words.extend(child.content for child in token.children or () if child.type == "text")
    return _Shape(" ".join(words), items, code)


def _follow_up_re(alternatives: str) -> re.Pattern[str]:
    return re.compile(rf"(?:,\s*+(?:and|or)\s++|\?\s*+)(?:{alternatives})\s*+\?", re.IGNORECASE)


_FOLLOW_UP_RE = _follow_up_re(_FOLLOW_UPS)
_CODE_FOLLOW_UP_RE = _follow_up_re(_CODE_FOLLOW_UPS)


def question_asks(question: str, code_reading: bool) -> list[str]:
    """The separate things a question (its prose outside code) asks for, as the signs that
    show them: each question mark past the first, and each second question joined with
    ', and …'; empty for a question asking one thing."""
    follow_ups = _CODE_FOLLOW_UP_RE if code_reading else _FOLLOW_UP_RE
    question = follow_ups.sub("?", question)
    joins = list(_JOINED_ASK_RE.finditer(question))
    # A listed ask counts after an ask word in the same sentence (since the last '?'); looked
    # up by position, so that many of them in one long question cost linear time.
    marks = [match.start() for match in re.finditer(r"\?", question)]
    asks = [match.start() for match in _ASK_WORD_RE.finditer(question)]
    for listed in _LISTED_ASK_RE.finditer(question):
        before = bisect.bisect_left(marks, listed.start())
        sentence = marks[before - 1] + 1 if before else 0
        first_ask = bisect.bisect_left(asks, sentence)
        if first_ask < len(asks) and asks[first_ask] < listed.start():
            joins.append(listed)
    joins.sort(key=lambda match: match.start())
    signs = [f"'{' '.join(m.group(0).split())} …'" for m in joins]
    if len(marks) > 1:
        signs.insert(0, f"{len(marks)} question marks")
    return signs


def answer_numbers(answer: str) -> list[str]:
    """The distinct figures in an answer's prose, in order, leaving out identifiers that are
    not facts to recall (RFC 9293, §3.5.3, TLS 1.3, Go 1.22)."""
    figures = _NUMBER_RE.findall(_IDENTIFIER_RE.sub(" ", answer))
    return list(dict.fromkeys(figures))


def _some(items: list[str], shown: int) -> str:
    """The first `shown` items, so that a hostile card cannot make its message huge."""
    return ", ".join(items[:shown]) + (", …" if len(items) > shown else "")


@field_rule("DG312")
def several_facts(field: Field, sink: DiagnosticSink) -> None:
    """One fact per card: a question asking several things, an answer listing many items or
    packing many figures. A cloze card asks its deletions one at a time and has no question,
    so only its length is checked (DG310). Read from the tokens the compile stage parsed."""
    card = field.card
    if card.type.cloze or card.front is None or card.back is None:
        return
    if field.name == "front":
        question = _shape(field.tokens)
        asks = question_asks(question.prose, code_reading=question.code)
        if asks:
            sink.report(
                Location(card.path, card.front.line),
                f"question of '{card.id}' asks {len(asks) + 1} things ({_some(asks, 3)}): "
                "one fact per card — split it, or make it a cloze",
                "DG312",
            )
    if field.name != "back":
        return
    answer = _shape(field.tokens)
    if MAX_FACT_LIST_ITEMS < answer.items <= MAX_ANSWER_ITEMS:  # longer lists are DG310's
        sink.report(
            Location(card.path, card.back.line),
            f"answer of '{card.id}' lists {answer.items} items (limit {MAX_FACT_LIST_ITEMS}): "
            "one fact per card — a cloze, or one card per item",
            "DG312",
        )
    figures = answer_numbers(answer.prose)
    if len(figures) > MAX_ANSWER_NUMBERS:
        sink.report(
            Location(card.path, card.back.line),
            f"answer of '{card.id}' packs {len(figures)} figures ({_some(figures, 8)}; limit "
            f"{MAX_ANSWER_NUMBERS}): one fact per card — split it, or move the rest to Extra:",
            "DG312",
        )
