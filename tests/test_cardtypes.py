"""The card-type registry: one card of every registered type reaches every installed format.

The deck is made from the registry itself, so a newly registered type is tested here without
editing this file; a newly installed format without a check below fails
`test_every_format_has_a_presentation_check`.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from anki.collection import ImportCsvRequest

from deckgen.build import BuildResult, build
from deckgen.cardtypes import CARD_TYPES, CardType
from deckgen.exporters import available_exporters
from deckgen.exporters.jsonexport import deck_schema, with_card_types
from deckgen.notetypes import note_guid
from tests.ankiutil import import_package, open_collection
from tests.conftest import FIXTURES, PROJECT, definition_card_type

SCHEMA_FILE = PROJECT / "deckgen" / "schemas" / "deck.schema.json"


@dataclass(frozen=True)
class Sample:
    """One card of a registered type: the words each format must show on each side."""

    card_type: CardType
    question: str
    answer: str

    @property
    def id(self) -> str:
        return f"every-type-{self.card_type.key}"

    def markdown(self) -> str:
        lines = [f"## {self.id}", f"Type: {self.card_type.key}"]
        if self.card_type.cloze:
            lines.append(f"Cloze: {self.question} {{{{c1::{self.answer}}}}}.")
        else:
            lines += [f"Q: {self.question}?", "", f"A: {self.answer}"]
        lines += ["", f"Extra: Background for {self.card_type.key}.", ""]
        lines.append("Source: [RFC 9293 §3.1](https://www.rfc-editor.org/rfc/rfc9293#section-3.1)")
        return "\n".join(lines) + "\n"


def sample(card_type: CardType) -> Sample:
    word = re.sub(r"[^a-z]", "", card_type.key)
    return Sample(card_type, f"Which word names {word} cards", f"answer{word}")


ALL_FORMATS = sorted(available_exporters())


@dataclass(frozen=True)
class Built:
    result: BuildResult
    out: Path
    samples: tuple[Sample, ...]

    def path(self, pattern: str) -> Path:
        (found,) = self.out.glob(pattern)
        return found


def build_every_type(root: Path) -> Built:
    """The sample deck plus one card of every registered type, built in every format."""
    samples = tuple(sample(t) for t in CARD_TYPES.values())
    cards = root / "cards"
    shutil.copytree(FIXTURES / "sample" / "cards", cards)
    text = "---\ntopic: tcp\ntags: [tcp-handshake]\n---\n\n"
    (cards / "net" / "every-type.md").write_text(
        text + "\n".join(s.markdown() for s in samples), encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1700000000")
        result = build(cards, root / "dist", formats=ALL_FORMATS, use_cache=False)
    return Built(result, root / "dist", samples)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_every_type(tmp_path_factory.mktemp("every-type"))


def _words(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


# ------------------------------------------------------------------ one check per format


def shows_in_apkg(built: Built, tmp_path: Path) -> None:
    col = open_collection(tmp_path / "anki")
    log = import_package(col, built.path("*.apkg"))
    assert not log.conflicting
    for s in built.samples:
        (note_id,) = col.find_notes(f"CardId:{s.id}")
        note = col.get_note(note_id)
        assert note.note_type()["name"].endswith(f" · {s.card_type.label}")
        assert note.keys() == list(s.card_type.note_fields)
        card = note.cards()[0]
        question, answer = _words(card.question()), _words(card.answer())
        assert s.question in question
        if s.card_type.cloze:
            assert "[...]" in question and s.answer not in question
        if s.card_type.typed_answer:
            # Anki's reviewer puts its input box and comparison where this placeholder stands.
            assert "[[type:Back]]" in card.question() and "[[type:Back]]" in card.answer()
            compared = col.compare_answer(s.answer, s.answer[:-1])
            assert "typeGood" in compared and "typeMissed" in compared
        else:
            assert s.answer in answer
        assert f"Background for {s.card_type.key}" in answer


def shows_in_site(built: Built, tmp_path: Path) -> None:
    page = (built.path("*-site") / "index.html").read_text(encoding="utf-8")
    for s in built.samples:
        match = re.search(rf'<article[^>]* id="{s.id}".*?</article>', page, re.DOTALL)
        assert match, s.id
        front = re.search(r'<div class="face front">(.*?)<div class="face back"', match[0], re.S)
        back = re.search(
            r'<div class="face back" hidden>(.*?)<div class="actions">', match[0], re.S
        )
        assert front and back
        assert s.question in _words(front[1]) and s.answer not in _words(front[1])
        assert s.answer in _words(back[1])
        assert f"Background for {s.card_type.key}" in _words(back[1])
        if s.card_type.typed_answer:
            assert '<input class="typeans"' in front[1]
            assert f'data-expected="{s.answer}"' in back[1]


def shows_in_pdf(built: Built, tmp_path: Path) -> None:
    for pdf in built.out.glob("*.pdf"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        words = " ".join(text.split())
        for s in built.samples:
            assert s.question in words, (pdf.name, s.id)
            assert s.answer in words, (pdf.name, s.id)


def _rows(path: Path, separator: str) -> dict[str, list[str]]:
    body = "".join(line for line in io.StringIO(path.read_text()) if not line.startswith("#"))
    return {row[0]: row for row in csv.reader(io.StringIO(body), delimiter=separator)}


def _shows_in_table(built: Built, tmp_path: Path, suffix: str, separator: str) -> None:
    table = built.path(f"*.{suffix}")
    rows = _rows(table, separator)
    for s in built.samples:
        _, notetype, _, front, back, _ = rows[note_guid("sample-deck", s.id)]
        assert notetype == s.card_type.stock_notetype
        assert s.question in _words(front)
        assert s.answer in _words(back if not s.card_type.cloze else front)
    # Anki's own text importer: every row lands in Anki's stock note type of its shape.
    col = open_collection(tmp_path / f"anki-{suffix}")
    metadata = col.get_csv_metadata(str(table), None)
    log = col.import_csv(ImportCsvRequest(path=str(table), metadata=metadata)).log
    assert not log.conflicting and len(log.new) == len(rows)
    notes = {col.get_note(n).guid: col.get_note(n) for n in col.find_notes("")}
    for s in built.samples:
        note = notes[note_guid("sample-deck", s.id)]  # the .apkg's GUID
        assert note.note_type()["name"] == s.card_type.stock_notetype
        if s.card_type.typed_answer:  # compared with the whole Back field: the answer alone
            assert _words(note["Back"]) == s.answer
            card = note.cards()[0]
            assert "[[type:Back]]" in card.question()


def shows_in_csv(built: Built, tmp_path: Path) -> None:
    _shows_in_table(built, tmp_path, "csv", ",")


def shows_in_tsv(built: Built, tmp_path: Path) -> None:
    _shows_in_table(built, tmp_path, "tsv", "\t")


def shows_in_json(built: Built, tmp_path: Path) -> None:
    document = json.loads(built.path("*.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, with_card_types(deck_schema()))
    by_id = {card["id"]: card for card in document["cards"]}
    for s in built.samples:
        card = by_id[s.id]
        assert card["type"] == s.card_type.key
        fields = " ".join(v for v in card["markdown"].values() if isinstance(v, str))
        assert s.question in fields and s.answer in fields


PRESENTATION_CHECKS: dict[str, Callable[[Built, Path], None]] = {
    "apkg": shows_in_apkg,
    "html": shows_in_site,
    "pdf": shows_in_pdf,
    "csv": shows_in_csv,
    "tsv": shows_in_tsv,
    "json": shows_in_json,
}


def test_every_format_has_a_presentation_check() -> None:
    """A new exporter must show every card type: add its check above."""
    assert set(ALL_FORMATS) <= set(PRESENTATION_CHECKS)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_every_card_type_reaches_every_format(built: Built, tmp_path: Path, fmt: str) -> None:
    assert {s.card_type.key for s in built.samples} == set(CARD_TYPES)
    PRESENTATION_CHECKS[fmt](built, tmp_path)


def test_a_type_of_known_capabilities_needs_only_its_entry_and_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Register a new type here (reusing the basic templates) and nothing else: every format
    presents it."""
    definition = definition_card_type()
    monkeypatch.setitem(CARD_TYPES, definition.key, definition)
    fresh = build_every_type(tmp_path / "deck")
    assert "definition" in {s.card_type.key for s in fresh.samples}
    for fmt in ALL_FORMATS:
        PRESENTATION_CHECKS[fmt](fresh, tmp_path / fmt)


def test_csv_says_what_a_type_answer_card_leaves_out(built: Built) -> None:
    typed = [s for s in built.samples if s.card_type.typed_answer]
    found = [w for w in built.result.warnings if w.code == "DG330"]
    assert len(found) == 2 * bool(typed)  # one per delimited format, not one per card
    assert all(typed[0].id in w.message and "Extra and Sources" in w.message for w in found)


def test_committed_schema_describes_every_card_type() -> None:
    generated = with_card_types(deck_schema())
    if os.environ.get("DECKGEN_UPDATE_GOLDENS") == "1":
        SCHEMA_FILE.write_text(json.dumps(generated, indent=2, ensure_ascii=False) + "\n")
    assert deck_schema() == generated, (
        "deck.schema.json is out of date with the card-type registry: run "
        "DECKGEN_UPDATE_GOLDENS=1 python -m pytest tests/test_cardtypes.py"
    )


def test_schema_refuses_a_card_with_another_types_fields(built: Built) -> None:
    document = json.loads(built.path("*.json").read_text(encoding="utf-8"))
    cloze = next(c for c in document["cards"] if c["type"] == "cloze")
    cloze["markdown"]["front"] = "a question a cloze card cannot have"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, deck_schema())


# ------------------------------------------------------------------ typing the answer in the site


def test_site_compares_a_typed_answer_as_anki_does(built: Built, chromium: Any) -> None:
    typed = next(s for s in built.samples if s.card_type.typed_answer)
    site = built.path("*-site") / "index.html"
    context = chromium.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(site.as_uri())
    entry = tab.locator(f"#{typed.id}")
    box = entry.locator("input.typeans")
    box.fill(typed.answer[:-1] + "X" + " with space")  # Space types: it does not reveal
    assert entry.locator(".face.back").is_hidden()
    box.press("Enter")  # Enter shows the answer with the comparison
    result = entry.locator(".typeans-result")
    assert result.is_visible()
    assert "X" in result.locator(".typeBad").all_inner_texts()[0]
    missed = "".join(result.locator(".typeMissed").all_inner_texts())
    assert typed.answer[-1] in missed
    assert result.locator("code.typeans").nth(1).inner_text() == typed.answer

    entry.locator("button.reveal").click()  # hide, type it right, show again
    box.fill(typed.answer)
    box.press("Enter")
    assert result.locator(".typeGood").all_inner_texts() == [typed.answer]
    assert result.locator(".typeBad, .typeMissed").count() == 0

    # Study mode puts the focus in the box and empties it for each showing.
    tab.locator("#search").fill(typed.id)
    tab.locator("#study-start").click()
    assert tab.evaluate("document.activeElement.className") == "typeans"
    assert box.input_value() == ""
    tab.keyboard.type(typed.answer)
    tab.keyboard.press("Enter")
    assert result.locator(".typeGood").all_inner_texts() == [typed.answer]
    context.close()
    assert errors == []
