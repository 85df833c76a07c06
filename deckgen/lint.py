"""Checking a deck: every rule in deckgen.rules, run in one pass, every finding with a location."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from markdown_it.token import Token

from deckgen.errors import Diagnostic, DiagnosticSink, Location, Severity
from deckgen.ids import IdLock, read_lock
from deckgen.load import CLOZE_RE, read_deck
from deckgen.model import Card, CardType, Deck, Text
from deckgen.printing import PrintOptions, TypstDocument, cards_source, print_cards
from deckgen.render import CardRenderer, RenderedCard, RenderedDeck, resolve_inside
from deckgen.stats import coverage

MAX_ANSWER_WORDS = 60
MAX_CLOZE_WORDS = 80  # a cloze carries its context and its answers in one text
MAX_ANSWER_ITEMS = 6
MAX_MEDIA_BYTES = 1024 * 1024
NEAR_DUPLICATE_SIMILARITY = 0.8

_STOPWORDS = frozenset(
    """a an and are as at be by does do for from how in is it its of on or that the this to was
    what when where which who why with you your""".split()
)
_WORD_RE = re.compile(r"[a-z0-9_]+(?:['.][a-z0-9_]+)*")
_CLOZE_FULL_RE = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", re.DOTALL)
_CLOZE_OPEN_RE = re.compile(r"\{\{c(\d+)::")
_CLOZE_LIKE_RE = re.compile(r"\{\{\s*[cC]\s*\d*\s*:{1,2}")


@dataclass(frozen=True)
class LintResult:
    deck: Deck
    rendered: RenderedDeck
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]


# --------------------------------------------------------------------------- field rules


class FieldChecker:
    """Rules that read a field's token stream; the renderer calls it for every field it parses."""

    def __init__(self, sink: DiagnosticSink, root: Path) -> None:
        self.sink = sink
        self.root = root

    def __call__(self, card: Card, name: str, text: Text, tokens: list[Token]) -> None:
        words = items = 0
        for token in tokens:
            line = text.line + (token.map[0] if token.map else 0)
            where = Location(card.path, line)
            if token.type in ("fence", "code_block"):
                if token.type == "fence" and not token.info.strip():
                    self.sink.report(
                        where,
                        f"code block in card '{card.id}' names no language (write ```rust, "
                        "```go, ```text …)",
                        "DG304",
                    )
                if CLOZE_RE.search(token.content):
                    self._cloze_in_code(card, where)
            elif token.type == "list_item_open":
                items += 1
            for child in token.children or ():
                if child.type == "code_inline" and CLOZE_RE.search(child.content):
                    self._cloze_in_code(card, where)
                elif child.type == "text":
                    words += len(child.content.split())
                elif child.type == "link_open":
                    self._check_link(card, str(child.attrGet("href") or ""), where)
        if name in ("back", "text"):
            self._check_length(card, name, text, words, items)

    def _cloze_in_code(self, card: Card, where: Location) -> None:
        self.sink.report(
            where,
            f"cloze deletion inside code in card '{card.id}': Anki cannot hide text that the "
            "highlighter has split; move the deletion out of the code",
            "DG303",
        )

    def _check_link(self, card: Card, href: str, where: Location) -> None:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path:
            return
        target = resolve_inside(card.path.parent, parts.path, self.root)
        if target is None:
            self.sink.report(
                where, f"link '{href}' in card '{card.id}' leaves the cards folder", "DG405"
            )
        elif not target.exists():
            self.sink.report(where, f"broken link '{href}' in card '{card.id}'", "DG403")

    def _check_length(self, card: Card, name: str, text: Text, words: int, items: int) -> None:
        label = "answer" if name == "back" else "cloze text"
        limit = MAX_ANSWER_WORDS if name == "back" else MAX_CLOZE_WORDS
        where = Location(card.path, text.line)
        if words > limit:
            self.sink.report(
                where,
                f"{label} of '{card.id}' has {words} words (limit {limit}): "
                "one fact per card — split it or move background to Extra:",
                "DG310",
            )
        if items > MAX_ANSWER_ITEMS:
            self.sink.report(
                where,
                f"{label} of '{card.id}' has {items} list items (limit {MAX_ANSWER_ITEMS}): "
                "split it into several cards",
                "DG310",
            )


# --------------------------------------------------------------------------- card rules


def check_cloze_syntax(card: Card, sink: DiagnosticSink) -> None:
    """Balanced `{{cN::…}}` in cloze cards; no cloze markup anywhere else."""
    for name, text in card.markdown_fields():
        if name == "source":
            continue
        if card.type is not CardType.CLOZE or name != "text":
            if CLOZE_RE.search(text.markdown):
                sink.report(
                    Location(card.path, text.line),
                    f"cloze markup in the {name} of '{card.id}', which is a {card.type.value} "
                    "card: use 'Cloze:' for cloze cards",
                    "DG306",
                )
            continue
        for offset, line in enumerate(text.markdown.split("\n")):
            for match in _CLOZE_LIKE_RE.finditer(line):
                if not _CLOZE_OPEN_RE.match(line, match.start()):
                    sink.report(
                        _at(card, text, offset, match.start()),
                        f"malformed cloze '{match.group(0)}' in '{card.id}': write {{{{c1::…}}}}",
                        "DG302",
                    )
        _check_cloze_balance(card, text, sink)


def _at(card: Card, text: Text, line_offset: int, index: int) -> Location:
    """The source location of character `index` on line `line_offset` of a field's Markdown."""
    col = index + (text.col if line_offset == 0 else 1)
    return Location(card.path, text.line + line_offset, col)


def _check_cloze_balance(card: Card, text: Text, sink: DiagnosticSink) -> None:
    opened: list[tuple[int, int]] = []  # (line offset, column) of each open deletion
    numbers = set()
    for offset, line in enumerate(text.markdown.split("\n")):
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


def check_card(card: Card, deck: Deck, sink: DiagnosticSink) -> None:
    if not card.sources:
        sink.report(
            card.location,
            f"card '{card.id}' has no Source: — cite an RFC section, official docs or a "
            "primary blog post",
            "DG311",
        )
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
    check_cloze_syntax(card, sink)


def check_media_sizes(rendered: RenderedDeck, sink: DiagnosticSink) -> None:
    for media in rendered.media:
        size = media.path.stat().st_size
        if size > MAX_MEDIA_BYTES:
            sink.report(
                Location(media.path),
                f"image is {size / 1024 / 1024:.1f} MiB (limit {MAX_MEDIA_BYTES // 1024} KiB): "
                "shrink or compress it",
                "DG402",
            )


# --------------------------------------------------------------------------- deck rules


def question_words(card: Card) -> list[str]:
    """The normalised words of what a card asks: front, or the cloze text with answers shown."""
    text = card.front or card.text
    if text is None:
        return []
    plain = _CLOZE_FULL_RE.sub(r"\1", text.markdown).lower()
    return [w for w in _WORD_RE.findall(plain) if w not in _STOPWORDS]


def near_duplicates(
    cards: Iterable[Card], threshold: float = NEAR_DUPLICATE_SIMILARITY
) -> list[tuple[Card, Card, float]]:
    """Pairs of cards whose question word sets have Jaccard similarity >= threshold.

    Prefix filtering (an exact all-pairs similarity join): with words ordered rarest first,
    two sets that reach the threshold must share a word among the first
    `len - ceil(threshold * len) + 1` words of each, so only those words are indexed and
    compared. The cost grows with the number of cards, not with its square.
    """
    records = [(card, set(question_words(card))) for card in cards]
    records = [(card, words) for card, words in records if words]
    frequency = Counter(w for _, words in records for w in words)
    index: dict[str, list[int]] = defaultdict(list)
    pairs = []
    for position, (card, words) in enumerate(records):
        ordered = sorted(words, key=lambda w: (frequency[w], w))
        prefix = ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]
        candidates = {other for w in prefix for other in index[w]}
        for other in sorted(candidates):
            other_card, other_words = records[other]
            similarity = len(words & other_words) / len(words | other_words)
            if similarity >= threshold:
                pairs.append((other_card, card, similarity))
        for w in prefix:
            index[w].append(position)
    return pairs


def check_near_duplicates(deck: Deck, sink: DiagnosticSink) -> None:
    for first, second, similarity in near_duplicates(deck.cards):
        sink.report(
            second.location,
            f"question of '{second.id}' is nearly the same as '{first.id}' "
            f"({first.location.display()}, {similarity:.0%} of words shared)",
            "DG301",
        )


def check_coverage(deck: Deck, sink: DiagnosticSink) -> None:
    syllabus_path = deck.syllabus.location.path if deck.syllabus.location else deck.root
    for row in coverage(deck):
        if row.short:
            sink.report(
                Location(syllabus_path, row.line),
                f"{row.kind} '{row.id}' ({row.title}) has {row.have} card"
                f"{'s' if row.have != 1 else ''}, needs {row.need}",
                "DG210",
            )


def check_published_ids(deck: Deck, lock: IdLock, sink: DiagnosticSink) -> None:
    present = {card.id: card for card in deck.cards}
    for card_id in lock.published:
        if card_id not in present and card_id not in lock.retired:
            sink.report(
                Location(lock.path, lock.lines.get(card_id, 0)),
                f"published card '{card_id}' has disappeared: learners' review history hangs on "
                f"it. Restore it, or retire it on purpose with `deckgen retire {card_id} "
                '--reason "…"`',
                "DG501",
            )
    for card_id, card in present.items():
        if card_id in lock.retired:
            sink.report(
                card.location,
                f"card id '{card_id}' was retired ({lock.retired[card_id]}) and must not be "
                "reused: choose a new id",
                "DG502",
            )


# --------------------------------------------------------------------------- entry point


def check_print_overflow(rendered: RenderedDeck, sink: DiagnosticSink) -> None:
    """Lay the cards out as the default cut-out PDF does and report any that cannot fit."""
    cards = print_cards(rendered)
    source = cards_source(rendered, cards, PrintOptions(), timestamp=0)
    by_id = {r.card.id: r.card for r in rendered.cards}
    with TypstDocument(source, rendered.media) as document:
        for card_id, side in document.overflows():
            sink.report(
                by_id[card_id].location,
                f"the {side} of '{card_id}' does not fit a printed card (A4, 2x4) even at the "
                "smallest size: shorten it or move background to Extra:",
                "DG320",
            )


def lint_deck(cards_dir: Path, *, print_check: bool = True) -> LintResult:
    """Run every rule over the deck in `cards_dir`; never raises for problems in the cards.

    `print_check` lays out the printed cards to find those too long for their cell (DG320).
    """
    sink = DiagnosticSink()
    deck = read_deck(cards_dir, sink)
    renderer = CardRenderer(deck, sink, field_hook=FieldChecker(sink, cards_dir))
    rendered_cards: list[RenderedCard] = []
    for card in deck.cards:
        rendered_cards.append(renderer.render(card))
        check_card(card, deck, sink)
    rendered = renderer.finish(tuple(rendered_cards))
    check_media_sizes(rendered, sink)
    check_near_duplicates(deck, sink)
    if deck.syllabus.topics:
        check_coverage(deck, sink)
    lock = read_lock(cards_dir)
    if lock.exists:
        check_published_ids(deck, lock, sink)
    if print_check and rendered.cards and not sink.errors:
        check_print_overflow(rendered, sink)
    diagnostics = tuple(sorted(sink.items, key=lambda d: (d.location, d.code)))
    return LintResult(deck=deck, rendered=rendered, diagnostics=diagnostics)
