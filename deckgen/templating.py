"""The Jinja environment for deckgen's templates (Anki note types now, print pages later)."""

from __future__ import annotations

import bisect
import hashlib
import re
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2
import jinja2.ext
import jinja2.lexer
import markupsafe

from deckgen.deckfiles import default_templates_dir
from deckgen.errors import Diagnostic, Location


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
            where = _at_column(where, rf"""["']{re.escape(str(error.name))}["']""")
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
        if where is not None and (named := _UNDEFINED_RE.search(str(error))):
            variable, attribute = named[1], named[2]
            where = _at_column(
                where, rf"(?<![\w.]){variable}\b" if variable else rf"(?<=\.){attribute}\b"
            )
        return Diagnostic(where or Location(templates_dir), f"template error: {error}", "DG120")
    # Python raising in template code (1 / 0), or in the Jinja filter it calls ('x' | round)
    called = frames[max(i for i, f in enumerate(frames) if f is ours[-1]) + 1 :] if ours else []
    if where is not None and all(_in_jinja(f.filename) for f in called):
        return Diagnostic(where, f"template error: {type(error).__name__}: {error}", "DG120")
    return None


# "'nope' is undefined", "'dict object' has no attribute 'nope'": the name to look for
_UNDEFINED_RE = re.compile(r"^'([A-Za-z_]\w*)' is undefined$|has no attribute '([A-Za-z_]\w*)'$")


def _at_column(where: Location, pattern: str) -> Location:
    """`where` with the column of `pattern` on its line, when it occurs there exactly once."""
    try:
        line = where.path.read_text(encoding="utf-8").split("\n")[where.line - 1]
    except (OSError, UnicodeDecodeError, IndexError):
        return where
    found = list(re.finditer(pattern, line))
    return replace(where, col=found[0].start() + 1) if len(found) == 1 else where


_JINJA_CODE = tuple(Path(m.__file__ or "").parent for m in (jinja2, markupsafe))


def _in_jinja(filename: str) -> bool:
    """Whether the code there is Jinja's own (its filters and tests, markupsafe's escaping)."""
    return any(Path(filename).is_relative_to(folder) for folder in _JINJA_CODE)


RENDERED_FOLDERS = ("anki", "print", "delimited")  # and site/index.html; site's others are copied
TEMPLATE_SUFFIXES = (".html", ".css", ".typ")


def syntax_problems(templates_dir: Path) -> list[Diagnostic]:
    """Every template of your folder that deckgen renders, parsed (not rendered): its syntax
    errors are found before any output is written, whichever format uses it."""
    env = template_environment(templates_dir)
    problems = []
    names = [
        path.relative_to(templates_dir).as_posix()
        for folder in RENDERED_FOLDERS
        for path in sorted((templates_dir / folder).rglob("*"))
        if path.suffix in TEMPLATE_SUFFIXES and path.is_file()
    ]
    if (templates_dir / "site" / "index.html").is_file():
        names.append("site/index.html")
    for name in names:
        try:
            env.get_template(name)
        except (jinja2.TemplateError, OSError) as error:
            problem = template_problem(error, templates_dir)
            if problem is None:
                raise
            problems.append(problem)
    return problems


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


def sources_digest(env: jinja2.Environment) -> str:
    """A digest of every template the environment can load, yours and deckgen's (whatever one
    includes or extends is among them): a key for work that renders any of them."""
    assert env.loader is not None
    digest = hashlib.sha256()
    for name in env.list_templates():
        try:
            source = env.loader.get_source(env, name)[0].encode()
        except (UnicodeDecodeError, jinja2.TemplateNotFound):  # not text: no template includes it
            source = b""
        for part in (name.encode(), source):
            digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


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


# --------------------------------------------------------------------------- where output came from

_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"  # private-use characters, around a number
_MARK_RE = re.compile(f"{_MARK_OPEN}(\\d+){_MARK_CLOSE}")


@dataclass(frozen=True)
class Origin:
    """Where a character of a template's output came from: `location` in a template file, and
    `in_value` when it was not the template's own text but a value a `{{ … }}` put there (then
    `location` is the end of the template text just before it)."""

    location: Location
    in_value: bool = False


@dataclass(frozen=True)
class _Piece:
    """One line's worth of a template's own text, as it reaches the output."""

    path: Path
    line: int
    col: int  # 1-based; 0 when the text cannot be found on its line
    length: int


class _MarkOrigins(jinja2.ext.Extension):
    """Puts a mark before each line of every template's own text (the lexer's `data`, after
    whitespace control): the marks in the output say where each stretch of it came from."""

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        self.pieces: list[_Piece] = []
        self.lines: dict[str | None, list[str]] = {}

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        self.lines[filename] = source.split("\n")
        return source

    def filter_stream(self, stream: jinja2.lexer.TokenStream) -> Iterator[jinja2.lexer.Token]:
        for token in stream:
            if token.type == "data" and stream.filename is not None:
                value = self._marked(token.value, stream.filename, token.lineno)
                token = jinja2.lexer.Token(token.lineno, token.type, value)
            yield token

    def _marked(self, text: str, filename: str, line: int) -> str:
        source = self.lines.get(filename, [])
        pieces = text.split("\n")
        marked = []
        for k, piece in enumerate(pieces):
            here = source[line + k - 1] if 0 < line + k <= len(source) else ""
            if k > 0:  # after a newline of the text itself: the start of its source line
                col = 1 if here.startswith(piece) else 0
            elif len(pieces) > 1 and here.endswith(piece):  # after a tag, up to the line's end
                col = len(here) - len(piece) + 1
            else:  # between two tags on one line
                col = here.find(piece) + 1 if piece and here.count(piece) == 1 else 0
            self.pieces.append(_Piece(Path(filename), line + k, col, len(piece)))
            marked.append(f"{_MARK_OPEN}{len(self.pieces) - 1}{_MARK_CLOSE}{piece}")
        return "\n".join(marked)


class TracedOutput:
    """A template's output with the origin of each of its characters (see `traced_render`)."""

    def __init__(self, starts: list[int], pieces: list[_Piece]) -> None:
        self._starts = starts  # output offset where each mark's piece begins
        self._pieces = pieces

    def origin(self, offset: int) -> Origin | None:
        """Where the output character at `offset` came from; None before any template text."""
        k = bisect.bisect_right(self._starts, offset) - 1
        if k < 0:
            return None
        piece, delta = self._pieces[k], offset - self._starts[k]
        if delta < piece.length:
            col = piece.col + delta if piece.col else 0
            return Origin(Location(piece.path, piece.line, col))
        col = piece.col + piece.length if piece.col else 0
        return Origin(Location(piece.path, piece.line, col), in_value=True)


def traced_render(
    template: jinja2.Template, context: Mapping[str, Any], expected: str
) -> TracedOutput | None:
    """Render `template` again with marks that say where each part of the output came from.

    Only for an output already made (`expected`), to explain a problem found in it: rendering
    twice costs nothing on the normal path. None when the marked render, marks removed, is not
    `expected` (a template that measures its own text, say): no guess is made.
    """
    # No cache: every template (includes too) is compiled afresh, with the marks.
    traced = template.environment.overlay(cache_size=0, extensions=[_MarkOrigins])
    marker = traced.extensions[_MarkOrigins.identifier]
    assert isinstance(marker, _MarkOrigins)
    marked = traced.get_template(template.name or "").render(**context)
    starts, pieces, clean, at, consumed = [], [], [], 0, 0
    for match in _MARK_RE.finditer(marked):
        clean.append(marked[consumed : match.start()])
        at += match.start() - consumed
        consumed = match.end()
        starts.append(at)
        pieces.append(marker.pieces[int(match[1])])
    clean.append(marked[consumed:])
    if "".join(clean) != expected:
        return None
    return TracedOutput(starts, pieces)
