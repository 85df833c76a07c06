"""Releases that reach learners: the release history, the release-safe clock, the changelog, and
what the newest official `anki` package does with each release (tests/matrix/ runs the older
Anki versions people still use)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from deckgen.build import build
from deckgen.cli import cli
from deckgen.history import RECORD_FILE, read_record
from deckgen.release import CHANGED_TAG, markdown_text
from tests.ankiutil import import_package, open_collection, review_all_due
from tests.conftest import FIXTURES, PROJECT

Deckgen = Callable[..., tuple[int, str]]
NOW = int(time.time())
COMMIT_1 = NOW - 30_000  # commit dates far enough apart that every clock is distinct
COMMIT_2 = NOW - 20_000
COMMIT_3 = NOW - 10_000


def _git(repo: Path, *args: str, when: int | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    if when is not None:
        env |= {"GIT_AUTHOR_DATE": f"@{when} +0000", "GIT_COMMITTER_DATE": f"@{when} +0000"}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def commit(repo: Path, when: int, message: str = "change") -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message, when=when)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git clone-like project: the sample cards and a copy of the templates, committed."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "sample" / "cards", root / "cards")
    shutil.copytree(PROJECT / "templates", root / "templates")
    _git(root, "init", "-q")
    commit(root, COMMIT_1, "first")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def deckgen() -> Deckgen:
    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args))
        assert "Traceback" not in result.output
        return result.exit_code, result.output

    return run


def edit(repo: Path, old: str, new: str, relative: str = "cards/net/tcp.md") -> None:
    path = repo / relative
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


NEW_CARD = (
    "\n## tcp-new-card\nQ: Which RFC obsoletes RFC 793?\n\nA: RFC 9293.\n\nSource: RFC 9293\n"
)


# ------------------------------------------------------------------ changes and release


def test_changes_lists_exactly_the_edited_and_the_added_card(repo: Path, deckgen: Deckgen) -> None:
    assert deckgen("release", "v1")[0] == 0
    assert deckgen("changes", "--check")[0] == 0
    commit(repo, COMMIT_2)

    edit(repo, "sends the first FIN", "sends FIN first")
    (repo / "cards/net/tcp.md").write_text(
        (repo / "cards/net/tcp.md").read_text() + NEW_CARD, encoding="utf-8"
    )
    code, out = deckgen("changes", "--format", "json")
    assert code == 0
    found = json.loads(out[: out.rindex("}") + 1])
    assert found["since"] == "v1"
    assert [(c["kind"], c["id"]) for c in found["changes"]] == [
        ("added", "tcp-new-card"),
        ("changed", "tcp-time-wait-side"),
    ]
    assert deckgen("changes", "--check")[0] == 1
    commit(repo, COMMIT_3)

    code, out = deckgen("release", "v2")
    assert code == 0, out
    assert "recorded release v2: 1 added, 1 changed" in out
    code, out = deckgen("changes")
    assert code == 0 and "0 change(s) since release v2" in out
    history = read_record(repo / "cards")
    assert [r.version for r in history.releases] == ["v1", "v2"]
    assert history.cards["tcp-new-card"].added == "v2"
    assert history.cards["tcp-time-wait-side"].changed == "v2"
    assert history.cards["tcp-time-wait-length"].changed == "v1"
    published = (repo / "cards" / "published-ids.yaml").read_text()
    assert "- tcp-new-card\n" in published

    changelog = (repo / "CHANGELOG.md").read_text()
    assert changelog.index("## v2") < changelog.index("## v1")
    assert "- `tcp-new-card`: Which RFC obsoletes RFC 793?" in changelog
    assert f"`tag:{CHANGED_TAG}v2`" in changelog
    code, out = deckgen("changes", "--since", "v1")
    assert "added    tcp-new-card" in out and "changed  tcp-time-wait-side" in out


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("v1", "release 'v1' exists already"),
        ("release one", "is not a release version"),
        ("v2", "nothing changed since release v1"),
        ("unreleased", "is not a release version"),
    ],
)
def test_a_release_is_refused_with_its_reason(
    repo: Path, deckgen: Deckgen, version: str, message: str
) -> None:
    assert deckgen("release", "v1")[0] == 0
    commit(repo, COMMIT_2)
    code, out = deckgen("release", version)
    assert code == 1 and "DG904" in out and message in out, out


def test_a_release_is_refused_while_lint_fails(repo: Path, deckgen: Deckgen) -> None:
    edit(repo, "sends the first FIN", "sends the [first](javascript:alert(1)) FIN")
    code, out = deckgen("release", "v1")
    assert code == 1 and "DG404" in out
    assert not (repo / "cards" / RECORD_FILE).exists()
    assert not (repo / "CHANGELOG.md").exists()


def test_an_unknown_since_gets_a_suggestion(repo: Path, deckgen: Deckgen) -> None:
    assert deckgen("release", "v2026.12")[0] == 0
    code, out = deckgen("changes", "--since", "v2026.21")
    assert code == 1 and "no release 'v2026.21'" in out and "did you mean 'v2026.12'" in out


def test_the_changelog_shows_a_question_as_text_and_never_as_markup(
    repo: Path, deckgen: Deckgen
) -> None:
    # In the card, escaped Markdown: the rendered question's text is this markup, as text.
    hostile = (
        r"Why `x` \<img src=x onerror=alert(1)\> \[click\](https://evil.example) "
        r"\*\*now\*\* & then?"
    )
    (repo / "cards/net/hostile.md").write_text(
        f"---\ntopic: tcp\ntags: [tcp-handshake]\n---\n\n## tcp-hostile\nQ: {hostile}\n\n"
        "A: Because.\n\nSource: RFC 9293\n",
        encoding="utf-8",
    )
    assert deckgen("release", "v1")[0] == 0
    rendered = MarkdownIt("commonmark").render((repo / "CHANGELOG.md").read_text())
    assert "<img" not in rendered and "<a " not in rendered and "<strong>" not in rendered
    (line,) = [row for row in rendered.splitlines() if "tcp-hostile" in row]
    assert line.count("<code>") == 1  # the id's own
    # …and reads as the question did (the rendered front, as plain text)
    assert (
        "Why x &lt;img src=x onerror=alert(1)&gt; [click](https://evil.example) **now** &amp; then?"
    ) in rendered
    assert markdown_text("a_b") == "a\\_b"


# ------------------------------------------------------------------ lint against the history


def test_a_changed_type_is_an_error_at_the_card(repo: Path, deckgen: Deckgen) -> None:
    assert deckgen("release", "v1")[0] == 0
    edit(repo, "## tcp-time-wait-length\n", "## tcp-time-wait-length\nType: reversed\n")
    code, out = deckgen("lint")
    assert code == 1
    lines = (repo / "cards/net/tcp.md").read_text().splitlines()
    line = lines.index("## tcp-time-wait-length") + 1
    assert (
        f"cards/net/tcp.md:{line}:1: DG503 [error] card 'tcp-time-wait-length' was released as "
        "a basic card and is now reversed"
    ) in out
    assert "cards/releases.json:" in out and "note: its release record" in out


def test_a_moved_card_is_a_warning_that_says_what_learners_keep(
    repo: Path, deckgen: Deckgen
) -> None:
    assert deckgen("release", "v1")[0] == 0
    text = (repo / "cards/net/tcp.md").read_text()
    start = text.index("## tcp-time-wait-length")
    end = text.index("\n## ", start + 1)
    (repo / "cards/net/tcp.md").write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    (repo / "cards/net/moved.md").write_text(
        "---\ntopic: dns\n---\n\n" + text[start:end], encoding="utf-8"
    )
    code, out = deckgen("lint")
    assert code == 0
    assert "DG504 [warning] card 'tcp-time-wait-length' moved from 1 · Networking › TCP" in out
    assert "learners who have it keep it in the old deck" in out


def test_a_changed_deck_id_is_an_error(repo: Path, deckgen: Deckgen) -> None:
    assert deckgen("release", "v1")[0] == 0
    deck_yaml = repo / "cards/deck.yaml"
    text = deck_yaml.read_text()
    changed = "# the deck\n" + text.replace("id: sample-deck", "id: sample-deck-2")
    deck_yaml.write_text(changed)
    line = next(n for n, row in enumerate(changed.splitlines(), 1) if row.startswith("id:"))
    assert line > 1
    code, out = deckgen("lint")
    assert code == 1
    assert f"cards/deck.yaml:{line}:1: DG505 [error] the deck id is 'sample-deck-2'" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"deck": "x", "releases": [], "cards": [], "extra": 1}', "must be an object with"),
        (
            '{"deck": "x", "releases": [{"version": "v1", "time": 9999999999}], "cards": {}}',
            "release v1's time is in the future",
        ),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        *(
            (
                '{"deck": "x", "releases": [{"version": "v1", "time": 1000}], "cards": {\n'
                '    "c": {"type": "basic", "round": "net", "topic": "tcp", "fingerprint": "f", '
                f'"question": "q", "added": "v1", "changed": "v1", "fields": {fields}}}\n'
                "}}",
                "card 'c' has a bad record",
            )
            for fields in (
                '{"Front": [["v9", "ab"]]}',  # a release the record does not have
                '{"Front": []}',
                '{"Front": [["v1"]]}',
                '[["v1", "ab"]]',
            )
        ),
    ],
)
def test_a_broken_history_is_a_located_error(
    repo: Path, deckgen: Deckgen, content: str, message: str
) -> None:
    (repo / "cards" / RECORD_FILE).write_text(content, encoding="utf-8")
    code, out = deckgen("lint")
    assert code == 1 and f"cards/{RECORD_FILE}:" in out and message in out, out


# ------------------------------------------------------------------ the clock


def test_a_clock_before_the_last_release_is_refused(
    repo: Path, deckgen: Deckgen, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert deckgen("release", "v1")[0] == 0
    edit(repo, "sends the first FIN", "sends FIN first")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "315532800")  # 1980, a common default
    code, out = deckgen("build", "--format", "apkg")
    assert code == 1
    assert "DG902" in out and "not after release v1" in out and "skip every changed note" in out
    assert not (repo / "dist").exists()


def test_the_clock_is_the_commit_time_of_head_so_template_commits_count(
    repo: Path, deckgen: Deckgen
) -> None:
    assert deckgen("build", "--format", "json", "--templates", "templates")[0] == 0
    assert json.loads((repo / "dist/sample-deck.json").read_text())["generated_at"] == COMMIT_1
    css = repo / "templates/anki/style.css"
    css.write_text(css.read_text() + "\n.marker { color: red; }\n")
    commit(repo, COMMIT_2, "only the CSS")
    assert deckgen("build", "--format", "json", "--templates", "templates")[0] == 0
    assert json.loads((repo / "dist/sample-deck.json").read_text())["generated_at"] == COMMIT_2


# ------------------------------------------------------------------ what the newest Anki does


def _import(col, package: Path):  # type: ignore[no-untyped-def]
    return import_package(col, package)


def test_each_note_carries_its_last_release_so_anki_updates_exactly_the_changed_ones(
    repo: Path, deckgen: Deckgen, tmp_path: Path
) -> None:
    assert deckgen("release", "v1")[0] == 0
    commit(repo, COMMIT_2, "v1")
    v1 = build(repo / "cards", tmp_path / "v1", formats=["apkg"], templates_dir=None).paths[0]

    col = open_collection(tmp_path / "anki")
    assert len(_import(col, v1).new) == 7
    reviewed = review_all_due(col, "Sample Deck", limit=20)
    revlog = col.db.scalar("select count() from revlog")
    assert reviewed and revlog

    edit(repo, "sends the first FIN", "sends FIN first")
    commit(repo, COMMIT_3, "one card")
    v2 = build(repo / "cards", tmp_path / "v2", formats=["apkg"]).paths[0]
    log = _import(col, v2)
    assert [n.fields[-2] for n in log.updated] == ["tcp-time-wait-side"]  # CardId field
    assert len(log.duplicate) == 6 and not log.new and not log.conflicting
    assert col.db.scalar("select count() from revlog") == revlog
    (note_id,) = col.find_notes('"CardId:tcp-time-wait-side"')
    note = col.get_note(note_id)
    assert "sends FIN first" in note["Back"]
    assert f"{CHANGED_TAG}unreleased" in note.tags
    (other,) = col.find_notes('"CardId:tcp-time-wait-length"')
    assert f"{CHANGED_TAG}v1" in col.get_note(other).tags
    col.close()


def test_a_template_only_commit_reaches_anki_on_the_git_clock(
    repo: Path, deckgen: Deckgen, tmp_path: Path
) -> None:
    """The issue's acceptance: only the CSS changed, no SOURCE_DATE_EPOCH, the newest Anki."""
    assert deckgen("release", "v1", "--templates", "templates")[0] == 0
    commit(repo, COMMIT_2, "v1")
    templates = repo / "templates"
    v1 = build(repo / "cards", tmp_path / "v1", formats=["apkg"], templates_dir=templates)
    col = open_collection(tmp_path / "anki")
    _import(col, v1.paths[0])
    review_all_due(col, "Sample Deck", limit=20)
    revlog = col.db.scalar("select count() from revlog")
    models = sorted(m.name for m in col.models.all_names_and_ids())

    css = templates / "anki/style.css"
    css.write_text(css.read_text() + "\n.marker-for-test { color: red; }\n")
    commit(repo, COMMIT_3, "only the CSS")
    v2 = build(repo / "cards", tmp_path / "v2", formats=["apkg"], templates_dir=templates)
    log = _import(col, v2.paths[0])
    assert len(log.updated) == 7 and not log.conflicting and not log.new
    assert sorted(m.name for m in col.models.all_names_and_ids()) == models  # no "+" copy
    (note_id,) = col.find_notes('"CardId:tcp-time-wait-side"')
    assert ".marker-for-test" in col.get_note(note_id).note_type()["css"]
    assert col.db.scalar("select count() from revlog") == revlog
    code, out = deckgen("changes", "--templates", "templates")
    assert code == 0 and "7 change(s) since release v1" in out
    col.close()


def test_a_release_whose_clock_is_not_after_the_last_is_refused(
    repo: Path, deckgen: Deckgen, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert deckgen("release", "v1")[0] == 0
    edit(repo, "sends the first FIN", "sends FIN first")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(read_record(repo / "cards").releases[0].time))
    code, out = deckgen("release", "v2")
    assert code == 1 and "DG902" in out and "not after release v1" in out
    assert [r.version for r in read_record(repo / "cards").releases] == ["v1"]


def test_a_learners_edits_survive_on_notes_a_release_did_not_change(
    repo: Path, deckgen: Deckgen, tmp_path: Path
) -> None:
    """Anki replaces every field and tag of a note it updates: with per-note release times it
    updates only the changed notes, so a learner's edits and tags elsewhere stay."""
    assert deckgen("release", "v1")[0] == 0
    commit(repo, COMMIT_2, "v1")
    col = open_collection(tmp_path / "anki")
    _import(col, build(repo / "cards", tmp_path / "v1", formats=["apkg"]).paths[0])
    notes = {col.get_note(n)["CardId"]: col.get_note(n) for n in col.find_notes("")}
    for card_id in ("tcp-time-wait-side", "tcp-time-wait-length"):
        note = notes[card_id]
        note["Extra"] = "my own mnemonic"
        note.tags.append("marked")
        col.update_note(note)
        # The learner edited between the two releases (an edit made after a release's clock
        # makes Anki keep the learner's copy of that note instead).
        col.db.execute("update notes set mod = ? where id = ?", COMMIT_2 + 100, note.id)

    edit(repo, "sends the first FIN", "sends FIN first")  # tcp-time-wait-side changes
    commit(repo, COMMIT_3, "one card")
    _import(col, build(repo / "cards", tmp_path / "v2", formats=["apkg"]).paths[0])
    after = {col.get_note(n)["CardId"]: col.get_note(n) for n in col.find_notes("")}
    kept, replaced = after["tcp-time-wait-length"], after["tcp-time-wait-side"]
    assert kept["Extra"] == "my own mnemonic" and "marked" in kept.tags
    assert replaced["Extra"] != "my own mnemonic" and "marked" not in replaced.tags
    col.close()
