"""The Jinja environment for deckgen's templates (Anki note types now, print pages later)."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path

import jinja2

from deckgen.errors import Diagnostic, Location

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"  # in an installed wheel
SOURCE_TEMPLATES = Path(__file__).parent.parent / "templates"  # in a source checkout


def default_templates_dir() -> Path:
    return SOURCE_TEMPLATES if SOURCE_TEMPLATES.is_dir() else PACKAGE_TEMPLATES


class TemplateOutside(jinja2.TemplateError):
    """A template whose real path leaves the templates folder (through a symbolic link).

    Not a TemplateNotFound: the loader that falls back to deckgen's own templates must stop
    here, not quietly use the built-in file instead."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class ContainedLoader(jinja2.FileSystemLoader):
    """A file loader that refuses any template whose real path (links resolved) leaves its folder.

    Jinja already refuses `..` in template names; this also stops a symbolic link inside the
    templates folder from pulling an outside file into a build.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.root = folder.resolve()

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except UnicodeDecodeError as error:  # a located error, like any other template problem
            path = Path(self.searchpath[0], *template.split("/"))
            line = path.read_bytes()[: error.start].count(b"\n") + 1
            raise jinja2.TemplateSyntaxError(
                f"not UTF-8 text: {error.reason}", line, template, str(path)
            ) from None
        if not Path(filename).resolve().is_relative_to(self.root):
            raise TemplateOutside(template, f"{template} (it resolves outside {self.root})")
        return source, filename, uptodate


def template_problem(error: BaseException, templates_dir: Path) -> Diagnostic | None:
    """The located DG120 for a failure caused by a template in `templates_dir`, else None.

    Jinja rewrites tracebacks so that template code runs as frames of the template file, at
    its line: the innermost such frame is the place to fix. A failure raised deeper, in
    deckgen's own code, is deckgen's bug and is left to propagate.
    """
    root = templates_dir.resolve()

    def inside(filename: object) -> bool:
        return isinstance(filename, str) and Path(filename).resolve().is_relative_to(root)

    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if inside(f.filename)]
    where = Location(Path(ours[-1].filename), ours[-1].lineno or 0) if ours else None
    if isinstance(error, jinja2.TemplateSyntaxError) and inside(error.filename):
        # parsed, never run: the error itself knows the place
        place = Location(Path(str(error.filename)), error.lineno)
        return Diagnostic(place, f"template syntax error: {error.message}", "DG120")
    if isinstance(error, TemplateOutside):
        place = where or Location(templates_dir / str(error.name))
        return Diagnostic(place, f"template {error.message}", "DG120")
    if isinstance(error, jinja2.TemplateNotFound):
        if where is not None:  # an {% include %}, {% import %} or {% extends %} of a missing one
            return Diagnostic(where, f"template '{error.name}' not found", "DG120")
        return Diagnostic(
            Location(templates_dir / str(error.name)),
            f"missing template '{error.name}': neither your templates folder nor deckgen's own "
            "has it",
            "DG120",
        )
    if isinstance(error, OSError) and inside(error.filename):
        place = Location(Path(str(error.filename)))
        return Diagnostic(place, f"cannot read template: {error.strerror}", "DG120")
    if isinstance(error, jinja2.TemplateError):  # an undefined variable, a bad filter call…
        return Diagnostic(where or Location(templates_dir), f"template error: {error}", "DG120")
    if where is not None and frames[-1] is ours[-1]:  # Python raising in template code: 1 / 0
        return Diagnostic(where, f"template error: {type(error).__name__}: {error}", "DG120")
    return None


def template_loader(templates_dir: Path | None = None) -> jinja2.BaseLoader:
    """Your templates folder first, file by file, then deckgen's own: a folder needs only the
    templates it changes (like mkdocs' `custom_dir`)."""
    builtin = ContainedLoader(default_templates_dir())
    if templates_dir is None:
        return builtin
    return jinja2.ChoiceLoader([ContainedLoader(templates_dir), builtin])


def template_file(templates_dir: Path | None, name: str) -> Path:
    """A file the site copies as it is (`site/app.js`): yours when you have it, else deckgen's."""
    if templates_dir is not None:
        mine = templates_dir / name
        if mine.is_file() and mine.resolve().is_relative_to(templates_dir.resolve()):
            return mine
    return default_templates_dir() / name


def template_environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """Autoescaping, strict environment: a missing variable is an error, not an empty string."""
    return jinja2.Environment(
        loader=template_loader(templates_dir),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
