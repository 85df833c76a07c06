"""Field rules: each reads the Markdown tokens of one field, as the compile stage renders it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from markdown_it.token import Token

from deckgen.checks.registry import Field, field_rule
from deckgen.errors import DiagnosticSink, Location
from deckgen.markdown import CLOZE_OPEN_RE
from deckgen.render import resolve_inside

MAX_ANSWER_WORDS = 60
MAX_CLOZE_WORDS = 80  # a cloze carries its context and its answers in one text
MAX_ANSWER_ITEMS = 6


def _links(field: Field) -> Iterator[tuple[str, Token, Token]]:
    """Every link's target in the field, with the block token holding it and its own token."""
    for token in field.tokens:
        for child in token.children or ():
            if child.type == "link_open":
                yield str(child.attrGet("href") or ""), token, child


def _relative_target(field: Field, href: str) -> tuple[bool, Path | None]:
    """Whether `href` names a file of the deck, and that file (None when it leaves the cards
    folder); remembered for the cache, since the findings depend on whether it exists."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path:
        return False, None
    target = resolve_inside(field.card.path.parent, parts.path, field.root)
    if target is not None:
        field.touched.add(target)
    return True, target


@field_rule("DG304")
def code_fence_language(field: Field, sink: DiagnosticSink) -> None:
    for token in field.tokens:
        if token.type == "fence" and not token.info.strip():
            sink.report(
                field.where(token),
                f"code block in card '{field.card.id}' names no language (write ```rust, "
                "```go, ```text …)",
                "DG304",
            )


def _code_with_cloze(tokens: list[Token]) -> Iterator[tuple[Token, Token | None]]:
    for token in tokens:
        if token.type in ("fence", "code_block") and CLOZE_OPEN_RE.search(token.content):
            yield token, None
        for child in token.children or ():
            if child.type == "code_inline" and CLOZE_OPEN_RE.search(child.content):
                yield token, child


@field_rule("DG303")
def cloze_in_code(field: Field, sink: DiagnosticSink) -> None:
    for token, child in _code_with_cloze(field.tokens):
        sink.report(
            field.where(token, child),
            f"cloze deletion inside code in card '{field.card.id}': Anki cannot hide text that "
            "the highlighter has split; move the deletion out of the code",
            "DG303",
        )


@field_rule("DG403")
def broken_link(field: Field, sink: DiagnosticSink) -> None:
    for href, token, child in _links(field):
        _, target = _relative_target(field, href)
        if target is not None and not target.exists():
            where = field.where(token, child)
            sink.report(where, f"broken link '{href}' in card '{field.card.id}'", "DG403")


@field_rule("DG405")
def link_outside(field: Field, sink: DiagnosticSink) -> None:
    for href, token, child in _links(field):
        relative, target = _relative_target(field, href)
        if relative and target is None:
            sink.report(
                field.where(token, child),
                f"link '{href}' in card '{field.card.id}' leaves the cards folder",
                "DG405",
            )


@field_rule("DG310")
def answer_too_long(field: Field, sink: DiagnosticSink) -> None:
    if field.name not in ("back", "text"):
        return
    words = items = 0
    for token in field.tokens:
        if token.type == "list_item_open":
            items += 1
        for child in token.children or ():
            if child.type == "text":
                words += len(child.content.split())
    label = "answer" if field.name == "back" else "cloze text"
    limit = MAX_ANSWER_WORDS if field.name == "back" else MAX_CLOZE_WORDS
    where = Location(field.card.path, field.text.line)
    card_id = field.card.id
    if words > limit:
        sink.report(
            where,
            f"{label} of '{card_id}' has {words} words (limit {limit}): "
            "one fact per card — split it or move background to Extra:",
            "DG310",
        )
    if items > MAX_ANSWER_ITEMS:
        sink.report(
            where,
            f"{label} of '{card_id}' has {items} list items (limit {MAX_ANSWER_ITEMS}): "
            "split it into several cards",
            "DG310",
        )
