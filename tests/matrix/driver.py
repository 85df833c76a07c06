"""Drive one `anki` release: run with the python of that release's venv, JSON on stdin and stdout.

This file imports nothing of deckgen or of the tests: it runs under whichever `anki` the venv
holds (2.1.54 to today's), so it finds each API by what the installed release has and says in
its answer which one it used. Input:

    {"collection": "/tmp/…/collection.anki2",
     "steps": [{"op": "import", "package": "/…/v1.apkg", "importer": "backend",
                "update_notes": "if_newer", "update_notetypes": "if_newer"},
               {"op": "review", "deck": "Sample Deck", "rating": "easy", "limit": 50},
               {"op": "snapshot"}]}

`importer` is "backend" (the Rust importer: `Collection.import_anki_package`, which Anki desktop
uses from 2.1.55 on, and from 2.1.52 on behind a preference) or "legacy" (the Python
`anki.importing.AnkiPackageImporter`, Anki desktop's default up to 2.1.54, gone from the newest
releases). An import that raises is reported as {"error": ...}: what a learner would see. Any
other failure is a bug of this driver or of the harness: it ends the run with a traceback.

Output: {"anki_version", "scheduler", "legacy_importer_shipped", "import_signature",
"results": [one object per step]}. A snapshot reads notes, cards and the revlog from the tables
(their schema-11 layout holds in every release) and note types and decks through the API.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import time
import traceback
from typing import Any

from anki.collection import Collection

CONDITIONS = ("if_newer", "always", "never")


def anki_version() -> str:
    from anki import buildinfo

    return str(buildinfo.version)


def _log_notes(entries: Any) -> list[list[str]]:
    return [list(entry.fields) for entry in entries]


def _legacy_module() -> Any:
    try:
        return importlib.import_module("anki.importing.apkg")
    except ImportError:
        return None


def _backend_import(col: Any, step: dict[str, Any]) -> dict[str, Any]:
    collection_module = importlib.import_module("anki.collection")
    options_type = getattr(collection_module, "ImportAnkiPackageOptions", None)
    wanted = (step.get("update_notes", "if_newer"), step.get("update_notetypes", "if_newer"))
    if options_type is not None:  # 23.10 and later: a request with the learner's options
        protos = importlib.import_module("anki.import_export_pb2")
        enum = protos.ImportAnkiPackageUpdateCondition

        def condition(name: str) -> Any:
            return enum.Value(f"IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_{name.upper()}")

        request = collection_module.ImportAnkiPackageRequest(
            package_path=step["package"],
            options=options_type(
                merge_notetypes=False,
                update_notes=condition(wanted[0]),
                update_notetypes=condition(wanted[1]),
                with_scheduling=False,
                with_deck_configs=False,
            ),
        )
        call = "import_anki_package(ImportAnkiPackageRequest(options=...))"
        changes = col.import_anki_package(request)
    else:  # 2.1.52 to 2.1.66: a path, and "if newer" is the only condition there is
        if wanted != ("if_newer", "if_newer"):
            raise SystemExit(f"anki {anki_version()} has no update conditions but {wanted}")
        call = "import_anki_package(path)"
        changes = col.import_anki_package(step["package"])
    log = changes.log
    lists: dict[str, list[list[str]]] = {}
    for field in log.DESCRIPTOR.fields:
        value = getattr(log, field.name)
        if hasattr(value, "__len__") and not isinstance(value, str | bytes):
            lists[field.name] = _log_notes(value)
    counts = {name: len(entries) for name, entries in lists.items()}
    counts["found_notes"] = int(getattr(log, "found_notes", 0))
    return {"call": call, "counts": counts, "notes": lists}


def _legacy_import(col: Any, step: dict[str, Any]) -> dict[str, Any]:
    apkg = _legacy_module()
    if apkg is None:
        # 26.x keeps the name anki.importing.AnkiPackageImporter only as a deprecated shim over
        # the backend importer (with merge_notetypes=True): that is no legacy importer.
        return {"error": f"anki {anki_version()} ships no legacy importer (anki.importing.apkg)"}
    if (step.get("update_notes", "if_newer"), step.get("update_notetypes", "if_newer")) != (
        "if_newer",
        "if_newer",
    ):
        raise SystemExit("the legacy importer only updates notes that are newer")
    importer = apkg.AnkiPackageImporter(col, step["package"])
    importer.run()
    ignored = getattr(importer, "_ignoredGuids", {})
    counts = {
        "new": int(importer.added),
        "updated": int(importer.updated),
        "duplicate": int(importer.dupes),
        # notes whose GUID exists with another note type: "skipped update due to notetype"
        "conflicting": len(ignored),
    }
    return {
        "call": "anki.importing.AnkiPackageImporter.run()",
        "counts": counts,
        "lines": list(importer.log),
    }


def do_import(col: Any, step: dict[str, Any]) -> dict[str, Any]:
    started = int(time.time())
    try:
        if step["importer"] == "legacy":
            result = _legacy_import(col, step)
        elif step["importer"] == "backend":
            result = _backend_import(col, step)
        else:
            raise SystemExit(f"unknown importer {step['importer']!r}")
    except Exception as error:  # what the learner would be shown
        return {"error": f"{type(error).__name__}: {error}", "started": started}
    clear = getattr(col.models, "_clear_cache", None)
    if clear is not None:  # the Python side's cache of note types predates the import
        clear()
    result["started"] = started
    result["finished"] = int(time.time())
    return result


def _uses_v3(col: Any) -> bool:
    return type(col.sched).__module__.endswith(".v3")


def review(col: Any, step: dict[str, Any]) -> dict[str, Any]:
    """Answer every queued card of a deck and its subdecks once, the way a learner does."""
    rating = step.get("rating", "easy")
    deck_id = col.decks.id_for_name(step["deck"])
    if deck_id is None:
        raise SystemExit(f"no deck {step['deck']!r}")
    col.decks.select(deck_id)
    answered: list[int] = []
    for _ in range(int(step.get("limit", 100))):
        if _uses_v3(col):
            from anki.scheduler.v3 import CardAnswer

            queued = col.sched.get_queued_cards(fetch_limit=1)
            if not queued.cards:
                break
            top = queued.cards[0]
            card = col.get_card(top.card.id)
            if card.id in answered:
                break
            card.start_timer()
            answer = col.sched.build_answer(
                card=card, states=top.states, rating=getattr(CardAnswer, rating.upper())
            )
            col.sched.answer_card(answer)
        else:  # the v2 scheduler: a new collection's default in 2.1.54 (v3 in 2.1.66 on)
            col.sched.reset()
            card = col.sched.getCard()
            if card is None or card.id in answered:
                break
            ease = {"again": 1, "hard": 2, "good": 3, "easy": 4}[rating]
            col.sched.answerCard(card, ease)
        answered.append(int(card.id))
    return {"answered": answered}


def snapshot(col: Any) -> dict[str, Any]:
    """What the collection holds, read from its tables (stable since schema 11) and note types."""
    notetypes = {}
    for model in col.models.all():
        notetypes[str(model["id"])] = {
            "name": model["name"],
            "css": model["css"],
            "mod": int(model["mod"]),
            "cloze": model["type"] == 1,
            "fields": [f["name"] for f in model["flds"]],
            "templates": [t["name"] for t in model["tmpls"]],
        }
    decks = {int(d.id): d.name for d in col.decks.all_names_and_ids()}
    notes = []
    for nid, guid, mid, mod, tags, flds in col.db.all(
        "select id, guid, mid, mod, tags, flds from notes order by id"
    ):
        names = notetypes[str(mid)]["fields"]
        notes.append(
            {
                "id": nid,
                "guid": guid,
                "notetype_id": mid,
                "notetype": notetypes[str(mid)]["name"],
                "mod": mod,
                "tags": sorted(tags.split()),
                "fields": dict(zip(names, flds.split("\x1f"), strict=True)),
            }
        )
    cards = [
        {
            "id": cid,
            "nid": nid,
            "ord": ord_,
            "deck": decks.get(did, f"<missing deck {did}>"),
            "ivl": ivl,
            "due": due,
            "queue": queue,
            "type": type_,
            "reps": reps,
        }
        for cid, nid, did, ord_, ivl, due, queue, type_, reps in col.db.all(
            "select id, nid, did, ord, ivl, due, queue, type, reps from cards order by id"
        )
    ]
    return {
        "notes": notes,
        "cards": cards,
        "notetypes": notetypes,
        "decks": sorted(decks.values()),
        "revlog": col.db.scalar("select count() from revlog"),
    }


def main() -> None:
    request = json.load(sys.stdin)
    # Some releases print deprecation notices to stdout: only the answer goes there.
    answer_to, sys.stdout = sys.stdout, sys.stderr
    # The legacy importer logs each note through the translations Anki desktop sets up.
    anki_lang = importlib.import_module("anki.lang")
    if getattr(anki_lang, "current_i18n", None) is None:
        anki_lang.set_lang("en_US")
    # Typed Any: the API differs across the releases this runs under, and is probed for.
    col: Any = Collection(request["collection"])
    results: list[dict[str, Any]] = []
    try:
        for step in request["steps"]:
            op = step["op"]
            if op == "import":
                results.append(do_import(col, step))
            elif op == "review":
                results.append(review(col, step))
            elif op == "snapshot":
                results.append(snapshot(col))
            else:
                raise SystemExit(f"unknown op {op!r}")
        answer = {
            "anki_version": anki_version(),
            "scheduler": "v3" if _uses_v3(col) else "v2",
            "legacy_importer_shipped": _legacy_module() is not None,
            "import_signature": str(inspect.signature(col.import_anki_package)),
            "results": results,
        }
    finally:
        col.close()
    json.dump(answer, answer_to)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.exit(2)
