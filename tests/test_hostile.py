"""Hostile cards and faults: nothing outside cards/ is read, nothing runs, nothing tears."""

from __future__ import annotations

import csv
import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

import deckgen.atomic
from deckgen.build import build
from deckgen.compile import FILE_BUDGET_ENV
from deckgen.errors import DeckgenError
from deckgen.exporters import available_exporters
from deckgen.lint import lint_deck
from deckgen.notetypes import note_guid
from deckgen.templating import template_environment
from tests.conftest import FIXTURES, isolated

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
    assert_refused(sample_cards, expected, "cards/lang/evil.md:8:4: ")


def test_symlinked_image_pointing_outside_is_refused(
    sample_cards: Path, write_card: Callable[[str, str], Path], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes((sample_cards / "net" / "img" / "handshake.png").read_bytes())
    (sample_cards / "lang" / "innocent.png").symlink_to(secret)
    write_card("lang/evil.md", f"{FRONT}Q: Look\n\nA: ![x](innocent.png)\n\nSource: RFC 9293\n")
    assert_refused(sample_cards, "cards/lang/evil.md:8:4: DG405 image 'innocent.png' is outside")


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
    assert_refused(sample_cards, expected, "cards/lang/evil.md:8:4: ")


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
    document = json.loads((out / "sample-deck.json").read_text())
    card = next(c for c in document["cards"] if c["id"] == "rust-evil")
    assert literal in card["html"]["back"] and "{{Front}}" in card["html"]["back"]
    assert literal in (out / "sample-deck.tsv").read_text()
    site = (out / "sample-deck-site" / "index.html").read_text()
    assert literal in site and "{% raw %}" in site
    # each rendering of the card shows the text itself, and nowhere what Jinja makes of it (49)
    table = (out / "sample-deck.tsv").read_text().splitlines(keepends=True)
    (row,) = (
        r
        for r in csv.reader(
            io.StringIO("".join(t for t in table if not t.startswith("#"))), "excel-tab"
        )
        if r and r[0] == note_guid("sample-deck", "rust-evil")
    )
    article = site[site.index('id="rust-evil"') :]
    renderings = {
        "JSON front": card["html"]["front"],
        "JSON back": card["html"]["back"],
        "TSV row": "\t".join(row),
        "site card": article[: article.index("</article>")],
    }
    for where, text in renderings.items():
        assert literal in text and "49" not in text, f"{where}: {text}"
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
        "cards/lang/evil.md:8:4: ",
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
    assert_refused(sample_cards, "cards/lang/evil.md:8:7: DG404 unsafe HTML in card 'rust-evil'")


# --------------------------------------------------------------------------- resource limits

ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def _run_lint(cards: Path) -> tuple[int, str, float]:
    """Lint in a child process with a hard timeout: a hang fails the test instead of the suite.

    The per-file budget (wall time, 5 s) is raised: what these cases check is the limit each
    trips, which a busy machine must not turn into DG112 (the budget has tests of its own).
    """
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "deckgen", "lint", "--cards", str(cards), "--no-print-check"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cards.parent,
        env={**os.environ, FILE_BUDGET_ENV: "25"},
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

OLD_EPOCH, NEW_EPOCH = 1_600_000_000, 1_700_000_000
Output = bytes | dict[str, bytes]  # a file, or a folder (the site) as one whole


def all_formats() -> list[str]:
    """Every format, in a fixed order (the PDFs, the slowest, last): apkg, csv, html, json, tsv,
    pdf for the built-in ones."""
    return sorted(available_exporters(), key=lambda name: (name == "pdf", name))


def _outputs(out: Path) -> dict[str, Output]:
    """Every output under its final name; temporary entries (named `.…`) are left out."""
    found: dict[str, Output] = {}
    for path in sorted(out.iterdir()) if out.is_dir() else ():
        if path.name.startswith("."):
            continue
        if path.is_dir():
            found[path.name] = {
                p.relative_to(path).as_posix(): p.read_bytes()
                for p in sorted(path.rglob("*"))
                if p.is_file()
            }
        else:
            found[path.name] = path.read_bytes()
    return found


def _temporary(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


def torn(out: Path, old: dict[str, Output], new: dict[str, Output]) -> list[str]:
    """The outputs in `out` that are neither the whole old version nor the whole new one."""
    return [
        name
        for name, content in _outputs(out).items()
        if content != new.get(name) and content != old.get(name)
    ]


@dataclass(frozen=True)
class Versions:
    cards: Path
    old_build: Path
    old: dict[str, Output]
    new: dict[str, Output]


@pytest.fixture(scope="module")
def built_versions(tmp_path_factory: pytest.TempPathFactory) -> Versions:
    """An old build of the sample deck (an answer since edited, an earlier clock) and the new,
    built once for the module: the tests copy the old build and only read the cards."""
    root = tmp_path_factory.mktemp("versions")
    cards = root / "cards"
    shutil.copytree(FIXTURES / "sample" / "cards", cards)
    with isolated(root), pytest.MonkeyPatch.context() as patch:
        tcp = cards / "net" / "tcp.md"
        text = tcp.read_text()
        tcp.write_text(text.replace("active closer", "side that closes first"))
        patch.setenv("SOURCE_DATE_EPOCH", str(OLD_EPOCH))
        build(cards, root / "old", formats=all_formats())
        tcp.write_text(text)
        patch.setenv("SOURCE_DATE_EPOCH", str(NEW_EPOCH))
        build(cards, root / "new", formats=all_formats())
    old, new = _outputs(root / "old"), _outputs(root / "new")
    # every output differs between the versions, so that any mix of the two would show
    assert old.keys() == new.keys() and all(old[name] != new[name] for name in new)
    return Versions(cards, root / "old", old, new)


@pytest.fixture
def versions(built_versions: Versions, monkeypatch: pytest.MonkeyPatch) -> Versions:
    """The two versions, and the new one's clock for the test's own builds."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(NEW_EPOCH))
    return built_versions


class Killed(BaseException):
    """The injected crash: like KeyboardInterrupt, no `except Exception` in deckgen stops it."""


class WriteSteps:
    """Every step of a build that writes into `out`, counted; a crash injected at any one.

    The steps: each write of a whole file (`write_text`, `write_bytes`, `shutil.copyfile`),
    before it and again halfway through it (half the data written, as a kill mid-write
    leaves it); each write into a zip; closing a zip; each fsync, rename and folder exchange.
    Before each step `at_step` is called (a kill at that moment leaves the folder as it is
    then); at step `crash_at`, Killed is raised instead of taking it.
    """

    def __init__(self, out: Path) -> None:
        self.root = os.path.realpath(out) + os.sep
        self.out = out
        self.crash_at: int | None = None
        self.count = 0
        self.watching = False  # only during the build: preparing `out` takes no steps
        self.committed: list[str] = []  # the final names renamed or exchanged into place
        self.at_step: Callable[[str], None] = lambda _what: None

    def inside(self, path: object) -> bool:
        real = os.path.realpath(os.fspath(path))  # type: ignore[arg-type]
        return self.watching and real.startswith(self.root)

    def step(self, what: str) -> None:
        self.count += 1
        self.at_step(what)
        if self.count == self.crash_at:
            raise Killed(f"step {self.count}: {what}")

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        write_text, write_bytes, copyfile = Path.write_text, Path.write_bytes, shutil.copyfile
        fsync, replace, rename = os.fsync, os.replace, os.rename
        exchange = deckgen.atomic._exchange
        zip_write, zip_close = zipfile._ZipWriteFile.write, zipfile.ZipFile.close  # type: ignore[attr-defined]

        def whole(original: Any, path: Path, data: Any, *args: Any, **kwargs: Any) -> Any:
            if self.inside(path):
                self.step(f"write {path.name}")
                original(path, data[: len(data) // 2], *args, **kwargs)
                self.step(f"half-written {path.name}")
            return original(path, data, *args, **kwargs)

        def copy(source: Any, target: Any, *args: Any, **kwargs: Any) -> Any:
            if self.inside(target):
                data = Path(source).read_bytes()
                whole(write_bytes, Path(target), data)
            return copyfile(source, target, *args, **kwargs)

        def fsync_(fd: Any) -> None:
            number = fd if isinstance(fd, int) else fd.fileno()
            if self.inside(Path(f"/proc/self/fd/{number}").readlink()):
                self.step(f"fsync fd {number}")
            fsync(fd)

        def committing(original: Any, what: str) -> Any:
            def wrapper(source: Any, target: Any, *args: Any, **kwargs: Any) -> Any:
                if not self.inside(target):
                    return original(source, target, *args, **kwargs)
                self.step(f"{what} {Path(target).name}")
                result = original(source, target, *args, **kwargs)
                if result is not False:  # _exchange says False when it could not
                    self.committed.append(os.path.relpath(target, self.out))
                return result

            return wrapper

        def zip_write_(handle: Any, data: Any) -> Any:
            if self.inside(handle._zipfile.filename):
                self.step(f"zip write {Path(handle._zipfile.filename).name}")
            return zip_write(handle, data)

        def zip_close_(archive: zipfile.ZipFile) -> None:
            try:
                writing = archive.fp is not None and archive.mode != "r"  # not closed yet
                if writing and archive.filename and self.inside(archive.filename):
                    self.step(f"zip close {Path(archive.filename).name}")
            finally:  # closed even when crashed here, or its __del__ would close it later
                zip_close(archive)

        monkeypatch.setattr(
            Path, "write_text", lambda p, d, *a, **k: whole(write_text, p, d, *a, **k)
        )
        monkeypatch.setattr(Path, "write_bytes", lambda p, d: whole(write_bytes, p, d))
        monkeypatch.setattr(shutil, "copyfile", copy)
        monkeypatch.setattr(os, "fsync", fsync_)
        monkeypatch.setattr(os, "replace", committing(replace, "replace"))
        monkeypatch.setattr(os, "rename", committing(rename, "rename"))
        monkeypatch.setattr(deckgen.atomic, "_exchange", committing(exchange, "exchange"))
        monkeypatch.setattr(zipfile._ZipWriteFile, "write", zip_write_)  # type: ignore[attr-defined]
        monkeypatch.setattr(zipfile.ZipFile, "close", zip_close_)


def test_a_crash_at_any_write_step_leaves_old_or_new_files_never_torn(
    versions: Versions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each format's build, over the old outputs: first watched at every step, then crashed at
    each step in turn (one format at a time: a crash ends the build, so the formats after it
    would only repeat what their own runs show)."""
    out = tmp_path / "dist"
    steps = WriteSteps(out)
    steps.install(monkeypatch)

    def build_over_the_old(name: str, crash_at: int | None) -> list[str]:
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(versions.old_build, out)
        steps.count, steps.crash_at, steps.committed = 0, crash_at, []
        steps.watching = True
        try:
            return [p.name for p in build(versions.cards, out, formats=[name]).paths]
        finally:
            steps.watching = False

    moments: list[tuple[str, list[str]]] = []  # each step, and what a kill before it would tear

    def look(what: str) -> None:
        moments.append((what, torn(out, versions.old, versions.new)))

    for name in all_formats():
        # A kill may come before any step or halfway through any write: look at every moment.
        moments.clear()
        steps.at_step = look
        written = build_over_the_old(name, crash_at=None)
        steps.at_step = lambda _what: None
        total = steps.count
        assert [(what, names) for what, names in moments if names] == [], name
        assert any(what.startswith(("write ", "zip write ")) for what, _ in moments), name
        assert sorted(steps.committed) == sorted(written), name  # each output renamed into place
        assert _outputs(out) == {**versions.old, **{n: versions.new[n] for n in written}}, name
        assert _temporary(out) == [], name

        # A build stopped at any step (a crash, a full disk) leaves no tear and no temporary file.
        for crash_at in range(1, total + 1):
            when = f"{name}: after a crash at step {crash_at} of {total}"
            try:
                build_over_the_old(name, crash_at)
            except Killed:
                pass
            else:
                pytest.fail(f"{name}: no step {crash_at}, {steps.count} steps this time")
            assert torn(out, versions.old, versions.new) == [], when
            assert _temporary(out) == [], when
    # the outputs in place are whole; the next build completes the set
    build(versions.cards, out, formats=all_formats())
    assert _outputs(out) == versions.new


# A build that says where it is: it waits for a line on stdin before starting, and if asked,
# again before its Nth rename into the output folder, where the test kills it.
CHILD = """
import os, runpy, sys
out = os.path.realpath(sys.argv[1]) + os.sep
pause_at = int(sys.argv[2])
replace = os.replace
renames = 0

def pausing_replace(source, target, *args, **kwargs):
    global renames
    if os.path.realpath(target).startswith(out):
        renames += 1
        if renames == pause_at:
            print("renaming", os.path.basename(target), flush=True)
            sys.stdin.readline()
    return replace(source, target, *args, **kwargs)

os.replace = pausing_replace
import deckgen.cli  # the slow imports, before the start signal
print("ready", flush=True)
sys.stdin.readline()
sys.argv = ["deckgen", *sys.argv[3:]]
runpy.run_module("deckgen", run_name="__main__")
"""


def start_build(cards: Path, out: Path, pause_at: int = 0) -> subprocess.Popen[str]:
    formats = [arg for name in all_formats() for arg in ("--format", name)]
    command = ["build", "-q", "--cards", str(cards), "--out", str(out), *formats]
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(out), str(pause_at), *command],
        env={**os.environ, "SOURCE_DATE_EPOCH": str(NEW_EPOCH)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_line(process: subprocess.Popen[str], timeout: float = 60) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"the build said nothing: {err}")
    return line.strip()


def go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def test_sigkill_mid_build_leaves_old_or_new_files_never_torn(
    versions: Versions, tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    shutil.copytree(versions.old_build, out)
    process = start_build(versions.cards, out, pause_at=3)  # the apkg, the CSV, then the JSON
    assert read_line(process) == "ready"
    go(process)
    assert read_line(process) == "renaming sample-deck.json"
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert torn(out, versions.old, versions.new) == []
    found = _outputs(out)
    assert {name for name in found if found[name] == versions.new[name]} == {
        "sample-deck.apkg",
        "sample-deck.csv",
        "sample-deck-site",
    }
    assert any(name.startswith(".sample-deck.json.") for name in _temporary(out))
    build(versions.cards, out, formats=all_formats())  # the next build completes the set
    assert _outputs(out) == versions.new


def test_concurrent_builds_into_one_folder_do_not_corrupt_each_other(
    versions: Versions, tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    processes = [start_build(versions.cards, out) for _ in range(3)]
    for process in processes:
        assert read_line(process) == "ready"
    for process in processes:  # all three start at once, their imports done
        go(process)
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert _outputs(out) == versions.new
    assert _temporary(out) == []
