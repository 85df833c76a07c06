"""Denial of service within every file limit (issue 11).

Each case is one card file a pull request could add: no larger than 128 KiB, no line over
5,000 characters. Before the fixes they cost minutes of lint (unclosed cloze deletions), most
of a minute (unclosed `\\(` or `\\[` math, a Pygments lexer's cubic time) or a gigabyte
(2,200 identical questions). Each now finishes in seconds and little memory, measured in a
child process, with the located finding expected; a file that is still slow is cut short by the
per-file time budget (DG112) instead of hanging.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.texmath import texmath_plugin

import deckgen.compile as compile_module
from deckgen.cache import Cache
from deckgen.cardfile import MAX_LINE_CHARS
from deckgen.checks.cards import _CLOZE_LIKE_RE
from deckgen.checks.deck import check_near_duplicates
from deckgen.checks.similarity import first_near_duplicates, near_duplicates, question_words
from deckgen.compile import FILE_BUDGET_ENV, load_deck, within_budget
from deckgen.errors import DiagnosticSink
from deckgen.lint import lint_deck
from deckgen.load import MAX_FILE_BYTES, load_sources
from deckgen.markdown import CLOZE_RE, make_parser
from deckgen.model import Card, Deck
from tests.conftest import PROJECT, cpu_seconds

FRONT = "---\ntopic: rust\n---\n\n"
SECONDS = 5.0  # CPU time allowed to one lint of a deck holding one hostile file
GROWTH_KIB = 100 * 1024  # peak memory a lint may add to the interpreter's own
# The per-file budget is wall time: on a machine busy with other work a legal file that needs
# 2 s of CPU can take longer than the default 5 s and be cut short (DG112). Where the budget is
# not what a test is about, its lint gets this much patience; its cost is bounded in CPU time.
PATIENT_BUDGET = "60"
NEAR = 122 * 1024  # the review's files sit just under the 128 KiB limit


# --------------------------------------------------------------------------- the hostile files


def lines_of(unit: str, total: int = NEAR, width: int = MAX_LINE_CHARS - 10) -> str:
    """`unit` repeated into lines of nearly the longest length allowed, `total` bytes in all."""
    line = unit * (width // len(unit))
    return "\n".join([line] * (total // (len(line) + 1)))


def unclosed_cloze() -> str:
    """15,000 `{{c1::` that never close: a lazy `.*?` rescans the rest from each one."""
    return f"{FRONT}## rust-evil\nCloze: {lines_of('{{c1::x ')}\n\nSource: RFC 9293\n"


def cloze_lookalike_spaces() -> str:
    """`{{c` and thousands of spaces on each line: `\\s*\\d*\\s*` tries every split of them."""
    body = "\n".join(["{{c" + " " * (MAX_LINE_CHARS - 10)] * 24)
    return f"{FRONT}## rust-evil\nCloze: {{{{c1::ok}}}}\n{body}\n\nSource: RFC 9293\n"


def unclosed_math() -> str:
    """`\\(` 40,000 times: texmath's regex runs to the end of the text from each one."""
    body = lines_of("\\( ")
    return f"{FRONT}## rust-evil\nQ: {body}\n\nA: x\n\nSource: RFC 9293\n"


def unclosed_block_math() -> str:
    """30,000 paragraphs of an unclosed `\\[`: texmath's block rule runs to the end of the text
    from each, while the file is still being parsed to count its blocks (52 s before)."""
    body = "\\[\n\n" * (NEAR // 4)
    return f"{FRONT}## rust-evil\nQ: x\n\nA: {body}Source: RFC 9293\n"


def identical_questions(count: int = 2200) -> str:
    """The same question 2,200 times: 2.4 million pairs, one finding each, before."""
    return FRONT + "".join(
        f"## d{i}\nQ: What does the borrow checker reject?\nA: x\n\n" for i in range(count)
    )


def _word(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    word = ""
    while True:
        word = letters[n % 26] + word
        n //= 26
        if not n:
            return "q" + word


def similar_questions(count: int = 2600) -> str:
    """Different questions that all share their rarest words: every pair is 80 % similar, so
    grouping identical questions does not help and the join's work grows with count²."""
    common = " ".join(_word(k) for k in range(8))
    return FRONT + "".join(
        f"## s{i}\nQ: {_word(1000 + i)} {common}\nA: x\n\n" for i in range(count)
    )


def systemd_spaces(spaces: int = 2000) -> str:
    """Pygments' systemd lexer is cubic in a run of spaces (`([^=]+)([ \\t]*)(=)`)."""
    code = " " * spaces + "x"
    return f"{FRONT}## rust-slow\nQ: What?\n\n```systemd\n{code}\n```\n\nA: x\n\nSource: RFC 9293\n"


def several_facts_everywhere() -> str:
    """A question of 6,000 second questions (', in what …' after a first one, ', and what …')
    and an answer of 30,000 figures: DG312 must stay linear and its message short."""
    question = "What " + lines_of(", in what x, and what y", total=NEAR // 2)
    answer = lines_of("1 2 3 4 5 6 7 8 9 10 ", total=NEAR // 2)
    return f"{FRONT}## rust-evil\nQ: {question}\n\nA: {answer}\n\nSource: RFC 9293\n"


def within_file_limits(text: str) -> str:
    assert len(text.encode()) <= MAX_FILE_BYTES
    assert max(len(line) for line in text.splitlines()) <= MAX_LINE_CHARS
    return text


# --------------------------------------------------------------------------- measuring in a child

# Peak memory growth: the peak RSS at the end (ru_maxrss, KiB) less the RSS once deckgen is
# imported (the imports' own peak would otherwise hide anything smaller). Time is CPU time (of
# the child and of any worker it forks), which other processes on the machine do not inflate.
MEASURE = """
import json, os, resource, sys, time
from pathlib import Path
def cpu_seconds():
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
def rss_kib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
def peak_kib():
    # VmHWM belongs to this process's own memory map, made new at exec; ru_maxrss would also
    # count the forked copy of pytest (with the anki package loaded) that existed before exec.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

CHILD = (
    MEASURE
    + """
from deckgen.lint import lint_deck
cards = Path(sys.argv[1])
before = rss_kib()
start, cpu = time.monotonic(), cpu_seconds()
result = lint_deck(cards)
seconds, wall = cpu_seconds() - cpu, time.monotonic() - start
print(json.dumps({
    "seconds": seconds,
    "wall": wall,
    "grew_kib": peak_kib() - before,
    "cards": [c.id for c in result.deck.cards],
    "findings": [f"{d.location.display(cards.parent)}: {d.code} {d.message}"
                 for d in result.diagnostics],
}))
"""
)


def measured_lint(cards: Path, **env: str) -> dict[str, Any]:
    """Lint in a fresh interpreter: its CPU time, how much its peak memory grew, its findings.

    A hard timeout turns a hang into a failure instead of a stuck suite.
    """
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(cards)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT,
        env={**os.environ, "DECKGEN_NO_CACHE": "1", FILE_BUDGET_ENV: PATIENT_BUDGET, **env},
        check=True,
    )
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def findings_for(report: dict[str, Any], name: str) -> list[str]:
    found = report["findings"]
    assert isinstance(found, list)
    return [f for f in found if f.startswith(f"cards/lang/{name}:")]


def assert_cheap(report: dict[str, Any]) -> None:
    seconds, grew = report["seconds"], report["grew_kib"]
    assert isinstance(seconds, float) and isinstance(grew, int)
    assert seconds < SECONDS, f"lint took {seconds:.1f} s of CPU ({report['wall']:.1f} s)"
    assert grew < GROWTH_KIB, f"lint grew its peak memory by {grew // 1024} MiB"


# --------------------------------------------------------------------------- each case


def test_unclosed_cloze_deletions_are_reported_quickly(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    text = within_file_limits(unclosed_cloze())
    write_card("lang/evil.md", text)
    report = measured_lint(sample_cards)
    assert_cheap(report)
    found = findings_for(report, "evil.md")
    never_closed = [f for f in found if "is never closed with '}}'" in f]
    assert never_closed[0] == (
        "cards/lang/evil.md:6:8: DG302 cloze deletion in 'rust-evil' is never closed with '}}'"
    )
    assert len(never_closed) == text.count("{{c1::")


def test_cloze_lookalikes_with_long_space_runs_are_quick(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card("lang/evil.md", within_file_limits(cloze_lookalike_spaces()))
    report = measured_lint(sample_cards)
    assert_cheap(report)
    assert findings_for(report, "evil.md") == []  # `{{c` with no `:` is not cloze markup
    assert "rust-evil" in report["cards"]


def test_several_facts_in_a_huge_card_are_reported_quickly_and_briefly(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    text = within_file_limits(several_facts_everywhere())
    write_card("lang/evil.md", text)
    report = measured_lint(sample_cards)
    assert_cheap(report)
    asks = text.count(", in what") + text.count(", and what") + 1
    answer_line = text.splitlines().index("A: " + text.split("\nA: ")[1].splitlines()[0]) + 1
    assert [f for f in findings_for(report, "evil.md") if "DG312" in f] == [
        f"cards/lang/evil.md:6: DG312 question of 'rust-evil' asks {asks} things (', in what "
        "…', ', and what …', ', in what …', …): one fact per card — split it, or make it a cloze",
        f"cards/lang/evil.md:{answer_line}: DG312 answer of 'rust-evil' packs 10 figures (1, "
        "2, 3, 4, 5, 6, 7, 8, …; limit 5): one fact per card — split it, or move the rest to "
        "Extra:",
    ]


def test_unclosed_inline_math_is_quick(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card("lang/evil.md", within_file_limits(unclosed_math()))
    report = measured_lint(sample_cards)
    assert_cheap(report)
    assert findings_for(report, "evil.md") == []  # unclosed `\(` is text, as it always was
    assert "rust-evil" in report["cards"]


def test_unclosed_block_math_is_refused_quickly(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card("lang/evil.md", within_file_limits(unclosed_block_math()))
    report = measured_lint(sample_cards)
    assert_cheap(report)
    assert findings_for(report, "evil.md") == [
        "cards/lang/evil.md:1: DG111 93,706 Markdown blocks (limit 20,000): split the file"
    ]


def test_identical_questions_report_once_each_against_the_first(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card("lang/evil.md", within_file_limits(identical_questions()))
    report = measured_lint(sample_cards)
    assert_cheap(report)
    duplicates = [f for f in findings_for(report, "evil.md") if ": DG301 " in f]
    assert len(duplicates) == 2199  # one per later card, not one per pair
    assert duplicates[0] == (
        "cards/lang/evil.md:9: DG301 question of 'd1' is nearly the same as 'd0' "
        "(100% of words shared)"
    )
    assert all("nearly the same as 'd0' " in f for f in duplicates)


def test_similar_questions_stop_the_join_with_a_located_error(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card("lang/evil.md", within_file_limits(similar_questions()))
    report = measured_lint(sample_cards)
    assert_cheap(report)
    found = findings_for(report, "evil.md")
    stopped = [f for f in found if ": DG112 " in f]
    assert len(stopped) == 1, stopped
    assert re.fullmatch(
        r"cards/lang/evil\.md:\d+: DG112 too many similar questions to compare: the "
        r"near-duplicate check stopped at 's\d+' after 4,000,000 comparisons: .*",
        stopped[0],
    )
    # what was compared before the stop is still reported, once per card
    near = [f for f in found if ": DG301 " in f]
    assert near and len(near) == len({f.split(":")[1] for f in near})


def test_a_cubic_lexer_is_never_reached(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    """Pygments' systemd lexer is cubic: a language off the highlighting allow-list is shown as
    plain text, so the file is cheap and clean (before: 48-50 s)."""
    write_card("lang/slow.md", within_file_limits(systemd_spaces()))
    report = measured_lint(sample_cards, **{FILE_BUDGET_ENV: "2"})
    assert_cheap(report)
    assert findings_for(report, "slow.md") == []
    assert "rust-slow" in report["cards"]


def test_long_lines_are_not_highlighted_even_in_allowed_languages() -> None:
    from deckgen.highlight import MAX_HIGHLIGHT_LINE, highlight_code

    short = highlight_code("fn main() {}\n", "rust")
    long = highlight_code("/" * (MAX_HIGHLIGHT_LINE + 1), "rust")
    assert "<span" in short and "<span" not in long and 'class="language-rust"' in long
    assert "<span" not in highlight_code("[Unit]\nA=b\n", "systemd")


@pytest.fixture
def slow_highlighting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the cubic systemd lexer back on the allow-list: a legal file that is slow to check,
    for the tests of the budget itself."""
    import deckgen.highlight

    languages = deckgen.highlight.HIGHLIGHTED_LANGUAGES | {"systemd"}
    monkeypatch.setattr(deckgen.highlight, "HIGHLIGHTED_LANGUAGES", languages)
    monkeypatch.setattr(deckgen.highlight, "MAX_HIGHLIGHT_LINE", 100_000)


BUILD_CHILD = (
    MEASURE
    + """
from deckgen.build import build
import deckgen.exporters.anki
before = rss_kib()
start, cpu = time.monotonic(), cpu_seconds()
result = build(Path(sys.argv[1]), Path(sys.argv[2]), formats=["apkg"], use_cache=False)
print(json.dumps({"seconds": cpu_seconds() - cpu, "wall": time.monotonic() - start,
                  "grew_kib": peak_kib() - before,
                  "paths": [str(p) for p in result.paths]}))
"""
)


def test_an_apkg_of_hostile_but_legal_cards_builds_quickly(
    sample_cards: Path, write_card: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write_card("lang/math.md", within_file_limits(unclosed_math()))
    write_card("lang/same.md", within_file_limits(identical_questions()))
    out = tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "-c", BUILD_CHILD, str(sample_cards), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000", FILE_BUDGET_ENV: PATIENT_BUDGET},
        check=True,
    )
    report = json.loads(done.stdout)
    assert_cheap(report)
    (package,) = report["paths"]
    with zipfile.ZipFile(package) as archive:
        (out / "collection.anki2").write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(out / "collection.anki2") as db:
        (notes,) = db.execute("select count(*) from notes").fetchone()
    sample = len(load_deck(PROJECT / "tests" / "fixtures" / "sample" / "cards").cards)
    assert notes == sample + 1 + 2200


# --------------------------------------------------------------------------- the time budget

SLOW = 600  # spaces: about 1.5 s of the systemd lexer here, far over a 0.2 s budget anywhere


@pytest.mark.usefixtures("slow_highlighting")
def test_the_time_budget_reports_the_file_and_keeps_the_rest(
    sample_cards: Path, write_card: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_card("lang/slow.md", within_file_limits(systemd_spaces(SLOW)))
    monkeypatch.setenv(FILE_BUDGET_ENV, "0.2")
    start = cpu_seconds()
    result = lint_deck(sample_cards, cache=Cache(None))
    assert cpu_seconds() - start < 2
    found = [
        f"{d.location.display(sample_cards.parent)}: {d.code} {d.message}"
        for d in result.diagnostics
    ]
    assert (
        "cards/lang/slow.md:1: DG112 file too expensive to check (over 0.2 s): stopped in "
        "card 'rust-slow' (line 5); split the file, or shorten its longest code block, formula "
        "or cloze text"
    ) in found
    ids = {card.id for card in result.deck.cards}
    assert "rust-slow" not in ids and "dns-ttl-term" in ids


@pytest.mark.usefixtures("slow_highlighting")
def test_a_file_over_budget_is_not_cached(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    write_card("lang/slow.md", within_file_limits(systemd_spaces(SLOW)))
    monkeypatch.setenv(FILE_BUDGET_ENV, "0.2")
    first = lint_deck(sample_cards, cache=Cache(tmp_path / "cache", key=b"k" * 32))
    assert any(d.code == "DG112" for d in first.diagnostics)
    monkeypatch.setenv(FILE_BUDGET_ENV, PATIENT_BUDGET)  # a faster machine, or more patience
    cache = Cache(tmp_path / "cache", key=b"k" * 32)
    again = lint_deck(sample_cards, cache=cache)
    assert not any(d.code == "DG112" for d in again.diagnostics)
    assert "rust-slow" in {card.id for card in again.deck.cards}
    assert cache.misses == 1  # only the file cut short was checked again


def test_the_budget_interrupts_a_long_regex_match() -> None:
    """The budget relies on CPython checking signals inside `re` (3.11 does): prove it."""
    start = cpu_seconds()
    assert within_budget(0.1, lambda: re.match(r"(a+)+b", "a" * 40)) is None
    assert cpu_seconds() - start < 1


def test_the_budget_restores_the_signal_handler_and_an_outer_timer(sample_cards: Path) -> None:
    fired: list[int] = []

    def outer(signum: int, _frame: object) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, outer)
    try:
        signal.setitimer(signal.ITIMER_REAL, 60)
        assert within_budget(5, lambda: 42) == 42
        assert lint_deck(sample_cards, cache=Cache(None)).diagnostics == ()
        assert signal.getsignal(signal.SIGALRM) is outer
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 50 < left <= 60  # resumed with what it had left, not cancelled
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        time.sleep(0.2)
        assert fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: lint does not fork workers")
@pytest.mark.usefixtures("slow_highlighting")
def test_the_budget_also_holds_in_worker_processes(
    sample_cards: Path, write_card: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(8):
        write_card(
            f"lang/f{n}.md",
            f"{FRONT}## rust-f{n}\nQ: Which rule number {n}?\n\nA: x\n\nSource: RFC 9293\n",
        )
    write_card("lang/slow.md", within_file_limits(systemd_spaces(SLOW)))
    monkeypatch.setattr(compile_module, "PARALLEL_MIN_BYTES", 0)  # so few bytes: workers anyway
    sources = load_sources(sample_cards)
    config = (sources.info, sources.syllabus, sources.root, None)
    jobs = [(path, data, *config) for path, data in sources.files]
    assert compile_module.parallel_workers(jobs) > 1
    monkeypatch.setenv(FILE_BUDGET_ENV, "0.2")
    result = lint_deck(sample_cards, cache=Cache(None))
    stopped = [d for d in result.diagnostics if d.code == "DG112"]
    assert "cards/lang/slow.md:1" in [d.location.display(sample_cards.parent) for d in stopped]
    assert "rust-slow" not in {card.id for card in result.deck.cards}


# --------------------------------------------------------------------------- near-duplicates


def earliest_by_brute_force(cards: list[Card], threshold: float) -> list[tuple[str, str, float]]:
    """What each card should report: the first card with exactly its words, else the earliest
    earlier card at or over the threshold; compared pair by pair."""
    words = [frozenset(question_words(c)) for c in cards]
    expected = []
    for k, card in enumerate(cards):
        if not words[k]:
            continue
        same = next((i for i in range(k) if words[i] == words[k]), None)
        if same is not None:
            expected.append((cards[same].id, card.id, 1.0))
            continue
        for i in range(k):
            if words[i]:
                similarity = len(words[i] & words[k]) / len(words[i] | words[k])
                if similarity >= threshold:
                    expected.append((cards[i].id, card.id, similarity))
                    break
    return expected


@pytest.mark.parametrize("threshold", [0.5, 0.6, 0.8])
def test_near_duplicates_on_the_real_deck_are_unchanged(
    shipped_deck: Deck, threshold: float
) -> None:
    cards = list(shipped_deck.cards)
    pairs, stopped, _ = first_near_duplicates(cards, threshold)
    assert stopped is None
    assert [(a.id, b.id, s) for a, b, s in pairs] == earliest_by_brute_force(cards, threshold)
    # the same cards are flagged as by the all-pairs join, each once, against its earliest
    flagged = [b.id for _, b, _ in pairs]
    assert len(flagged) == len(set(flagged))
    assert set(flagged) == {b.id for _, b, _ in near_duplicates(cards, threshold)}
    assert pairs or threshold > 0.5  # the real deck has similar questions at 0.5


def test_near_duplicates_with_copies_match_brute_force(synthetic_deck: Deck) -> None:
    cards = list(synthetic_deck.cards)  # the benchmark's generator: many similar questions
    copies = [replace(card, id=f"{card.id}-copy") for card in cards[:50] + cards[100:120]]
    cards += copies  # the same questions again, later in the deck
    for threshold in (0.5, 0.8):
        pairs, stopped, _ = first_near_duplicates(cards, threshold)
        assert stopped is None
        assert [(a.id, b.id, s) for a, b, s in pairs] == earliest_by_brute_force(cards, threshold)


def test_hitting_the_comparison_cap_is_a_located_error(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card("lang/same.md", similar_questions(3))
    deck = load_deck(sample_cards)
    sink = DiagnosticSink()
    check_near_duplicates(deck, sink, limit=0)
    (stopped,) = [d for d in sink.items if d.code == "DG112"]
    assert stopped.location in {card.location for card in deck.cards}
    assert "after 0 comparisons" in stopped.message
    sink = DiagnosticSink()
    check_near_duplicates(deck, sink)
    assert [d.code for d in sink.items] == ["DG301", "DG301"]


# --------------------------------------------------------------------------- same matches as before

OLD_CLOZE_RE = re.compile(r"\{\{c\d+::(.*?)(?:::([^}]*?))?\}\}", re.DOTALL)
# The intended meaning, written the slow way: the old pattern, but no `{{c` inside a deletion.
TEMPERED_CLOZE_RE = re.compile(
    r"\{\{c\d+::((?:(?!\{\{c).)*?)(?:::((?:(?!\{\{c)[^}])*?))?\}\}", re.DOTALL
)
CLOZE_PIECES = ["{{c1::", "{{c12::", "{{c", "{{", "{", "}}", "}", ":", "::", ":::", "a", "c", "\n"]


def _matches(
    pattern: re.Pattern[str], text: str
) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


def test_the_linear_cloze_pattern_matches_what_the_old_one_did() -> None:
    rng = random.Random(11)
    well_formed = 0
    for _ in range(20_000):
        text = "".join(rng.choice(CLOZE_PIECES) for _ in range(rng.randrange(1, 30)))
        new = _matches(CLOZE_RE, text)
        assert new == _matches(TEMPERED_CLOZE_RE, text), text
        old = _matches(OLD_CLOZE_RE, text)
        # without nested or unclosed deletions, exactly the old matches
        opens = {m.start() for m in re.finditer(r"\{\{c\d+::", text)}
        if opens <= {a for (a, _), _ in old} and not any(
            "{{c" in text[a + 3 : b] for (a, b), _ in old
        ):
            well_formed += 1
            assert new == old, text
    assert well_formed > 3_000
    assert CLOZE_RE.sub(r"[\1|\2]", "a {{c1::b::h}} c {{c2::d}}") == "a [b|h] c [d|]"


def test_the_cloze_lookalike_pattern_matches_what_it_did() -> None:
    old = re.compile(r"\{\{\s*[cC]\s*\d*\s*:{1,2}")  # before its runs were possessive
    pieces = ["{{", "{", "c", "C", " ", "\t", "1", "2", ":", "::", "x", "\u00a0"]
    rng = random.Random(11)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 20)))
        expected = [(m.span(), m[0]) for m in old.finditer(text)]
        assert [(m.span(), m[0]) for m in _CLOZE_LIKE_RE.finditer(text)] == expected, text


def _plugin_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin)
    md.use(texmath_plugin, delimiters="brackets")  # the plugin's own (quadratic) rules
    return md


def _tokens(md: MarkdownIt, text: str) -> list[object]:
    def dump(tokens: list[Token]) -> list[object]:
        return [
            (t.type, t.map, t.content, t.info, t.markup, t.block, t.level, dump(t.children or []))
            for t in tokens
        ]

    return dump(md.parse(text))


MATH_PIECES = ["\\(", "\\)", "\\[", "\\]", "\\", "(", ")", "[", "]", " ", "\n", "\n\n", "a"]
MATH_PIECES += ["$", "> ", "- ", "  ", "(1)", "`", "*", "\r", "\u00a0", "](u)", "\t"]


def test_the_linear_math_rules_yield_the_plugins_tokens() -> None:
    rng = random.Random(11)
    ours, theirs = make_parser(), _plugin_parser()
    kinds: set[str] = set()
    for _ in range(5_000):
        text = "".join(rng.choice(MATH_PIECES) for _ in range(rng.randrange(1, 40)))
        expected = _tokens(theirs, text)
        assert _tokens(ours, text) == expected, text
        kinds.update(
            k for k in ("math_inline", "math_block_eqno", "math_block'") if k in repr(expected)
        )
    assert kinds == {"math_inline", "math_block_eqno", "math_block'"}
