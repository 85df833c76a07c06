"""The site's study cards are Anki's cards: the (card id, ordinal) keys its progress is stored
under name exactly the cards the official `anki` package makes from the .apkg."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.conftest import SampleBuild

pytest.importorskip("anki")

from tests.ankiutil import import_package, open_collection

ARTICLE = re.compile(r'<article class="entry card" id="([^"]+)"[^>]*?data-ords="([^"]*)"')


def test_site_keys_are_the_ords_of_the_cards_anki_makes(
    sample_build: SampleBuild, tmp_path: Path
) -> None:
    page = sample_build.site.read_text("utf-8")
    site = {
        (html.unescape(card), int(ord_))
        for card, ords in ARTICLE.findall(page)
        for ord_ in ords.split()
    }
    col = open_collection(tmp_path / "anki")
    try:
        import_package(col, sample_build.apkg)
        anki = {
            (col.get_note(card.nid)["CardId"], card.ord)
            for card in (col.get_card(cid) for cid in col.find_cards(""))
        }
    finally:
        col.close()
    assert len(site) == 11  # 7 notes: 4 of one card, a reversed one, clozes of 3 and 2
    assert site == anki
