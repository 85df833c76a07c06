"""The .apkg exporter: frozen note types, stable ids, deterministic and compressed packages."""

from __future__ import annotations

import hashlib
import html
import logging
import shutil
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import ClassVar

import genanki
import jinja2

from deckgen.atomic import atomic_output
from deckgen.exporters import ExportContext
from deckgen.model import CardType, Deck
from deckgen.notetypes import (
    NOTE_TYPES,
    NoteTypeSpec,
    anki_tags,
    card_css,
    card_templates,
    note_fields,
)
from deckgen.render import RenderedDeck
from deckgen.templating import template_environment

log = logging.getLogger(__name__)


def stable_id(*parts: str) -> int:
    """A deterministic id in genanki's recommended range [2**30, 2**31) from the given names."""
    digest = hashlib.sha256("\x1f".join(("deckgen", *parts)).encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def model_id(deck_id: str, spec: NoteTypeSpec) -> int:
    return stable_id(deck_id, "model", spec.key)


def deck_id_for(deck_id: str, deck_name: str) -> int:
    return stable_id(deck_id, "deck", deck_name)


def note_guid(deck_id: str, card_id: str) -> str:
    """The note's GUID: a function of the deck id and card id only, never of content or position."""
    return str(genanki.guid_for(deck_id, card_id))


def build_models(deck: Deck, env: jinja2.Environment) -> dict[CardType, genanki.Model]:
    css = card_css(env)
    templates = card_templates(env, deck)
    models = {}
    for card_type, spec in NOTE_TYPES.items():
        models[card_type] = genanki.Model(
            model_id=model_id(deck.info.id, spec),
            name=f"{deck.info.name} · {spec.label}",
            fields=[{"name": name} for name in spec.fields],
            templates=[
                {"name": name, "qfmt": front, "afmt": back}
                for name, front, back in templates[card_type]
            ],
            css=css,
            model_type=genanki.Model.CLOZE if spec.cloze else genanki.Model.FRONT_BACK,
            sort_field_index=0,
        )
    return models


def _zip_time(timestamp: int) -> tuple[int, int, int, int, int, int]:
    stamp = time.gmtime(max(timestamp, 315532800))  # zip dates start in 1980
    return (stamp.tm_year, stamp.tm_mon, stamp.tm_mday, stamp.tm_hour, stamp.tm_min, stamp.tm_sec)


def repack_deterministic(source: Path, target: Path, timestamp: int) -> None:
    """Copy genanki's stored zip into a deflated one with fixed dates and permissions."""
    date_time = _zip_time(timestamp)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            dst.writestr(info, src.read(item.filename), compresslevel=6)


class AnkiExporter:
    """Writes `<stem>.apkg`: one Anki package with nested decks <Deck>::<Round>::<Topic>."""

    name: ClassVar[str] = "apkg"
    suffix: ClassVar[str] = ".apkg"
    description: ClassVar[str] = "Anki package (.apkg) for Anki desktop, AnkiDroid and AnkiMobile"
    default: ClassVar[bool] = True

    def export(self, deck: RenderedDeck, out_dir: Path, context: ExportContext) -> list[Path]:
        env = template_environment(context.templates_dir)
        models = build_models(deck.deck, env)
        sources_template = env.get_template("anki/sources.html")
        info = deck.deck.info
        decks: dict[str, genanki.Deck] = {}

        def anki_deck(name: str) -> genanki.Deck:
            if name not in decks:
                # Anki's deck overview shows the description as HTML: give it plain text only.
                description = html.escape(info.description) if name == info.name else ""
                decks[name] = genanki.Deck(deck_id_for(info.id, name), name, description)
            return decks[name]

        anki_deck(info.name)
        for rendered in deck.cards:
            card = rendered.card
            note = genanki.Note(
                model=models[card.type],
                fields=list(note_fields(deck.deck, rendered, sources_template).values()),
                tags=anki_tags(rendered),
                guid=note_guid(info.id, card.id),
            )
            path = deck.deck.deck_path(card)
            # Anki's importer walks a card's parent decks by name and stops at the first one
            # missing from the package: ship every level so the top deck (and its
            # description) arrives too.
            parts = path.split("::")
            for depth in range(2, len(parts)):
                anki_deck("::".join(parts[:depth]))
            anki_deck(path).add_note(note)

        target = out_dir / f"{context.stem}{self.suffix}"
        with tempfile.TemporaryDirectory(prefix="deckgen-apkg-") as tmp:
            media_paths = _stage_media(deck, Path(tmp))
            package = genanki.Package([decks[name] for name in sorted(decks)], media_paths)
            raw = Path(tmp) / "genanki.apkg"
            with warnings.catch_warnings():
                # genanki warns about HTML tags it does not know; fields are sanitized already.
                warnings.simplefilter("ignore")
                package.write_to_file(str(raw), timestamp=context.timestamp)
            with atomic_output(target) as tmp_target:
                repack_deterministic(raw, tmp_target, context.timestamp)
        log.info("wrote %s: %d notes, %d media", target, len(deck.cards), len(deck.media))
        return [target]


def _stage_media(deck: RenderedDeck, folder: Path) -> list[str]:
    """Copy media under their content-hash names (genanki names media by file name)."""
    media_dir = folder / "media"
    media_dir.mkdir()
    paths = []
    for media in deck.media:
        staged = media_dir / media.name
        shutil.copyfile(media.path, staged)
        paths.append(str(staged))
    return paths


def frozen_identity(deck_id: str) -> dict[str, dict[str, object]]:
    """The names and ids Anki matches on; tests compare this with a committed copy."""
    return {
        spec.key: {
            "model_id": model_id(deck_id, spec),
            "fields": list(spec.fields),
            "templates": [t.name for t in spec.templates],
        }
        for spec in NOTE_TYPES.values()
    }
