"""Template overrides file by file, over deckgen's own, and `deckgen templates copy`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from deckgen.build import build
from deckgen.cli import cli
from deckgen.templating import default_templates_dir
from tests.ankiutil import import_package, open_collection


def test_a_folder_with_one_changed_file_overrides_only_that_file(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    mine = tmp_path / "mine"
    (mine / "anki").mkdir(parents=True)
    css = (default_templates_dir() / "anki" / "style.css").read_text()
    (mine / "anki" / "style.css").write_text(css + "\n.my-marker { color: red; }\n")
    (mine / "site").mkdir()
    (mine / "site" / "site.css").write_text("/* my site style */\n")
    result = build(sample_cards, tmp_path / "dist", formats=["apkg", "html"], templates_dir=mine)
    col = open_collection(tmp_path / "anki")
    import_package(col, next(p for p in result.paths if p.suffix == ".apkg"))
    (note_id,) = col.find_notes('"CardId:tcp-time-wait-side"')
    note = col.get_note(note_id)
    assert ".my-marker" in note.note_type()["css"]
    assert '<hr id="answer">' in note.cards()[0].answer()  # the built-in card templates
    col.close()
    site = next(p for p in result.paths if p.name.endswith("-site"))
    assert (site / "site.css").read_text() == "/* my site style */\n"
    built_in = (default_templates_dir() / "site" / "app.js").read_text()
    assert (site / "app.js").read_text() == built_in


def test_templates_copy_writes_every_built_in_file(tmp_path: Path) -> None:
    target = tmp_path / "copy"
    result = CliRunner().invoke(cli, ["templates", "copy", str(target)])
    assert result.exit_code == 0
    builtin = default_templates_dir()
    expected = sorted(p.relative_to(builtin) for p in builtin.rglob("*") if p.is_file())
    assert sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file()) == expected
    again = CliRunner().invoke(cli, ["templates", "copy", str(target)])
    assert again.exit_code == 2 and "is not an empty folder: nothing was copied" in again.output
