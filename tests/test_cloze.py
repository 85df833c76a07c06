"""One walk over cloze deletions makes every side of every cloze card (Anki, site, print)."""

from __future__ import annotations

from deckgen.faces import cloze_faces, cloze_ordinals
from deckgen.markdown import cloze_face
from deckgen.render import cloze_faces_as_anki_shows

TEXT = "A {{c1::SYN}} then a {{c2::SYN-ACK::reply}}, then {{c1::ACK}}."


def test_asked_deletion_is_blanked_and_the_others_filled_in() -> None:
    def blank(hint: str | None) -> str:
        return f"[{hint or '?'}]"

    assert cloze_face(TEXT, str.upper, blank, asked=1) == "A [?] then a SYN-ACK, then [?]."
    assert cloze_face(TEXT, str.lower, blank, asked=2) == "A syn then a [reply], then ack."
    assert cloze_face(TEXT, str.lower, blank) == "A [?] then a [reply], then [?]."
    assert cloze_face(TEXT, lambda a: f"<{a}>") == "A <SYN> then a <SYN-ACK>, then <ACK>."


def test_each_consumer_keeps_its_own_look() -> None:
    front, back = cloze_faces(TEXT)  # the site: every deletion at once
    assert front.count('<span class="cloze">[...]</span>') == 2
    assert '<span class="cloze">[reply]</span>' in front
    assert back == (
        'A <span class="cloze">SYN</span> then a <span class="cloze">SYN-ACK</span>, '
        'then <span class="cloze">ACK</span>.'
    )
    written, answer, c1, c2 = cloze_faces_as_anki_shows(TEXT)  # what Anki shows, per card
    assert written == TEXT
    assert answer == "A SYN then a SYN-ACK, then ACK."
    assert c1 == "A [...] then a SYN-ACK, then [...]."
    assert c2 == "A SYN then a [reply], then ACK."


def test_the_study_session_asks_each_cloze_number_as_anki_does() -> None:
    # the site's study card of ordinal n - 1: deletion n blanked, the others as plain text; its
    # answer highlights deletion n only, as Anki's cloze card does
    front, back = cloze_faces(TEXT, asked=2)
    assert front == 'A SYN then a <span class="cloze">[reply]</span>, then ACK.'
    assert back == 'A SYN then a <span class="cloze">SYN-ACK</span>, then ACK.'
    front, back = cloze_faces(TEXT, asked=1)
    assert front.count('<span class="cloze">[...]</span>') == 2 and "SYN-ACK" in front
    assert back.count('<span class="cloze">') == 2 and '<span class="cloze">SYN-ACK' not in back
    assert cloze_ordinals("{{c3::c}} {{c1::a}} {{c3::again}}") == [0, 2]  # Anki's card ords
