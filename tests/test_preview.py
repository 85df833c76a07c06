"""`deckgen preview` as a contributor meets it: errors at start, a busy port, a failing rebuild."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.cli import cli
from deckgen.preview import STATUS_PATH, Preview, Previewer
from tests.conftest import running_preview


@pytest.fixture
def served(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> Iterator[tuple[Previewer, str]]:
    """A preview of the sample deck with one card left half-written: the deck has an error."""
    tcp = sample_cards / "net" / "tcp.md"
    tcp.write_text(tcp.read_text() + "\n## tcp-half-done\nQ: What is missing?\n")
    with running_preview(sample_cards, tmp_path / "out") as (previewer, _, url):
        yield previewer, url


@pytest.fixture
def running(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> Iterator[tuple[Preview, str]]:
    """A preview of the sample deck as it is (it builds)."""
    with running_preview(sample_cards, tmp_path / "out") as (_, preview, url):
        yield preview, url


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
    answer = json.loads(get(url + STATUS_PATH))
    assert answer["findings"] == []
    assert answer["focus"] == "tcp-half-done"  # the card fixed, not the first of its file


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


def status(url: str) -> dict[str, object]:
    answer = json.loads(get(url + STATUS_PATH))
    assert isinstance(answer, dict)
    return answer


def save_like_an_editor(path: Path, text: str) -> None:
    """What vim does on :w (backupcopy=no): a probe file, a swap file, the new text in a
    temporary file renamed over the old one, the swap file removed."""
    probe, swap = path.parent / "4913", path.parent / f".{path.name}.swp"
    probe.write_text("")
    probe.unlink()
    swap.write_bytes(b"b0VIM 9.0")
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    (path.parent / f"{path.name}~").write_text("backup")
    swap.unlink()


def test_a_burst_of_saves_is_one_rebuild_that_names_the_edited_card(
    running: tuple[Preview, str], sample_cards: Path
) -> None:
    _, url = running
    assert status(url) == {"version": 1, "findings": [], "focus": None}
    tcp = sample_cards / "net" / "tcp.md"
    # The second card of the file changes; the first is rewritten unchanged.
    text = tcp.read_text().replace("Twice the maximum", "Two times the maximum")
    save_like_an_editor(tcp, text)
    (sample_cards / "net" / "dns.md").touch()  # and another file, unchanged, in the same burst
    wait_for(lambda: status(url)["version"] != 1)
    time.sleep(1.0)  # well past the quiet time that ends a burst: no second rebuild follows
    assert status(url) == {"version": 2, "findings": [], "focus": "tcp-time-wait-length"}


def test_side_files_of_editors_do_not_rebuild(
    running: tuple[Preview, str], sample_cards: Path
) -> None:
    _, url = running
    net = sample_cards / "net"
    for name in ("4913", ".tcp.md.swp", "tcp.md~", "#tcp.md#", ".#tcp.md", "tcp.md.tmp"):
        (net / name).write_text("x")
    time.sleep(1.0)
    assert status(url)["version"] == 1
    (net / "tcp.md").write_text((net / "tcp.md").read_text() + "\n")  # a real save does
    wait_for(lambda: status(url)["version"] == 2)
    assert status(url)["focus"] is None  # the file changed, none of its cards did


def test_the_stop_event_ends_the_watch(running: tuple[Preview, str]) -> None:
    preview, _ = running
    assert preview.watching.is_alive()
    preview.stop.set()
    preview.watching.join(timeout=5)
    assert not preview.watching.is_alive()


def test_ctrl_c_stops_the_preview_with_exit_0(
    sample_cards: Path, epoch: Callable[[int], None]
) -> None:
    command = [sys.executable, "-m", "deckgen", "preview", "--cards", str(sample_cards)]
    with subprocess.Popen(
        [*command, "--port", "0"], stderr=subprocess.PIPE, text=True, cwd=sample_cards.parent
    ) as process:
        assert process.stderr is not None
        lines = []
        while not lines or "previewing on" not in lines[-1]:
            line = process.stderr.readline()
            assert line, "".join(lines)  # it ended before serving
            lines.append(line)
        url = lines[-1].split("previewing on ")[1].split()[0]
        assert json.loads(get(url.rstrip("/") + STATUS_PATH))["version"] == 1
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=15) == 0
    assert "Traceback" not in rest
    assert "preview stopped" in rest


def test_the_preview_s_own_output_does_not_rebuild(
    sample_cards: Path, epoch: Callable[[int], None]
) -> None:
    """Even inside a watched folder: its first build ran while watching, and wrote there."""
    out = sample_cards.parent / "templates" / "out"
    out.parent.mkdir()
    with running_preview(sample_cards, out, templates=out.parent) as (_, _, url):
        assert (out / "sample-deck-site" / "index.html").is_file()
        time.sleep(1.0)
        assert status(url)["version"] == 1
