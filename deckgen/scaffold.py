"""`deckgen new`: a card skeleton with a fresh, unique id, in the file its topic lives in."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from deckgen.cardfile import ID_RE, MAX_ID_LENGTH
from deckgen.cardtypes import CARD_TYPES
from deckgen.compile import load_deck
from deckgen.ids import read_lock
from deckgen.markdown import STOP_WORDS
from deckgen.model import Topic
from deckgen.suggest import suggest


@dataclass(frozen=True)
class Scaffolded:
    path: Path
    line: int  # the new card's heading
    notes: tuple[str, ...] = ()  # what `new` chose for the author, to say on stderr


def ascii_words(text: str) -> list[str]:
    """The lowercase ASCII words of `text`, accents taken off: `Español` → `espanol`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.findall(r"[a-z0-9]+", plain)


def _slug(text: str, words: int = 6) -> str:
    kept = [w for w in ascii_words(text) if w not in STOP_WORDS]
    return "-".join(kept[:words])


def _file_tags(path: Path) -> tuple[str, ...]:
    """The `tags:` of a card file's front matter; () when it has none or it does not parse."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return ()
    end = text.find("\n---", 4)
    if end < 0:
        return ()
    try:
        data = yaml.safe_load(text[4:end])
    except yaml.YAMLError:
        return ()
    tags = data.get("tags") if isinstance(data, dict) else None
    return tuple(str(t) for t in tags) if isinstance(tags, list) else ()


def scaffold_card(
    cards_dir: Path, topic_or_subtopic: str, question: str, card_id: str | None, card_type: str
) -> Scaffolded:
    """Append a skeleton card; return its file, the line of its heading and notes to show.

    A subtopic's card goes to the file with most of the subtopic's cards and is tagged with
    the subtopic unless that file's front matter already tags it. A topic's card goes to the
    file with most of the topic's cards; the notes say which, when there was a choice, and
    which subtopic tags the card inherits from the file's front matter.
    """
    deck = load_deck(cards_dir)
    syllabus = deck.syllabus
    topic: Topic | None = syllabus.topic(topic_or_subtopic)
    subtopic = None
    if topic is None:
        for candidate in syllabus.topics:
            subtopic = next((s for s in candidate.subtopics if s.id == topic_or_subtopic), None)
            if subtopic is not None:
                topic = candidate
                break
    if topic is None:
        known = [t.id for t in syllabus.topics] + [
            s.id for t in syllabus.topics for s in t.subtopics
        ]
        raise ValueError(f"unknown topic '{topic_or_subtopic}'{suggest(topic_or_subtopic, known)}")

    taken = {c.id for c in deck.cards} | set(read_lock(cards_dir).retired)
    if card_id is not None:
        if not ID_RE.match(card_id) or len(card_id) > MAX_ID_LENGTH:
            raise ValueError(f"'{card_id}' is not a lowercase slug")
        if card_id in taken:
            raise ValueError(f"id '{card_id}' is already taken")
    else:
        prefix = topic.id.split("-")[0] if len(topic.id) > 12 else topic.id
        words = _slug(question)
        base = f"{prefix}-{words}" if words else f"{(subtopic or topic).id}-new"
        base = base[: MAX_ID_LENGTH - 4].strip("-")
        card_id, n = base, 2
        while card_id in taken:
            card_id, n = f"{base}-{n}", n + 1

    wanted = subtopic.id if subtopic else None
    homes = Counter(
        c.path for c in deck.cards if c.topic == topic.id and (wanted is None or wanted in c.tags)
    )
    notes: list[str] = []
    card_tags = ""
    if homes:
        path = homes.most_common(1)[0][0]
        text = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
        if len(homes) > 1:
            others = ", ".join(p.as_posix() for p in sorted(homes) if p != path)
            notes.append(
                f"'{topic_or_subtopic}' has cards in {len(homes)} files: chose"
                f" {path.as_posix()} (most of them) over {others}"
            )
        file_tags = _file_tags(path)
        subtopic_ids = [s.id for s in topic.subtopics]
        if wanted is not None and wanted not in file_tags:
            card_tags = f"Tags: {wanted}\n"
        inherited = [t for t in file_tags if t in subtopic_ids and t != wanted]
        if inherited:
            hint = (
                f"; to choose its subtopic, give one of {', '.join(subtopic_ids)} instead of"
                f" '{topic.id}'"
                if wanted is None
                else ""
            )
            notes.append(
                f"the card also gets the subtopic tag(s) {', '.join(inherited)} from the front"
                f" matter of {path.as_posix()}{hint}"
            )
    else:
        # A new topic's first file goes in a folder named after its first section, if any.
        folder = cards_dir / topic.sections[0] if topic.sections else cards_dir
        path = folder / f"{wanted or topic.id}.md"
        if path.exists():
            raise ValueError(f"{path} exists but holds no card of '{topic_or_subtopic}'")
        path.parent.mkdir(parents=True, exist_ok=True)
        section = f"section: {topic.sections[0]}\n" if topic.sections else ""
        tags = f"tags: [{wanted}]\n" if wanted else ""
        text = f"---\ntopic: {topic.id}\n{section}{tags}---\n\n"
    line = text.count("\n") + 1
    kind = CARD_TYPES[card_type]
    placeholder = question.strip() or ("TODO {{c1::answer}}" if kind.cloze else "TODO")
    text += f"## {card_id}\n{card_tags}" + kind.skeleton.format(question=placeholder)
    path.write_text(text, encoding="utf-8")
    return Scaffolded(path, line, tuple(notes))
