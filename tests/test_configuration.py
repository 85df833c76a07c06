"""deck.yaml and syllabus.yaml against their JSON Schemas: every schema problem is one located
DG110 message, the reference page (docs/configuration.md) is the schemas' own tables, and the
files point editors at the schemas."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from deckgen.compile import load_deck
from deckgen.configfile import load_schema, schema_text
from deckgen.errors import DeckgenError
from deckgen.starter import CONFIG_SCHEMAS, starter_files
from tests.conftest import updating_goldens

PROJECT = Path(__file__).resolve().parent.parent
DOC = PROJECT / "docs" / "configuration.md"


def messages(cards: Path) -> list[str]:
    with pytest.raises(DeckgenError) as info:
        load_deck(cards)
    return [d.display(cards.parent) for d in info.value.diagnostics]


# ------------------------------------------------------------------------------ the reference


def _type(schema: dict[str, Any], root: dict[str, Any]) -> str:
    if "$ref" in schema:
        target = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
        return target.get("title") or _type(target, root)
    words = {"string": "text", "array": "list", "object": "mapping", "integer": "whole number"}
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    shown = " or ".join(words.get(t, t) for t in types if t != "null")
    items = schema.get("items", {})
    if items:
        shown += " of mappings" if "properties" in items else f" of {_type(items, root)}"
    return shown + (" (may be empty)" if "null" in types else "")


def _rows(schema: dict[str, Any], root: dict[str, Any], prefix: str) -> Iterator[list[str]]:
    required = set(schema.get("required", ()))
    for key, sub in schema.get("properties", {}).items():
        name = f"{prefix}{key}"
        target = sub
        if "$ref" in sub:
            target = {**root["$defs"][sub["$ref"].rsplit("/", 1)[1]], **sub}
        default = f"`{json.dumps(target['default'])}`" if "default" in target else "—"
        yield [
            f"`{name}`",
            _type(sub, root),
            "yes" if key in required else "no",
            default,
            sub.get("description", "").replace("|", "\\|"),
        ]
        if "properties" in target:
            yield from _rows(target, root, f"{name}.")
        items = target.get("items", {})
        if "properties" in items:
            yield from _rows(items, root, f"{name}[].")


def reference_table(name: str) -> str:
    """The reference table of config file `name`, made from its schema."""
    schema = load_schema(name)
    lines = [
        f"<!-- generated from deckgen/schemas/{name}.schema.json by tests/test_configuration.py"
        " (--update-goldens rewrites it) -->",
        "",
        "| key | type | required | default | what it is |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(schema, schema, "")]
    return "\n".join(lines) + "\n<!-- end of generated table -->"


def test_the_reference_page_is_the_schemas_tables(request: pytest.FixtureRequest) -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in CONFIG_SCHEMAS:
        pattern = re.compile(
            rf"<!-- generated from deckgen/schemas/{re.escape(name)}\.schema\.json.*?"
            r"<!-- end of generated table -->",
            re.S,
        )
        assert pattern.search(text), f"docs/configuration.md has no generated table of {name}"
        text = pattern.sub(lambda _m, n=name: reference_table(n), text)  # type: ignore[misc]
    if updating_goldens(request.config):
        DOC.write_text(text, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == text, (
        "docs/configuration.md differs from the schemas: run "
        "`pytest tests/test_configuration.py --update-goldens` and review the diff"
    )


def test_the_reference_page_examples_are_valid() -> None:
    """Every ```yaml block of the page that starts with `# deck.yaml` or `# syllabus.yaml`
    passes its schema."""
    blocks = re.findall(r"```yaml\n# (deck|syllabus)\.yaml\n(.*?)```", DOC.read_text(), re.S)
    assert {kind for kind, _ in blocks} == {"deck", "syllabus"}
    for kind, body in blocks:
        jsonschema.validate(yaml.safe_load(body), load_schema(f"{kind}.yaml"))


def test_the_schemas_are_valid_and_strict() -> None:
    for name in CONFIG_SCHEMAS:
        schema = load_schema(name)
        jsonschema.Draft202012Validator.check_schema(schema)

        def strict(node: Any, where: str, name: str = name) -> None:
            if isinstance(node, dict):
                if "properties" in node:
                    assert node.get("additionalProperties") is False, f"{name}: {where}"
                    for key, sub in node["properties"].items():
                        assert "description" in sub, f"{name}: {where}.{key} has no description"
                for key, sub in node.items():
                    strict(sub, f"{where}.{key}")

        strict(schema, "")


def test_this_deck_and_a_new_deck_point_editors_at_the_schemas(tmp_path: Path) -> None:
    """The `# yaml-language-server: $schema=` line of each file names a schema file that is
    there, relative to the file: deckgen's own in this repository, a copy in a new deck."""
    files = starter_files(tmp_path / "new")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for name in CONFIG_SCHEMAS:
        for config in (PROJECT / "cards" / name, tmp_path / "new" / "cards" / name):
            first = config.read_text(encoding="utf-8").splitlines()[0]
            match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
            assert match, f"{config}: {first}"
            target = (config.parent / match.group(1)).resolve()
            assert target.read_text(encoding="utf-8") == schema_text(name), config


# ---------------------------------------------------------------------------- the messages


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        pytest.param(
            "deck.yaml",
            "id: sample-deck\nnmae: Sample\n",
            [
                "cards/deck.yaml:1:1: deck.yaml needs 'name'",
                "cards/deck.yaml:2:1: unknown key 'nmae' in deck.yaml (did you mean 'name'?)",
            ],
            id="deck-unknown-key-and-required",
        ),
        pytest.param(
            "deck.yaml",
            "id: d\nname: D\n__lines__: {}\n__x: 1\n",
            ["cards/deck.yaml:4:1: unknown key '__x' in deck.yaml"],
            id="deck-key-like-a-line-record",
        ),
        pytest.param(
            "deck.yaml",
            "id: Sample Deck\nname: [a]\nlanguage: 3\n",
            [
                "cards/deck.yaml:1:1: 'id' must be a lowercase slug (letters, digits and single "
                "hyphens)",
                "cards/deck.yaml:2:1: 'name' must be a string",
                "cards/deck.yaml:3:1: 'language' must be a string",
            ],
            id="deck-types-and-slug",
        ),
        pytest.param(
            "deck.yaml",
            "id: d\nname: D\noptions:\n  paper: [a4]\nsection:\n  label: Unit\n  tags: unit\n",
            [
                "cards/deck.yaml:4:3: 'paper' must be a string or a number",
                "cards/deck.yaml:7:3: unknown key 'tags' in 'section' (did you mean 'tag'?)",
            ],
            id="deck-nested",
        ),
        pytest.param(
            "deck.yaml",
            "id: d\nname: D\nsection: {label: 'A::B', tag: topic}\n",
            [
                "cards/deck.yaml:3:11: section 'label' must not contain '::' (Anki reads it as "
                "a deck level)",
                "cards/deck.yaml:3:26: section 'tag' must not be 'topic': deckgen tags notes "
                "'topic::…' itself",
            ],
            id="deck-section-values",
        ),
        pytest.param(
            "syllabus.yaml",
            "sections:\n  - {id: a, title: A}\n  - {id: a}\ntopics:\n"
            "  - {id: t, title: T, sections: [a], min_cards: -1, subtopic: []}\n"
            "  - {id: u, title: U, sections: []}\n",
            [
                "cards/syllabus.yaml:3:5: 'sections[2]' needs 'title'",
                "cards/syllabus.yaml:3:6: duplicate syllabus id 'a' (first defined at line 2)",
                "cards/syllabus.yaml:5:38: 'min_cards' must be a whole number >= 0",
                "cards/syllabus.yaml:5:53: unknown key 'subtopic' in 'topics[1]' "
                "(did you mean 'subtopics'?)",
                "cards/syllabus.yaml:6:23: 'sections' must be a non-empty list",
            ],
            id="syllabus-shapes",
        ),
        pytest.param(
            "deck.yaml",
            "id: d\nname: D\nsection: {tag: [a], label: ['b']}\n",
            [
                "cards/deck.yaml:3:11: 'tag' must be a string",
                "cards/deck.yaml:3:21: 'label' must be a string",
            ],
            id="deck-section-types",
        ),
        pytest.param(
            "deck.yaml",
            "id: d\nname: D\nsection:\n  label: Unit\n  tag: tcp\n",
            [
                "cards/deck.yaml:5: section tag 'tcp' is also a syllabus id: choose another "
                "`section: {tag: …}`"
            ],
            id="deck-section-tag-is-an-id",
        ),
        pytest.param(
            "syllabus.yaml",
            "topics: {tcp: TCP}\n",
            ["cards/syllabus.yaml:1:1: 'topics' must be a list"],
            id="syllabus-topics-not-a-list",
        ),
    ],
)
def test_each_schema_problem_is_one_located_message(
    sample_cards: Path, file: str, text: str, expected: list[str]
) -> None:
    (sample_cards / file).write_text(text)
    found = [m for m in messages(sample_cards) if m.startswith(f"cards/{file}")]
    assert found == expected
