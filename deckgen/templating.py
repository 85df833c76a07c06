"""The Jinja environment for deckgen's templates (Anki note types now, print pages later)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"  # in an installed wheel
SOURCE_TEMPLATES = Path(__file__).parent.parent / "templates"  # in a source checkout


def default_templates_dir() -> Path:
    return SOURCE_TEMPLATES if SOURCE_TEMPLATES.is_dir() else PACKAGE_TEMPLATES


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
        source, filename, uptodate = super().get_source(environment, template)
        if not Path(filename).resolve().is_relative_to(self.root):
            raise jinja2.TemplateNotFound(f"{template} (it resolves outside {self.root})")
        return source, filename, uptodate


def template_environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """Autoescaping, strict environment: a missing variable is an error, not an empty string."""
    folder = templates_dir or default_templates_dir()
    return jinja2.Environment(
        loader=ContainedLoader(folder),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
