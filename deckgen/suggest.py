"""Did you mean …? The closest known name to a misspelt one, for the messages that report it."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable

MAX_SUGGEST_CHOICES = 500  # more candidates than this and no suggestion is offered


def suggest(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean …?)' suffix for a misspelt id, or ''.

    Bounded: only candidates whose length allows a close match are compared, no suggestion
    is made among more than MAX_SUGGEST_CHOICES of them, and answers are remembered.
    """
    return _suggest(word, frozenset(choices))


@functools.lru_cache(maxsize=1024)
def _suggest(word: str, choices: frozenset[str]) -> str:
    size = len(word)
    # difflib's ratio is 2*matches/(len(a)+len(b)) <= 2*min/(sum): drop hopeless lengths
    near = [c for c in choices if 2 * min(size, len(c)) >= 0.6 * (size + len(c))]
    if len(near) > MAX_SUGGEST_CHOICES:
        near = [c for c in near if c[:1] == word[:1]]
    if len(near) > MAX_SUGGEST_CHOICES:
        return ""
    matches = difflib.get_close_matches(word, sorted(near), n=1, cutoff=0.6)
    if not matches:  # a known name with a word added: 'golang' for 'go', 'tcp-ip' for 'tcp'
        inside = [
            c
            for c in choices
            if len(c) >= max(2, size // 3) and (word.startswith(c) or word.endswith(c))
        ]
        matches = sorted(inside, key=lambda c: (-len(c), c))[:1]
    return f" (did you mean '{matches[0]}'?)" if matches else ""
