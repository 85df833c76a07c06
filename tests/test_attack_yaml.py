"""Denial of service through the deck's YAML config files: many keys, many entries, many typos."""

from __future__ import annotations

from pathlib import Path

from deckgen.configfile import MAX_CONFIG_BYTES
from deckgen.deckconfig import MAX_SYLLABUS_SECTIONS, MAX_SYLLABUS_TOPICS
from deckgen.lint import lint_deck
from deckgen.suggest import suggest
from tests.conftest import cpu_seconds

SECONDS = 5.0  # of CPU time (tests.conftest.cpu_seconds): what other processes do not inflate
# A file near the 256 KiB cap costs PyYAML's pure-Python parser 2-3.5 s on this machine; the
# bound for those cases leaves room for that and still fails the old 40-110 s code.
NEAR_CAP_SECONDS = 15.0
MAX_DIAGNOSTICS = 50


def _timed_lint(cards: Path) -> tuple[float, list[tuple[str, str, int | None, str]]]:
    start = cpu_seconds()
    result = lint_deck(cards)
    elapsed = cpu_seconds() - start
    found = [(d.code, d.location.path.name, d.location.line, d.message) for d in result.diagnostics]
    return elapsed, found


def test_many_unknown_keys_in_published_ids(sample_cards: Path) -> None:
    text = "".join(f"k{n:05d}: 1\n" for n in range(25_000))
    assert len(text.encode()) < MAX_CONFIG_BYTES
    (sample_cards / "published-ids.yaml").write_text(text, encoding="utf-8")
    elapsed, found = _timed_lint(sample_cards)
    assert elapsed < NEAR_CAP_SECONDS
    assert len(found) <= MAX_DIAGNOSTICS
    lock = [f for f in found if f[1] == "published-ids.yaml"]
    assert all(code == "DG110" for code, *_ in lock)
    assert ("DG110", "published-ids.yaml", 1, "unknown key 'k00000' in published-ids.yaml") in lock
    assert ("DG110", "published-ids.yaml", 7, "unknown key 'k00006' in published-ids.yaml") in lock
    assert any("and 24980 more problems" in message for *_, message in lock)


def _syllabus(sections: int, topics: int) -> str:
    lines = ["sections:"]
    lines += [f"  - {{id: r{n:04d}, title: Section {n}}}" for n in range(sections)]
    lines += ["topics:"]
    lines += [f"  - {{id: t{n:04d}, title: T, sections: [q{n:04d}]}}" for n in range(topics)]
    return "\n".join(lines) + "\n"


def test_syllabus_over_the_entry_limits(sample_cards: Path) -> None:
    text = _syllabus(3000, 3000)
    assert len(text.encode()) < MAX_CONFIG_BYTES
    (sample_cards / "syllabus.yaml").write_text(text, encoding="utf-8")
    elapsed, found = _timed_lint(sample_cards)
    assert elapsed < NEAR_CAP_SECONDS
    assert len(found) <= MAX_DIAGNOSTICS
    assert ("DG111", "syllabus.yaml", 1) in {f[:3] for f in found}


def test_many_unknown_sections_within_the_limits(sample_cards: Path) -> None:
    text = _syllabus(MAX_SYLLABUS_SECTIONS, MAX_SYLLABUS_TOPICS)
    (sample_cards / "syllabus.yaml").write_text(text, encoding="utf-8")
    elapsed, found = _timed_lint(sample_cards)
    assert elapsed < SECONDS
    assert len(found) <= MAX_DIAGNOSTICS
    syllabus = [f for f in found if f[1] == "syllabus.yaml"]
    first_topic = MAX_SYLLABUS_SECTIONS + 3  # 'sections:', the sections, 'topics:', then 1-based
    assert ("DG110", "syllabus.yaml", first_topic) in {f[:3] for f in syllabus}
    assert any("and 1980 more problems" in f[3] for f in syllabus)


def test_suggest_is_bounded_and_still_helps() -> None:
    assert suggest("tpc", ["tcp", "dns", "rust"]) == " (did you mean 'tcp'?)"
    assert suggest("zzzzzz", ["tcp", "dns"]) == ""
    many = [f"r{n:04d}" for n in range(5000)]
    start = cpu_seconds()
    for n in range(200):
        suggest(f"q{n:04d}", many)
    assert cpu_seconds() - start < SECONDS
