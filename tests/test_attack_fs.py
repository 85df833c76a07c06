"""Attacks through the file system of a pull request: cache entries, symbolic links, YAML bombs."""

from __future__ import annotations

import contextlib
import os
import pickle
import shlex
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.atomic import atomic_output, replace_dir
from deckgen.build import build
from deckgen.cache import (
    ENV_DIR,
    KEY_FILE,
    MAX_AGE_SECONDS,
    Cache,
    project_folder_name,
    user_cache_root,
)
from deckgen.cli import cli
from deckgen.configfile import MAX_CONFIG_BYTES
from deckgen.errors import DeckgenError
from deckgen.ids import read_lock
from deckgen.lint import lint_deck
from tests.conftest import PROJECT

FORMATS = ["apkg", "json", "html"]
MAGIC = b"DGCACHE2"  # deckgen.cache's entry header: an attacker knows the format, not the key
OLD = time.time() - 2 * MAX_AGE_SECONDS  # older than the prune age


class Payload:
    """Unpickling this runs a shell command: what an attacker commits as a cache entry."""

    def __init__(self, marker: Path) -> None:
        self.command = f"touch {shlex.quote(str(marker))}"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


def outputs(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its content and modification time: to prove nothing moved."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def victim_folder(root: Path) -> Path:
    """A folder the attacker wants deleted or overwritten: old files, some shaped like entries."""
    root.mkdir(parents=True)
    (root / "thesis.txt").write_text("years of work")
    shard = root / "files" / "ab"
    shard.mkdir(parents=True)
    (shard / ("ab" + "0" * 62)).write_bytes(b"not deckgen's")
    (root / "sample-deck-site").mkdir()
    (root / "sample-deck-site" / "index.html").write_text("someone else's site")
    for path in root.rglob("*"):
        os.utime(path, (OLD, OLD))
    return root


def cache_folder(cards: Path) -> Path:
    return user_cache_root() / "projects" / project_folder_name(cards)


def entry_names(cards: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The entries a lint of `cards` reads: names depend on the inputs only, so anyone can
    compute them (here: by a lint into a scratch cache)."""
    monkeypatch.setenv(ENV_DIR, str(scratch))
    lint_deck(cards)
    monkeypatch.delenv(ENV_DIR)
    names = [p.relative_to(scratch) for p in sorted(scratch.rglob("*")) if p.is_file()]
    shutil.rmtree(scratch)
    # per card file of the sample deck: its result and its cards' results; and the record of
    # the near-duplicate join
    assert sorted(name.parts[0] for name in names) == ["cards"] * 3 + ["files"] * 3 + ["similar"]
    return names


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path) -> Ran:
    """`deckgen ARGS` in `cwd`, in this process: an exception escaping the command line's error
    boundary (what would print a traceback) fails the test with that exception."""
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(cli, list(args), prog_name="deckgen", catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


def run_entry_point(*args: str, cwd: Path) -> Ran:
    """`python -m deckgen ARGS` in `cwd`: the installed entry point in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-m", "deckgen", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


# --------------------------------------------------------------------------- forged entries


@pytest.mark.parametrize("where", ["committed-default-folder", "cache-dir-in-repo", "user-cache"])
@pytest.mark.parametrize("form", ["raw-pickle", "wrong-signature"])
def test_forged_pickle_entries_never_run(
    sample_cards: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    epoch: Callable[[int], None],
    where: str,
    form: str,
) -> None:
    repo = sample_cards.parent
    marker = tmp_path / "pwned"
    evil = pickle.dumps(Payload(marker))
    pickle.loads(evil)  # the payload is live: unpickled, it creates the marker
    assert marker.exists()
    marker.unlink()
    forged = evil if form == "raw-pickle" else MAGIC + os.urandom(32) + evil

    names = entry_names(sample_cards, tmp_path / "scratch", monkeypatch)
    cold_lint = lint_deck(sample_cards, cache=Cache(None))
    build(sample_cards, tmp_path / "cold", formats=FORMATS, use_cache=False)
    if where == "committed-default-folder":  # `git add -f .deckgen-cache/`, the old default
        folder = repo / ".deckgen-cache"
    elif where == "cache-dir-in-repo":  # CI sets DECKGEN_CACHE_DIR to a folder of the checkout
        folder = repo / ".ci-cache"
        monkeypatch.setenv(ENV_DIR, str(folder))
    else:  # even entries planted in the real cache folder need the key
        Cache.for_cards(sample_cards)  # creates the key and the folder
        folder = cache_folder(sample_cards)
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(forged)

    cache = Cache.for_cards(sample_cards)
    warm_lint = lint_deck(sample_cards, cache=cache)
    linted = run_cli("lint", "--cards", str(sample_cards), "--no-print-check", cwd=repo)
    built = build(sample_cards, repo / "dist", formats=FORMATS)

    assert not marker.exists()
    assert (cache.hits, cache.misses) == (0, 3)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert warm_lint.diagnostics == cold_lint.diagnostics
    assert len(built.deck.cards) == 7
    assert outputs(repo / "dist") == outputs(tmp_path / "cold")
    if where == "committed-default-folder":  # not the cache any more: never read nor written
        assert all((folder / name).read_bytes() == forged for name in names)
    else:  # the cache did read these paths: the forgeries were replaced by signed entries
        assert all((folder / name).read_bytes().startswith(MAGIC) for name in names)
        assert all((folder / name).read_bytes() != forged for name in names)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: bytes([b[0] ^ 1]) + b[1:], id="flip-header"),
        pytest.param(lambda b: b[:12] + bytes([b[12] ^ 0x80]) + b[13:], id="flip-signature"),
        pytest.param(lambda b: b[:-1] + bytes([b[-1] ^ 1]), id="flip-last-payload-bit"),
        pytest.param(
            lambda b: b[: len(b) // 2] + bytes([b[len(b) // 2] ^ 4]) + b[len(b) // 2 + 1 :],
            id="flip-middle",
        ),
        pytest.param(lambda b: b"", id="empty"),
        pytest.param(lambda b: b[:39], id="truncated-in-signature"),
        pytest.param(lambda b: b[: len(b) // 2], id="truncated-payload"),
        pytest.param(lambda b: b[:-1], id="last-byte-missing"),
        pytest.param(lambda b: b + b"\0", id="extra-byte"),
    ],
)
def test_damaged_entries_are_misses(sample_cards: Path, mutate: Callable[[bytes], bytes]) -> None:
    cold = lint_deck(sample_cards)
    entries = [p for p in cache_folder(sample_cards).rglob("*") if p.is_file()]
    # per card file: its result and its cards' results; and the near-duplicate join's record
    assert len(entries) == 7
    for entry in entries:
        entry.write_bytes(mutate(entry.read_bytes()))
    cache = Cache.for_cards(sample_cards)
    result = lint_deck(sample_cards, cache=cache)
    assert (cache.hits, cache.misses) == (0, 3)
    assert result.diagnostics == cold.diagnostics
    assert len(result.deck.cards) == 7


@pytest.mark.parametrize("payload", [b"garbage", b"cno_such_module\nThing\n)\x81."])
def test_a_signed_entry_that_does_not_unpickle_is_a_miss(
    sample_cards: Path, payload: bytes
) -> None:
    lint_deck(sample_cards)
    cache = Cache.for_cards(sample_cards)
    folder = cache_folder(sample_cards)
    for entry in [p for p in folder.rglob("*") if p.is_file()]:
        namespace, key = entry.parent.parent.name, entry.name
        entry.write_bytes(MAGIC + cache._sign(namespace, key, payload) + payload)
    result = lint_deck(sample_cards, cache=cache)
    assert (cache.hits, cache.misses) == (0, 3)
    assert len(result.deck.cards) == 7


def test_a_valid_entry_copied_to_another_key_is_a_miss(sample_cards: Path) -> None:
    lint_deck(sample_cards)
    files = cache_folder(sample_cards) / "files"  # the whole-file results
    first, second, _third = sorted(p for p in files.rglob("*") if p.is_file())
    second.write_bytes(first.read_bytes())
    cache = Cache.for_cards(sample_cards)
    lint_deck(sample_cards, cache=cache)
    assert (cache.hits, cache.misses) == (2, 1)


def test_an_entry_that_is_a_symbolic_link_is_not_followed(
    sample_cards: Path, tmp_path: Path
) -> None:
    lint_deck(sample_cards)
    outside = tmp_path / "outside"
    outside.mkdir()
    for entry in [p for p in cache_folder(sample_cards).rglob("*") if p.is_file()]:
        copy = outside / entry.name
        copy.write_bytes(entry.read_bytes())  # a valid entry: a hit if the link were followed
        entry.unlink()
        entry.symlink_to(copy)
    before = snapshot(outside)
    cache = Cache.for_cards(sample_cards)
    lint_deck(sample_cards, cache=cache)
    assert (cache.hits, cache.misses) == (0, 3)
    assert snapshot(outside) == before  # the rewrite replaced each link, not its target
    assert not any(p.is_symlink() for p in cache_folder(sample_cards).rglob("*"))


def test_the_key_is_private_and_never_beside_the_entries(
    sample_cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_DIR, str(sample_cards.parent / ".ci-cache"))
    lint_deck(sample_cards)
    key = user_cache_root() / KEY_FILE
    assert key.is_file() and not key.is_symlink()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_bytes()) == 32
    assert [p.name for p in (sample_cards.parent / ".ci-cache").rglob("*") if p.is_file()]
    assert not any(p.name == KEY_FILE for p in sample_cards.parent.rglob("*"))


def test_a_key_that_is_a_symbolic_link_turns_the_cache_off(
    sample_cards: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    known = tmp_path / "known.key"
    known.write_bytes(b"k" * 32)  # a key the attacker knows could sign anything
    known.chmod(0o600)
    root = user_cache_root()
    root.mkdir(parents=True)
    (root / KEY_FILE).symlink_to(known)
    cache = Cache.for_cards(sample_cards)
    assert cache.folder is None
    assert "cache off" in caplog.text
    assert len(lint_deck(sample_cards, cache=cache).deck.cards) == 7


def test_an_unusable_user_cache_folder_only_turns_the_cache_off(
    sample_cards: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    epoch: Callable[[int], None],
) -> None:
    not_a_folder = tmp_path / "cache-home"
    not_a_folder.write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(not_a_folder))
    assert Cache.for_cards(sample_cards).folder is None
    result = build(sample_cards, tmp_path / "dist", formats=["json"])
    assert len(result.deck.cards) == 7


# --------------------------------------------------------------------------- symlinked cache


@pytest.mark.parametrize("link", ["repo-root-default-name", "cache-dir", "namespace", "shard"])
def test_a_symlinked_cache_folder_is_refused_and_nothing_is_deleted(
    sample_cards: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    epoch: Callable[[int], None],
    link: str,
) -> None:
    repo = sample_cards.parent
    names = entry_names(sample_cards, tmp_path / "scratch", monkeypatch)
    victim = victim_folder(tmp_path / "home" / "victim")
    before = snapshot(victim)
    if link == "repo-root-default-name":  # issue 11: a committed `.deckgen-cache` symlink
        (repo / ".deckgen-cache").symlink_to(victim)
    elif link == "cache-dir":
        monkeypatch.setenv(ENV_DIR, str(repo / ".ci-cache"))
        (repo / ".ci-cache").symlink_to(victim)
    else:
        monkeypatch.setenv(ENV_DIR, str(repo / ".ci-cache"))
        namespace = repo / ".ci-cache" / names[0].parts[0]
        if link == "namespace":
            namespace.parent.mkdir()
            namespace.symlink_to(victim)
        else:
            namespace.mkdir(parents=True)
            (namespace / names[0].parts[1]).symlink_to(victim)

    build(sample_cards, repo / "dist", formats=FORMATS)
    build(sample_cards, repo / "dist", formats=FORMATS)  # a second build prunes again

    assert snapshot(victim) == before
    assert sorted(p.relative_to(victim).as_posix() for p in victim.rglob("*")) == [
        "files",
        "files/ab",
        "files/ab/ab" + "0" * 62,
        "sample-deck-site",
        "sample-deck-site/index.html",
        "thesis.txt",
    ]
    if link != "repo-root-default-name":
        assert "is a symbolic link" in caplog.text


def test_prune_deletes_only_old_entries_inside_the_real_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    cache = Cache(folder)
    old_key, new_key = "ab" + "1" * 62, "ab" + "2" * 62
    cache.put("files", old_key, "old")
    cache.put("files", new_key, "new")
    shard = folder / "files" / "ab"
    victim = victim_folder(tmp_path / "home" / "victim")
    before = snapshot(victim)
    # links the pruning could follow: to a file, to a namespace folder and to a shard folder
    linked = shard / ("ab" + "3" * 62)
    linked.symlink_to(victim / "thesis.txt")
    (folder / "print").symlink_to(victim)
    (folder / "files" / "cd").symlink_to(victim / "files" / "ab")
    # a user's files, should DECKGEN_CACHE_DIR name a folder that holds other things
    strays = [folder / "notes.txt", shard / "notes.txt", folder / "photos" / "2020" / "a.jpg"]
    strays[-1].parent.mkdir(parents=True)
    for path in strays:
        path.write_text("keep me")
    for path in (shard / old_key, *strays):
        os.utime(path, (OLD, OLD))
    for path in (linked, folder / "print", folder / "files" / "cd"):
        os.utime(path, (OLD, OLD), follow_symlinks=False)

    cache.prune()

    assert not (shard / old_key).exists()
    assert cache.get("files", new_key) == "new"
    assert snapshot(victim) == before
    assert linked.is_symlink() and (folder / "print").is_symlink()
    assert all(path.read_text() == "keep me" for path in strays)


# --------------------------------------------------------------------------- symlinked outputs


def test_a_symlinked_output_folder_is_refused(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    repo = sample_cards.parent
    victim = victim_folder(tmp_path / "home" / "victim")
    before = snapshot(victim)
    (repo / "dist").symlink_to(victim)  # issue 11: a committed `dist` symlink

    with pytest.raises(DeckgenError) as refused:
        build(sample_cards, repo / "dist", formats=FORMATS)
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.location.path == repo / "dist"
    assert "symbolic link" in diagnostic.message

    built = run_cli("build", "-q", "--cards", "cards", "--format", "html", cwd=repo)
    assert built.returncode == 1
    assert "dist:1:1: DG122 [error] is a symbolic link" in built.stderr, built.stderr
    assert "Traceback" not in built.stderr

    assert snapshot(victim) == before
    assert not any(p.name.startswith(".") for p in victim.rglob("*"))  # no staging left behind


@pytest.mark.parametrize(
    ("formats", "name", "is_dir"),
    [
        (["apkg"], "sample-deck.apkg", False),
        (["json"], "sample-deck.json", False),
        (["html"], "sample-deck-site", True),
        (["json", "apkg", "html"], "sample-deck-site", True),  # the last of several outputs
    ],
)
def test_a_symlinked_output_target_is_refused_and_nothing_is_written(
    sample_cards: Path,
    tmp_path: Path,
    epoch: Callable[[int], None],
    formats: list[str],
    name: str,
    is_dir: bool,
) -> None:
    dist = sample_cards.parent / "dist"
    dist.mkdir()
    victim = victim_folder(tmp_path / "home" / "victim")
    target = victim / "sample-deck-site" if is_dir else victim / "thesis.txt"
    before = snapshot(victim)
    (dist / name).symlink_to(target)

    with pytest.raises(DeckgenError) as refused:
        build(sample_cards, dist, formats=formats)
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.location.path == dist / name
    assert "symbolic link" in diagnostic.message
    assert snapshot(victim) == before
    assert [p.name for p in dist.iterdir()] == [name]  # no other output, no temporary file


def test_the_atomic_writers_refuse_links_themselves(tmp_path: Path) -> None:
    victim = victim_folder(tmp_path / "victim")
    before = snapshot(victim)
    out = tmp_path / "out"
    out.mkdir()
    (out / "deck.json").symlink_to(victim / "thesis.txt")
    (out / "deck-site").symlink_to(victim / "sample-deck-site")
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "index.html").write_text("new site")

    with (
        pytest.raises(DeckgenError, match="symbolic link"),
        atomic_output(out / "deck.json") as tmp,
    ):
        tmp.write_text("overwritten")
    with pytest.raises(DeckgenError, match="symbolic link"):
        replace_dir(staging, out / "deck-site")

    assert snapshot(victim) == before
    assert sorted(p.name for p in out.iterdir()) == ["deck-site", "deck.json"]


def test_gitignore_ignores_dist_and_cache_links_and_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copyfile(PROJECT / ".gitignore", repo / ".gitignore")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "dist").symlink_to(tmp_path)
    (repo / ".deckgen-cache").write_text("a file")
    ignored = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", "dist", ".deckgen-cache"],
        capture_output=True,
        text=True,
    )
    assert ignored.stdout.split() == ["dist", ".deckgen-cache"]
    assert (
        "dist"
        not in subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True
        ).stdout
    )


# --------------------------------------------------------------------------- config files


SECRETS = {
    "deck.yaml": "id: sample-deck\nname: SECRET-DECK-NAME\n",
    "syllabus.yaml": (
        "sections:\n  - {id: net, title: SECRET-ROUND}\n  - {id: lang, title: Languages}\n"
        "topics:\n  - {id: tcp, title: SECRET-TOPIC, sections: [net]}\n"
        "  - {id: dns, title: DNS, sections: [net]}\n"
        "  - {id: rust, title: Rust, sections: [lang]}\n"
    ),
    "published-ids.yaml": "published:\n  - secret-card-id\nretired:\n  secret-old: SECRET-REASON\n",
}


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_a_symlinked_config_file_pointing_outside_is_refused(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None], name: str
) -> None:
    outside = tmp_path / "home" / name
    outside.parent.mkdir()
    outside.write_text(SECRETS[name])
    (sample_cards / name).unlink(missing_ok=True)
    (sample_cards / name).symlink_to(outside)

    result = lint_deck(sample_cards)
    found = [f"{d.location.display(sample_cards.parent)}: {d.code}" for d in result.errors]
    assert f"cards/{name}:1: DG110" in found
    linted = run_cli("lint", "--cards", "cards", "--no-print-check", cwd=sample_cards.parent)
    assert linted.returncode == 1
    assert f"cards/{name}:1:1: DG110 [error] {name} is a symbolic link" in linted.stdout
    with pytest.raises(DeckgenError) as refused:
        build(sample_cards, tmp_path / "dist", formats=FORMATS)
    assert any(d.location.path == sample_cards / name for d in refused.value.diagnostics)
    assert not (tmp_path / "dist").exists()
    everything = linted.stdout + linted.stderr + str(refused.value) + repr(result)
    assert "SECRET" not in everything.upper()
    assert "secret-" not in everything


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
published: [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_a_billion_laughs_published_ids_fails_fast(sample_cards: Path, tmp_path: Path) -> None:
    assert len(BILLION_LAUGHS) < 400  # ~10^9 strings once aliases are expanded
    (sample_cards / "published-ids.yaml").write_text(BILLION_LAUGHS)
    start = time.monotonic()
    linted = run_entry_point(
        "lint", "--cards", "cards", "--no-print-check", cwd=sample_cards.parent
    )
    elapsed = time.monotonic() - start
    assert linted.returncode == 1
    assert (
        "cards/published-ids.yaml:2:8: DG101 [error] invalid YAML: anchors and aliases"
        in linted.stdout
    ), linted.stdout + linted.stderr
    assert elapsed < 10  # the interpreter's start included; the bomb itself costs milliseconds
    start = time.monotonic()
    with pytest.raises(DeckgenError, match=r"published-ids\.yaml:2:8: invalid YAML"):
        build(sample_cards, tmp_path / "dist", formats=["json"])
    assert time.monotonic() - start < 5
    assert read_lock(sample_cards).published == []


@pytest.mark.parametrize("name", ["deck.yaml", "syllabus.yaml", "published-ids.yaml"])
def test_an_oversize_config_file_is_refused(sample_cards: Path, name: str) -> None:
    path = sample_cards / name
    original = path.read_text() if path.exists() else "published: []\n"
    path.write_text(original + "#" * 99 + "\n" + ("# padding\n" * (MAX_CONFIG_BYTES // 10)))
    assert path.stat().st_size > MAX_CONFIG_BYTES
    found = [f"{d.location.display(path.parent)}: {d.code}" for d in lint_deck(sample_cards).errors]
    assert f"{name}:1: DG111" in found, found


def test_a_config_file_at_the_size_limit_is_read(sample_cards: Path) -> None:
    path = sample_cards / "published-ids.yaml"
    body = "published: [tcp-handshake-diagram]\n"
    path.write_text(body + "#" * (MAX_CONFIG_BYTES - len(body) - 1) + "\n")
    assert path.stat().st_size == MAX_CONFIG_BYTES
    assert read_lock(sample_cards).published == ["tcp-handshake-diagram"]
    assert not lint_deck(sample_cards).errors


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"- a\n- b\n",
            "published-ids.yaml:1:1: DG110 [error] published-ids.yaml must be a mapping",
        ),
        (
            b"published:\n  a: 1\n",
            "published-ids.yaml:1:1: DG110 [error] 'published' must be a list",
        ),
        (b"retired: [a]\n", "published-ids.yaml:1:1: DG110 [error] 'retired' must map card ids"),
        (b"published: [a\n", "published-ids.yaml:2:1: DG101 [error] invalid YAML"),
        (b"colour: blue\n", "published-ids.yaml:1:1: DG110 [error] unknown key 'colour'"),
        (
            b"published: !!python/object/apply:os.system ['touch pwned']\n",
            "published-ids.yaml:1:12: DG101 [error] invalid YAML",
        ),
        (b"published: " + b"[" * 5000 + b"\n", "published-ids.yaml:1:1: DG111 [error] YAML nested"),
        (b"published: [caf\xe9]\n", "published-ids.yaml:1:1: DG101 [error] not UTF-8 text"),
        (None, "published-ids.yaml:1:1: DG110 [error] published-ids.yaml is not a regular file"),
    ],
)
def test_a_broken_published_ids_is_a_located_error_never_a_traceback(
    sample_cards: Path, content: bytes | None, expected: str
) -> None:
    path = sample_cards / "published-ids.yaml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    repo = sample_cards.parent
    linted = run_cli("lint", "--cards", "cards", "--no-print-check", cwd=repo)
    built = run_cli("build", "-q", "--cards", "cards", "--format", "json", cwd=repo)
    locked = run_cli("release", "v1", "--cards", "cards", cwd=repo)
    for done in (linted, built, locked):
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"cards/{expected}" in done.stdout + done.stderr, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
    assert not (repo / "pwned").exists()
    assert not (repo / "dist").exists()
    if content is not None:
        assert path.read_bytes() == content  # release did not rewrite what it could not read
