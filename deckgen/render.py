"""Rendering card Markdown to safe HTML: Pygments code, MathJax passthrough, media, sanitizing."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from deckgen.errors import DiagnosticSink, Location
from deckgen.markdown import (
    CLOZE_OPEN_RE,
    InlinePositions,
    cloze_face,
    make_parser,
    track_inline_positions,
)
from deckgen.media import media_problem, problem_code
from deckgen.model import Card, Deck, Text
from deckgen.safety import (
    LINK_SCHEMES,
    TEMPLATE_MARK_RE,
    image_reference_problem,
    is_media_name,
    math_problems,
    url_problem,
)

log = logging.getLogger(__name__)

PYGMENTS_LIGHT_STYLE = "friendly"
PYGMENTS_DARK_STYLE = "monokai"


# One allow-list serves both the check that reports unsafe raw HTML and the sanitizer that
# cleans every rendered field, so the two can never disagree.
ALLOWED_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
        "var",
    ]
)
_COMMON_ATTRIBUTES = {"class", "title", "lang", "dir"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": _COMMON_ATTRIBUTES,
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "scope", "style"},
}
_STYLE_PROPERTIES = frozenset({"text-align"})  # markdown-it writes table alignment this way


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


# --------------------------------------------------------------------------- code and math


@functools.cache
def _lexer(lang: str) -> Any:
    try:
        return get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


_FORMATTER = HtmlFormatter(nowrap=True)


# Languages whose Pygments lexers were measured to stay fast on hostile input (long runs of
# spaces, quotes, slashes, backticks…); some others (c, cpp, ini, systemd) go quadratic or
# cubic on one long line. Most lexers are quadratic per line at worst, so only code whose lines
# are short is highlighted: anything else is shown as plain, escaped text.
HIGHLIGHTED_LANGUAGES = frozenset(
    "go golang rust rs js javascript ts typescript python py sh bash shell zsh json toml yaml "
    "yml http sql nginx diff text".split()
)
MAX_HIGHLIGHT_LINE = 240
MAX_HIGHLIGHT_CHARS = 16 * 1024


def _highlightable(code: str, name: str) -> bool:
    if name not in HIGHLIGHTED_LANGUAGES or len(code) > MAX_HIGHLIGHT_CHARS:
        return False
    return all(len(line) <= MAX_HIGHLIGHT_LINE for line in code.split("\n"))


def highlight_code(code: str, lang: str, _attrs: Any = None) -> str:
    """Pygments into CSS classes, wrapped the way markdown-it expects (a `<pre>` is kept as is)."""
    name = lang.split()[0].lower() if lang else ""
    lexer = _lexer(name) if name and _highlightable(code, name) else None
    body = highlight(code, lexer, _FORMATTER) if lexer is not None else escapeHtml(code)
    css_lang = f' class="language-{escapeHtml(name)}"' if name else ""
    return f'<pre class="highlight"><code{css_lang}>{body}</code></pre>\n'


def pygments_css(selector: str = ".highlight", night_selectors: Sequence[str] = ()) -> str:
    """CSS for highlighted code: the light style, then the dark one under the night selectors."""
    light = HtmlFormatter(style=PYGMENTS_LIGHT_STYLE).get_style_defs(selector)  # type: ignore[no-untyped-call]
    dark_formatter = HtmlFormatter(style=PYGMENTS_DARK_STYLE)
    dark = dark_formatter.get_style_defs(  # type: ignore[no-untyped-call]
        [f"{night} {selector}" for night in night_selectors]
    )
    return f"{light}\n{dark}\n" if night_selectors else f"{light}\n"


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


# --------------------------------------------------------------------------- safety


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


def attribute_problem(tag: str, name: str, value: str | None) -> str | None:
    """Why an attribute of raw HTML in a card is refused, or None (the sanitizer's own rule)."""
    allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set())
    if name.startswith("on"):
        return f"event-handler attribute '{name}' on <{tag}> is not allowed"
    if name == "style" or name not in allowed:
        return f"attribute '{name}' on <{tag}> is not allowed"
    if value is not None and TEMPLATE_MARK_RE.search(value):
        return (
            f"'{{{{', '}}}}' or '::' inside the '{name}' attribute of <{tag}>: Anki would expand "
            "cloze markup there and break out of the attribute"
        )
    if tag == "img" and name == "src":
        problem = image_reference_problem(value or "")
        return problem or "raw <img> is not allowed: write images as ![alt](file.png)"
    if name == "href" and value is not None:
        return url_problem(value)
    return None


def unsafe_html(fragment: str) -> list[str]:
    """Reasons why a piece of raw HTML is unsafe or not allowed; empty when it is fine."""
    collector = _TagCollector()
    collector.feed(fragment)
    collector.close()
    problems = []
    for tag, attrs in collector.found:
        if tag not in ALLOWED_TAGS:
            problems.append(f"HTML tag <{tag}> is not allowed")
            continue
        for name, value in attrs:
            problem = attribute_problem(tag, name, value)
            if problem:
                problems.append(problem)
    return problems


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    """The sanitizer's last word on every attribute it would keep (nh3's attribute_filter)."""
    if TEMPLATE_MARK_RE.search(value):
        return None  # cloze markup in an attribute lets Anki's cloze pass break out of it
    if name == "src":
        return value if tag == "img" and is_media_name(value) else None
    if name == "href":
        return value if url_problem(value) is None else None
    return value


@functools.lru_cache(maxsize=1)
def _cleaner() -> Any:
    # Built once: configuring nh3 per call costs more than the cleaning itself.
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes=set(LINK_SCHEMES),
        filter_style_properties=set(_STYLE_PROPERTIES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def sanitize(fragment: str) -> str:
    """The last line of defence: nh3 with deckgen's allow-list, whatever produced the HTML."""
    if not fragment:
        return fragment
    return str(_cleaner().clean(fragment))


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


# --------------------------------------------------------------------------- sources

_RFC_RE = re.compile(r"^RFC ?(\d{3,5})(?: ?§ ?((?:[A-Z]|\d+)(?:\.\d+)*))?(.*)$", re.DOTALL)
_BARE_URL_RE = re.compile(r"^https?://\S+$")
_SCHEME_RE = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30})://")


def source_markdown(source: str) -> str:
    """Expand the shorthands a `Source:` line allows: `RFC 9293 §3.3.2` and bare URLs."""
    text = " ".join(source.split())
    match = _RFC_RE.match(text)
    if match:
        number, section, rest = match.groups()
        url = f"https://www.rfc-editor.org/rfc/rfc{number}"
        label = f"RFC {number}"
        if section:
            kind = "appendix" if section[0].isalpha() else "section"
            url += f"#{kind}-{section}"
            label += f" §{section}"
        return f"[{label}]({url}){rest}"
    if _BARE_URL_RE.match(text):
        return f"<{text}>"
    return text


# --------------------------------------------------------------------------- cards


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
