"""Synthetic decks for the benchmark: a realistic mix of prose, lists, code, cloze and tags."""

from __future__ import annotations

import random
from pathlib import Path
from typing import NamedTuple

TOPICS = 40
CARDS_PER_FILE = 25
LANGS = ("rust", "go", "python", "c", "javascript")
CODE = {
    "rust": 'fn main() {{\n    let v = vec![{a}, {b}];\n    println!("{{}}", v.len());\n}}',
    "go": "func main() {{\n\tch := make(chan int, {a})\n\tch <- {b}\n\tfmt.Println(<-ch)\n}}",
    "python": "def f(x):\n    return x * {a} + {b}\n\nprint(f(2))",
    "c": "int main(void) {{\n    int a[{a}] = {{0}};\n    return a[{b} % {a}];\n}}",
    "javascript": "const xs = [{a}, {b}];\nconsole.log(xs.map(x => x * 2));",
}
BASE_WORDS = (
    "packet window sender receiver stream frame header table index resolver cache record "
    "signature key handshake ticket session isolate object storage request response "
    "latency throughput queue goroutine channel borrow lifetime future runtime thread"
).split()
_SYLLABLES = "ka to ri se nu ba lo mi pe da fu ne ri go ta vi so le mu ra".split()


def _vocabulary(size: int = 6000) -> tuple[list[str], list[float]]:
    """Technical prose has thousands of distinct words with a Zipf-like frequency curve."""
    rng = random.Random(1)
    words = list(BASE_WORDS)
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randrange(2, 5)))
        if word not in words:
            words.append(word)
    weights = [1 / (rank + 1) ** 1.05 for rank in range(len(words))]
    return words, weights


WORDS, _WEIGHTS = _vocabulary()


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, weights=_WEIGHTS, k=n)).capitalize()


class Note(NamedTuple):  # not a dataclass: tests/conftest.py loads this file as no module
    """One card, independent of any tool's format: each writer below spells it its own way."""

    id: str
    tag: str | None
    kind: str  # basic, reversed or cloze
    front: str  # Markdown: the question (cloze: the text with {{c1::…}} in it)
    back: str  # Markdown: the answer (cloze: the extra)
    source: str  # "Source: …"
    block_answer: bool = False  # the answer starts on the line after "A:" (a list)


# One corpus: its files, each a path without suffix, a topic number and the notes in it.
Corpus = list[tuple[str, int, list[Note]]]


def _source(rng: random.Random) -> str:
    return f"Source: RFC {9000 + rng.randrange(500)} §{rng.randrange(1, 12)}.{rng.randrange(1, 9)}"


def _card(rng: random.Random, card_id: str, topic: int) -> Note:
    kind = rng.random()
    tag = f"t{topic:02d}-s{rng.randrange(2)}"
    source = _source(rng)
    if kind < 0.45:  # prose
        question = f"{_sentence(rng, 9)} {card_id}?"
        answer = f"{_sentence(rng, 14)} with **{rng.choice(WORDS)}** and `{rng.choice(WORDS)}`."
        return Note(card_id, tag, "basic", question, answer, source)
    if kind < 0.6:  # list
        items = "\n".join(f"- {_sentence(rng, 5)}" for _ in range(rng.randrange(2, 5)))
        question = f"Which steps make up {card_id}?"
        return Note(card_id, tag, "basic", question, items, source, block_answer=True)
    if kind < 0.8:  # code
        lang = rng.choice(LANGS)
        code = CODE[lang].format(a=rng.randrange(2, 9), b=rng.randrange(10, 99))
        question = f"What does this print ({card_id})?\n\n```{lang}\n{code}\n```"
        return Note(card_id, tag, "basic", question, f"{_sentence(rng, 8)}.", source)
    if kind < 0.95:  # cloze
        text = (
            f"In {card_id} the {{{{c1::{rng.choice(WORDS)}}}}} "
            f"comes before the {{{{c2::{rng.choice(WORDS)}}}}}, then {_sentence(rng, 6)}."
        )
        return Note(card_id, tag, "cloze", text, f"{_sentence(rng, 10)}.", source)
    return Note(card_id, tag, "reversed", f"Term {card_id}", f"{_sentence(rng, 10)}.", source)


def zipf_corpus(cards: int, seed: int = 7) -> Corpus:
    """Prose, lists, code, cloze and reversed cards over a Zipf vocabulary, 25 to a file."""
    rng = random.Random(seed)
    files: Corpus = []
    for start in range(0, cards, CARDS_PER_FILE):
        topic = (start // CARDS_PER_FILE) % TOPICS
        notes = [
            _card(rng, f"c{n:06d}", topic) for n in range(start, min(start + CARDS_PER_FILE, cards))
        ]
        files.append((f"r{topic % 5}/f{start // CARDS_PER_FILE:05d}", topic, notes))
    return files


LANGUAGES = ("Spanish", "French", "German", "Italian", "Portuguese")


TEMPLATE_CARDS_PER_FILE = 250  # past 10,000 cards, more files: deckgen's limit is 128 KiB a file


def template_corpus(cards: int, seed: int = 11) -> Corpus:
    """A vocabulary deck: 40 files (more past 10,000 cards, 250 to a file) of 12-word questions
    sharing one template, whose varying words come from the Zipf vocabulary (no two cards ask
    the same words, so none is a near duplicate of another: they share their most frequent
    words instead), 40-word answers, and Python code in the answer of every third card."""
    rng = random.Random(seed)
    file_count = max(TOPICS, -(-cards // TEMPLATE_CARDS_PER_FILE))
    per_file = -(-cards // file_count)
    asked: set[frozenset[str]] = set()
    files: Corpus = []
    for number in range(file_count):
        topic = number % TOPICS
        notes = []
        for n in range(number * per_file, min((number + 1) * per_file, cards)):
            while True:  # three different words, in a combination no earlier card asks
                slots = (rng.choice(LANGUAGES), *rng.choices(WORDS, weights=_WEIGHTS, k=3))
                if len(set(slots)) == 4 and frozenset(slots) not in asked:
                    asked.add(frozenset(slots))
                    break
            language, first, second, about = slots  # the 12-word template:
            question = (
                f"What is the {language} word for {first} {second} when talking about {about}?"
            )
            answer = f"{_sentence(rng, 40)}."
            if n % 3 == 0:
                code = CODE["python"].format(a=rng.randrange(2, 9), b=rng.randrange(10, 99))
                answer += f"\n\n```python\n{code}\n```"
            notes.append(Note(f"v{n:06d}", None, "basic", question, answer, _source(rng)))
        files.append((f"r{topic % 5}/f{number:05d}", topic, notes))
    return files


def _deckgen_card(note: Note) -> str:
    kind = "Type: reversed\n" if note.kind == "reversed" else ""
    tags = f"Tags: {note.tag}\n" if note.tag else ""
    if note.kind == "cloze":
        fields = f"Cloze: {note.front}\n\nExtra: {note.back}\n\n"
    else:
        answer = f"A:\n{note.back}" if note.block_answer else f"A: {note.back}"
        fields = f"Q: {note.front}\n\n{answer}\n\n"
    return f"## {note.id}\n{kind}{tags}{fields}{note.source}\n"


def write_deckgen(folder: Path, deck_id: str, corpus: Corpus, subtopics: bool) -> Path:
    """The corpus as a deckgen deck in folder/cards (returned), with its deck.yaml and syllabus."""
    root = folder / "cards"
    root.mkdir(parents=True, exist_ok=True)
    name = deck_id.replace("-", " ").capitalize()
    (root / "deck.yaml").write_text(f"id: {deck_id}\nname: {name}\n")
    subtopic_lines = (
        "\n    subtopics:\n      - {{id: t{t:02d}-s0, title: A}}"
        "\n      - {{id: t{t:02d}-s1, title: B}}"
        if subtopics
        else ""
    )
    topics = "\n".join(
        f"  - id: t{t:02d}\n    title: Topic {t:02d}\n    sections: [r{t % 5}]\n    min_cards: 1"
        + subtopic_lines.format(t=t)
        for t in range(TOPICS)
    )
    sections = "\n".join(f"  - {{id: r{r}, title: Section {r}}}" for r in range(5))
    (root / "syllabus.yaml").write_text(f"sections:\n{sections}\ntopics:\n{topics}\n")
    for stem, topic, notes in corpus:
        path = root / f"{stem}.md"
        path.parent.mkdir(exist_ok=True)
        body = "".join(_deckgen_card(note) + "\n" for note in notes)
        path.write_text(f"---\ntopic: t{topic:02d}\n---\n\n{body}")
    return root


def write_deck(folder: Path, cards: int, seed: int = 7) -> Path:
    """Write the Zipf deck of `cards` cards across 40 topics into folder/cards; return that path."""
    return write_deckgen(folder, f"synthetic-{cards}", zipf_corpus(cards, seed), subtopics=True)


def write_ankdown(folder: Path, corpus: Corpus) -> Path:
    """The corpus in ankdown's format: front, `%`, back, `%`, tags; cards end with `---`. One
    deck: ankdown names a deck after the folder of its files."""
    root = folder / "deck"
    root.mkdir(parents=True, exist_ok=True)
    for stem, _, notes in corpus:
        text = "".join(
            f"{n.front}\n\n%\n\n{n.back}\n\n{n.source}\n\n%\n\n{n.tag or ''}\n---\n" for n in notes
        )
        (root / f"{stem.replace('/', '-')}.md").write_text(text)
    return root


def write_markdown_anki_decks(folder: Path, corpus: Corpus) -> Path:
    """The corpus in markdown-anki-decks' format: a file is a deck (`# title`), a card is a
    `## question` heading and what follows it. A heading is one line, so what follows the
    question's first paragraph (a code block) goes first in the answer."""
    root = folder / "decks"
    root.mkdir(parents=True, exist_ok=True)
    for stem, _, notes in corpus:
        cards = []
        for n in notes:
            heading, _, rest = n.front.partition("\n\n")
            body = "\n\n".join(part for part in (rest, n.back, n.source) if part)
            cards.append(f"## {heading}\n\n{body}\n\n")
        name = stem.replace("/", "-")
        (root / f"{name}.md").write_text(f"# {name}\n\n" + "".join(cards))
    return root
