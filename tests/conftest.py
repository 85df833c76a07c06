"""Shared fixtures: copies of fixture decks in temporary folders, one build of the sample deck
per session, one headless Chromium per session, and the golden-file switch."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import re
import resource
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from deckgen.build import BuildResult, build
from deckgen.cache import ENV_DIR, ENV_DISABLE
from deckgen.cardtypes import META_FIELDS, CardTemplate, CardType
from deckgen.compile import load_deck
from deckgen.model import Deck
from deckgen.preview import Preview, Previewer, serve

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
PROJECT = Path(__file__).parent.parent
EPOCH = 1_700_000_000  # 2023-11-14 22:13:20 UTC, the builds' SOURCE_DATE_EPOCH unless a test says
UPDATE_GOLDENS_ENV = "DECKGEN_UPDATE_GOLDENS"


def find_chromium() -> str | None:
    """The browser the tests drive: $DECKGEN_CHROMIUM, else Debian's `chromium` (.ci/run
    installs it), else Google Chrome (GitHub's Ubuntu runners have it), else `chromium-browser`
    unless it is Ubuntu's wrapper of the snap (a snap cannot open pages under /tmp). Without
    one (and outside CI) the browser tests skip."""
    given = os.environ.get("DECKGEN_CHROMIUM")
    if given:
        return given
    for name in ("chromium", "google-chrome-stable", "google-chrome", "chromium-browser"):
        found = shutil.which(name)
        if found and not _is_snap(Path(found)):
            return found
    return None


def _is_snap(program: Path) -> bool:
    if program.resolve().is_relative_to("/snap"):
        return True
    try:
        head = program.read_bytes()[:4096]
    except OSError:
        return False
    return head.startswith(b"#!") and b"/snap/" in head  # Ubuntu's /usr/bin/chromium-browser


CHROMIUM = find_chromium()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def cpu_seconds() -> float:
    """CPU time used so far by this process (every thread) and its finished children.

    The cost bounds of the tests are in CPU time, not wall time: an algorithm gone quadratic
    shows in both, but only wall time grows when other processes share the cores (the other
    test worker, other jobs on the machine).
    """
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help=f"rewrite tests/golden/ instead of comparing with it (or {UPDATE_GOLDENS_ENV}=1)",
    )


def updating_goldens(config: pytest.Config) -> bool:
    return bool(config.getoption("--update-goldens")) or os.environ.get(UPDATE_GOLDENS_ENV) == "1"


@contextlib.contextmanager
def isolated(folder: Path) -> Iterator[None]:
    """What a deckgen run in a test sees: a user cache of its own, no cache settings from the
    environment (a $DECKGEN_CACHE_DIR may point into the checkout), an empty working folder (a
    default `dist/` lands there) and the fixed clock.

    For fixtures wider than a test; each test gets the same from `user_cache` below.
    """
    (folder / "cwd").mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(folder / "user-cache"))  # platformdirs' source on Linux
        patch.delenv(ENV_DIR, raising=False)
        patch.delenv(ENV_DISABLE, raising=False)
        patch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
        patch.chdir(folder / "cwd")
        yield


@pytest.fixture(scope="session")
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Hypothesis's storage (examples, constants, Unicode tables): not `.hypothesis/` here.

    Session-wide: Hypothesis looks the folder up once. Its examples need not outlive the run:
    the property tests are derandomized, so a failure recurs on the next run anyway.
    """
    folder = tmp_path_factory.mktemp("hypothesis")
    set_hypothesis_home_dir(folder)
    yield folder
    set_hypothesis_home_dir(None)


@pytest.fixture(autouse=True)
def user_cache(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    hypothesis_home: Path,
) -> Path:
    """Nothing a test runs writes into the checkout or the real user cache.

    Each test gets a user cache folder (cache signing key, caches) of its own, deckgen's cache
    settings from the environment are dropped (a $DECKGEN_CACHE_DIR may point into the
    checkout), and the working folder is an empty one of the test's own, so a default output
    (`dist/`, a `.deckgen-cache/`) lands there, not in the folder pytest was started from.
    """
    folder = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))  # platformdirs' source on Linux
    monkeypatch.delenv(ENV_DIR, raising=False)
    monkeypatch.delenv(ENV_DISABLE, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    return folder


@pytest.fixture
def sample_cards(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/sample/cards."""
    target = tmp_path / "cards"
    shutil.copytree(FIXTURES / "sample" / "cards", target)
    return target


def without_sections(cards: Path) -> None:
    """Make the sample deck a deck without sections: no `sections:`, no `section:` anywhere."""
    syllabus = cards / "syllabus.yaml"
    text = syllabus.read_text()
    text = re.sub(r"^sections:\n(  - .*\n)+", "", text, flags=re.M)
    syllabus.write_text(re.sub(r"^    sections: .*\n", "", text, flags=re.M))
    deck = cards / "deck.yaml"
    deck.write_text(deck.read_text().split("section:\n")[0])
    for card_file in cards.rglob("*.md"):
        card_file.write_text(re.sub(r"^section: .*\n", "", card_file.read_text(), flags=re.M))


@pytest.fixture
def write_card(sample_cards: Path) -> Callable[[str, str], Path]:
    """Write an extra card file into the sample deck and return its path."""

    def write(relative: str, text: str) -> Path:
        path = sample_cards / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Set SOURCE_DATE_EPOCH for the builds of one test."""

    def set_epoch(value: int) -> None:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(value))

    set_epoch(EPOCH)
    return set_epoch


# --------------------------------------------------------------------------- one shared build

SAMPLE_FORMATS = ["apkg", "csv", "tsv", "json", "html", "pdf"]  # every built-in format


@dataclass(frozen=True)
class SampleBuild:
    """The unchanged sample deck built once in every format with the default options, at EPOCH.

    Shared by every test that only reads it: a test that changes a file must copy it first
    (the `sample_build` fixture fails the test that changed one).
    """

    cards: Path
    out: Path
    result: BuildResult
    typst: dict[str, bytes]  # "cards" / "sheet": the Typst source the PDF exporter compiled

    @property
    def apkg(self) -> Path:
        return self.out / "sample-deck.apkg"

    @property
    def json(self) -> Path:
        return self.out / "sample-deck.json"

    @property
    def site(self) -> Path:
        return self.out / "sample-deck-site" / "index.html"

    def table(self, fmt: str) -> Path:
        return self.out / f"sample-deck.{fmt}"

    def pdf(self, layout: str) -> Path:
        return self.out / f"sample-deck-{layout}-a4.pdf"


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def _sample_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[SampleBuild, dict[str, str]]:
    import typst

    root = tmp_path_factory.mktemp("sample-build")
    cards = root / "cards"
    shutil.copytree(FIXTURES / "sample" / "cards", cards)
    sources: list[bytes] = []
    compiler = typst.Compiler

    def recording(main: str, *args: Any, **kwargs: Any) -> Any:
        """typst.Compiler, noting the source it is given (the file the exporter wrote)."""
        sources.append(Path(main).read_bytes())
        return compiler(main, *args, **kwargs)

    with isolated(root), pytest.MonkeyPatch.context() as patch:
        patch.setattr(typst, "Compiler", recording)
        result = build(cards, root / "dist", formats=SAMPLE_FORMATS)
    layouts = [p.name.split("-")[-2] for p in result.paths if p.suffix == ".pdf"]
    assert layouts == ["cards", "sheet"] and len(sources) == 2, (layouts, len(sources))
    shared = SampleBuild(cards, root / "dist", result, dict(zip(layouts, sources, strict=True)))
    return shared, {**_digest(cards), **_digest(root / "dist")}


_CHANGED_BY: list[str] = []  # the test that changed the shared build, if one did


@pytest.fixture
def sample_build(
    _sample_build: tuple[SampleBuild, dict[str, str]], request: pytest.FixtureRequest
) -> Iterator[SampleBuild]:
    """The session's build of the sample deck; the test fails if it changed any of its files
    (and every later test that asks for it, naming that one)."""
    shared, digest = _sample_build
    if _CHANGED_BY:
        pytest.fail(f"the shared sample build was changed by {_CHANGED_BY[0]}", pytrace=False)
    yield shared
    if {**_digest(shared.cards), **_digest(shared.out)} != digest:
        _CHANGED_BY.append(request.node.nodeid)
        pytest.fail("this test changed the shared sample build: copy it first", pytrace=False)


# --------------------------------------------------------------------------- decks read once


@pytest.fixture(scope="session")
def shipped_deck() -> Deck:
    """The deck under cards/, as loaded (nothing is written): for tests that only read it."""
    return load_deck(PROJECT / "cards")


def bench_synth() -> Any:
    """The benchmark's deck generator, bench/synth.py (not a package: loaded from its file)."""
    spec = importlib.util.spec_from_file_location("synth", PROJECT / "bench" / "synth.py")
    assert spec is not None and spec.loader is not None
    synth = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synth)
    return synth


@pytest.fixture(scope="session")
def synthetic_deck(tmp_path_factory: pytest.TempPathFactory) -> Deck:
    """The benchmark's generated deck of 600 cards (bench/synth.py): many similar questions."""
    return load_deck(bench_synth().write_deck(tmp_path_factory.mktemp("synthetic"), 600))


# --------------------------------------------------------------------------- one shared browser


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for every browser test of the session (each opens its own
    context: storage, routes and viewport are per context)."""
    if CHROMIUM is None and os.environ.get("CI") != "true":
        pytest.skip("no Chromium (see find_chromium); in CI a missing browser is a failure")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def running_preview(
    cards: Path, out: Path, templates: Path | None = None
) -> Iterator[tuple[Previewer, Preview, str]]:
    """`deckgen preview` of `cards` on a free port: its previewer, the running preview (watching
    already) and its URL; stopped by the test's stop event at the end."""
    previewer = Previewer(cards, out, (), templates, lambda _m: None)
    stop = threading.Event()
    running = serve(previewer, "127.0.0.1", 0, stop=stop)
    try:
        assert running.ready.wait(15), "the watcher did not start"
        yield previewer, running, f"http://127.0.0.1:{running.server_address[1]}"
    finally:
        running.close()


def definition_card_type() -> CardType:
    """A card type no release registers: a term and its definition, on the basic templates
    (tests register it to show that a new type needs only its registry entry)."""
    return CardType(
        key="definition",
        summary="a term and its definition",
        fields=("Q", "A"),
        label="Definition",
        note_fields=("Front", "Back", *META_FIELDS),
        templates=(CardTemplate("Card 1", "anki/basic/front.html", "anki/basic/back.html"),),
        stock_notetype="Basic",
        skeleton="Type: definition\nQ: {question}\n\nA: TODO\n\nSource: TODO\n",
    )
