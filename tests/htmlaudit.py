"""An independent audit of HTML that reaches learners: what an attacker would look for in it.

Deliberately written without deckgen's own allow-lists, so that a hole in those is not hidden by
the same hole here.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

ACTIVE_TAGS = {
    "script", "iframe", "frame", "object", "embed", "style", "link", "meta", "base", "form",
    "svg", "math", "foreignobject", "video", "audio", "source", "track", "input", "button",
    "textarea", "select", "template", "portal", "applet",
}  # fmt: skip
MEDIA_NAME = re.compile(r"^[0-9a-f]{20}\.(png|jpe?g|gif|svg|webp)$")
SAFE_HREF = re.compile(
    r"^(https?://[a-z0-9.-]+(:\d+)?(/[^\s\\]*)?|mailto:[^\s\\]+|#[\w.-]*|[\w.~%-][\w.~%/-]*(#[\w.-]*)?)$"
)
DANGEROUS_TEX = re.compile(r"\\(href|url|style|class|cssId|data|require|unicode|mmlToken|bbox|html|def|newcommand|renewcommand|let)(?![A-Za-z])")  # fmt: skip  # noqa: E501


class _Audit(HTMLParser):
    def __init__(self, *, allow_styles: bool, allow: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allow_styles = allow_styles
        self.allow = allow
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_TAGS - self.allow and not (self.allow_styles and tag == "style"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if "{{" in value or "}}" in value:
                self.problems.append(f"template markup in {name}= on <{tag}>")
            if name == "src" and not MEDIA_NAME.match(value):
                self.problems.append(f"src={value!r} on <{tag}>")
            linked = name in ("href", "xlink:href", "action", "formaction", "poster", "srcset")
            if linked and not SAFE_HREF.match(value.strip()):
                self.problems.append(f"{name}={value!r} on <{tag}>")
            if name == "style" and not re.fullmatch(r"\s*text-align:\s*\w+;?\s*", value):
                self.problems.append(f"style={value!r} on <{tag}>")

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def audit(
    fragment: str, *, allow_styles: bool = False, allow: frozenset[str] = frozenset()
) -> list[str]:
    """Everything in `fragment` that could run script, load a remote resource or break out;
    `allow` names tags the page itself uses (the site's own buttons and inputs)."""
    parser = _Audit(allow_styles=allow_styles, allow=allow)
    parser.feed(fragment)
    parser.close()
    text = html.unescape("".join(parser.text))
    for region in MATH_REGION.finditer(text):
        for match in DANGEROUS_TEX.finditer(region.group(0)):
            parser.problems.append(f"TeX {match.group(0)} in math")
    return parser.problems


MATH_REGION = re.compile(
    r"\\\((.*?)\\\)|\\\[(.*?)\\\]|\\begin\{([^}]*)\}(.*?)\\end\{\3\}", re.DOTALL
)
ANKI_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)


def anki_cloze(fragment: str, reveal: bool) -> str:
    """Anki's cloze pass as its Rust core does it: a plain text substitution over field HTML,
    attributes included, which is why cloze markup must never stand inside an attribute."""

    def sub(match: re.Match[str]) -> str:
        answer = match.group(2)
        inner = answer if reveal else f"[{match.group(3) or '...'}]"
        return f'<span class="cloze" data-cloze="{html.escape(answer)}">{inner}</span>'

    return ANKI_CLOZE.sub(sub, fragment)
