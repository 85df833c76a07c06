"""Markdown → Typst markup: one escaping function for all user text, and a token renderer.

Card text never reaches Typst as markup. Every piece of it becomes a Typst *string literal*
(`#"…"`), which Typst shows as plain text: `#read(…)`, `$`, `[`, `<label>`, `//` and friends stay
inert, and so does raw HTML such as `<mark>`. Structure (emphasis, lists, code, links) is emitted
by this module from markdown-it's tokens, which always nest, as Typst function calls whose
arguments are again string literals; a link whose target `deckgen.safety` refuses is plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markdown_it.token import Token

from deckgen.highlight import MAX_HIGHLIGHT_CHARS, MAX_HIGHLIGHT_LINE
from deckgen.markdown import cloze_face, make_parser
from deckgen.safety import url_problem
from deckgen.templating import template_loader

_HTML_TAG_RE = re.compile(r"<[^>]*>")

# Fence languages Typst may highlight, with the same line and block limits as the HTML side
# (deckgen.highlight). Typst's syntect grammars are slow on hostile lines: `md`, `html` and `xml`
# took 8-69 s for a few KiB, and js/ts still took 6-8 s for 16 KiB of `$` or `_`, so those are
# left out; every language below stays under a second for 16 KiB of backticks, quotes, `<a `,
# slashes or `${`. Any other block is printed as plain monospace text.
TYPST_HIGHLIGHTED_LANGUAGES = frozenset(
    "go golang rust rs python py sh bash shell zsh json toml yaml yml http sql nginx diff "
    "text".split()
)
# Tables are laid out by Typst at a cost that grows much faster than their cells (1245 columns:
# 12-21 s and 2 GB); a wider or bigger table, or one past the card's budget, is printed as text.
MAX_TABLE_COLUMNS = 12
MAX_TABLE_CELLS = 400
MAX_CARD_TABLE_CELLS = 1200


class TypstCode(str):
    """Typst source produced by deckgen itself, safe to splice into a template as code."""

    __slots__ = ()


def typst_string(text: str) -> str:
    """The one escaping function: any text as a Typst string literal (without the leading #)."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    escaped = escaped.replace("\t", "\\t")
    return f'"{escaped}"'


def typst_text(text: str) -> TypstCode:
    """Text for Typst markup mode: an embedded string literal, shown verbatim."""
    return TypstCode(f"#{typst_string(text)}") if text else TypstCode("")


def _finalize(value: Any) -> str:
    """Every `{{ … }}` in a print template: code we made passes, anything else becomes a string."""
    if isinstance(value, TypstCode):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if value is None:
        return "none"
    return typst_string(str(value))


def typst_environment(templates_dir: Any = None) -> jinja2.Environment:
    """Jinja for Typst templates: no HTML escaping, but every value is a string literal unless
    it is TypstCode, so a template cannot splice user text in as code by accident."""
    return jinja2.Environment(
        loader=template_loader(Path(templates_dir) if templates_dir else None),
        autoescape=False,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def cloze_front(markdown: str) -> str:
    """The question side of a cloze note: every deletion blanked (its hint shown if it has one)."""
    return cloze_face(markdown, lambda answer: answer, lambda hint: f"\\[{hint or '…'}\\]")


@dataclass(frozen=True)
class Marked:
    """Markdown whose highlighted spans are wrapped in `<tag>`…`</tag>`, a tag name that the
    card's own text does not contain anywhere, so no card text can open or close a highlight."""

    markdown: str
    tag: str


def cloze_back(markdown: str) -> Marked:
    """The answer side: every deletion filled in and marked for TypstRenderer.render."""
    # More digits than follow any `deckgen-answer-` in the card: the name occurs nowhere in its
    # text, so a card quoting the tag cannot forge it (one linear scan, whatever the card holds).
    runs = [len(m[1]) for m in re.finditer(r"deckgen-answer-(\d*)", markdown)]
    tag = "deckgen-answer-" + "0" * (max(runs, default=0) + 1)
    # A tag, unlike a private-use sentinel, is punctuation to Markdown on both sides, so
    # `{{c1::_x_}}` keeps its emphasis.
    return Marked(cloze_face(markdown, lambda answer: f"<{tag}>{answer}</{tag}>"), tag)


class TypstRenderer:
    """Renders markdown-it tokens to Typst markup; dispatch on token type, like the HTML one."""

    def __init__(self, media_name: Callable[[str], str | None] | None = None) -> None:
        self.md = make_parser()
        self.media_name = media_name or (lambda _src: None)
        self._mark: tuple[str, str] | None = None  # the open and close tags of a Marked text
        self._table_cells = 0  # cells laid out as Typst tables in the current render()
        self._highlighted = 0  # characters of code highlighted in the current render()

    def render(self, markdown: str | Marked) -> TypstCode:
        """Typst markup for Markdown; the spans of a Marked text are highlighted."""
        if isinstance(markdown, Marked):
            self._mark = (f"<{markdown.tag}>", f"</{markdown.tag}>")
            markdown = markdown.markdown
        self._table_cells = self._highlighted = 0
        try:
            return TypstCode(self._blocks(self.md.parse(markdown)).strip())
        finally:
            self._mark = None

    def _plain(self, text: str) -> str:
        """Text where a highlight cannot be shown (code, math, alt text): without its tags."""
        if self._mark is None:
            return text
        return text.replace(self._mark[0], "").replace(self._mark[1], "")

    # ----------------------------------------------------------------- blocks

    def _blocks(self, tokens: Sequence[Token]) -> str:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind == "inline":
                out.append(self._inline(token.children or []))
            elif kind == "paragraph_close":
                out.append("\n\n" if not token.hidden else "")
            elif kind in ("fence", "code_block"):
                code = self._plain(token.content).rstrip("\n")
                lang = self._highlight_language(token.info, code)
                out.append(
                    f"#raw(block: true, lang: {typst_string(lang) if lang else 'none'}, "
                    f"{typst_string(code)})\n\n"
                )
            elif kind in ("bullet_list_open", "ordered_list_open"):
                end = self._matching(tokens, i)
                out.append(self._list(tokens[i : end + 1]))
                i = end
            elif kind == "blockquote_open":
                end = self._matching(tokens, i)
                out.append(f"#quote(block: true)[{self._blocks(tokens[i + 1 : end]).strip()}]\n\n")
                i = end
            elif kind == "heading_open":
                end = self._matching(tokens, i)
                out.append(f"#strong[{self._blocks(tokens[i + 1 : end]).strip()}]\n\n")
                i = end
            elif kind == "table_open":
                end = self._matching(tokens, i)
                out.append(self._table(tokens[i : end + 1]))
                i = end
            elif kind == "hr":
                out.append("#line(length: 100%, stroke: 0.4pt)\n\n")
            elif kind == "math_block":
                out.append(
                    f"#raw(block: true, {typst_string(self._plain(token.content).strip())})\n\n"
                )
            elif kind == "html_block":
                text = _HTML_TAG_RE.sub("", token.content).strip()
                if text:
                    out.append(f"{typst_text(text)}\n\n")
            i += 1
        return "".join(out)

    def _highlight_language(self, info: str, code: str) -> str:
        """The language Typst may highlight a block in, or "" for plain text (see the limits)."""
        lang = info.split()[0].lower() if info.strip() else ""
        if lang not in TYPST_HIGHLIGHTED_LANGUAGES:
            return ""
        if self._highlighted + len(code) > MAX_HIGHLIGHT_CHARS:
            return ""
        if any(len(line) > MAX_HIGHLIGHT_LINE for line in code.split("\n")):
            return ""
        self._highlighted += len(code)
        return lang

    @staticmethod
    def _matching(tokens: Sequence[Token], start: int) -> int:
        depth = 0
        for j in range(start, len(tokens)):
            depth += tokens[j].nesting
            if depth == 0:
                return j
        return len(tokens) - 1

    def _list(self, tokens: Sequence[Token]) -> str:
        opener = tokens[0]
        items = []
        i = 1
        while i < len(tokens) - 1:
            if tokens[i].type == "list_item_open":
                end = self._matching(tokens, i)
                items.append(f"[{self._blocks(tokens[i + 1 : end]).strip()}]")
                i = end
            i += 1
        if opener.type == "ordered_list_open":
            start = int(opener.attrGet("start") or 1)
            return f"#enum(start: {start}, {', '.join(items)})\n\n"
        return f"#list({', '.join(items)})\n\n"

    def _table(self, tokens: Sequence[Token]) -> str:
        rows: list[tuple[bool, list[str]]] = []  # (header row?, the Typst markup of each cell)
        aligns: list[str] = []
        in_head = False
        for j, token in enumerate(tokens):
            if token.type == "thead_open":
                in_head = True
            elif token.type == "thead_close":
                in_head = False
            elif token.type == "tr_open":
                rows.append((in_head, []))
            elif token.type in ("th_open", "td_open") and rows:
                if in_head:
                    style = str(token.attrGet("style") or "")
                    aligns.append(
                        "right" if "right" in style else "center" if "center" in style else "left"
                    )
                rows[-1][1].append(self._inline(tokens[j + 1].children or []))
        columns = max((len(cells) for _, cells in rows), default=0)
        count = sum(len(cells) for _, cells in rows)
        if (
            columns > MAX_TABLE_COLUMNS
            or count > MAX_TABLE_CELLS
            or self._table_cells + count > MAX_CARD_TABLE_CELLS
        ):
            return self._table_as_text(rows)
        self._table_cells += count
        cells = [
            f"[#strong[{content}]]" if head else f"[{content}]"
            for head, row in rows
            for content in row
        ]
        align = f"({', '.join(aligns)},)" if aligns else "left"
        return (
            f"#table(columns: {max(columns, 1)}, align: {align}, stroke: 0.4pt + luma(160), "
            f"inset: 3pt, {', '.join(cells)})\n\n"
        )

    @staticmethod
    def _table_as_text(rows: Sequence[tuple[bool, Sequence[str]]]) -> str:
        """A table too big for Typst's table layout: one paragraph per row, cells split by |."""
        out = [typst_text("[table too large to print as a table]") + "\n\n"]
        separator = typst_text(" | ")
        for head, cells in rows:
            line = separator.join(cells)
            out.append(f"#strong[{line}]\n\n" if head else f"{line}\n\n")
        return "".join(out)

    # ----------------------------------------------------------------- inline

    def _inline(self, children: Sequence[Token]) -> str:
        out: list[str] = []
        links: list[bool] = []  # per open link: whether it was emitted as a link
        marks = 0  # highlights opened in this inline and not closed yet
        for child in children:
            kind = child.type
            if kind == "text":
                out.append(typst_text(child.content))
            elif kind == "softbreak":
                out.append(typst_text(" "))
            elif kind == "hardbreak":
                out.append("#linebreak()")
            elif kind == "code_inline":
                out.append(f"#raw({typst_string(self._plain(child.content))})")
            elif kind in ("strong_open", "em_open", "s_open"):
                out.append(
                    {"strong_open": "#strong[", "em_open": "#emph[", "s_open": "#strike["}[kind]
                )
            elif kind in ("strong_close", "em_close", "s_close"):
                out.append("]")
            elif kind == "link_open":
                href = str(child.attrGet("href") or "")
                # A PDF link is opened by the reader's viewer, relative to wherever the PDF
                # lies: only absolute http(s) and mailto targets are links there.
                links.append(url_problem(href, relative=False) is None)
                out.append(f"#link({typst_string(href)})[" if links[-1] else "")
            elif kind == "link_close":
                out.append("]" if links and links.pop() else "")
            elif kind == "image":
                name = self.media_name(str(child.attrGet("src") or ""))
                if name is None:  # not a staged media file: never let Typst read it
                    out.append(typst_text(f"[image: {self._plain(child.content)}]"))
                    continue
                out.append(
                    f"#box(image({typst_string('media/' + name)}, width: 100%, height: 3cm, "
                    f'fit: "contain", alt: {typst_string(self._plain(child.content))}))'
                )
            elif kind == "math_inline":
                out.append(f"#raw({typst_string(self._plain(child.content))})")
            elif kind == "html_inline":
                if self._mark and child.content == self._mark[0]:
                    out.append('#highlight(fill: rgb("#fff3b0"))[#strong[')
                    marks += 1
                elif self._mark and child.content == self._mark[1]:
                    if marks:  # markdown-it may have put the opening tag in another paragraph
                        out.append("]]")
                        marks -= 1
                else:  # raw HTML written in the card, `<mark>` included, is text like any other
                    out.append(typst_text(child.content))
        out.append("]]" * marks)
        return "".join(out)
