"""Helpers that drive the official `anki` package, the same Rust core as Anki desktop."""

from __future__ import annotations

from pathlib import Path

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition
from anki.scheduler.v3 import CardAnswer


def open_collection(folder: Path) -> Collection:
    folder.mkdir(parents=True, exist_ok=True)
    return Collection(str(folder / "collection.anki2"))


def import_package(col: Collection, package: Path):  # type: ignore[no-untyped-def]
    """Import like Anki's File → Import with default options; return the import log."""
    request = ImportAnkiPackageRequest(
        package_path=str(package),
        options=ImportAnkiPackageOptions(
            merge_notetypes=False,
            update_notes=ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
            update_notetypes=ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
            with_scheduling=False,
            with_deck_configs=False,
        ),
    )
    result = col.import_anki_package(request)
    col.models._clear_cache()
    return result.log


def review_all_due(col: Collection, deck_name: str, limit: int) -> list[int]:
    """Answer each queued card of a deck once with Easy (so it graduates with an interval)."""
    deck_id = col.decks.id_for_name(deck_name)
    assert deck_id is not None, deck_name
    col.decks.select(deck_id)
    answered = []
    for _ in range(limit):
        queued = col.sched.get_queued_cards(fetch_limit=1)
        if not queued.cards:
            break
        top = queued.cards[0]
        card = col.get_card(top.card.id)
        if card.id in answered:
            break
        card.start_timer()
        answer = col.sched.build_answer(card=card, states=top.states, rating=CardAnswer.EASY)
        col.sched.answer_card(answer)
        answered.append(card.id)
    return answered
