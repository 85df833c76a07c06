"""A card's `Source:` line: the shorthands it allows (`RFC 9293 §3.3.2`, bare URLs), expanded
into Markdown."""

from __future__ import annotations

import re

_RFC_RE = re.compile(r"^RFC ?(\d{3,5})(?: ?§ ?((?:[A-Z]|\d+)(?:\.\d+)*))?(.*)$", re.DOTALL)
_BARE_URL_RE = re.compile(r"^https?://\S+$")


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
