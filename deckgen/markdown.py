"""The one Markdown dialect deckgen reads: CommonMark, tables, strikethrough, front matter, math."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.texmath import texmath_plugin

# Cloze syntax, in one place for every stage: the opening `{{cN::`, and a whole deletion
# `{{cN::answer}}` / `{{cN::answer::hint}}` with the answer as group 1 and the hint as group 2.
CLOZE_OPEN_RE = re.compile(r"\{\{c(\d+)::")
CLOZE_RE = re.compile(r"\{\{c\d+::(.*?)(?:::([^}]*?))?\}\}", re.DOTALL)


def make_parser() -> MarkdownIt:
    """A fresh parser; every stage uses this so that all of them agree on the syntax."""
    md = MarkdownIt("commonmark", {"html": True, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin)
    # `\(…\)` and `\[…\]` must reach Anki's MathJax untouched; without this, Markdown would
    # treat `\(` as an escaped parenthesis and drop the backslash.
    md.use(texmath_plugin, delimiters="brackets")
    return md
