"""Code in rendered HTML: Pygments highlighting into CSS classes, for the languages and line
lengths it stays fast on, and the CSS of its light and night styles."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from markdown_it.common.utils import escapeHtml
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

PYGMENTS_LIGHT_STYLE = "friendly"
PYGMENTS_DARK_STYLE = "monokai"


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
