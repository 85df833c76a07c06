"""Hostile cards and faults: nothing outside cards/ is read, nothing runs, nothing tears."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

from deckgen.build import build
from deckgen.errors import DeckgenError
from deckgen.lint import lint_deck
from deckgen.templating import template_environment
from tests.conftest import PROJECT

FRONT = "---\ntopic: rust\n---\n\n## rust-evil\n"


def findings(cards: Path) -> list[str]:
    """Every diagnostic of a lint run, as `path:line: CODE message`."""
    result = lint_deck(cards, print_check=False)
    return [f"{d.location.display(cards.parent)}: {d.code} {d.message}" for d in result.diagnostics]


def assert_refused(cards: Path, expected: str, where: str = "") -> None:
    """Lint reports a finding containing `expected`, on a line starting with `where`."""
    found = findings(cards)
    assert any(line.startswith(where) and expected in line for line in found), found


# --------------------------------------------------------------------------- containment


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("/proc/self/environ", "DG405 image '/proc/self/environ' is outside the cards folder"),
        ("../../.git/config", "DG405 image '../../.git/config' is outside the cards folder"),
        ("%2e%2e/%2e%2e/%2e%2e/etc/hostname", "DG405 image '%2e%2e/%2e%2e/%2e%2e/etc/hostname' is"),
        # Markdown needs \\ for one backslash; Windows-style separators still cannot escape
        ("..\\\\..\\\\..\\\\etc\\\\hostname", "is outside the cards folder"),
        ("C:\\Windows\\win.ini", "DG404 unsafe image in card 'rust-evil'"),
        ("file:///etc/passwd", "DG404 unsafe image in card 'rust-evil': remote or inline resource"),
        ("data:image/png;base64,iVBORw0KGgo=", "DG404 unsafe image in card 'rust-evil'"),
        ("https://tracker.example/pixel.png", "DG404 unsafe image in card 'rust-evil'"),
    ],
)
def test_image_references_cannot_leave_the_cards_folder(
    sample_cards: Path, write_card: Callable[[str, str], Path], reference: str, expected: str
) -> None:
    write_card("lang/evil.md", f"{FRONT}Q: Look\n\nA: ![x]({reference})\n\nSource: RFC 9293\n")
    assert_refused(sample_cards, expected, "cards/lang/evil.md:8: ")


def test_symlinked_image_pointing_outside_is_refused(
    sample_cards: Path, write_card: Callable[[str, str], Path], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes((sample_cards / "net" / "img" / "handshake.png").read_bytes())
    (sample_cards / "lang" / "innocent.png").symlink_to(secret)
    write_card("lang/evil.md", f"{FRONT}Q: Look\n\nA: ![x](innocent.png)\n\nSource: RFC 9293\n")
    assert_refused(sample_cards, "cards/lang/evil.md:8: DG405 image 'innocent.png' is outside")


def test_symlinked_card_file_pointing_outside_is_not_read(
    sample_cards: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text(f"{FRONT}Q: SECRET-QUESTION\n\nA: SECRET\n\nSource: RFC 9293\n")
    (sample_cards / "lang" / "linked.md").symlink_to(outside)
    assert_refused(sample_cards, "cards/lang/linked.md:1: DG405 links to a file outside")
    with pytest.raises(DeckgenError):
        build(sample_cards, tmp_path / "dist", formats=["json"])
    assert not (tmp_path / "dist").exists()


def test_links_cannot_leave_the_cards_folder(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card(
        "lang/evil.md", f"{FRONT}Q: Look\n\nA: [x](../../../etc/passwd)\n\nSource: RFC 9293\n"
    )
    assert_refused(sample_cards, "DG405 link '../../../etc/passwd' in card 'rust-evil' leaves")


def test_template_symlink_escaping_its_folder_is_refused(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "anki").mkdir(parents=True)
    (tmp_path / "outside.html").write_text("SECRET")
    (templates / "anki" / "style.css").symlink_to(tmp_path / "outside.html")
    env = template_environment(templates)
    with pytest.raises(Exception, match="resolves outside"):
        env.get_template("anki/style.css")
    with pytest.raises(Exception, match=r"not found|TemplateNotFound|outside"):
        env.get_template("../outside.html")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("fake.png", b"<html>not an image</html>", "is not a PNG file (checked by content)"),
        ("fake.gif", b"\x89PNG\r\n\x1a\n0000", "is not a GIF file (checked by content)"),
        (
            "evil.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "is an SVG with scripts",
        ),
        (
            "track.svg",
            b'<svg><image href="https://tracker.example/p.png"/></svg>',
            "is an SVG with scripts, event handlers or external references",
        ),
        ("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024 + 1), "MiB (limit 5 MiB)"),
        ("page.html", b"<p>hi</p>", "is not one of .gif, .jpeg, .jpg, .png, .svg, .webp"),
    ],
)
def test_media_are_checked_by_content_and_size(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    name: str,
    content: bytes,
    expected: str,
) -> None:
    (sample_cards / "lang" / name).write_bytes(content)
    write_card("lang/evil.md", f"{FRONT}Q: Look\n\nA: ![x]({name})\n\nSource: RFC 9293\n")
    assert_refused(sample_cards, expected, "cards/lang/evil.md:8: ")


# --------------------------------------------------------------------------- no code from data


TEMPLATE_TEXT = '{{ 7*7 }} {% raw %}{{Front}}{% endraw %} ${x} #read("/etc/passwd")'


def test_card_text_is_never_evaluated_in_any_output(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    tmp_path: Path,
    epoch: Callable[[int], None],
) -> None:
    write_card(
        "lang/evil.md",
        f"{FRONT}Q: Literal `{TEMPLATE_TEXT}`?\n\nA: {TEMPLATE_TEXT}\n\nSource: RFC 9293\n",
    )
    result = build(sample_cards, tmp_path / "dist", formats=["apkg", "html", "json", "tsv", "pdf"])
    out = tmp_path / "dist"
    literal = "{{ 7*7 }}"
    assert "49" not in literal
    document = json.loads((out / "sample-deck.json").read_text())
    card = next(c for c in document["cards"] if c["id"] == "rust-evil")
    assert literal in card["html"]["back"] and "{{Front}}" in card["html"]["back"]
    assert literal in (out / "sample-deck.tsv").read_text()
    site = (out / "sample-deck-site" / "index.html").read_text()
    assert literal in site and "{% raw %}" in site
    for pdf in (out / "sample-deck-cards-a4.pdf", out / "sample-deck-sheet-a4.pdf"):
        text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(pdf).pages)
        assert '{{ 7*7 }} {% raw %}{{Front}}{% endraw %} ${x} #read("/etc/passwd")' in text
        assert "root:" not in text
    with zipfile.ZipFile(out / "sample-deck.apkg") as package:
        assert b"{{ 7*7 }}" in package.read("collection.anki2")
    assert result.paths


@pytest.mark.parametrize(
    ("markdown", "scheme"),
    [
        ("[x](javascript:alert(1))", "javascript"),
        ("[x](JaVaScRiPt:alert(1))", "javascript"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "data"),
        ("[x](vbscript:msgbox)", "vbscript"),
        ("[x](file:///etc/passwd)", "file"),
    ],
)
def test_unsafe_markdown_links_are_errors(
    sample_cards: Path, write_card: Callable[[str, str], Path], markdown: str, scheme: str
) -> None:
    write_card("lang/evil.md", f"{FRONT}Q: Link\n\nA: {markdown}\n\nSource: RFC 9293\n")
    assert_refused(
        sample_cards,
        f"DG404 unsafe link in card 'rust-evil': URL scheme '{scheme}:' is not allowed",
        "cards/lang/evil.md:8: ",
    )


def test_safe_links_survive(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    tmp_path: Path,
    epoch: Callable[[int], None],
) -> None:
    write_card(
        "lang/evil.md",
        f"{FRONT}Q: Link\n\nA: <https://ok.example/a> and "
        "[mail](mailto:a@example.org)\n\nSource: RFC 9293\n",
    )
    result = build(sample_cards, tmp_path / "dist", formats=["json"])
    card = next(c for c in result.deck.cards if c.card.id == "rust-evil")
    assert 'href="https://ok.example/a"' in card.back
    assert 'href="mailto:a@example.org"' in card.back


@pytest.mark.parametrize(
    "html",
    [
        '<img src="x.png" onerror="alert(1)">',
        "<svg onload=alert(1)>",
        '<a href="jav&#x61;script:x">',
        "<iframe src=//evil.example>",
        "<object data=x>",
        '<link rel=stylesheet href="//x/y.css">',
        '<p style="background:url(//x/y)">a</p>',
        "<style>@import '//x';</style>",
    ],
)
def test_unsafe_raw_html_is_an_error(
    sample_cards: Path, write_card: Callable[[str, str], Path], html: str
) -> None:
    write_card("lang/evil.md", f"{FRONT}Q: HTML\n\nA: ok {html}\n\nSource: RFC 9293\n")
    assert_refused(sample_cards, "cards/lang/evil.md:8: DG404 unsafe HTML in card 'rust-evil'")


# --------------------------------------------------------------------------- resource limits

ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def _run_lint(cards: Path) -> tuple[int, str, float]:
    """Lint in a child process with a hard timeout: a hang fails the test instead of the suite."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "deckgen", "lint", "--cards", str(cards), "--no-print-check"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cards.parent,
    )
    return done.returncode, done.stdout, time.monotonic() - start


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        (
            "huge",
            lambda: FRONT + "Q: x\n\nA: " + "word " * 10_000_000 + "\n",
            "cards/lang/huge.md:1:1: DG111 [error] file is 48,828 KiB (limit 128 KiB)",
        ),
        (
            "million-char-line",
            lambda: FRONT + "Q: x\n\nA: " + "a" * 1_000_000 + "\n",
            "cards/lang/million-char-line.md:1:1: DG111 [error] file is 977 KiB (limit 128 KiB)",
        ),
        (
            "long-line",
            lambda: FRONT + "Q: x\n\nA: " + "a" * 100_000 + "\n",
            "cards/lang/long-line.md:8:1: DG111 [error] line of 100,003 characters (limit 5,000)",
        ),
        (
            "nested-lists",
            lambda: (
                FRONT
                + "Q: x\n\nA:\n"
                + "".join("  " * i + "- x\n" for i in range(200))
                + "\nSource: RFC 9293\n"
            ),
            "DG111 [error] lists or quotes nested too deeply",
        ),
        (
            "nested-quotes",
            lambda: FRONT + "Q: x\n\nA: ok\n\n" + "> " * 2000 + "deep\n",
            "DG111 [error] lists or quotes nested too deeply",
        ),
        (
            "many-clozes",
            lambda: (
                FRONT
                + "Cloze: "
                + "\n".join(f"{{{{c{i}::x}}}}" for i in range(1, 3001))
                + "\n\nSource: RFC 9293\n"
            ),
            "cards/lang/many-clozes.md:6:1: DG302 [error] cloze card 'rust-evil' has deletion "
            "c3000",
        ),
        (
            "alias-bomb",
            lambda: "---\ntopic: rust\n" + ALIAS_BOMB + "---\n\n## rust-evil\nQ: x\n\nA: y\n",
            "DG101 [error] invalid YAML: anchors and aliases (*name) are not allowed here",
        ),
        (
            "flat-list",
            lambda: FRONT + "Q: x\n\nA:\n" + "- x\n" * 30_000 + "\nSource: RFC 9293\n",
            "cards/lang/flat-list.md:1:1: DG111 [error] 150,015 Markdown blocks (limit 20,000)",
        ),
    ],
)
def test_pathological_cards_fail_fast(
    sample_cards: Path, name: str, make: Callable[[], str], expected: str
) -> None:
    (sample_cards / "lang" / f"{name}.md").write_text(make())
    code, out, _elapsed = _run_lint(sample_cards)
    assert code == 1
    assert expected in out, out


# --------------------------------------------------------------------------- crash safety


def build_command(cards: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "deckgen",
        "build",
        "-q",
        "--cards",
        str(cards),
        "--out",
        str(out),
    ]


def _reference_build(cards: Path, out: Path) -> dict[str, bytes]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    subprocess.run(
        build_command(cards, out),
        check=True,
        env=env,
        capture_output=True,
    )
    return _outputs(out)


def _outputs(out: Path) -> dict[str, bytes]:
    """Every finished output (temporary files excluded), site files by their relative path."""
    found = {}
    for path in sorted(out.rglob("*")):
        relative = path.relative_to(out).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in Path(relative).parts):
            found[relative] = path.read_bytes()
    return found


def test_sigkill_at_any_moment_leaves_old_or_new_files_never_torn(tmp_path: Path) -> None:
    cards = PROJECT / "cards"
    reference = _reference_build(cards, tmp_path / "reference")
    out = tmp_path / "dist"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    for delay in (0.05, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.4):
        process = subprocess.Popen(
            build_command(cards, out),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        for name, content in _outputs(out).items():
            assert content == reference[name], f"{name} is torn after a kill at {delay} s"
    # the outputs that exist at the end are whole; a final build completes the set
    assert _reference_build(cards, out) == reference


def test_concurrent_builds_into_one_folder_do_not_corrupt_each_other(tmp_path: Path) -> None:
    cards = PROJECT / "cards"
    reference = _reference_build(cards, tmp_path / "reference")
    out = tmp_path / "dist"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    processes = [
        subprocess.Popen(
            build_command(cards, out),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert _outputs(out) == reference
