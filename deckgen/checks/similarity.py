"""Near-duplicate questions: an exact similarity join over the question words of every card."""

from __future__ import annotations

import math
import re
import sys
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
# compared when verifying a candidate; 4 million is about 2.5 s. The shipped deck needs 138,
# bench/synth.py's decks 40 to 57 thousand (10,000 cards) and 0.8 to 1.0 million (50,000
# cards). Questions written to share their rarest words reach it with one 128 KiB file (the
# count grows with the square of the cards sharing them), so past it the check stops and says
# so (DG112).
MAX_NEAR_DUPLICATE_COMPARISONS = 4_000_000


def _question_groups(cards: Iterable[Card]) -> tuple[list[frozenset[str]], list[list[Card]]]:
    """The distinct non-empty question word sets, in the order of the first card asking each,
    and for each the cards asking exactly it (in deck order)."""
    groups: dict[frozenset[str], list[Card]] = {}
    for card in cards:
        # Interned: 50,000 questions use a few thousand words, each then held once.
        words = frozenset(map(sys.intern, question_words(card)))
        if words:
            groups.setdefault(words, []).append(card)
    return list(groups), list(groups.values())


def _overlap_needed(threshold: float, size: int, other: int) -> int:
    """The fewest shared words that give sets of these sizes a Jaccard similarity of at least
    `threshold`: shared / (|A| + |B| - shared) >= t exactly when shared >= t / (1 + t) *
    (|A| + |B|). Rounded down when within float error of a whole number: one too few only
    lengthens a prefix, one too many would drop pairs."""
    return max(1, math.ceil(threshold / (1 + threshold) * (size + other) - 1e-9))


def _similar_sets(
    sets: Sequence[frozenset[str]],
    threshold: float,
    limit: int | None,
    found: Callable[[int, int, float], None],
) -> int | None:
    """Call `found(i, j, similarity)` for each pair of indices into `sets` whose Jaccard
    similarity >= threshold (a callback, so that memory need not grow with the pairs); return
    the index of the set at which `limit` comparisons ran out, or None when the join finished.

    An exact all-pairs similarity join with prefix filtering (Chaudhuri et al. 2006; Xiao et al.
    2008's PPJoin) on pairs of words instead of words. With each set's words in one global
    order (rarest first), two sets sharing at least `o` words share, among the first `len - o +
    2` words of each, the first two words they share. Sets are visited by size, so an earlier
    one is never larger: a set of size t is indexed under the word pairs of its first `t -
    o(t, t) + 2` words (what any later, larger set must share with it) and probes with the
    first `s - o(s, smallest candidate) + 2`. Keyed by pairs, one frequent word shared (a
    template's questions share their common words and differ in the rest) no longer makes a
    candidate: the candidates are the sets sharing two of their rarer words. On
    bench/synth.py's template deck this is 57 thousand comparisons at 10,000 cards and 0.8
    million at 50,000 (by single words: 0.33 and 7.0 million); it still grows faster than the
    cards, as pairs of frequent words recur.
    A set too small to need two shared words (o(t, t) = 1: a one-word question at 0.8) goes in
    an index of single words. Every candidate is then compared in full, so the result is
    exactly the all-pairs one (tests/test_lint.py checks it against brute force).
    """
    by_size = sorted(range(len(sets)), key=lambda n: len(sets[n]))  # stable: first asked first
    frequency = Counter(w for words in sets for w in words)
    singles: dict[str, list[int]] = defaultdict(list)  # word -> visits of sets indexed by words
    pairs: dict[tuple[str, str], list[int]] = defaultdict(list)  # word pair -> visits
    work = 0
    for x, n in enumerate(by_size):
        words = sets[n]
        size = len(words)
        ranked = sorted(words, key=lambda w: (frequency[w], w))
        smallest = max(1, math.ceil(threshold * size - 1e-9))  # length filter
        needed = _overlap_needed(threshold, size, smallest)
        candidates: dict[int, None] = {}
        probes: list[list[int]] = [singles[w] for w in ranked[: size - needed + 1] if w in singles]
        prefix = ranked[: size - needed + 2]
        probes += [
            pairs[key]
            for i, first in enumerate(prefix)
            for second in prefix[i + 1 :]
            if (key := (first, second)) in pairs
        ]
        for entries in probes:
            work += len(entries)
            if limit is not None and work > limit:
                return n
            candidates.update(dict.fromkeys(entries))
        for y in candidates:
            other = sets[by_size[y]]
            if len(other) < threshold * size:  # length filter
                continue
            work += len(other)  # the intersection walks the smaller set, which is `other`
            if limit is not None and work > limit:
                return n
            shared = len(words & other)
            similarity = shared / (size + len(other) - shared)
            if similarity >= threshold:
                found(n, by_size[y], similarity)
        own = _overlap_needed(threshold, size, size)
        if own < 2:
            for word in ranked[: size - own + 1]:
                singles[word].append(x)
        else:
            indexed = ranked[: size - own + 2]
            for i, first in enumerate(indexed):
                for second in indexed[i + 1 :]:
                    pairs[first, second].append(x)
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
