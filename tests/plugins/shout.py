"""An exporter written the way a third party would: its own option, no change to deckgen."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from deckgen.atomic import atomic_output
from deckgen.exporters import ExportContext, Option
from deckgen.render import RenderedDeck


def _positive(text: str) -> int:
    value = int(text)  # ValueError for "many"
    if value < 1:
        raise ValueError("must be at least 1")
    return value


class ShoutExporter:
    """Writes `<stem>.shout.txt`: every card id, in the case and number of times asked."""

    name: ClassVar[str] = "shout"
    suffix: ClassVar[str] = ".shout.txt"
    description: ClassVar[str] = "card ids, loudly (a test plug-in)"
    default: ClassVar[bool] = False
    options: ClassVar[tuple[Option, ...]] = (
        Option("shout_case", "Letter case of the ids.", "upper", choices=("upper", "lower")),
        Option("shout_times", "How often each id is written.", "1", check=_positive),
    )

    def export(self, deck: RenderedDeck, out_dir: Path, context: ExportContext) -> list[Path]:
        times = int(context.options["shout_times"])
        ids = [c.card.id for c in deck.cards]
        if context.options["shout_case"] == "upper":
            ids = [i.upper() for i in ids]
        target = out_dir / f"{context.stem}{self.suffix}"
        with atomic_output(target) as tmp:
            tmp.write_text("".join(f"{i}\n" * times for i in ids), encoding="utf-8")
        return [target]
