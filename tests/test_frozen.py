"""Anki skips updates when a note type's field or template names change: they are frozen here."""

from __future__ import annotations

import json
import os
from pathlib import Path

from deckgen.exporters.anki import deck_id_for, frozen_identity, note_guid

FROZEN = Path(__file__).parent / "fixtures" / "frozen-note-types.json"


def test_note_types_are_frozen() -> None:
    """If this fails, you renamed a field or template or changed how ids are derived.

    Every learner's next import would then create a copy of the note type and skip all
    updates. Revert the change; add new fields only at the end, never rename.
    """
    identity, frozen = frozen_identity("cloudflare-swe-interview"), json.loads(FROZEN.read_text())
    changed = {key for key in frozen if identity.get(key) != frozen[key]}
    assert not changed, f"frozen note types changed: {sorted(changed)}"
    if os.environ.get("DECKGEN_UPDATE_GOLDENS") == "1":  # records a newly added card type only
        FROZEN.write_text(json.dumps(identity, indent=2) + "\n")
    assert identity == frozen, "a new card type: record it with DECKGEN_UPDATE_GOLDENS=1"


def test_guid_depends_only_on_deck_and_card_id() -> None:
    assert note_guid("cloudflare-swe-interview", "tcp-time-wait-side") == note_guid(
        "cloudflare-swe-interview", "tcp-time-wait-side"
    )
    assert note_guid("a", "x") != note_guid("b", "x")
    assert note_guid("cloudflare-swe-interview", "tcp-time-wait-side") == "LmE&G@B5b7"


def test_deck_ids_are_stable() -> None:
    assert deck_id_for("cloudflare-swe-interview", "Cloudflare SWE Interview") == 2051242396
