"""Issue 14: the near-misses of selection, retire, stats and new, each with its exact message."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.cli import cli

KNOWN = "known tags: dns, lang, net, rust, tcp, tcp-handshake, tcp-time-wait"


def invoke(cards: Path, *args: str) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cards.parent)
        result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_misspelt_exclude_tag_is_a_usage_error_with_did_you_mean(sample_cards: Path) -> None:
    code, out, err = invoke(sample_cards, "build", "--format", "csv", "--exclude-tag", "rusty")
    assert code == 2
    assert out == ""
    assert err.splitlines()[-1] == (
        "Error: no card matches --exclude-tag rusty (did you mean 'rust'?),"
        f" so it leaves out nothing; {KNOWN}"
    )
    assert not (sample_cards.parent / "dist").exists()


@pytest.mark.parametrize(("query", "meant"), [("rustlang", "rust"), ("net-stack", "net")])
def test_a_tag_with_a_word_added_gets_did_you_mean(
    sample_cards: Path, query: str, meant: str
) -> None:
    code, _, err = invoke(sample_cards, "build", "--format", "csv", "--exclude-tag", query)
    assert code == 2
    assert err.splitlines()[-1] == (
        f"Error: no card matches --exclude-tag {query} (did you mean '{meant}'?),"
        f" so it leaves out nothing; {KNOWN}"
    )


def test_a_misspelt_tag_gets_did_you_mean(sample_cards: Path) -> None:
    code, _, err = invoke(sample_cards, "build", "--format", "csv", "--tag", "tpc")
    assert code == 2
    assert err.splitlines()[-1] == (
        f"Error: no card matches --tag tpc (did you mean 'tcp'?); {KNOWN}"
    )


def test_anki_side_tags_select_like_the_bare_ones(sample_cards: Path) -> None:
    code, out, _ = invoke(
        sample_cards, "build", "-q", "--format", "csv", "--tag", "round::net",
        "--exclude-tag", "topic::dns",
    )  # fmt: skip
    assert code == 0
    assert out == "dist/sample-deck--net--not-dns.csv\n"
    code, bare, _ = invoke(
        sample_cards, "build", "-q", "--format", "csv", "--tag", "net", "--exclude-tag", "dns"
    )
    assert code == 0
    assert bare == out


def test_retire_names_the_card_to_delete_and_lint_says_delete_it(sample_cards: Path) -> None:
    assert invoke(sample_cards, "release", "v1")[0] == 0
    code, out, err = invoke(sample_cards, "retire", "tcp-time-wait-length", "--reason", "merged")
    assert code == 0
    assert out == "cards/published-ids.yaml\n"
    assert err == (
        "deckgen: retired 'tcp-time-wait-length'; now delete the card from cards/net/tcp.md:15"
        " (lint fails with DG502 until it is gone)\n"
    )
    code, out, _ = invoke(sample_cards, "lint")
    assert code == 1
    assert (
        "cards/net/tcp.md:15:1: DG502 [error] card id 'tcp-time-wait-length' was retired (merged)"
        " but a card still has it: delete the card if it is the retired one, otherwise choose a"
        " new id (a retired id must not be reused)"
    ) in out


def test_retiring_twice_says_already_retired(sample_cards: Path) -> None:
    assert invoke(sample_cards, "release", "v1")[0] == 0
    assert invoke(sample_cards, "retire", "dns-ttl-term", "--reason", "too easy")[0] == 0
    code, _, err = invoke(sample_cards, "retire", "dns-ttl-term", "--reason", "again")
    assert code == 2
    assert err.splitlines()[-1] == (
        "Error: 'dns-ttl-term' is already retired (too easy) in cards/published-ids.yaml"
    )


def test_retiring_an_unreleased_card_says_just_delete_it(sample_cards: Path) -> None:
    code, _, err = invoke(sample_cards, "retire", "dns-ttl-term", "--reason", "too easy")
    assert code == 2
    assert err.splitlines()[-1] == (
        "Error: 'dns-ttl-term' was never released (it is not in cards/published-ids.yaml),"
        " so no learner has it: just delete it from cards/net/dns.md:6"
    )
    assert not (sample_cards / "published-ids.yaml").exists()


def test_retiring_a_misspelt_id_gets_did_you_mean(sample_cards: Path) -> None:
    assert invoke(sample_cards, "release", "v1")[0] == 0
    code, _, err = invoke(sample_cards, "retire", "tcp-time-wait-lenght", "--reason", "x")
    assert code == 2
    assert err.splitlines()[-1] == (
        "Error: 'tcp-time-wait-lenght' is not a published id in cards/published-ids.yaml"
        " (did you mean 'tcp-time-wait-length'?)"
    )


def test_stats_shows_ids_and_why_a_round_can_count_fewer_than_its_topics(
    sample_cards: Path,
) -> None:
    syllabus = sample_cards / "syllabus.yaml"
    syllabus.write_text(syllabus.read_text().replace("sections: [lang]", "sections: [lang, net]"))
    rust = sample_cards / "lang" / "rust.md"
    rust.write_text(rust.read_text().replace("topic: rust\n", "topic: rust\nsection: net\n"))
    code, out, _ = invoke(sample_cards, "stats")
    assert code == 0
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert lines[0] == "round / topic / subtopic id cards min"
    assert lines[6:8] == ["2 · Languages lang 0", "Rust rust 2 1"]  # both Rust cards are in net
    assert lines[-1] == (
        "* topic 'rust' belongs to rounds lang, net: it is listed under 'lang' but counts its"
        " cards in every round, while each round counts only the cards whose round it is"
    )


def test_lint_with_paths_reports_only_their_findings(sample_cards: Path) -> None:
    rust = sample_cards / "lang" / "rust.md"
    rust.write_text(rust.read_text() + "\n## rust-dup\nQ: One?\n\nQ: Two?\n\nA: A.\n\nSource: S\n")
    code, out, err = invoke(sample_cards, "lint", "cards/net/tcp.md", "cards/net/dns.md")
    assert (code, out) == (0, "")
    assert err == "lint passed: 5 of 7 cards in the given paths, 0 errors, 0 warnings\n"
    code, out, _ = invoke(sample_cards, "lint", "cards/lang")
    assert code == 1
    assert out.startswith("cards/lang/rust.md:")
    assert " DG106 [error] duplicate field 'Q:' in card 'rust-dup'" in out
    code, everything, _ = invoke(sample_cards, "lint")
    assert (code, everything) == (1, out)


def test_lint_of_a_missing_path_is_a_usage_error(sample_cards: Path) -> None:
    code, _, err = invoke(sample_cards, "lint", "cards/net/tcpp.md")
    assert code == 2
    assert err.splitlines()[-1] == (
        "Error: Invalid value for '[PATHS]...': Path 'cards/net/tcpp.md' does not exist."
    )


def test_retire_when_the_card_is_gone_or_the_cards_do_not_load(sample_cards: Path) -> None:
    assert invoke(sample_cards, "release", "v1")[0] == 0
    (sample_cards / "net" / "dns.md").unlink()
    code, _, err = invoke(sample_cards, "retire", "dns-ttl-term", "--reason", "gone")
    assert (code, err) == (0, "deckgen: retired 'dns-ttl-term'\n")
    rust = sample_cards / "lang" / "rust.md"
    rust.write_text(rust.read_text() + "\n## rust-dup\nQ: One?\n\nQ: Two?\n\nA: A.\n")
    code, _, err = invoke(sample_cards, "retire", "dns-resolution-order", "--reason", "gone")
    assert code == 0
    assert err == (
        "deckgen: retired 'dns-resolution-order'; delete its card from the Markdown,"
        " if any is left\n"
    )
