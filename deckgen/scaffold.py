"""`deckgen new`: a card skeleton with a fresh, unique id, in the file its topic lives in."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from deckgen.cardfile import ID_RE, MAX_ID_LENGTH
from deckgen.cardtypes import CARD_TYPES
from deckgen.compile import load_deck
from deckgen.ids import read_lock
from deckgen.markdown import STOP_WORDS
from deckgen.suggest import suggest


def _slug(text: str, words: int = 6) -> str:
    kept = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP_WORDS]
    return "-".join(kept[:words])


def scaffold_card(
    cards_dir: Path, topic_or_subtopic: str, question: str, card_id: str | None, card_type: str
) -> tuple[Path, int]:
    """Append a skeleton card; return its file and the line of its heading."""
    deck = load_deck(cards_dir)
    syllabus = deck.syllabus
    topic = syllabus.topic(topic_or_subtopic)
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
    if homes:
        path = homes.most_common(1)[0][0]
        text = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    else:
        path = cards_dir / topic.rounds[0] / f"{wanted or topic.id}.md"
        if path.exists():
            raise ValueError(f"{path} exists but holds no card of '{topic_or_subtopic}'")
        path.parent.mkdir(parents=True, exist_ok=True)
        tags = f"tags: [{wanted}]\n" if wanted else ""
        text = f"---\ntopic: {topic.id}\nround: {topic.rounds[0]}\n{tags}---\n\n"
    line = text.count("\n") + 1
    kind = CARD_TYPES[card_type]
    placeholder = question.strip() or ("TODO {{c1::answer}}" if kind.cloze else "TODO")
    text += f"## {card_id}\n" + kind.skeleton.format(question=placeholder)
    path.write_text(text, encoding="utf-8")
    return path, line
