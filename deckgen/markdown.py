"""The one Markdown dialect deckgen reads: CommonMark, tables, strikethrough, front matter, math."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.texmath import texmath_plugin

# Cloze syntax, in one place for every stage: the opening `{{cN::`, and a whole deletion
# `{{cN::answer}}` / `{{cN::answer::hint}}` with the answer as group 1 and the hint as group 2.
CLOZE_OPEN_RE = re.compile(r"\{\{c(\d+)::")
# The answer is as short as possible: it ends at the first `}}`, or at the first `::` whose
# hint (no `}`) is followed by `}}`; neither may run past the next `{{c`. A lazy `.*?` instead
# rescans the rest of the text from every unclosed `{{c1::`, and tries a hint at every `::` on
# the way: cubic time. Here the answer is a possessive loop of alternatives that cannot overlap:
# a character other than `:{}`, a `{` not starting `{{c`, a `}` not starting `}}`, a `:` not
# starting `::`, or a `::` whose would-be hint is not followed by `}}` — that whole stretch at
# once, since every `::` inside it would fail at the same `}`. Each character is read a bounded
# number of times. On text without nested or unclosed deletions this matches exactly what
# `\{\{c\d+::(.*?)(?:::([^}]*?))?\}\}` (DOTALL) matched before.
_HINT = r"(?:(?!\{\{c)[^}])*+"
CLOZE_RE = re.compile(
    r"\{\{c\d+::("
    rf"(?:[^:{{}}]|\{{(?!\{{c)|\}}(?!\}})|:(?!:)|::{_HINT}(?!\}}\}}))*+"
    rf")(?:::({_HINT}))?\}}\}}"
)

# Words that say nothing about what a card asks: lint leaves them out when it compares questions
# (near-duplicates, DG301), and `deckgen new` when it makes an id from a question.
STOP_WORDS = frozenset(
    """a an and are as at be by does do for from how in is it its of on or that the this to was
    what when where which who why with you your""".split()
)


def cloze_face(
    text: str,
    fill: Callable[[str], str],
    blank: Callable[[str | None], str] | None = None,
    asked: int | None = None,
    reveal: Callable[[str], str] | None = None,
) -> str:
    """`text` as one side of a cloze card: every deletion becomes `fill(answer)`, except the
    asked ones, which become `blank(hint)` — deletion number `asked`, or every deletion when
    `asked` is None. Without `blank` every deletion is filled in (the answer side), the asked
    ones as `reveal(answer)` when it is given (Anki highlights only the asked deletion).

    Anki, the site, the print layouts and the checks all make their sides with this one walk
    over `CLOZE_RE`; they differ only in how a blank and a filled-in answer look."""

    def substitute(match: re.Match[str]) -> str:
        number = CLOZE_OPEN_RE.match(match.group(0))
        is_asked = asked is None or (number is not None and int(number.group(1)) == asked)
        if is_asked and blank is not None:
            return blank(match.group(2) or None)
        if is_asked and reveal is not None:
            return reveal(match.group(1))
        return fill(match.group(1))

    return CLOZE_RE.sub(substitute, text)


def make_parser() -> MarkdownIt:
    """A fresh parser; every stage uses this so that all of them agree on the syntax."""
    md = MarkdownIt("commonmark", {"html": True, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin)
    # `\(…\)` and `\[…\]` must reach Anki's MathJax untouched; without this, Markdown would
    # treat `\(` as an escaped parenthesis and drop the backslash.
    md.use(texmath_plugin, delimiters="brackets")
    # The plugin runs a regex on a fresh copy of the rest of the text at every `\(`, and at
    # every line starting `\[`, so unclosed delimiters cost quadratic time (28 s for one legal
    # file). These rules yield the same tokens, looking closing delimiters up instead.
    md.inline.ruler.at("math_inline", _math_inline)
    md.block.ruler.at("math_block_eqno", _math_block_eqno)
    md.block.ruler.at("math_block", _math_block)
    return md


# --------------------------------------------------------------------------- inline positions

# markdown-it maps block tokens to their lines but keeps no position for inline tokens; these
# are the inline rules whose tokens a check may report, each made to record where it matched.
POSITIONED_INLINE_RULES = ("link", "image", "autolink", "backticks", "html_inline")
_OFFSET = "deckgen_offset"  # the token's offset in its block's inline content


def track_inline_positions(md: MarkdownIt) -> MarkdownIt:
    """Make the positioned inline rules record in each token they make (`meta`) the offset in
    the inline content where its source starts: `[` of a link, `!` of an image, the first
    backtick of inline code, `<` of raw HTML or an autolink. Tokens are unchanged otherwise."""
    ruler = md.inline.ruler
    for name in POSITIONED_INLINE_RULES:
        index = ruler.__find__(name)
        if index >= 0:
            rule = ruler.__rules__[index]
            ruler.at(name, _recording(rule.fn), {"alt": rule.alt})
    return md


_InlineRule = Callable[[StateInline, bool], bool]


def _recording(rule: _InlineRule) -> _InlineRule:
    def recording(state: StateInline, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        matched = rule(state, silent)
        if matched and not silent:
            # setdefault: tokens made inside a link's text already hold their own offsets
            for token in state.tokens[count:]:
                token.meta.setdefault(_OFFSET, start)
        return matched

    return recording


class InlinePositions:
    """Where inline tokens start in the Markdown text they were parsed from.

    An inline token's offset is into its block's inline content: the block's lines with their
    container markers (`> `, list markers, indentation) and the outer whitespace taken off. Each
    line of that content is found again at the end of its source line (or, in a table row,
    inside it).
    """

    def __init__(self, markdown: str) -> None:
        # markdown-it parses the text with NUL made U+FFFD (line breaks are already "\n")
        self._lines = markdown.replace("\0", "\ufffd").split("\n")
        self._breaks: dict[int, list[int]] = {}  # id of a block -> offsets of its line breaks
        # (id of a block, line of its content) -> where that line is in the source (_anchor)
        self._anchors: dict[tuple[int, int], tuple[int, int] | None] = {}

    def find(self, block: Token, child: Token) -> tuple[int, int | None] | None:
        """The 0-based line and column where `child`, an inline token of `block`, starts in the
        parsed text; None for what is not known (the column, or both)."""
        offset = child.meta.get(_OFFSET)
        if not isinstance(offset, int) or block.map is None:
            return None
        content = block.content
        breaks = self._breaks.get(id(block))
        if breaks is None:
            breaks = self._breaks[id(block)] = [m.start() for m in re.finditer("\n", content)]
        row = bisect.bisect_left(breaks, offset)
        start = breaks[row - 1] + 1 if row else 0
        line = block.map[0] + row
        if line >= len(self._lines):
            return None
        key = (id(block), row)
        if key not in self._anchors:
            end = breaks[row] if row < len(breaks) else len(content)
            self._anchors[key] = _anchor(self._lines[line], content[start:end])
        anchor = self._anchors[key]
        index = offset - start
        if anchor is None or index < anchor[1]:
            return line, None
        column, lead = anchor
        return line, column + index - lead


def _anchor(source: str, content: str) -> tuple[int, int] | None:
    """Where one line of inline content is in its source line: (column, index) of a character
    found in both, or None. The content is at the end of the line, or (a table cell) inside it;
    only its leading whitespace may differ (markdown-it turns a tab partly taken by a list's
    indent into spaces)."""
    source, tail = source.rstrip(), content.rstrip()
    if source.endswith(tail):
        return len(source) - len(tail), 0
    body = tail.lstrip()
    if not body:
        return None
    found = len(source) - len(body) if source.endswith(body) else source.find(body)
    return (found, len(tail) - len(body)) if found >= 0 else None


# --------------------------------------------------------------------------- linear math rules

_DELIMITERS = {
    "inline_close": re.compile(r"\\\)"),
    "block_close": re.compile(r"\\\]"),
    "block_either": re.compile(r"\\[\[\]]"),  # where the body of `\[…\](label)` must stop
}
# After that body's `\]`: whitespace, then `(label)` on one line without `)` or `$`; the same
# strings as the plugin's lazy `\s*?\(([^)$\r\n]+?)\)`, since neither run can give back.
_EQNO_LABEL_RE = re.compile(r"\s*+\(([^)$\r\n]++)\)")


@functools.lru_cache(maxsize=8)
def _positions(src: str, kind: str) -> tuple[int, ...]:
    """Every index where a delimiter of `kind` starts in `src`: one pass per text, as a str
    caches its hash and the rules ask about the same text again and again."""
    return tuple(match.start() for match in _DELIMITERS[kind].finditer(src))


def _first(src: str, kind: str, start: int) -> int:
    """The first index >= start where a delimiter of `kind` starts, or -1."""
    found = _positions(src, kind)
    i = bisect.bisect_left(found, start)
    return found[i] if i < len(found) else -1


def _math_inline(state: StateInline, silent: bool) -> bool:
    # The plugin's `^\\\((.+?)\\\)` (DOTALL) at state.pos: the first `\)` after at least one
    # character, searched to the end of the source (like the plugin, past posMax).
    start = state.pos
    if not state.src.startswith("\\(", start):
        return False
    end = _first(state.src, "inline_close", start + 3)
    if end < 0:
        return False
    if not silent:
        token = state.push("math_inline", "math", 0)
        token.content = state.src[start + 2 : end]
        token.markup = "\\("
    state.pos = end + 2
    return True


def _math_block_eqno(state: StateBlock, begLine: int, endLine: int, silent: bool) -> bool:
    # The plugin's `^\\\[(((?!\\\]|\\\[)[\s\S])+?)\\\]\s*?\(([^)$\r\n]+?)\)`: a body of at least
    # one character up to the first `\]`, with no `\[` or `\]` before it, then the label.
    src = state.src
    begin = state.bMarks[begLine] + state.tShift[begLine]
    if not src.startswith("\\[", begin):
        return False
    close = _first(src, "block_either", begin + 2)
    if close < begin + 3 or not src.startswith("\\]", close):
        return False
    label = _EQNO_LABEL_RE.match(src, close + 2)
    if label is None:
        return False
    content = src[begin + 2 : close]
    return _math_block_token(
        state, begLine, endLine, silent, "math_block_eqno", label.end(), content, label[1]
    )


def _math_block(state: StateBlock, begLine: int, endLine: int, silent: bool) -> bool:
    # The plugin's `^\\\[([\s\S]+?)\\\]`: the first `\]` after at least one character.
    src = state.src
    begin = state.bMarks[begLine] + state.tShift[begLine]
    if not src.startswith("\\[", begin):
        return False
    close = _first(src, "block_close", begin + 3)
    if close < 0:
        return False
    content = src[begin + 2 : close]
    # the plugin stores its last group as `info`, which for this pattern is the body again
    return _math_block_token(
        state, begLine, endLine, silent, "math_block", close + 2, content, content
    )


def _math_block_token(
    state: StateBlock,
    begLine: int,
    endLine: int,
    silent: bool,
    name: str,
    end: int,
    content: str,
    info: str,
) -> bool:
    """What the plugin does once its regex matched up to `end`: accept the math only when it
    ends inside this block, on the first line whose end is at or after the match's last
    character (found by bisection; the plugin walks the lines one by one)."""
    last = end - 1
    line = bisect.bisect_left(state.eMarks, last, begLine, endLine)
    if line >= endLine or last < state.bMarks[line]:
        return False
    if not silent:
        token = state.push(name, "math", 0)
        token.block = True
        token.content = content
        token.info = info
        token.markup = "\\["
    state.line = line + 1
    return True
