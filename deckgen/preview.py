"""`deckgen preview`: serve the site on localhost and rebuild it whenever a card file changes."""

from __future__ import annotations

import functools
import html
import http.server
import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deckgen.build import build
from deckgen.cache import Cache
from deckgen.errors import DeckgenError
from deckgen.lint import lint_deck
from deckgen.model import Card

if TYPE_CHECKING:
    import watchfiles

log = logging.getLogger(__name__)

STATUS_PATH = "/__deckgen/status.json"
DEBOUNCE_MS = 1600  # the longest a burst of changes is gathered into one rebuild
QUIET_MS = 200  # a burst ends when nothing changed for this long (an editor's temp + rename)
WAKE_MS = 200  # the watcher wakes this often when nothing changes (readiness, and `stop`)

# Files that editors and tools write next to the ones they save, and deckgen's own temporary
# files (deckgen.atomic): never a reason to rebuild. Added to watchfiles' own list (*.swp, *~,
# .#*, .git/, __pycache__/ …).
IGNORED_NAMES = (
    r"^4913$",  # vim's probe that the folder is writable
    r"\.sw[a-p]x?$",  # vim swap files
    r"^#.*#$",  # emacs auto-save
    r"\.(tmp|bak|orig|kate-swp)$",
    r"^\.goutputstream-",  # gedit
    r"^\.deckgen-",  # deckgen's staging folders
)


def card_fingerprint(card: Card) -> tuple[object, ...]:
    """What a card shows: two builds whose fingerprints of a card differ show it differently."""
    fields = tuple((name, text.markdown) for name, text in card.markdown_fields())
    return (card.type.key, card.section, card.topic, card.tags, fields)


def edited_card(
    before: dict[str, tuple[object, ...]], after: Iterable[Card], changed: Iterable[Path]
) -> str | None:
    """The first card of the changed files, in file order, that is new or differs from before."""
    files = {p.resolve() for p in changed}
    for card in after:
        if card.path.resolve() in files and before.get(card.id) != card_fingerprint(card):
            return card.id
    return None


class PreviewState:
    """The site's build number, the lint findings to show on the page and the card to show."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = 0
        self.findings: list[str] = []
        self.focus: str | None = None

    def publish(self, findings: list[str], focus: str | None = None) -> None:
        with self.lock:
            self.version += 1
            self.findings = findings
            self.focus = focus

    def as_json(self) -> bytes:
        with self.lock:
            state = {"version": self.version, "findings": self.findings, "focus": self.focus}
            return json.dumps(state).encode()


class Previewer:
    """Builds the preview site and tracks what changed between builds."""

    def __init__(
        self,
        cards_dir: Path,
        out_dir: Path,
        include: Sequence[str],
        templates_dir: Path | None,
        say: Callable[[str], None],
    ) -> None:
        self.cards_dir, self.out_dir = cards_dir, out_dir
        self.include, self.templates_dir, self.say = tuple(include), templates_dir, say
        self.state = PreviewState()
        self.site: Path | None = None
        self.seen: dict[str, tuple[object, ...]] = {}  # card id → fingerprint, as last compiled
        self._building = threading.Lock()

    def watched(self) -> list[Path]:
        """The cards folder and the user's templates folder, if any."""
        return [self.cards_dir, *([self.templates_dir] if self.templates_dir else [])]

    def watch_filter(self) -> watchfiles.DefaultFilter:
        """watchfiles' default filter, deckgen's output and cache, and editors' side files."""
        import watchfiles

        cache = Cache.for_cards(self.cards_dir).folder
        ignored = (*watchfiles.DefaultFilter.ignore_entity_patterns, *IGNORED_NAMES)
        return watchfiles.DefaultFilter(
            ignore_entity_patterns=ignored,
            ignore_paths=[self.out_dir, *([cache] if cache is not None else [])],
        )

    def rebuild(self, changed: Sequence[Path] = ()) -> None:
        result = lint_deck(self.cards_dir, print_check=False)
        changed_set = {p.resolve() for p in changed}
        relevant = [
            d
            for d in result.diagnostics
            if not changed_set or d.location.path.resolve() in changed_set or d in result.errors
        ]
        cwd = Path.cwd()
        findings = [
            f"{d.location.display(cwd)}: {d.code} [{d.severity.value}] {d.message}"
            for d in relevant
        ]
        focus = None
        if not result.errors:
            try:
                built = build(
                    self.cards_dir,
                    self.out_dir,
                    formats=["html"],
                    include=self.include,
                    templates_dir=self.templates_dir,
                    options={"preview": "1"},
                )
                self.site = built.paths[0]
                focus = edited_card(self.seen, [r.card for r in built.deck.cards], changed)
            except DeckgenError as error:
                findings += [d.display(cwd) for d in error.diagnostics]
        # What the last save changed, even one that broke the deck: the next comparison's base.
        self.seen = {card.id: card_fingerprint(card) for card in result.deck.cards}
        if self.site is None:  # nothing built yet: a page that lists why, and reloads itself
            self.site = self._waiting_page(findings)
        self.state.publish(findings, focus)
        self.say(f"rebuilt ({len(findings)} finding(s))" if changed else "built the site")
        for line in findings:
            self.say(f"  {line}")

    def _waiting_page(self, findings: Sequence[str]) -> Path:
        folder = self.out_dir / "waiting"
        folder.mkdir(parents=True, exist_ok=True)
        items = "".join(f"<li>{html.escape(line)}</li>" for line in findings)
        (folder / "index.html").write_text(
            '<!doctype html><html lang="en"><meta charset="utf-8">'
            '<meta http-equiv="refresh" content="2">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
            "<title>deckgen preview: fix the cards</title>"
            "<h1>The deck has errors</h1><p>Fix them and save: this page reloads itself.</p>"
            f"<ul>{items}</ul></html>",
            encoding="utf-8",
        )
        return folder

    def rebuild_safely(self, changed: Sequence[Path] = ()) -> None:
        """rebuild(), and a failure of deckgen itself is shown instead of ending the watch."""
        try:
            with self._building:  # the first build and one from the watcher never overlap
                self.rebuild(changed)
        except Exception as error:  # deckgen's own bug: keep watching, say so on the page
            log.exception("preview rebuild failed")
            message = f"internal error while rebuilding: {type(error).__name__}: {error}"
            self.state.publish([message])
            self.say(message)

    def watch(self, stop: threading.Event, ready: threading.Event | None = None) -> None:
        """Rebuild once per burst of changes until `stop` is set; `ready` is set once watching.

        watchfiles gathers the changes of a burst (an editor's temporary file and rename, a
        `git checkout` of many files) until none came for QUIET_MS, or for DEBOUNCE_MS at most,
        and keeps recording while a rebuild runs.
        """
        import watchfiles  # here, not at the top: `deckgen --help` need not load it

        for changes in watchfiles.watch(
            *self.watched(),
            watch_filter=self.watch_filter(),
            debounce=DEBOUNCE_MS,
            step=QUIET_MS,
            stop_event=stop,
            rust_timeout=WAKE_MS,
            yield_on_timeout=True,  # an empty set every WAKE_MS: the watch is running
            raise_interrupt=False,
        ):
            if ready is not None:
                ready.set()
            if changes:
                changed = sorted({Path(path) for _change, path in changes})
                log.debug("changed: %s", changed)
                self.rebuild_safely(changed)

    def watch_safely(self, stop: threading.Event, ready: threading.Event | None = None) -> None:
        """watch(), and a watcher that cannot go on (a watched folder removed) says so."""
        try:
            self.watch(stop, ready)
        except Exception as error:
            log.exception("preview watcher failed")
            message = f"stopped watching for changes: {type(error).__name__}: {error}"
            self.state.publish([message])
            self.say(message)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, previewer: Previewer, **kwargs: Any) -> None:
        self.previewer = previewer
        super().__init__(*args, directory=str(previewer.site), **kwargs)

    def do_GET(self) -> None:
        if self.path.split("?")[0] == STATUS_PATH:
            body = self.previewer.state.as_json()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class Preview:
    """A running preview: the watcher's thread and the server's. close() stops both."""

    def __init__(self, previewer: Previewer, host: str, port: int, stop: threading.Event) -> None:
        self.stop, self.ready = stop, threading.Event()
        # Watching starts before the first build, so that no save during it goes unseen.
        self.watching = threading.Thread(
            target=previewer.watch_safely,
            args=(stop, self.ready),
            name="deckgen-watch",
            daemon=True,
        )
        self.watching.start()
        previewer.rebuild_safely()
        handler = functools.partial(_Handler, previewer=previewer)
        try:
            self.server = http.server.ThreadingHTTPServer((host, port), handler)
        except OSError:  # a busy port: the caller says so
            self.stop.set()
            self.watching.join(timeout=5)
            raise
        self.serving = threading.Thread(
            target=self.server.serve_forever, name="deckgen-serve", daemon=True
        )
        self.serving.start()

    @property
    def server_address(self) -> tuple[Any, ...]:
        return tuple(self.server.server_address)

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.watching.join(timeout=5)


def serve(
    previewer: Previewer, host: str, port: int, stop: threading.Event | None = None
) -> Preview:
    """Watch, build, then serve in background threads, rebuilding on changes until `stop`."""
    return Preview(previewer, host, port, stop or threading.Event())
