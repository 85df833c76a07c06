"""Near-duplicate questions: an exact similarity join over the question words of every card."""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from deckgen.markdown import CLOZE_RE, STOP_WORDS
from deckgen.model import Card

NEAR_DUPLICATE_SIMILARITY = 0.8

_WORD_RE = re.compile(r"[a-z0-9_]+(?:['.][a-z0-9_]+)*")


def _answer(match: re.Match[str]) -> str:
    return match.group(1)


def question_words(card: Card) -> list[str]:
    """The normalised words of what a card asks: front, or the cloze text with answers shown."""
    text = card.front or card.text
    if text is None:
        return []
    # A function, not r"\1": Python 3.11 expands a template string match by match, slowly.
    plain = CLOZE_RE.sub(_answer, text.markdown).lower()
    return [w for w in _WORD_RE.findall(plain) if w not in STOP_WORDS]


# The similarity join's work for one lint run, counted in index entries probed plus words
# compared when verifying a candidate; 4 million is about 2.5 s. The shipped deck needs 138,
# bench/synth.py's decks 40 to 57 thousand (10,000 cards) and 0.8 to 1.0 million (50,000
# cards). Questions written to share their rarest words reach it with one 128 KiB file (the
# count grows with the square of the cards sharing them), so past it the check stops and says
# so (DG112).
MAX_NEAR_DUPLICATE_COMPARISONS = 4_000_000


def _question_groups(
    cards: Iterable[Card], known: Mapping[str, frozenset[str]] | None = None
) -> tuple[list[frozenset[str]], list[list[Card]], dict[str, frozenset[str]]]:
    """The distinct non-empty question word sets, in the order of the first card asking each;
    for each the cards asking exactly it (in deck order); and each question's Markdown with its
    words (`known` holds those of an earlier run, which need not be found again)."""
    groups: dict[frozenset[str], list[Card]] = {}
    words_of: dict[str, frozenset[str]] = {}
    known = known or {}
    for card in cards:
        text = card.front or card.text
        if text is None:
            continue
        words = words_of.get(text.markdown) or known.get(text.markdown)
        if words is None:
            # Interned: 50,000 questions use a few thousand words, each then held once.
            words = frozenset(map(sys.intern, question_words(card)))
        words_of[text.markdown] = words
        if words:
            groups.setdefault(words, []).append(card)
    return list(groups), list(groups.values()), words_of


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
    counted: list[int] | None = None,
) -> int | None:
    """Call `found(i, j, similarity)` for each pair of indices into `sets` whose Jaccard
    similarity >= threshold (a callback, so that memory need not grow with the pairs); return
    the index of the set at which `limit` comparisons ran out, or None when the join finished
    (and the comparisons made in `counted[0]`, when given).

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
    if counted is not None:
        counted[0] = work
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
    sets, groups, _ = _question_groups(cards)
    pairs = [(a, b, 1.0) for group in groups for k, a in enumerate(group) for b in group[k + 1 :]]

    def found(i: int, j: int, similarity: float) -> None:
        for a in groups[i]:
            for b in groups[j]:
                first, second = sorted((a, b), key=lambda c: position[id(c)])
                pairs.append((first, second, similarity))

    _similar_sets(sets, threshold, None, found)
    pairs.sort(key=lambda p: (position[id(p[1])], position[id(p[0])]))
    return pairs


@dataclass(frozen=True)
class JoinRecord:
    """What one run of the join found, kept (in the cache) for the next: every distinct
    question word set it joined, each similar pair of them, the comparisons counted, and the
    words of each question's Markdown."""

    threshold: float
    sets: frozenset[frozenset[str]]
    pairs: tuple[tuple[frozenset[str], frozenset[str], float], ...]
    work: int
    words: Mapping[str, frozenset[str]] = field(default_factory=dict)  # question → its words


# A record holding more pairs than this is not kept: rebuilding it is cheaper than its memory.
MAX_RECORDED_PAIRS = 100_000


def _probe_added(
    sets: Sequence[frozenset[str]], added: Sequence[int], threshold: float, budget: int
) -> tuple[list[tuple[int, int, float]], int] | None:
    """Each pair of `sets` at or over the threshold that involves a set in `added` (indices),
    once, and the comparisons counted; None as soon as they pass `budget`. Every set is
    indexed by all its words, so a probe may use any `a - o + 1` of its `a` words (a set
    sharing `o` of them shares one of those): the rarest, by the index."""
    wanted = {w for n in added for w in sets[n]}
    index: dict[str, list[int]] = defaultdict(list)
    for n, words in enumerate(sets):
        for word in words & wanted:
            index[word].append(n)
    work = 0
    found = []
    is_added = set(added)
    for n in added:
        words = sets[n]
        size = len(words)
        needed = _overlap_needed(threshold, size, max(1, math.ceil(threshold * size - 1e-9)))
        ranked = sorted(words, key=lambda w: (len(index[w]), w))
        candidates: dict[int, None] = {}
        for word in ranked[: size - needed + 1]:
            work += len(index[word])
            candidates.update(dict.fromkeys(index[word]))
        if work > budget:
            return None
        for m in candidates:
            # a pair of two added sets is found once, from the later one's side
            if m == n or (m in is_added and m > n):
                continue
            other = sets[m]
            if len(other) < threshold * size or size < threshold * len(other):  # length filter
                continue
            work += min(size, len(other))
            if work > budget:
                return None
            shared = len(words & other)
            similarity = shared / (size + len(other) - shared)
            if similarity >= threshold:
                found.append((m, n, similarity))
    return found, work


def similar_set_pairs(
    sets: Sequence[frozenset[str]],
    threshold: float,
    limit: int,
    previous: JoinRecord | None = None,
) -> tuple[list[tuple[int, int, float]], int | None, JoinRecord | None]:
    """Every pair of indices into `sets` at or over the threshold (`_similar_sets`), the index
    at which the join ran out of `limit` comparisons (None when it finished), and the record
    to keep for the next run (None when there is none worth keeping).

    Given the record of an earlier run that finished at the same threshold, only the pairs
    involving a set it did not join are computed: its pairs of sets still asked are kept.
    Comparisons are then counted as the earlier full join's plus this run's; when that passes
    `limit`, the whole join runs again and its own count decides (DG112). The pairs are exactly
    the full join's either way (tests/test_lint.py)."""
    if previous is not None and previous.threshold == threshold:
        added = [n for n, words in enumerate(sets) if words not in previous.sets]
        if not added and len(sets) == len(previous.sets):
            return _kept_pairs(sets, previous), None, previous  # the same sets: the same pairs
        if len(added) <= len(sets) // 2:
            probed = _probe_added(sets, added, threshold, limit - previous.work)
            if probed is not None:
                pairs = _kept_pairs(sets, previous) + probed[0]
                work = previous.work + probed[1]
                return pairs, None, _record(sets, pairs, threshold, work)
    pairs = []
    counted = [0]
    stopped = _similar_sets(
        sets, threshold, limit, lambda i, j, similarity: pairs.append((i, j, similarity)), counted
    )
    record = _record(sets, pairs, threshold, counted[0]) if stopped is None else None
    return pairs, stopped, record


def _kept_pairs(
    sets: Sequence[frozenset[str]], previous: JoinRecord
) -> list[tuple[int, int, float]]:
    """The earlier run's pairs of sets that are still asked, as indices into `sets`."""
    position = {words: n for n, words in enumerate(sets)}
    return [
        (position[a], position[b], similarity)
        for a, b, similarity in previous.pairs
        if a in position and b in position
    ]


def _record(
    sets: Sequence[frozenset[str]],
    pairs: Sequence[tuple[int, int, float]],
    threshold: float,
    work: int,
) -> JoinRecord | None:
    if len(pairs) > MAX_RECORDED_PAIRS:
        return None
    kept = tuple((sets[i], sets[j], similarity) for i, j, similarity in pairs)
    return JoinRecord(threshold, frozenset(sets), kept, work)


def first_near_duplicates(
    cards: Iterable[Card],
    threshold: float = NEAR_DUPLICATE_SIMILARITY,
    limit: int = MAX_NEAR_DUPLICATE_COMPARISONS,
    previous: JoinRecord | None = None,
) -> tuple[list[tuple[Card, Card, float]], Card | None, JoinRecord | None]:
    """At most one finding per card: (earlier, card, similarity) for each card whose question
    is nearly that of an earlier card, ordered by card; the card at which the join ran out
    of `limit` comparisons (None when it finished); and the join's record for the next run
    (`previous` is the last run's: see `similar_set_pairs`).

    A card asking exactly the words of an earlier one is paired with the first card asking
    them (100%); only that first card takes part in the join, so a thousand copies cost one.
    Any other card is paired with the earliest earlier card reaching the threshold.
    """
    cards = list(cards)
    position = {id(card): n for n, card in enumerate(cards)}
    known = previous.words if previous is not None else None
    sets, groups, words = _question_groups(cards, known)
    earliest: dict[int, tuple[int, float]] = {}  # set -> (earliest similar set, similarity)
    found, stopped, record = similar_set_pairs(sets, threshold, limit, previous)
    if record is not None and not (record is previous and words.keys() == (known or {}).keys()):
        record = dataclasses.replace(record, words=words)
    for i, j, similarity in found:
        first, second = min(i, j), max(i, j)  # sets are numbered in the order first asked
        if second not in earliest or first < earliest[second][0]:
            earliest[second] = (first, similarity)
    pairs = []
    for n, group in enumerate(groups):
        if n in earliest:
            other, similarity = earliest[n]
            pairs.append((groups[other][0], group[0], similarity))
        pairs.extend((group[0], copy, 1.0) for copy in group[1:])
    pairs.sort(key=lambda p: position[id(p[1])])
    return pairs, (groups[stopped][0] if stopped is not None else None), record
