"""Template overrides file by file, over deckgen's own, and `deckgen templates copy`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner

from deckgen.build import build
from deckgen.cli import cli
from deckgen.deckfiles import default_templates_dir
from deckgen.templating import traced_render
from deckgen.typstmarkup import typst_environment
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


def test_traced_output_maps_every_template_character_to_itself(
    sample_cards: Path,
    tmp_path: Path,
    epoch: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """traced_render, on every template a build renders: each output character that came from a
    template's own text is traced to that very character of that file; values are told apart."""
    rendered: dict[str, tuple[jinja2.Template, dict[str, object], str]] = {}
    render = jinja2.Template.render

    def recording(self: jinja2.Template, *args: object, **kwargs: object) -> str:
        out = render(self, *args, **kwargs)
        rendered.setdefault(self.name or "", (self, dict(*args, **kwargs), out))
        return out

    monkeypatch.setattr(jinja2.Template, "render", recording)
    build(sample_cards, tmp_path / "dist", formats=["apkg", "html", "pdf", "csv"])
    monkeypatch.undo()
    assert {"print/cards.typ", "print/sheet.typ", "site/index.html", "anki/basic/back.html"} <= set(
        rendered
    )
    for name, (template, context, out) in rendered.items():
        traced = traced_render(template, context, out)
        assert traced is not None, name
        own, values, wrong = 0, 0, []
        for offset, char in enumerate(out):
            origin = traced.origin(offset)
            if origin is None or origin.location.col == 0:
                continue
            if origin.in_value:
                values += 1
                continue
            where = origin.location
            line = where.path.read_text(encoding="utf-8").split("\n")[where.line - 1] + "\n"
            own += 1
            if line[where.col - 1] != char:
                wrong.append((offset, char, where))
        assert wrong == [], name
        assert own > 0.5 * (len(out) - values), name  # nearly all own text has a column
    # The sheet's card values are values, not template text.
    _, context, out = rendered["print/sheet.typ"]
    traced = traced_render(*rendered["print/sheet.typ"][:2], out)
    assert traced is not None
    question = out.index("Which side of a TCP connection")
    origin = traced.origin(question)
    assert origin is not None and origin.in_value
    assert origin.location.path.name == "sheet.typ"


def test_traced_render_gives_up_on_a_template_that_measures_its_own_text(
    tmp_path: Path,
) -> None:
    """Marks would change what the template computes from its own text: no trace, no guess."""
    (tmp_path / "t.typ").write_text("{% set x %}abc{% endset %}{{ x | length }}\n")
    template = typst_environment(tmp_path).get_template("t.typ")
    out = template.render()
    assert out == "3\n"
    assert traced_render(template, {}, out) is None
