"""`deckgen preview`: serve the site on localhost and rebuild it whenever a card file changes."""

from __future__ import annotations

import functools
import html
import http.server
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from deckgen.build import build
from deckgen.errors import DeckgenError
from deckgen.lint import lint_deck

log = logging.getLogger(__name__)

STATUS_PATH = "/__deckgen/status.json"


def snapshot(folders: Sequence[Path]) -> dict[Path, float]:
    """Modification times of every file under the watched folders."""
    return {
        path: path.stat().st_mtime
        for folder in folders
        if folder.is_dir()
        for path in folder.rglob("*")
        if path.is_file()
    }


class PreviewState:
    """The site's build number and the lint findings to show on the page."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = 0
        self.findings: list[str] = []

    def publish(self, findings: list[str]) -> None:
        with self.lock:
            self.version += 1
            self.findings = findings

    def as_json(self) -> bytes:
        with self.lock:
            return json.dumps({"version": self.version, "findings": self.findings}).encode()


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
        self._seen = snapshot(self._watched())

    def _watched(self) -> list[Path]:
        return [self.cards_dir, *([self.templates_dir] if self.templates_dir else [])]

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
            except DeckgenError as error:
                findings += [d.display(cwd) for d in error.diagnostics]
        if self.site is None:  # nothing built yet: a page that lists why, and reloads itself
            self.site = self._waiting_page(findings)
        self.state.publish(findings)
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
            self.rebuild(changed)
        except Exception as error:  # deckgen's own bug: keep watching, say so on the page
            log.exception("preview rebuild failed")
            message = f"internal error while rebuilding: {type(error).__name__}: {error}"
            self.state.publish([message])
            self.say(message)

    def poll(self) -> list[Path]:
        current = snapshot(self._watched())
        changed = [
            p for p in current.keys() | self._seen.keys() if current.get(p) != self._seen.get(p)
        ]
        self._seen = current
        return sorted(changed)


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


def serve(
    previewer: Previewer,
    host: str,
    port: int,
    interval: float = 0.5,
    stop: threading.Event | None = None,
) -> http.server.ThreadingHTTPServer:
    """Start serving in a background thread and watching for changes; return the server."""
    previewer.rebuild_safely()
    handler = functools.partial(_Handler, previewer=previewer)
    server = http.server.ThreadingHTTPServer((host, port), handler)  # OSError: a busy port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    halt = stop or threading.Event()

    def watch() -> None:
        while not halt.is_set():
            time.sleep(interval)
            changed = previewer.poll()
            if changed:
                previewer.rebuild_safely(changed)

    threading.Thread(target=watch, daemon=True).start()
    return server
