"""Issue 14: card-file near-misses that used to pass silently, each with its exact message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.cli import cli
from tests.test_lint import lint_output
from tests.test_stats_new import invoke

HEAD = "---\ntopic: rust\n---\n"
CARD = "## rust-x\nQ: What does `?` do?\n\nA: It returns the error early.\n\nSource: The Book\n"

WriteCard = Callable[[str, str], Path]


def lint(cards: Path) -> tuple[int, str]:
    return lint_output(cards)


# ------------------------------------------------------------------ 1. placeholders (DG113)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "## rust-x\nQ: What does `?` do?\n\nA: TODO\n\nSource: The Book\n",
            "cards/lang/zz.md:7:4: DG113 [error] placeholder 'TODO' left in 'A:' of card "
            "'rust-x': write it\n",
        ),
        (
            "## rust-x\nQ: What does `?` do?\n\nA: Returns early.\n\nSource: TODO\n",
            "cards/lang/zz.md:9:9: DG113 [error] placeholder 'TODO' left in 'Source:' of card "
            "'rust-x': cite where it can be checked: an RFC section, official docs or a primary "
            "blog post\n",
        ),
        (
            "## rust-x\nCloze: TODO {{c1::answer}}\n\nSource: The Book\n",
            "cards/lang/zz.md:5:8: DG113 [error] placeholder 'TODO' left in 'Cloze:' of card "
            "'rust-x': write it\n",
        ),
        (
            "## rust-x\nQ: What does `?` do?\n\nA: Returns early.\n\nExtra: TODO\n\nSource: B\n",
            "cards/lang/zz.md:9:8: DG113 [error] placeholder 'TODO' left in 'Extra:' of card "
            "'rust-x': write it, or remove the field\n",
        ),
    ],
)
def test_placeholder_is_an_error(
    sample_cards: Path, write_card: WriteCard, body: str, expected: str
) -> None:
    write_card("lang/zz.md", HEAD + body)
    code, out = lint(sample_cards)
    assert code == 1
    assert expected in out


def test_todo_inside_an_answer_is_content(sample_cards: Path, write_card: WriteCard) -> None:
    write_card("lang/zz.md", HEAD + CARD.replace("early.", "early (a TODO list is not one)."))
    assert lint(sample_cards) == (0, "")


def test_new_skeleton_fails_lint_but_not_the_next_new(sample_cards: Path) -> None:
    (sample_cards / "lang" / "rust.md").unlink()
    assert invoke(sample_cards, "new", "rust", "--type", "cloze")[0] == 0
    assert invoke(sample_cards, "new", "rust", "What is a borrow?")[0] == 0  # still loads
    code, out = lint(sample_cards)
    assert code == 1
    assert out.count("DG113 [error]") == 4
    assert (
        "cards/lang/rust.md:7:8: DG113 [error] placeholder 'TODO' left in 'Cloze:' of card "
        "'rust-new': write it\n" in out
    )


# --------------------------------------------------------- 2. mistyped field names (DG114)


@pytest.mark.parametrize(
    ("line", "word", "name"),
    [
        ("Sources: The Book", "Sources", "Source"),
        ("Hint: think of ?", "Hint", "Extra"),
        ("Answer: early", "Answer", "A"),
        ("Question: what?", "Question", "Q"),
        ("a: lowercase", "a", "A"),
        ("q: lowercase", "q", "Q"),
        ("Extras: more", "Extras", "Extra"),
        ("source: lowercase", "source", "Source"),
        ("Answers: early", "Answers", "A"),
        ("Tag: rust", "Tag", "Tags"),
        ("Close: a {{c1::typo}}", "Close", "Cloze"),
    ],
)
def test_mistyped_field_name_is_an_error(
    sample_cards: Path, write_card: WriteCard, line: str, word: str, name: str
) -> None:
    write_card("lang/zz.md", HEAD + CARD + "\n" + line + "\n")
    code, out = lint(sample_cards)
    assert code == 1
    assert (
        f"cards/lang/zz.md:11:1: DG114 [error] '{word}:' is not a field "
        f"(did you mean '{name}:'?)\n" in out
    )


def test_mistyped_field_name_in_the_middle_of_a_paragraph(
    sample_cards: Path, write_card: WriteCard
) -> None:
    write_card("lang/zz.md", HEAD + CARD.replace("early.\n", "early.\n  Sources: x\n"))
    code, out = lint(sample_cards)
    assert code == 1
    assert "cards/lang/zz.md:8:3: DG114 [error] 'Sources:' is not a field" in out


@pytest.mark.parametrize(
    "line",
    [
        "Note: the `?` needs a Result.",
        "Cloud: no",
        "Warning: careful",
        "Example: x?",
        "Resource: the Rustonomicon",
        "Extract: a function",
        "Notes: none",
        "Close: the side that sends the first FIN enters TIME-WAIT.",
    ],
)
def test_other_word_colon_lines_are_content(
    sample_cards: Path, write_card: WriteCard, line: str
) -> None:
    write_card("lang/zz.md", HEAD + CARD.replace("early.\n", f"early.\n\n{line}\n"))
    assert lint(sample_cards) == (0, "")


def test_near_miss_inside_a_list_or_quote_is_content(
    sample_cards: Path, write_card: WriteCard
) -> None:
    write_card("lang/zz.md", HEAD + CARD.replace("early.\n", "early.\n\n- Sources: a list\n"))
    assert lint(sample_cards) == (0, "")


# -------------------------------------------------------------- 3. card headings (DG115)


@pytest.mark.parametrize("marker", ["###", "#"])
def test_card_under_wrong_heading_is_an_error(
    sample_cards: Path, write_card: WriteCard, marker: str
) -> None:
    second = CARD.replace("## rust-x", f"{marker} rust-y").replace("`?`", "`!`")
    write_card("lang/zz.md", HEAD + CARD + "\n" + second)
    code, out = lint(sample_cards)
    assert code == 1
    assert (
        f"cards/lang/zz.md:11:1: DG115 [error] '{marker} rust-y' is followed by fields, "
        "but card headings are '## id': write '## rust-y'\n" in out
    )
    assert out.count("[error]") == 1  # not swallowed into rust-x, nor 'field outside a card'


def test_headings_inside_an_answer_are_content(sample_cards: Path, write_card: WriteCard) -> None:
    write_card(
        "lang/zz.md",
        HEAD + "# Rust\n\n" + CARD.replace("early.\n", "early.\n\n### Why\n\nIt is short.\n"),
    )
    assert lint(sample_cards) == (0, "")


# ------------------------------------------------------------- 5. BOM and line breaks


def test_bom_is_accepted(sample_cards: Path) -> None:
    (sample_cards / "lang" / "zz.md").write_bytes(b"\xef\xbb\xbf" + (HEAD + CARD).encode())
    assert lint(sample_cards) == (0, "")


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1e"])
def test_unicode_line_breaks_do_not_shift_lines(
    sample_cards: Path, write_card: WriteCard, char: str
) -> None:
    body = CARD.replace("What does", f"What{char} does").replace(
        "It returns the error early.", "TODO"
    )
    write_card("lang/zz.md", HEAD + body)
    code, out = lint(sample_cards)
    assert code == 1
    assert "cards/lang/zz.md:7:4: DG113 [error] placeholder 'TODO' left in 'A:'" in out


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85"])
def test_unicode_line_breaks_in_front_matter_do_not_shift_lines(
    sample_cards: Path, write_card: WriteCard, char: str
) -> None:
    write_card("lang/zz.md", f"---\ntopic: rust  # the{char}language\nsection: lang2\n---\n" + CARD)
    code, out = lint(sample_cards)
    assert code == 1
    assert out.startswith(
        "cards/lang/zz.md:3:1: DG201 [error] unknown section 'lang2' (did you mean 'lang'?)\n"
    )


def test_crlf_lines_are_counted_once(sample_cards: Path) -> None:
    text = (HEAD + CARD.replace("It returns the error early.", "TODO")).replace("\n", "\r\n")
    (sample_cards / "lang" / "zz.md").write_bytes(text.encode())
    code, out = lint(sample_cards)
    assert code == 1
    assert "cards/lang/zz.md:7:4: DG113 [error] placeholder 'TODO' left in 'A:'" in out


# ------------------------------------------------------------- 6. skipped files (DG116)


@pytest.mark.parametrize("name", ["zz.MD", "zz.markdown", "zz.Md"])
def test_other_markdown_suffix_is_reported(
    sample_cards: Path, write_card: WriteCard, name: str
) -> None:
    write_card(f"lang/{name}", HEAD + CARD)
    code, out = lint(sample_cards)
    assert code == 0
    assert (
        f"cards/lang/{name}:1:1: DG116 [warning] card files end in .md: this file is not read "
        "(rename it to 'zz.md')\n" in out
    )
    assert lint_output(sample_cards, "--strict")[0] == 1


def test_front_matter_without_cards_is_a_warning(sample_cards: Path, write_card: WriteCard) -> None:
    write_card("lang/zz.md", HEAD + "\nSome notes, no cards yet.\n")
    code, out = lint(sample_cards)
    assert code == 0
    assert out == (
        "cards/lang/zz.md:1:1: DG116 [warning] file has front matter but no cards: nothing in "
        "it is built (start each card with a '## card-id' heading)\n"
    )


def test_file_without_front_matter_or_cards_is_silent(
    sample_cards: Path, write_card: WriteCard
) -> None:
    write_card("lang/README.md", "# About these cards\n\nNotes.\n")
    assert lint(sample_cards) == (0, "")


# ------------------------------------------------- 4. a file that fails is not checked further


def release(cards: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cards.parent)
        assert CliRunner().invoke(cli, ["release", "v1"]).exit_code == 0


def test_front_matter_typo_gives_one_error_not_a_cascade(sample_cards: Path) -> None:
    release(sample_cards)
    tcp = sample_cards / "net" / "tcp.md"
    tcp.write_text(tcp.read_text().replace("topic: tcp\n", "topic: tcp\nsection: network\n"))
    code, out = lint(sample_cards)
    assert code == 1
    assert out == (
        "cards/net/tcp.md:3:1: DG201 [error] unknown section 'network' (did you mean 'net'?)\n"
        "  cards/net/tcp.md:9:1: note: 3 cards of this file not checked, nor the coverage "
        "of their topics, until this is fixed\n"
    )


def test_a_failed_file_leaves_the_coverage_of_other_topics_checked(sample_cards: Path) -> None:
    release(sample_cards)
    syllabus = sample_cards / "syllabus.yaml"
    syllabus.write_text(syllabus.read_text().replace("min_cards: 2\n", "min_cards: 5\n"))
    tcp = sample_cards / "net" / "tcp.md"
    tcp.write_text(tcp.read_text().replace("topic: tcp\n", "topic: tcp\nsection: network\n"))
    code, out = lint(sample_cards)
    assert code == 1
    assert "cards/net/tcp.md:3:1: DG201 [error] unknown section 'network'" in out
    assert "cards/syllabus.yaml:12:1: DG210 [error] topic 'dns' (DNS) has 2 cards, needs 5\n" in out
    assert "topic 'tcp'" not in out and "subtopic 'tcp-" not in out  # its cards are unknown


def test_a_failed_file_with_an_unreleased_card_leaves_all_coverage_unchecked(
    sample_cards: Path,
) -> None:
    syllabus = sample_cards / "syllabus.yaml"
    syllabus.write_text(syllabus.read_text().replace("min_cards: 2\n", "min_cards: 5\n"))
    tcp = sample_cards / "net" / "tcp.md"
    tcp.write_text(tcp.read_text().replace("topic: tcp\n", "topic: tcp\nsection: network\n"))
    code, out = lint(sample_cards)
    assert code == 1
    assert "DG210" not in out  # no release says which topic its cards are in


def test_file_that_is_not_utf8_gives_one_error_not_a_cascade(sample_cards: Path) -> None:
    release(sample_cards)
    tcp = sample_cards / "net" / "tcp.md"
    tcp.write_bytes(tcp.read_bytes().replace(b"TIME_WAIT?", b"TIME_WAIT\xff?", 1))
    code, out = lint(sample_cards)
    assert code == 1
    assert out == (
        "cards/net/tcp.md:1:1: DG101 [error] not UTF-8 text: invalid start byte\n"
        "  cards/net/tcp.md:8:1: note: 3 cards of this file not checked, nor the coverage "
        "of their topics, until this is fixed\n"
    )


def test_a_card_that_is_removed_is_still_reported(sample_cards: Path) -> None:
    release(sample_cards)
    tcp = sample_cards / "net" / "tcp.md"
    text = tcp.read_text()
    start, end = text.index("## tcp-time-wait-length"), text.index("## tcp-handshake-diagram")
    tcp.write_text(text[:start] + text[end:])
    code, out = lint(sample_cards)
    assert code == 1
    assert "DG501 [error] published card 'tcp-time-wait-length' has disappeared" in out
