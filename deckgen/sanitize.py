"""The HTML allow-list: the check that reports unsafe raw HTML in a card, and the nh3
sanitizer that cleans every rendered field by the same list."""

from __future__ import annotations

import functools
import html
from html.parser import HTMLParser
from typing import Any

import nh3

from deckgen.safety import (
    LINK_SCHEMES,
    TEMPLATE_MARK_RE,
    image_reference_problem,
    is_media_name,
    url_problem,
)

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


def html_text(fragment: str) -> str:
    """The text of an HTML fragment: every tag dropped, entities decoded (what Anki compares a
    typed answer with, and what the changelog quotes)."""
    return html.unescape(nh3.clean(fragment, tags=set()))
