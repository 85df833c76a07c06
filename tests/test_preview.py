"""`deckgen preview` as a contributor meets it: errors at start, a busy port, a failing rebuild."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.cli import cli
from deckgen.preview import STATUS_PATH, Previewer, serve


@pytest.fixture
def served(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> Iterator[tuple[Previewer, str]]:
    tcp = sample_cards / "net" / "tcp.md"
    tcp.write_text(tcp.read_text() + "\n## tcp-half-done\nQ: What is missing?\n")
    previewer = Previewer(sample_cards, tmp_path / "out", (), None, lambda _m: None)
    stop = threading.Event()
    server = serve(previewer, "127.0.0.1", 0, interval=0.05, stop=stop)
    try:
        yield previewer, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode("utf-8"))


def wait_for(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_deck_with_errors_is_served_with_the_errors_until_it_is_fixed(
    served: tuple[Previewer, str], sample_cards: Path
) -> None:
    _, url = served
    page = get(url + "/")
    assert "The deck has errors" in page
    assert "tcp.md:35: DG108 [error] card &#x27;tcp-half-done&#x27; needs &#x27;A:&#x27;" in page
    tcp = sample_cards / "net" / "tcp.md"
    tcp.write_text(tcp.read_text() + "\nA: The answer.\n\nSource: RFC 9293\n")
    wait_for(lambda: 'id="tcp-half-done"' in get(url + "/"))
    assert json.loads(get(url + STATUS_PATH))["findings"] == []


def test_a_failing_rebuild_is_shown_and_the_watch_goes_on(
    served: tuple[Previewer, str], sample_cards: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    previewer, url = served
    real = previewer.rebuild
    calls = []

    def broken_once(changed: object = ()) -> None:
        calls.append(changed)
        if len(calls) == 1:
            raise RuntimeError("a bug in deckgen")
        real(changed)  # type: ignore[arg-type]

    monkeypatch.setattr(previewer, "rebuild", broken_once)
    tcp = sample_cards / "net" / "tcp.md"
    tcp.write_text(tcp.read_text() + "\n")
    wait_for(lambda: "a bug in deckgen" in get(url + STATUS_PATH))
    tcp.write_text(tcp.read_text() + "\nA: The answer.\n\nSource: RFC 9293\n")
    wait_for(lambda: 'id="tcp-half-done"' in get(url + "/"))


def test_a_busy_port_is_a_usage_error(sample_cards: Path, epoch: Callable[[int], None]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["preview", "--cards", str(sample_cards), "--port", str(port)]
        )
    assert result.exit_code == 2
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in result.output
    assert "Traceback" not in result.output
