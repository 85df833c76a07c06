"""Every lint rule: a fixture that triggers it with its code and line, and one that does not."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from deckgen.checks.deck import MEDIA_WARNING_BYTES
from deckgen.checks.similarity import (
    _probe_added,
    _similar_sets,
    near_duplicates,
    question_words,
    similar_set_pairs,
)
from deckgen.cli import cli
from deckgen.lint import lint_deck
from deckgen.media import MAX_MEDIA_BYTES
from deckgen.model import Card, Deck
from deckgen.rules import RULES
from tests.conftest import FIXTURES, PROJECT

LINT = FIXTURES / "lint"

# rule code -> the exact `path:line:col: CODE [severity] message` start of the expected finding
BAD = {
    "DG101": "cards/zz/DG101.md:2:13: DG101 [error] invalid YAML: expected ',' or ']'",
    "DG102": "cards/zz/DG102.md:3:1: DG102 [error] unknown front-matter key 'topics' "
    "(did you mean 'topic'?)",
    "DG103": "cards/zz/DG103.md:5:1: DG103 [error] missing card id",
    "DG104": "cards/zz/DG104.md:5:1: DG104 [error] invalid card id 'Lint_A'",
    "DG105": "cards/zz/DG105.md:12:1: DG105 [error] duplicate id 'lint-a'\n"
    "  cards/zz/DG105.md:5:1: note: first defined here\n",
    "DG106": "cards/zz/DG106.md:6:1: DG106 [error] text before the first field of card 'lint-a'",
    "DG107": "cards/zz/DG107.md:5:1: DG107 [error] unknown card type 'front-back'",
    "DG108": "cards/zz/DG108.md:5:1: DG108 [error] card 'lint-a' needs 'A:'",
    "DG109": "cards/zz/DG109.md:8:1: DG109 [error] empty 'A:' in card 'lint-a'",
    "DG201": "cards/zz/DG201.md:3:1: DG201 [error] unknown section 'langs' (did you mean 'lang'?)",
    "DG202": "cards/zz/DG202.md:2:1: DG202 [error] unknown topic 'rusty' (did you mean 'rust'?)",
    "DG203": "cards/zz/DG203.md:6:1: DG203 [error] unknown tag 'tcp-handshak' "
    "(did you mean 'tcp-handshake'?)",
    "DG301": "cards/zz/DG301.md:5:1: DG301 [warning] question of 'lint-a' is nearly the same as "
    "'tcp-time-wait-side' (83% of words shared)\n"
    "  cards/net/tcp.md:8:1: note: the question of 'tcp-time-wait-side'\n",
    "DG302": "cards/zz/DG302.md:6:23: DG302 [error] cloze deletion in 'lint-a' is never closed",
    "DG303": "cards/zz/DG303.md:6:20: DG303 [error] cloze deletion inside code in card 'lint-a'",
    "DG304": "cards/zz/DG304.md:8:1: DG304 [warning] code block in card 'lint-a' names no language",
    "DG305": "cards/zz/DG305.md:6:1: DG305 [error] cloze card 'lint-a' has no deletions",
    "DG306": "cards/zz/DG306.md:8:1: DG306 [error] cloze markup in the back of 'lint-a'",
    "DG307": "cards/zz/DG307.md:9:4: DG307 [error] the answer of type-answer card 'lint-a' is "
    "what the learner types",
    "DG310": "cards/zz/DG310.md:8:1: DG310 [warning] answer of 'lint-a' has 61 words (limit 60)",
    "DG311": "cards/zz/DG311.md:5:1: DG311 [warning] card 'lint-a' has no Source:",
    "DG312": "cards/zz/DG312.md:6:1: DG312 [warning] question of 'lint-a' asks 2 things "
    "(', and when …'): one fact per card — split it, or make it a cloze\n",
    "DG401": "cards/zz/DG401.md:8:4: DG401 [error] missing image 'img/none.png' in card 'lint-a'",
    "DG403": "cards/zz/DG403.md:8:8: DG403 [error] broken link 'missing.md' in card 'lint-a'",
    "DG404": "cards/zz/DG404.md:8:10: DG404 [error] unsafe HTML in card 'lint-a': URL scheme "
    "'javascript:' is not allowed",
    "DG405": "cards/zz/DG405.md:8:4: DG405 [error] image '../../../../../etc/hostname' is outside "
    "the cards folder",
}


def lint_output(cards: Path, *args: str) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cards.parent)
        result = CliRunner().invoke(cli, ["lint", "--cards", cards.name, *args])
    return result.exit_code, result.stdout


def with_fixture(cards: Path, kind: str, code: str) -> Path:
    # "zz" sorts after the sample's folders, so a clash is reported on the fixture's side.
    target = cards / "zz" / f"{code}.md"
    target.parent.mkdir()
    shutil.copy(LINT / kind / f"{code}.md", target)
    return target


def test_sample_deck_is_clean(sample_cards: Path) -> None:
    assert lint_output(sample_cards, "--strict") == (0, "")


@pytest.mark.parametrize("code", sorted(BAD))
def test_bad_fixture_triggers_rule(sample_cards: Path, code: str) -> None:
    with_fixture(sample_cards, "bad", code)
    exit_code, out = lint_output(sample_cards)
    assert BAD[code] in out
    failing = RULES[code].severity.value == "error"
    assert exit_code == (1 if failing else 0)
    assert lint_output(sample_cards, "--strict")[0] == 1


@pytest.mark.parametrize("code", sorted(BAD))
def test_good_fixture_passes(sample_cards: Path, code: str) -> None:
    with_fixture(sample_cards, "good", code)
    assert lint_output(sample_cards, "--strict") == (0, "")


def test_every_rule_is_exercised() -> None:
    custom = {"DG110", "DG111", "DG210", "DG211", "DG320", "DG402", "DG501", "DG502", "DG901"}
    custom.add("DG112")  # tests/test_attack_dos.py: a file over its time budget, a capped join
    custom |= {"DG120", "DG121", "DG902", "DG903"}  # tests/test_error_boundary.py
    custom.add("DG122")  # tests/test_attack_fs.py: a symlinked output folder
    custom.add("DG330")  # tests/test_cardtypes.py: a type-answer card's extras in CSV
    custom |= {"DG503", "DG504", "DG505", "DG904"}  # tests/test_release.py: releases
    custom |= {"DG113", "DG114", "DG115", "DG116"}  # tests/test_nearmiss.py: issue 14
    custom.add("DG905")  # tests/test_sync.py: a refused collection
    custom.add("DG906")  # tests/test_sync_reviews.py: a refused progress file
    assert set(RULES) == set(BAD) | custom


def test_missing_deck_file(sample_cards: Path) -> None:
    (sample_cards / "deck.yaml").unlink()
    code, out = lint_output(sample_cards)
    assert code == 1
    assert "cards/deck.yaml:1:1: DG110 [error] missing deck.yaml" in out


def test_coverage_names_each_short_topic(sample_cards: Path) -> None:
    (sample_cards / "net" / "dns.md").unlink()
    code, out = lint_output(sample_cards)
    assert code == 1
    assert "cards/syllabus.yaml:12:1: DG210 [error] topic 'dns' (DNS) has 0 cards, needs 2\n" in out


_FACTS_FILE = "---\ntopic: rust\n---\n\n## lint-a\n{card}\n\nSource: RFC 9293\n"


@pytest.mark.parametrize(
    ("card", "finding"),
    [
        (
            "Q: What is TIME-WAIT? How long does it last?\n\nA: A state; 2 MSL.",
            "cards/zz/facts.md:6:1: DG312 [warning] question of 'lint-a' asks 2 things "
            "(2 question marks): one fact per card — split it, or make it a cloze\n",
        ),
        (
            "Q: Which side enters TIME-WAIT, in which state is it before, and how long does it "
            "stay?\n\nA: The active closer.",
            "cards/zz/facts.md:6:1: DG312 [warning] question of 'lint-a' asks 3 things "
            "(', in which …', ', and how …'): one fact per card — split it, or make it a cloze\n",
        ),
        (
            "Q: When was the flaw disclosed, and by whom?\n\nA: In 2023, by three vendors.",
            "cards/zz/facts.md:6:1: DG312 [warning] question of 'lint-a' asks 2 things "
            "(', and by whom …'): one fact per card — split it, or make it a cloze\n",
        ),
        # An opening phrase before the question is not a first question.
        ("Q: In HPACK, at which index does the first dynamic entry sit?\n\nA: At 62.", None),
        # A code-reading card may ask for the fix of what it shows; another card may not.
        (
            "Q: Why does this not compile, and what is the fix?\n\nA: A moved value is used.",
            "cards/zz/facts.md:6:1: DG312 [warning] question of 'lint-a' asks 2 things "
            "(', and what …'): one fact per card — split it, or make it a cloze\n",
        ),
        (
            "Q: Why does this not compile, and what is the fix?\n\n```rust\nlet a = f()?;\n"
            "let b = a;\nlet c = a;\n```\n\nA: `a` is used after its move into `b`.",
            None,
        ),
        ("Q: What does the `?` operator return on `Err`, and why?\n\nA: The error, early.", None),
        (
            "Q: What does TLS 1.3 remove?\n\nA:\n- static RSA\n- renegotiation\n- compression\n"
            "- CBC ciphers\n- DSA",
            "cards/zz/facts.md:8:1: DG312 [warning] answer of 'lint-a' lists 5 items (limit 4): "
            "one fact per card — a cloze, or one card per item\n",
        ),
        (
            "Q: What does RFC 9293 §3.10.7.4 say about a 4-tuple in TLS 1.3 and Go 1.22?"
            "\n\nA: In RFC 9293 §3.10.7.4, TLS 1.3 on HTTP/2 and Go 1.22: 1, 2, 3 and 4-tuple.",
            None,
        ),
        (
            "Q: How large was the attack?\n\nA: 7.3 Tbps in May 2025: 37.4 TB in 45 seconds "
            "from 122,145 sources in 161 countries.",
            "cards/zz/facts.md:8:1: DG312 [warning] answer of 'lint-a' packs 6 figures (7.3, "
            "2025, 37.4, 45, 122,145, 161; limit 5): one fact per card — split it, or move the "
            "rest to Extra:\n",
        ),
        (
            "Q: What failed?\n\nA: CPU near 100% gave 502 errors from 13:42 to 14:09:30 UTC on "
            "2 July.",  # a time of day is one figure: 100, 502, 13:42, 14:09:30, 2
            None,
        ),
        (
            "Cloze: Is it {{c1::7.3}} Tbps? In {{c2::2025}}? 37.4 TB, 45 s, 122,145 IPs, 161 "
            "countries, and how?",
            None,
        ),
    ],
)
def test_several_facts(
    sample_cards: Path, write_card: Callable[[str, str], Path], card: str, finding: str | None
) -> None:
    write_card("zz/facts.md", _FACTS_FILE.format(card=card))
    code, out = lint_output(sample_cards)
    assert code == 0
    facts = [line for line in out.splitlines(keepends=True) if "DG312" in line]
    assert facts == ([finding] if finding else [])


def test_long_list_is_answer_too_long_not_several_facts(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    items = "".join(f"- item {letter}\n" for letter in "abcdefg")
    write_card("zz/facts.md", _FACTS_FILE.format(card=f"Q: Which items?\n\nA:\n{items}"))
    assert lint_output(sample_cards)[0] == 0
    out = lint_output(sample_cards)[1]
    assert "cards/zz/facts.md:8:1: DG310 [warning] answer of 'lint-a' has 7 list items" in out
    assert "DG312" not in out


def test_missing_subtopic_tag_is_a_warning(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card("net/zz.md", "---\ntopic: tcp\n---\n## tcp-x\nQ: a?\n\nA: b\n\nSource: RFC 9293\n")
    code, out = lint_output(sample_cards)
    assert code == 0
    assert (
        "cards/net/zz.md:4:1: DG211 [warning] card 'tcp-x' names no subtopic of 'tcp' "
        "(one of: tcp-handshake, tcp-time-wait)" in out
    )


def test_oversized_media_is_a_warning(sample_cards: Path) -> None:
    image = sample_cards / "net" / "img" / "handshake.png"
    image.write_bytes(image.read_bytes() + b"\0" * (1024 * 1024 + 1))
    code, out = lint_output(sample_cards)
    assert code == 0
    assert (
        "cards/net/img/handshake.png:1:1: DG402 [warning] image is 1.0 MiB (warned over 1 MiB, "
        "refused over 5 MiB): shrink or compress it\n" in out
    )


def test_media_size_thresholds_are_the_ones_the_docs_state() -> None:
    # Two limits, each defined once: lint's warning, and the hard cap every stage refuses past.
    warn, refuse = MEDIA_WARNING_BYTES // 1024 // 1024, MAX_MEDIA_BYTES // 1024 // 1024
    assert 0 < warn < refuse
    contributing = (PROJECT / "CONTRIBUTING.md").read_text()
    row = (
        f"| DG402 | warning | oversized-media | an image larger than {warn} MiB (one over {refuse}"
    )
    assert row in contributing
    assert f"an image over {refuse} MiB" in (PROJECT / "SECURITY.md").read_text()
    card_format = " ".join((PROJECT / "docs" / "card-format.md").read_text().split())
    stated = f"An image over {warn} MiB is a warning (DG402) and one over {refuse} MiB is refused"
    assert stated in card_format


def test_published_id_that_disappears_is_an_error(sample_cards: Path) -> None:
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(sample_cards.parent)
        assert runner.invoke(cli, ["changes", "--check"]).exit_code == 1  # nothing released
        assert runner.invoke(cli, ["release", "v1"]).exit_code == 0
        assert runner.invoke(cli, ["changes", "--check"]).exit_code == 0
    lock_text = (sample_cards / "published-ids.yaml").read_text()
    assert "- tcp-time-wait-length\n" in lock_text

    tcp = sample_cards / "net" / "tcp.md"
    text = tcp.read_text()
    start, end = text.index("## tcp-time-wait-length"), text.index("## tcp-handshake-diagram")
    tcp.write_text(text[:start] + text[end:])
    code, out = lint_output(sample_cards)
    assert code == 1
    line = lock_text.splitlines().index("- tcp-time-wait-length") + 1
    assert (
        f"cards/published-ids.yaml:{line}:1: DG501 [error] published card "
        "'tcp-time-wait-length' has disappeared" in out
    )

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(sample_cards.parent)
        retired = runner.invoke(
            cli, ["retire", "tcp-time-wait-length", "--reason", "merged into another card"]
        )
    assert retired.exit_code == 0, retired.output
    assert lint_output(sample_cards) == (0, "")

    tcp.write_text(text)  # the retired id comes back
    code, out = lint_output(sample_cards)
    assert code == 1
    assert (
        "cards/net/tcp.md:15:1: DG502 [error] card id 'tcp-time-wait-length' was retired "
        "(merged into another card)" in out
    )


def test_json_and_github_formats(sample_cards: Path) -> None:
    with_fixture(sample_cards, "bad", "DG105")
    code, out = lint_output(sample_cards, "--format", "json")
    payload = json.loads(out)
    assert code == 1
    assert payload["errors"] == 1
    assert payload["diagnostics"][0] == {
        "path": "cards/zz/DG105.md",
        "line": 12,
        "col": 1,
        "code": "DG105",
        "rule": "duplicate-id",
        "severity": "error",
        "message": "duplicate id 'lint-a'",
        "related": [
            {"path": "cards/zz/DG105.md", "line": 5, "col": 1, "note": "first defined here"}
        ],
    }
    code, out = lint_output(sample_cards, "--format", "github")
    assert out == (
        "::error file=cards/zz/DG105.md,line=12,col=1,title=DG105 duplicate-id::"
        "duplicate id 'lint-a' (cards/zz/DG105.md:5:1: first defined here)\n"
    )


def test_build_refuses_cards_with_lint_errors(sample_cards: Path) -> None:
    with_fixture(sample_cards, "bad", "DG303")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(sample_cards.parent)
        result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 1
    assert "cards/zz/DG303.md:6:20: DG303 [error]" in result.stderr
    assert not (sample_cards.parent / "dist").exists()


def all_pairs(cards: list[Card]) -> list[tuple[str, str, float]]:
    """Every pair of cards whose questions have words, with their Jaccard similarity: the
    all-pairs comparison the prefix-filtered join must agree with."""
    words = [set(question_words(c)) for c in cards]
    return [
        (cards[i].id, cards[j].id, len(words[i] & words[j]) / len(words[i] | words[j]))
        for i in range(len(cards))
        for j in range(i + 1, len(cards))
        if words[i] and words[j]
    ]


def test_near_duplicates_match_brute_force(shipped_deck: Deck) -> None:
    """The prefix-filtered join finds exactly the pairs an all-pairs comparison finds."""
    cards = list(shipped_deck.cards)
    pairs = all_pairs(cards)
    compared = 0
    for threshold in (0.5, 0.6, 0.8):
        brute = {(a, b) for a, b, similarity in pairs if similarity >= threshold}
        fast = {(a.id, b.id) for a, b, _ in near_duplicates(cards, threshold)}
        assert fast == brute
        compared += len(brute)
    assert compared  # the real deck has similar questions at 0.5, so this compares something


# A small vocabulary, so that random sets share words often and land on every side of the
# threshold; word frequencies, set sizes and thresholds vary the prefixes the join indexes.
_VOCABULARY = [f"w{n}" for n in range(9)]


@settings(max_examples=300, deadline=None)
@given(
    sets=st.lists(
        st.frozensets(st.sampled_from(_VOCABULARY), min_size=1, max_size=9), max_size=40
    ).map(lambda found: list(dict.fromkeys(found))),
    threshold=st.sampled_from([0.2, 0.3, 0.5, 0.6, 2 / 3, 0.7, 0.75, 0.8, 0.9, 1.0]),
)
def test_the_similarity_join_finds_exactly_the_pairs_brute_force_finds(
    sets: list[frozenset[str]], threshold: float
) -> None:
    """Every pair at or over the threshold, each once, with its similarity: what comparing
    every pair finds (the join's prefixes must never drop one)."""
    found: list[tuple[int, int, float]] = []
    assert _similar_sets(sets, threshold, None, lambda i, j, s: found.append((i, j, s))) is None
    joined = {(min(i, j), max(i, j)): s for i, j, s in found}
    assert len(joined) == len(found)
    brute = {
        (i, j): len(a & b) / len(a | b)
        for i, a in enumerate(sets)
        for j, b in enumerate(sets[i + 1 :], start=i + 1)
        if len(a & b) / len(a | b) >= threshold
    }
    assert joined == brute


_SETS = st.lists(
    st.frozensets(st.sampled_from(_VOCABULARY), min_size=1, max_size=9), max_size=30
).map(lambda found: list(dict.fromkeys(found)))


def _brute_pairs(sets: list[frozenset[str]], threshold: float) -> dict[tuple[int, int], float]:
    return {
        (i, j): len(a & b) / len(a | b)
        for i, a in enumerate(sets)
        for j, b in enumerate(sets[i + 1 :], start=i + 1)
        if len(a & b) / len(a | b) >= threshold
    }


@settings(max_examples=300, deadline=None)
@given(
    before=_SETS,
    after=_SETS,
    kept=st.integers(min_value=0, max_value=30),
    threshold=st.sampled_from([0.2, 0.3, 0.5, 0.6, 2 / 3, 0.7, 0.75, 0.8, 0.9, 1.0]),
)
def test_the_join_after_an_edit_finds_exactly_what_a_full_join_finds(
    before: list[frozenset[str]], after: list[frozenset[str]], kept: int, threshold: float
) -> None:
    """A rebuild joins only the sets the last run did not see, keeping its pairs of the sets
    still asked: the pairs are those of comparing every pair of the new sets."""
    _, stopped, record = similar_set_pairs(before, threshold, 10**9)
    assert stopped is None and record is not None
    # the next run: some of the earlier sets (in another order), and new ones
    sets = list(dict.fromkeys([*reversed(before[:kept]), *after]))
    found, stopped, again = similar_set_pairs(sets, threshold, 10**9, record)
    assert stopped is None and again is not None
    joined = {(min(i, j), max(i, j)): s for i, j, s in found}
    assert len(joined) == len(found)
    assert joined == _brute_pairs(sets, threshold)
    assert again.sets == frozenset(sets)
    # and what it keeps serves the run after it as well
    found, _, _ = similar_set_pairs(sets[::-1], threshold, 10**9, again)
    n = len(sets) - 1
    assert {(min(n - i, n - j), max(n - i, n - j)) for i, j, _ in found} == set(joined)


def test_the_join_after_an_edit_counts_against_the_cap() -> None:
    """An incremental run counts the last full join's comparisons plus its own; past the cap
    the whole join runs again and stops where a cold run stops."""
    sets = [frozenset({"a", "b", f"w{n}"}) for n in range(20)]
    _, _, record = similar_set_pairs(sets[:10], 0.5, 10**9)
    assert record is not None and record.work > 0
    cold = similar_set_pairs(sets, 0.5, record.work)
    assert cold[1] is not None  # 20 sets cost more than the 10 did
    assert similar_set_pairs(sets, 0.5, record.work, record)[1] == cold[1]
    found, stopped, again = similar_set_pairs(sets, 0.5, 10**9, record)
    assert stopped is None and again is not None and again.work > record.work
    assert {(min(i, j), max(i, j)) for i, j, _ in found} == set(_brute_pairs(sets, 0.5))
    # the probe itself stops once past what the cap leaves it: it never runs on unbounded
    assert _probe_added(sets, list(range(10, 20)), 0.5, 5) is None
    probed = _probe_added(sets, list(range(10, 20)), 0.5, 10**9)
    assert probed is not None and probed[1] > 5


def test_shipped_deck_passes_strict_lint() -> None:
    result = lint_deck(PROJECT / "cards", print_check=True)
    assert [d.display(PROJECT) for d in result.diagnostics] == []


@pytest.fixture(scope="module")
def shipped_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One copy of the shipped deck for the cases below, and the user cache folder they share:
    each removes its topic's files and puts them back, so the other files' checks come from
    the cache (its entries belong to this folder and its key to that user cache)."""
    root = tmp_path_factory.mktemp("shipped")
    shutil.copytree(PROJECT / "cards", root / "cards")
    return root / "cards", root / "user-cache"


@pytest.mark.parametrize(
    "topic", ["tcp", "http", "tls", "dns", "workers", "durable-objects", "ddos", "rust", "go"]
)
def test_removing_a_topic_fails_lint_naming_it(
    shipped_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, topic: str
) -> None:
    cards, user_cache = shipped_copy
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))
    removed = {
        path: path.read_bytes()
        for path in sorted(cards.rglob("*.md"))
        if f"\ntopic: {topic}\n" in path.read_text()
    }
    assert removed
    try:
        for path in removed:
            path.unlink()
        code, out = lint_output(cards)
    finally:
        for path, data in removed.items():
            path.write_bytes(data)
    assert code == 1
    assert f"DG210 [error] topic '{topic}' " in out


def test_contributing_lists_every_rule() -> None:
    text = (PROJECT / "CONTRIBUTING.md").read_text()
    rows = {
        cells[0]: (cells[1], cells[2])
        for line in text.splitlines()
        if line.startswith("| DG")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert rows == {code: (r.severity.value, r.name) for code, r in RULES.items()}


@pytest.fixture(scope="module")
def synthetic_pairs(synthetic_deck: Deck) -> list[tuple[str, str, float]]:
    return all_pairs(list(synthetic_deck.cards))


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
def test_near_duplicates_match_brute_force_on_a_synthetic_deck(
    synthetic_deck: Deck, synthetic_pairs: list[tuple[str, str, float]], threshold: float
) -> None:
    cards = list(synthetic_deck.cards)
    assert len(cards) == 600  # the benchmark's generator: many similar questions
    brute = {(a, b) for a, b, similarity in synthetic_pairs if similarity >= threshold}
    assert {(a.id, b.id) for a, b, _ in near_duplicates(cards, threshold)} == brute
    assert brute or threshold > 0.5
