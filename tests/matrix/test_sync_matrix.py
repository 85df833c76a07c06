"""A collection that `deckgen sync` wrote with the newest `anki` still opens, whole, in the older
Anki releases people run (the schema stays the one they keep: 18 since 2.1.50)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.matrix.harness import TARGETS
from tests.test_sync import LEARNER_BACK, release_v2, sync_json, v1_collection

pytestmark = pytest.mark.anki_matrix

READ = """
import json, sys
from anki.collection import Collection
col = Collection(sys.argv[1])
def note(card_id):
    return col.get_note(col.find_notes(f'"CardId:{card_id}"')[0])
print(json.dumps({
    "schema": col.db.scalar("select ver from col"),
    "notes": col.note_count(),
    "cards": col.card_count(),
    "suspended": len(col.find_cards("is:suspended")),
    "kept": note("tcp-time-wait-side")["Back"],
    "new": sorted(note("tcp-syn-cookies").tags),
    "decks": sorted(d.name for d in col.decks.all_names_and_ids()),
}))
col.close()
"""


def read_with(python: Path, collection: Path) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), "-I", "-c", READ, str(collection)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("version", sorted({t.version for t in TARGETS}))
def test_a_synced_collection_opens_in_every_release(
    version: str,
    anki_venvs: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    learner = v1_collection(tmp_path, monkeypatch)
    release_v2(learner, monkeypatch)
    assert sync_json(learner, "--apply")["applied"] is True
    seen = read_with(anki_venvs(version), learner.collection)
    assert seen["schema"] == 18
    assert (seen["notes"], seen["cards"], seen["suspended"]) == (8, 12, 1)
    assert seen["kept"] == LEARNER_BACK
    assert "deckgen::changed::v2" in seen["new"]
    assert "Sample Deck::1 · Networking::TCP" in seen["decks"]
