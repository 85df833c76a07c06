"""Golden files: the sample deck's outputs, byte for byte, as committed under tests/golden/.

The sample deck is small (seven cards) and has one of everything: highlighted Rust, inline
math, two cloze cards (one with a hint), a reversed card, an image and every form of
`Source:`. The goldens are its JSON export, the two Typst sources the PDF exporter compiles and
the fields of every note in the .apkg, one file per card, all built at SOURCE_DATE_EPOCH
1700000000.

A change to any output shows here as a diff. When the change is intended, rewrite them with
`pytest tests/test_golden.py --update-goldens` (or DECKGEN_UPDATE_GOLDENS=1) and review the
diff of tests/golden/ like code.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import GOLDEN, UPDATE_GOLDENS_ENV, SampleBuild, updating_goldens

MAX_DIFF_LINES = 120


def apkg_notes(package: Path, scratch: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """Each note by card id: its note type's name and its fields by name, as the .apkg's
    collection stores them (what Anki imports), read without Anki."""
    db = scratch / "collection.anki2"
    with zipfile.ZipFile(package) as archive:
        db.write_bytes(archive.read("collection.anki2"))
    with contextlib.closing(sqlite3.connect(db)) as connection:
        (models,) = connection.execute("select models from col").fetchone()
        rows = connection.execute("select mid, flds from notes order by id").fetchall()
    types = {
        int(mid): (model["name"], [field["name"] for field in model["flds"]])
        for mid, model in json.loads(models).items()
    }
    notes = {}
    for mid, flds in rows:
        name, fields = types[mid]
        values = dict(zip(fields, flds.split("\x1f"), strict=True))
        notes[values["CardId"]] = (name, values)
    return notes


def note_document(note_type: str, fields: dict[str, str]) -> bytes:
    """A note as one reviewable HTML file: each field after a comment naming it."""
    parts = [f"<!-- note type: {note_type} -->\n"]
    parts += [f"<!-- field: {name} -->\n{value}\n" for name, value in fields.items()]
    return "".join(parts).encode("utf-8")


def sample_outputs(build: SampleBuild, scratch: Path) -> dict[str, bytes]:
    """Every golden of the sample deck, by its path under tests/golden/."""
    outputs = {
        "sample-deck.json": build.json.read_bytes(),
        "sample-deck-cards.typ": build.typst["cards"],
        "sample-deck-sheet.typ": build.typst["sheet"],
    }
    for card_id, (note_type, fields) in apkg_notes(build.apkg, scratch).items():
        outputs[f"anki/{card_id}.html"] = note_document(note_type, fields)
    return outputs


def committed() -> list[str]:
    return sorted(p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file())


def mismatch(name: str, expected: bytes | None, actual: bytes) -> str:
    """Which golden differs and how: the unified diff, shortened."""
    if expected is None:
        return f"tests/golden/{name} does not exist"
    diff = list(
        difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(keepends=True),
            actual.decode("utf-8", "replace").splitlines(keepends=True),
            fromfile=f"tests/golden/{name}",
            tofile="this build",
        )
    )
    if not diff:  # the same lines: the difference is in line endings or the final newline
        diff = [f"(same lines; the bytes differ: ...{expected[-20:]!r} vs ...{actual[-20:]!r})\n"]
    if len(diff) > MAX_DIFF_LINES:
        diff = [*diff[:MAX_DIFF_LINES], f"... {len(diff) - MAX_DIFF_LINES} more lines of diff\n"]
    return f"tests/golden/{name} differs from this build:\n" + "".join(diff).rstrip("\n")


ACCEPT = (
    "If the change is intended: pytest tests/test_golden.py --update-goldens "
    f"(or {UPDATE_GOLDENS_ENV}=1), then review `git diff tests/golden/` like code."
)


@pytest.fixture
def outputs(sample_build: SampleBuild, tmp_path: Path) -> dict[str, bytes]:
    return sample_outputs(sample_build, tmp_path)


@pytest.fixture
def compare(request: pytest.FixtureRequest) -> Callable[[list[str], dict[str, bytes]], None]:
    """Compare outputs with their goldens byte for byte and fail with every diff; with
    --update-goldens, rewrite those that differ instead (the test then says so as a skip)."""
    update = updating_goldens(request.config)

    def check(names: list[str], outputs: dict[str, bytes]) -> None:
        problems, rewritten = [], []
        for name in names:
            path = GOLDEN / name
            expected = path.read_bytes() if path.is_file() else None
            if expected == outputs[name]:
                continue
            if update:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(outputs[name])
                rewritten.append(f"tests/golden/{name}")
            else:
                problems.append(mismatch(name, expected, outputs[name]))
        if problems:
            pytest.fail("\n\n".join([*problems, ACCEPT]), pytrace=False)
        if rewritten:
            pytest.skip(f"rewrote {', '.join(rewritten)}")

    return check


@pytest.mark.parametrize(
    "name", ["sample-deck.json", "sample-deck-cards.typ", "sample-deck-sheet.typ"]
)
def test_output_matches_its_golden(
    outputs: dict[str, bytes], compare: Callable[[list[str], dict[str, bytes]], None], name: str
) -> None:
    compare([name], outputs)


def test_every_note_of_the_apkg_matches_its_golden(
    outputs: dict[str, bytes], compare: Callable[[list[str], dict[str, bytes]], None]
) -> None:
    notes = sorted(name for name in outputs if name.startswith("anki/"))
    assert len(notes) == 7  # one per card of the sample deck
    compare(notes, outputs)


def test_no_golden_is_left_over(outputs: dict[str, bytes], request: pytest.FixtureRequest) -> None:
    """A golden no output matches any more (a renamed card, a dropped output) is deleted by
    --update-goldens, and fails here otherwise."""
    stale = [name for name in committed() if name not in outputs]
    if stale and updating_goldens(request.config):
        for name in stale:
            (GOLDEN / name).unlink()
        pytest.skip(f"deleted {', '.join(f'tests/golden/{name}' for name in stale)}")
    assert stale == [], "no output of the sample deck matches these goldens; delete them"


def test_the_goldens_are_what_the_formats_say(outputs: dict[str, bytes]) -> None:
    """The goldens hold what they claim: the JSON export of every card, with the fields the
    note holds, and Typst sources that typeset each card's own text."""
    document = json.loads(outputs["sample-deck.json"])
    assert document["generated_at"] == 1_700_000_000  # SOURCE_DATE_EPOCH, not the clock
    ids = {card["id"] for card in document["cards"]}
    assert {name.removeprefix("anki/").removesuffix(".html") for name in outputs} >= ids
    for card in document["cards"]:
        note = outputs[f"anki/{card['id']}.html"].decode()
        front = card["html"].get("front") or card["html"]["text"]
        assert front in note, card["id"]
    cards, sheet = outputs["sample-deck-cards.typ"].decode(), outputs["sample-deck-sheet.typ"]
    for card_id in ids:
        assert card_id in cards and card_id.encode() in sheet
    # The cut-out cards are typeset in parts dated by the parts' own clock (the PDF that joins
    # them carries the build's date, tests/test_pdf.py), the sheet whole, dated by the build.
    assert "datetime(year: 1970, month: 1, day: 1" in cards
    assert b"datetime(year: 2023, month: 11, day: 14" in sheet
