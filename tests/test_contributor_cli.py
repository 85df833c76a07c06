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
