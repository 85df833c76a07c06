"""Synthetic decks for the benchmark: a realistic mix of prose, lists, code, cloze and tags."""

from __future__ import annotations

import random
from pathlib import Path

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


def _card(rng: random.Random, card_id: str, topic: int) -> str:
    kind = rng.random()
    tag = f"t{topic:02d}-s{rng.randrange(2)}"
    source = (
        f"Source: RFC {9000 + rng.randrange(500)} §{rng.randrange(1, 12)}.{rng.randrange(1, 9)}"
    )
    if kind < 0.45:  # prose
        return (
            f"## {card_id}\nTags: {tag}\nQ: {_sentence(rng, 9)} {card_id}?\n\n"
            f"A: {_sentence(rng, 14)} with **{rng.choice(WORDS)}** and `{rng.choice(WORDS)}`.\n\n"
            f"{source}\n"
        )
    if kind < 0.6:  # list
        items = "\n".join(f"- {_sentence(rng, 5)}" for _ in range(rng.randrange(2, 5)))
        question = f"Q: Which steps make up {card_id}?"
        return f"## {card_id}\nTags: {tag}\n{question}\n\nA:\n{items}\n\n{source}\n"
    if kind < 0.8:  # code
        lang = rng.choice(LANGS)
        code = CODE[lang].format(a=rng.randrange(2, 9), b=rng.randrange(10, 99))
        return (
            f"## {card_id}\nTags: {tag}\nQ: What does this print ({card_id})?\n\n```{lang}\n"
            f"{code}\n```\n\nA: {_sentence(rng, 8)}.\n\n{source}\n"
        )
    if kind < 0.95:  # cloze
        return (
            f"## {card_id}\nTags: {tag}\nCloze: In {card_id} the {{{{c1::{rng.choice(WORDS)}}}}} "
            f"comes before the {{{{c2::{rng.choice(WORDS)}}}}}, then {_sentence(rng, 6)}.\n\n"
            f"Extra: {_sentence(rng, 10)}.\n\n{source}\n"
        )
    return (
        f"## {card_id}\nType: reversed\nTags: {tag}\nQ: Term {card_id}\n\n"
        f"A: {_sentence(rng, 10)}.\n\n{source}\n"
    )


def write_deck(folder: Path, cards: int, seed: int = 7) -> Path:
    """Write a deck of `cards` cards across 40 topics into folder/cards and return that path."""
    rng = random.Random(seed)
    root = folder / "cards"
    root.mkdir(parents=True, exist_ok=True)
    (root / "deck.yaml").write_text(f"id: synthetic-{cards}\nname: Synthetic {cards}\n")
    topics = "\n".join(
        f"  - id: t{t:02d}\n    title: Topic {t:02d}\n    sections: [r{t % 5}]\n    min_cards: 1\n"
        f"    subtopics:\n      - {{id: t{t:02d}-s0, title: A}}\n"
        f"      - {{id: t{t:02d}-s1, title: B}}"
        for t in range(TOPICS)
    )
    sections = "\n".join(f"  - {{id: r{r}, title: Section {r}}}" for r in range(5))
    (root / "syllabus.yaml").write_text(f"sections:\n{sections}\ntopics:\n{topics}\n")
    for start in range(0, cards, CARDS_PER_FILE):
        topic = (start // CARDS_PER_FILE) % TOPICS
        body = "".join(
            _card(rng, f"c{n:06d}", topic) + "\n"
            for n in range(start, min(start + CARDS_PER_FILE, cards))
        )
        folder_name = root / f"r{topic % 5}"
        folder_name.mkdir(exist_ok=True)
        (folder_name / f"f{start // CARDS_PER_FILE:05d}.md").write_text(
            f"---\ntopic: t{topic:02d}\n---\n\n{body}"
        )
    return root
