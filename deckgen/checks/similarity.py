"""Near-duplicate questions: an exact similarity join over the question words of every card."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence

from deckgen.markdown import CLOZE_RE, STOP_WORDS
from deckgen.model import Card

NEAR_DUPLICATE_SIMILARITY = 0.8

_WORD_RE = re.compile(r"[a-z0-9_]+(?:['.][a-z0-9_]+)*")


def question_words(card: Card) -> list[str]:
    """The normalised words of what a card asks: front, or the cloze text with answers shown."""
    text = card.front or card.text
    if text is None:
        return []
    plain = CLOZE_RE.sub(r"\1", text.markdown).lower()
    return [w for w in _WORD_RE.findall(plain) if w not in STOP_WORDS]


# The similarity join's work for one lint run, counted in index entries probed plus words
# compared when verifying a candidate; 4 million is about 2.5 s. The shipped deck needs 77,
# bench/synth.py's decks 112 thousand (10,000 cards) and 2.9 million (50,000 cards: the count
# grows with the square of the cards sharing words). Questions written to share their rarest
# words reach it with one 128 KiB file, so past it the check stops and says so (DG112).
MAX_NEAR_DUPLICATE_COMPARISONS = 4_000_000


def _question_groups(cards: Iterable[Card]) -> tuple[list[frozenset[str]], list[list[Card]]]:
    """The distinct non-empty question word sets, in the order of the first card asking each,
    and for each the cards asking exactly it (in deck order)."""
    groups: dict[frozenset[str], list[Card]] = {}
    for card in cards:
        words = frozenset(question_words(card))
        if words:
            groups.setdefault(words, []).append(card)
    return list(groups), list(groups.values())


def _similar_sets(
    sets: Sequence[frozenset[str]],
    threshold: float,
    limit: int | None,
    found: Callable[[int, int, float], None],
) -> int | None:
    """Call `found(i, j, similarity)` for each pair of indices into `sets` whose Jaccard
    similarity >= threshold (a callback, so that memory need not grow with the pairs); return
    the index of the set at which `limit` comparisons ran out, or None when the join finished.

    An exact all-pairs similarity join (PPJoin, Xiao et al. 2008) instead of comparing every
    pair: with each set's words ordered rarest first, two sets that reach the threshold must
    share a word among the first `len - ceil(threshold * len) + 1` of each (prefix filter); sets
    are visited by size, so a smaller earlier set cannot match (length filter) and only a shorter
    prefix needs indexing; and the position of a shared prefix word bounds how large the overlap
    can still become (positional filter). Only the survivors are compared in full.
    """
    by_size = sorted(range(len(sets)), key=lambda n: len(sets[n]))  # stable: first asked first
    frequency = Counter(w for words in sets for w in words)
    index: dict[str, list[tuple[int, int]]] = defaultdict(list)  # word -> (visit, position)
    work = 0
    for x, n in enumerate(by_size):
        words = sets[n]
        size = len(words)
        ranked = sorted(words, key=lambda w: (frequency[w], w))
        prefix_length = size - math.ceil(threshold * size) + 1
        # Sets arrive by size, so only a shorter prefix needs indexing (the "mid-prefix").
        index_length = size - math.ceil(2 * threshold / (1 + threshold) * size) + 1
        overlap: dict[int, int] = {}
        for i, word in enumerate(ranked[:prefix_length]):
            entries = index[word]
            work += len(entries)
            if limit is not None and work > limit:
                return n
            for y, j in entries:
                other_size = len(sets[by_size[y]])
                if other_size < threshold * size:  # length filter
                    continue
                seen = overlap.get(y, 0)
                if seen < 0:
                    continue
                needed = math.ceil(threshold / (1 + threshold) * (size + other_size))
                if seen + 1 + min(size - i - 1, other_size - j - 1) >= needed:
                    overlap[y] = seen + 1
                else:
                    overlap[y] = -1  # cannot reach the threshold any more
            if i < index_length:
                entries.append((x, i))
        for y, seen in overlap.items():
            if seen <= 0:
                continue
            other = sets[by_size[y]]
            work += len(other)  # the intersection walks the smaller set, which is `other`
            if limit is not None and work > limit:
                return n
            shared = len(words & other)
            similarity = shared / (size + len(other) - shared)
            if similarity >= threshold:
                found(n, by_size[y], similarity)
    return None


def near_duplicates(
    cards: Iterable[Card], threshold: float = NEAR_DUPLICATE_SIMILARITY
) -> list[tuple[Card, Card, float]]:
    """Every pair (earlier, later, similarity) of cards whose question word sets have Jaccard
    similarity >= threshold, ordered by the later card.

    Not bounded: n cards asking the same question make n² pairs. Lint reports through
    `first_near_duplicates`, which is.
    """
    cards = list(cards)
    position = {id(card): n for n, card in enumerate(cards)}
    sets, groups = _question_groups(cards)
    pairs = [(a, b, 1.0) for group in groups for k, a in enumerate(group) for b in group[k + 1 :]]

    def found(i: int, j: int, similarity: float) -> None:
        for a in groups[i]:
            for b in groups[j]:
                first, second = sorted((a, b), key=lambda c: position[id(c)])
                pairs.append((first, second, similarity))

    _similar_sets(sets, threshold, None, found)
    pairs.sort(key=lambda p: (position[id(p[1])], position[id(p[0])]))
    return pairs


def first_near_duplicates(
    cards: Iterable[Card],
    threshold: float = NEAR_DUPLICATE_SIMILARITY,
    limit: int = MAX_NEAR_DUPLICATE_COMPARISONS,
) -> tuple[list[tuple[Card, Card, float]], Card | None]:
    """At most one finding per card: (earlier, card, similarity) for each card whose question
    is nearly that of an earlier card, ordered by card; and the card at which the join ran out
    of `limit` comparisons (None when it finished).

    A card asking exactly the words of an earlier one is paired with the first card asking
    them (100%); only that first card takes part in the join, so a thousand copies cost one.
    Any other card is paired with the earliest earlier card reaching the threshold.
    """
    cards = list(cards)
    position = {id(card): n for n, card in enumerate(cards)}
    sets, groups = _question_groups(cards)
    earliest: dict[int, tuple[int, float]] = {}  # set -> (earliest similar set, similarity)

    def found(i: int, j: int, similarity: float) -> None:
        first, second = min(i, j), max(i, j)  # sets are numbered in the order first asked
        if second not in earliest or first < earliest[second][0]:
            earliest[second] = (first, similarity)

    stopped = _similar_sets(sets, threshold, limit, found)
    pairs = []
    for n, group in enumerate(groups):
        if n in earliest:
            other, similarity = earliest[n]
            pairs.append((groups[other][0], group[0], similarity))
        pairs.extend((group[0], copy, 1.0) for copy in group[1:])
    pairs.sort(key=lambda p: position[id(p[1])])
    return pairs, (groups[stopped][0] if stopped is not None else None)
