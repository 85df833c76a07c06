"""Rendering card Markdown to safe HTML: MathJax passthrough, media, and the renderer of a
deck's cards (code is highlighted by deckgen.highlight, every field cleaned by
deckgen.sanitize)."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from deckgen.errors import DiagnosticSink, Location
from deckgen.highlight import highlight_code
from deckgen.markdown import (
    CLOZE_OPEN_RE,
    InlinePositions,
    cloze_face,
    make_parser,
    track_inline_positions,
)
from deckgen.media import media_problem, problem_code
from deckgen.model import Card, Deck, Text
from deckgen.safety import TEMPLATE_MARK_RE, image_reference_problem, math_problems, url_problem
from deckgen.sanitize import sanitize, unsafe_html
from deckgen.sourceline import source_markdown

log = logging.getLogger(__name__)


# Called with (card, field name, field text, tokens) for every field parsed: the compile stage
# runs the field rules here, so that each field is parsed once for both checking and rendering.
FieldHook = Callable[[Card, str, Text, list[Token]], None]


@dataclass(frozen=True)
class MediaFile:
    """An image copied into the deck under a name made from its content."""

    name: str
    path: Path


@dataclass(frozen=True)
class RenderedCard:
    card: Card
    front: str = ""
    back: str = ""
    text: str = ""
    extra: str = ""
    sources: tuple[str, ...] = ()
    media: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenderedDeck:
    deck: Deck
    cards: tuple[RenderedCard, ...]
    media: tuple[MediaFile, ...]


# --------------------------------------------------------------------------- Markdown to HTML


def _render_math_inline(
    _self: Any, tokens: Sequence[Token], idx: int, _options: OptionsDict, _env: EnvType
) -> str:
    return f"\\({escapeHtml(tokens[idx].content)}\\)"


def _render_math_block(
    _self: Any, tokens: Sequence[Token], idx: int, _options: OptionsDict, _env: EnvType
) -> str:
    return f"<p>\\[{escapeHtml(tokens[idx].content)}\\]</p>\n"


def cloze_faces_as_anki_shows(html: str) -> list[str]:
    """The field as written, then for each cloze number the question (that deletion as
    `[hint]` or `[...]`, the others filled in) and the answer (all filled in)."""
    numbers = sorted({int(n) for n in CLOZE_OPEN_RE.findall(html)})
    if not numbers:
        return [html]

    def filled(answer: str) -> str:
        return answer

    def blank(hint: str | None) -> str:
        return f"[{hint or '...'}]"

    answer = cloze_face(html, filled)
    return [html, answer, *(cloze_face(html, filled, blank, asked=n) for n in numbers)]


@functools.lru_cache(maxsize=1)
def html_renderer() -> MarkdownIt:
    md = track_inline_positions(make_parser())  # so that problems point at their own column
    # markdown-it would silently turn `[x](javascript:…)` or `![x](file:…)` into plain text;
    # accept every URL here so that deckgen's own check can report it with its line.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    md.options["highlight"] = highlight_code
    md.add_render_rule("math_inline", _render_math_inline)
    md.add_render_rule("math_block", _render_math_block)
    md.add_render_rule("math_block_eqno", _render_math_block)
    return md


# --------------------------------------------------------------------------- files


def resolve_inside(folder: Path, reference: str, root: Path) -> Path | None:
    """The file a relative reference names, or None when it would leave `root`.

    `..`, absolute paths, URL-encoded dots, backslash separators and symbolic links are all
    resolved before the check, so none of them can reach outside the cards folder.
    """
    path = unquote(reference).replace("\\", "/")
    if not path or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return None
    target = (folder / path).resolve()
    return target if target.is_relative_to(root.resolve()) else None


# --------------------------------------------------------------------------- cards


# a URL scheme named in a `Source:` line (only http and https are allowed there)
_SCHEME_RE = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30})://")
_CHECKED_INLINE = frozenset({"html_inline", "link_open", "image"})  # what _check_token reads


class FieldPlaces:
    """Where the tokens of one field are in the card file: a block token at its first line, an
    inline token (a link, an image, inline code or HTML) at its own line and column."""

    def __init__(self, card: Card, text: Text) -> None:
        self.card = card
        self.text = text
        self._inline: InlinePositions | None = None  # made when first asked: most fields never are

    def of(self, block: Token, child: Token | None = None) -> Location:
        line = self.text.line + (block.map[0] if block.map else 0)
        if child is None:
            return Location(self.card.path, line)
        if self._inline is None:
            self._inline = InlinePositions(self.text.markdown)
        found = self._inline.find(block, child)
        if found is None:
            return Location(self.card.path, line)
        row, column = found
        if column is None:
            return Location(self.card.path, self.text.line + row)
        # the field's first line starts after its marker ('A: '); the others at column 1
        col = column + (self.text.col if row == 0 else 1)
        return Location(self.card.path, self.text.line + row, col)


class CardRenderer:
    """Renders cards of one deck, collecting media and problems as it goes."""

    def __init__(
        self, deck: Deck, sink: DiagnosticSink, field_hook: FieldHook | None = None
    ) -> None:
        self.deck = deck
        self.sink = sink
        self.field_hook = field_hook
        self.md = html_renderer()
        self.media: dict[str, MediaFile] = {}
        self._media_by_path: dict[Path, str] = {}
        self._root = deck.root.resolve()
        self.touched: set[Path] = set()  # every other file a result depends on, for caching

    def _media_name(self, card: Card, src: str, where: Location) -> str | None:
        problem = image_reference_problem(src)
        if problem:
            self.sink.report(where, f"unsafe image in card '{card.id}': {problem}", "DG404")
            return None
        target = resolve_inside(card.path.parent, src, self._root)
        if target is not None:
            self.touched.add(target)
        if target is None:
            self.sink.report(where, f"image '{src}' is outside the cards folder", "DG405")
            return None
        if not target.is_file():
            self.sink.report(where, f"missing image '{src}' in card '{card.id}'", "DG401")
            return None
        name = self._media_by_path.get(target)
        if name is None:
            problem = media_problem(target)
            if problem:
                self.sink.report(where, f"image '{src}' {problem}", problem_code(problem))
                return None
            digest = hashlib.sha256(target.read_bytes()).hexdigest()[:20]
            name = f"{digest}{target.suffix.lower()}"
            self._media_by_path[target] = name
            self.media.setdefault(name, MediaFile(name, target))
        return name

    def markdown(self, card: Card, name: str, text: Text, used_media: list[str]) -> str:
        """Render one field; raw HTML and images are checked against the card's source lines."""
        tokens = self.md.parse(text.markdown)
        if self.field_hook is not None:
            self.field_hook(card, name, text, tokens)
        places = FieldPlaces(card, text)
        for token in tokens:
            self._check_token(card, token, places.of(token), used_media)
            for child in token.children or ():
                if child.type in _CHECKED_INLINE:
                    self._check_token(card, child, places.of(token, child), used_media)
        html = sanitize(self.md.renderer.render(tokens, self.md.options, {})).strip()
        self._check_math(card, html, Location(card.path, text.line))
        return html

    def source(self, card: Card, text: Text) -> str:
        """Render a `Source:` line (its shorthands expanded) under the same checks as a field.

        Its problems are reported at the line's start: the expanded text is what is parsed.
        """
        where = Location(card.path, text.line)
        for scheme in _SCHEME_RE.findall(text.markdown):
            if scheme.lower() not in ("http", "https"):
                self._report(card, where, f"URL scheme '{scheme}:' is not allowed in 'Source:'")
        tokens = self.md.parseInline(source_markdown(text.markdown))
        for token in tokens:
            for child in token.children or ():
                if child.type == "image":
                    self._report(card, where, "an image is not allowed in 'Source:'")
                else:
                    self._check_token(card, child, where, [], relative_links=False)
        html = sanitize(self.md.renderer.render(tokens, self.md.options, {})).strip()
        self._check_math(card, html, where)
        return html

    def _report(self, card: Card, where: Location, problem: str) -> None:
        self.sink.report(where, f"unsafe content in card '{card.id}': {problem}", "DG404")

    def _check_token(
        self,
        card: Card,
        token: Token,
        where: Location,
        used_media: list[str],
        *,
        relative_links: bool = True,
    ) -> None:
        if token.type in ("html_block", "html_inline"):
            self._check_html(card, token.content, where)
        elif token.type == "link_open":
            problem = url_problem(str(token.attrGet("href") or ""), relative=relative_links)
            if problem:
                self.sink.report(where, f"unsafe link in card '{card.id}': {problem}", "DG404")
        elif token.type == "image":
            media = self._media_name(card, str(token.attrGet("src") or ""), where)
            if media is not None:
                token.attrSet("src", media)
                used_media.append(media)
        elif token.type == "fence" and TEMPLATE_MARK_RE.search(token.info):
            self._report(card, where, "'{{' or '}}' in a code block's language name")
        if token.type in ("link_open", "image"):
            # alt text and titles become attributes, where Anki's cloze pass must not run
            values = [str(v) for k, v in (token.attrs or {}).items() if k != "src"]
            if token.type == "image":  # the alt text as rendered: entities decoded
                values.append(token.content)
                values.append("".join(child.content for child in token.children or ()))
            if any(TEMPLATE_MARK_RE.search(v) for v in values):
                self._report(
                    card,
                    where,
                    "'{{', '}}' or '::' in an image's alt text or a link's title: Anki would "
                    "expand cloze markup inside the attribute",
                )

    def _check_math(self, card: Card, html: str, where: Location) -> None:
        # MathJax reads each face Anki shows, after its cloze pass: a deletion can open or
        # close math that the field's own text keeps shut, so every face is checked.
        problems: dict[str, None] = {}
        for face in cloze_faces_as_anki_shows(html):
            problems.update(dict.fromkeys(math_problems(face)))
        for problem in problems:
            self._report(card, where, problem)

    def _check_html(self, card: Card, fragment: str, where: Location) -> None:
        for problem in unsafe_html(fragment):
            self.sink.report(where, f"unsafe HTML in card '{card.id}': {problem}", "DG404")

    def render(self, card: Card) -> RenderedCard:
        used: list[str] = []

        def field(name: str, text: Text | None) -> str:
            return self.markdown(card, name, text, used) if text is not None else ""

        sources = tuple(self.source(card, s) for s in card.sources)
        return RenderedCard(
            card=card,
            front=field("front", card.front),
            back=field("back", card.back),
            text=field("text", card.text),
            extra=field("extra", card.extra),
            sources=sources,
            media=tuple(dict.fromkeys(used)),
        )
