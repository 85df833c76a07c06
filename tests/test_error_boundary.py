"""The one error boundary: every failure a user can cause is a located diagnostic with a code."""

from __future__ import annotations

import ast
import contextlib
import errno
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.build import build
from deckgen.cli import EXIT_INTERNAL_ERROR, cli
from deckgen.errors import DeckgenError, Diagnostic, Location
from deckgen.exporters import available_exporters
from deckgen.rules import RULES
from tests.conftest import FIXTURES, PROJECT

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(sample_cards: Path, epoch: Callable[[int], None]) -> Run:
    """Run the CLI in the sample project; nothing may escape the boundary uncaught."""
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        with contextlib.chdir(sample_cards.parent):
            result = runner.invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return invoke


@pytest.fixture
def templates(sample_cards: Path) -> Path:
    """A copy of the built-in templates as the user's own folder, `templates/`."""
    folder = sample_cards.parent / "templates"
    shutil.copytree(PROJECT / "templates", folder)
    return folder


def append(path: Path, text: str) -> int:
    """Append `text` as a new last line of `path`; return that line's number."""
    before = path.read_text(encoding="utf-8")
    if not before.endswith("\n"):
        before += "\n"
    path.write_text(before + text + "\n", encoding="utf-8")
    return before.count("\n") + 1


# --------------------------------------------------------------------------- templates


def test_template_syntax_error_names_the_template_line(run: Run, templates: Path) -> None:
    line = append(templates / "anki" / "sources.html", "{% if %}")
    code, out, err = run("build", "-q", "--format", "apkg", "--templates", "templates")
    assert code == 1
    assert out == ""
    assert f"templates/anki/sources.html:{line}:1: DG120 [error] template syntax error: " in err
    assert "Traceback" not in err


def test_a_template_your_folder_lacks_comes_from_deckgens_own(run: Run, templates: Path) -> None:
    (templates / "anki" / "sources.html").unlink()  # a partial copy: the built-in one is used
    code, out, err = run("build", "-q", "--format", "apkg", "--templates", "templates")
    assert code == 0, err
    assert out.strip().endswith(".apkg")


def test_an_include_of_a_template_nobody_has_names_the_include(run: Run, templates: Path) -> None:
    line = append(templates / "anki" / "sources.html", '{% include "anki/nowhere.html" %}')
    code, _, err = run("build", "-q", "--format", "apkg", "--templates", "templates")
    assert code == 1
    assert (
        f"templates/anki/sources.html:{line}:12: DG120 [error] template 'anki/nowhere.html' "
        "not found" in err
    )
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("line_text", "col", "message"),
    [
        pytest.param(
            "{{ no_such_variable }}", 4, "template error: 'no_such_variable' is undefined"
        ),
        pytest.param(
            "{{ deck.nmae }}",
            9,
            "template error: 'deckgen.model.DeckInfo object' has no attribute 'nmae'",
            id="attribute",
        ),
        pytest.param(
            '{% include "nope.html" %}', 12, "template 'nope.html' not found", id="include"
        ),
        pytest.param("{{ 1 // 0 }}", 1, "template error: ZeroDivisionError: ", id="python-error"),
    ],
)
def test_template_failing_at_render_names_its_line(
    run: Run, templates: Path, line_text: str, col: int, message: str
) -> None:
    line = append(templates / "site" / "index.html", line_text)
    code, _, err = run("build", "-q", "--format", "html", "--templates", "templates")
    assert code == 1
    assert f"templates/site/index.html:{line}:{col}: DG120 [error] {message}" in err, err
    assert "Traceback" not in err


def test_template_not_utf8_is_located(run: Run, templates: Path) -> None:
    page = templates / "site" / "index.html"
    page.write_bytes(b"<p>one</p>\n<p>\xff</p>\n")
    code, _, err = run("build", "-q", "--format", "html", "--templates", "templates")
    assert code == 1
    assert "templates/site/index.html:2:1: DG120 [error] template syntax error: not UTF-8" in err


def test_a_bug_in_the_builtin_templates_is_not_blamed_on_the_user(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --templates, a template failure is deckgen's own: an internal error."""
    import jinja2

    def broken(*_args: object, **_kwargs: object) -> str:
        raise jinja2.UndefinedError("'x' is undefined")

    monkeypatch.setattr(jinja2.Template, "render", broken)
    code, _, err = run("build", "-q", "--format", "html")
    assert code == EXIT_INTERNAL_ERROR
    assert "deckgen: internal error: UndefinedError: 'x' is undefined" in err
    assert "DG120" not in err


# --------------------------------------------------------------------------- every template kind

# Each template family with the format that renders it.
FAMILIES = [
    pytest.param("anki/basic/front.html", "apkg", id="anki"),
    pytest.param("site/index.html", "html", id="site"),
    pytest.param("print/cards.typ", "pdf", id="print-cards"),
    pytest.param("print/sheet.typ", "pdf", id="print-sheet"),
    pytest.param("delimited/back-footer.html", "csv", id="delimited"),
]
JINJA_MISTAKES = [  # Jinja names no column for a syntax error or a failing filter call
    pytest.param(
        "{% if %}",
        1,
        "template syntax error: Expected an expression, got 'end of statement block'",
        id="syntax",
    ),
    pytest.param("{{ nope | upper }}", 4, "template error: 'nope' is undefined", id="undefined"),
    pytest.param(
        "{{ 'abc' | round }}",
        1,
        "template error: TypeError: type str doesn't define __round__ method",
        id="wrong-type-in-filter",
    ),
    pytest.param('{% include "nope.html" %}', 12, "template 'nope.html' not found", id="include"),
]


def written(folder: Path) -> list[str]:
    """Every file under `folder` (none when it does not exist)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def first_problem(
    run: Run, sample_cards: Path, fmt: str, *, formats: tuple[str, ...] = ()
) -> tuple[int, str]:
    """Build `fmt` with the user's templates: the exit code and the first line of stderr; and
    check that nothing at all reached dist/ and no traceback was shown."""
    args = [a for f in (formats or (fmt,)) for a in ("--format", f)]
    code, out, err = run("build", "-q", *args, "--templates", "templates")
    assert out == ""
    assert "Traceback" not in err
    assert written(sample_cards.parent / "dist") == []
    return code, err.splitlines()[0]


@pytest.mark.parametrize(("name", "fmt"), FAMILIES)
@pytest.mark.parametrize(("line_text", "col", "message"), JINJA_MISTAKES)
def test_every_jinja_mistake_in_every_family_is_located(
    run: Run,
    templates: Path,
    sample_cards: Path,
    name: str,
    fmt: str,
    line_text: str,
    col: int,
    message: str,
) -> None:
    line = append(templates / name, line_text)
    code, problem = first_problem(run, sample_cards, fmt)
    assert code == 1
    assert problem == f"templates/{name}:{line}:{col}: DG120 [error] {message}"


def test_unbounded_template_recursion_is_located(
    run: Run, templates: Path, sample_cards: Path
) -> None:
    line = append(templates / "site" / "index.html", "{% macro f() %}{{ f() }}{% endmacro %}")
    append(templates / "site" / "index.html", "{{ f() }}")
    code, problem = first_problem(run, sample_cards, "html")
    assert code == 1
    assert problem == (
        f"templates/site/index.html:{line}:1: DG120 [error] template error: RecursionError: "
        "maximum recursion depth exceeded"
    )


def test_a_syntax_error_in_one_format_s_template_writes_no_format(
    run: Run, templates: Path, sample_cards: Path
) -> None:
    """The site's template is parsed before the .apkg and the PDFs are written, not after."""
    line = append(templates / "site" / "index.html", "{% endif %}")
    code, problem = first_problem(run, sample_cards, "", formats=("apkg", "pdf", "html"))
    assert code == 1
    assert problem == (
        f"templates/site/index.html:{line}:1: DG120 [error] template syntax error: "
        "Encountered unknown tag 'endif'."
    )


@pytest.mark.parametrize("name", ["print/cards.typ", "print/sheet.typ"])
@pytest.mark.parametrize(
    ("line_text", "col", "message"),
    [
        pytest.param("#nosuchfunc(1)", 2, "unknown variable: nosuchfunc", id="unknown"),
        pytest.param("#let x = (1, 2", 10, "unclosed delimiter", id="syntax"),
        pytest.param(
            "Page #context { 1 + auto }",
            17,
            "cannot add integer and auto",
            id="type",
        ),
    ],
)
def test_a_typst_error_in_a_print_template_is_located_at_its_line(
    run: Run, templates: Path, sample_cards: Path, name: str, line_text: str, col: int, message: str
) -> None:
    line = append(templates / name, line_text)
    code, problem = first_problem(run, sample_cards, "pdf")
    assert code == 1
    assert problem == f"templates/{name}:{line}:{col}: DG120 [error] Typst error: {message}"


def test_a_typst_error_in_card_text_as_the_template_puts_it_names_the_card(
    run: Run, sample_cards: Path
) -> None:
    """Only the changed template in the folder: the others come from deckgen's own."""
    folder = sample_cards.parent / "templates" / "print"
    folder.mkdir(parents=True)
    text = (PROJECT / "templates" / "print" / "cards.typ").read_text(encoding="utf-8")
    # The back's markup given as a code argument instead of a content block: Typst refuses it.
    changed = text.replace("[{{ card.back }}])", "{{ card.back }})")
    assert changed != text
    (folder / "cards.typ").write_text(changed, encoding="utf-8")
    (line,) = [n for n, t in enumerate(changed.splitlines(), 1) if "{{ card.back }})" in t]
    col = changed.splitlines()[line - 1].index("{{ card.back }}") + 1
    code, out, err = run("build", "-q", "--format", "pdf", "--templates", "templates")
    assert (code, out) == (1, "")
    assert err.splitlines()[:2] == [
        f"templates/print/cards.typ:{line}:{col}: DG120 [error] Typst error in card "
        "'tcp-time-wait-side' as this template puts it here: the character `#` is not valid in "
        "code; you are already in code mode; try removing the `#`",
        "  cards/net/tcp.md:8:1: note: card 'tcp-time-wait-side'",
    ]
    assert written(sample_cards.parent / "dist") == []


@pytest.mark.parametrize(
    ("name", "line_text", "col", "message"),
    [
        pytest.param(
            "anki/basic/front.html",
            "<b>{% raw %}{{Fornt}}{% endraw %}</b>",
            13,
            "Anki template (Basic front, Basic and reversed front): '{{Fornt}}' names no field "
            "it has (did you mean 'Front'?)",
            id="unknown-field",
        ),
        pytest.param(
            "anki/cloze/back.html",
            "{% raw %}{{#Extra}}<p>{{Extra}}</p>{% endraw %}",
            10,
            "Anki template (Cloze back): '{{#Extra}}' is never closed: add '{{/Extra}}'",
            id="unclosed-section",
        ),
        pytest.param(
            "anki/_footer.html",
            "{% raw %}<p>{{/Sources}}</p>{% endraw %}",
            13,
            "Anki template (Basic back, Basic and reversed back, Cloze back, Type the answer "
            "back): '{{/Sources}}' closes no open section",
            id="stray-close",
        ),
    ],
)
def test_an_anki_template_mistake_anki_would_refuse_is_located(
    run: Run, templates: Path, sample_cards: Path, name: str, line_text: str, col: int, message: str
) -> None:
    line = append(templates / name, line_text)
    for fmt in ("apkg", "html"):  # the site fills in the same templates
        code, problem = first_problem(run, sample_cards, fmt)
        assert code == 1
        assert problem == f"templates/{name}:{line}:{col}: DG120 [error] {message}"


@pytest.mark.parametrize(
    ("front", "refused"),
    [
        pytest.param("{{Fornt}}", True, id="unknown-field"),
        pytest.param("{{#Extra}}x {{Front}}", True, id="unclosed-section"),
        pytest.param("{{Front}}{{/Extra}}", True, id="stray-close"),
        pytest.param("{{#Extra}}{{Front}}{{/Back}}{{/Extra}}", True, id="crossed-sections"),
        pytest.param(
            "{{^Extra}}{{text:Front}}{{/Extra}}{{Tags}}{{Deck}}{{CardID}}", False, id="ok"
        ),
        pytest.param("{{FrontSide}}{{Front}}", False, id="front-side-on-a-front"),
    ],
)
def test_the_anki_template_check_refuses_what_anki_refuses(
    tmp_path: Path, front: str, refused: bool
) -> None:
    """The official anki package (Anki desktop's engine) agrees with mustache_mistakes."""
    from anki.errors import CardTypeError

    from deckgen.notetypes import mustache_mistakes
    from tests.ankiutil import open_collection

    fields = ("Front", "Back", "Extra")
    assert bool(list(mustache_mistakes(front, fields))) == refused
    col = open_collection(tmp_path / "anki")
    try:
        models = col.models
        model = models.new("Checked")
        for field in fields:
            models.add_field(model, models.new_field(field))
        template = models.new_template("Card 1")
        template["qfmt"], template["afmt"] = front, "{{FrontSide}}<hr id=answer>{{Back}}"
        models.add_template(model, template)
        if refused:
            with pytest.raises(CardTypeError):
                models.add(model)
        else:
            models.add(model)
    finally:
        col.close()


# --------------------------------------------------------------------------- output


def test_out_under_a_regular_file_is_located(run: Run, sample_cards: Path) -> None:
    # A read-only folder does not stop root (these tests run as root); a file in the way does.
    (sample_cards.parent / "somefile").write_text("not a folder\n")
    code, out, err = run("build", "-q", "--format", "apkg", "--out", "somefile/dist")
    assert code == 1
    assert out == ""
    assert "somefile/dist:1:1: DG121 [error] cannot write the apkg output: Not a directory" in err
    assert "Traceback" not in err


def test_out_that_is_a_file_is_a_usage_error(run: Run, sample_cards: Path) -> None:
    (sample_cards.parent / "dist").write_text("not a folder\n")
    code, _, err = run("build", "-q", "--format", "apkg")
    assert code == 2  # click checks --out before the command runs
    assert "'dist' is a file" in err
    assert "Traceback" not in err


def test_a_full_disk_is_located_at_the_output_folder(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = run("build", "-q", "--format", "apkg")
    assert code == 1
    assert "dist:1:1: DG121 [error] cannot write the apkg output: No space left on device" in err
    assert "the build stopped part-way" in err  # not "nothing was written"
    assert "Traceback" not in err


def test_verbose_shows_what_the_diagnostic_came_from(run: Run, sample_cards: Path) -> None:
    (sample_cards.parent / "somefile").write_text("not a folder\n")
    code, _, err = run("-v", "build", "-q", "--format", "apkg", "--out", "somefile/dist")
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "NotADirectoryError" in err
    assert "somefile/dist:1:1: DG121 [error]" in err


def test_an_io_error_outside_a_build_is_located(
    run: Run, sample_cards: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(self: Path, *_args: object, **_kwargs: object) -> int:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(Path, "write_text", refused)
    code, out, err = run("new", "tcp-time-wait", "What does TIME_WAIT guard against?")
    assert code == 1
    assert out == ""
    assert re.search(r"^cards/\S+\.md:1:1: DG121 \[error\] cannot read or write: Permission", err)
    assert "Traceback" not in err


# --------------------------------------------------------------------------- clock and options


def test_a_bad_source_date_epoch_is_located(
    run: Run, epoch: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    code, _, err = run("build", "-q", "--format", "apkg")
    assert code == 1
    assert "SOURCE_DATE_EPOCH:1:1: DG902 [error] not a whole number of seconds: 'yesterday'" in err
    assert "nothing was written." in err


def test_an_option_the_exporter_refuses_is_located(
    sample_cards: Path, epoch: Callable[[int], None]
) -> None:
    out = sample_cards.parent / "dist"
    with pytest.raises(DeckgenError) as refused:
        build(sample_cards, out, formats=["csv"], options={"csv_dialect": "excel"})
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.code == "DG903"
    assert diagnostic.location == Location(Path("--option"))
    assert diagnostic.message == "option 'csv_dialect': 'excel' is not one of anki, plain"
    assert not out.exists()


# --------------------------------------------------------------------------- internal errors


@pytest.fixture
def broken_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    def export(*_args: object, **_kwargs: object) -> list[Path]:
        raise KeyError("oops")

    monkeypatch.setattr(available_exporters()["apkg"], "export", export)


@pytest.mark.usefixtures("broken_exporter")
def test_an_unexpected_exception_is_one_line_and_exit_70(run: Run) -> None:
    code, out, err = run("build", "-q", "--format", "apkg")
    assert code == EXIT_INTERNAL_ERROR
    assert out == ""
    assert err == (
        "deckgen: internal error: KeyError: 'oops' (run with --verbose for the traceback)\n"
    )


@pytest.mark.usefixtures("broken_exporter")
def test_verbose_shows_the_traceback_of_an_unexpected_exception(run: Run) -> None:
    code, _, err = run("--verbose", "build", "-q", "--format", "apkg")
    assert code == EXIT_INTERNAL_ERROR
    assert "Traceback (most recent call last)" in err
    assert "KeyError: 'oops'" in err
    assert err.rstrip().endswith("please report it with the traceback above)")


# --------------------------------------------------------------------------- related places


@pytest.fixture
def duplicate(write_card: Callable[[str, str], Path]) -> None:
    write_card("net/zz.md", "---\ntopic: tcp\n---\n\n## dns-ttl-term\nQ: x?\n\nA: y\n")


@pytest.mark.usefixtures("duplicate")
def test_related_place_in_text(run: Run) -> None:
    code, out, _ = run("lint")
    assert code == 1
    assert (
        "cards/net/zz.md:5:1: DG105 [error] duplicate id 'dns-ttl-term'\n"
        "  cards/net/dns.md:6:1: note: first defined here\n" in out
    )
    code, _, err = run("build", "-q")
    assert code == 1
    assert "  cards/net/dns.md:6:1: note: first defined here\n" in err


@pytest.mark.usefixtures("duplicate")
def test_related_place_in_json(run: Run) -> None:
    code, out, _ = run("lint", "--format", "json")
    assert code == 1
    (found,) = [d for d in json.loads(out)["diagnostics"] if d["code"] == "DG105"]
    assert found["message"] == "duplicate id 'dns-ttl-term'"
    assert found["related"] == [
        {"path": "cards/net/dns.md", "line": 6, "col": 1, "note": "first defined here"}
    ]


@pytest.mark.usefixtures("duplicate")
def test_related_place_in_github_annotations(run: Run) -> None:
    code, out, _ = run("lint", "--format", "github")
    assert code == 1
    assert (
        "::error file=cards/net/zz.md,line=5,col=1,title=DG105 duplicate-id::"
        "duplicate id 'dns-ttl-term' (cards/net/dns.md:6:1: first defined here)\n" in out
    )


def test_display_puts_related_places_on_the_same_line(tmp_path: Path) -> None:
    here, there = Location(tmp_path / "b.md", 9), Location(tmp_path / "a.md", 2)
    diagnostic = Diagnostic(here, "duplicate id 'x'", "DG105", related=((there, "first"),))
    assert diagnostic.display(tmp_path) == "b.md:9: duplicate id 'x' (a.md:2: first)"


# --------------------------------------------------------------------------- every code is a rule


def test_a_diagnostic_code_must_be_a_rule(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="DG999"):
        Diagnostic(Location(tmp_path), "made up", "DG999")


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "Diagnostic")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "report")
        )
    ]


def test_every_code_in_the_source_is_a_rule() -> None:
    """Static, so that paths no test reaches are checked too: every `Diagnostic(…)` and
    `sink.report(…)` passes a code, and every DGnnn literal in deckgen/ is in the catalogue."""
    missing_code, unknown = [], []
    for path in sorted((PROJECT / "deckgen").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(PROJECT)
        for call in _calls(ast.parse(text)):
            if len(call.args) < 3 and not any(k.arg == "code" for k in call.keywords):
                missing_code.append(f"{where}:{call.lineno}")
        unknown += [f"{where}: {c}" for c in re.findall(r"\bDG\d{3}\b", text) if c not in RULES]
    assert missing_code == []
    assert unknown == []


# --------------------------------------------------------------------------- no tracebacks


@pytest.mark.parametrize(
    "fixture", sorted(p.name for p in (FIXTURES / "lint" / "bad").iterdir()), ids=str
)
def test_no_bad_fixture_makes_a_traceback(run: Run, sample_cards: Path, fixture: str) -> None:
    target = sample_cards / "zz" / fixture
    target.parent.mkdir()
    shutil.copy(FIXTURES / "lint" / "bad" / fixture, target)
    for args in (["lint"], ["lint", "--format", "json"], ["build", "-q", "--format", "apkg"]):
        code, out, err = run(*args)
        assert code in (0, 1), (args, err)
        assert "Traceback" not in out + err, args
        assert "internal error" not in err, args
