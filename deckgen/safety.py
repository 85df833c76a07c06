"""The allow-lists every untrusted value passes before it becomes a URL, HTML text, TeX or output.

One module, used at the root by every stage and exporter, so that the check that reports a
problem and the code that neutralises it can never disagree. Each function answers with the
reason a value is refused (a string ready for a message) or None when it is allowed.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from urllib.parse import urlsplit

LINK_SCHEMES = frozenset({"http", "https", "mailto"})

# What a browser would strip or fold before parsing a URL (WHATWG URL: C0 controls and space at
# the ends, tab and newlines anywhere, backslash as a slash in http(s) URLs). deckgen does not
# try to mirror that normalisation: a URL holding any of these is refused outright.
_URL_FORBIDDEN_RE = re.compile(
    r"[\x00-\x20\x7f-\x9f\\\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]"
)
_HOST_RE = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?(?::\d{1,5})?$"
)
# A relative reference to a file of the deck: path characters only, no scheme, no leading slash.
_RELATIVE_RE = re.compile(r"^(?![/:])[A-Za-z0-9._~%/+-]*(?:#[A-Za-z0-9._~%-]*)?$")
_PATH_RE = re.compile(r"^[A-Za-z0-9._~%/+-]+$")
_MAILTO_RE = re.compile(r"^mailto:[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$")
# What an image's src may be once rendered: a media file named by its content hash.
MEDIA_NAME_RE = re.compile(r"^[0-9a-f]{20}\.(?:png|jpg|jpeg|gif|svg|webp)$")
# A template-language marker: Anki expands `{{…}}` (cloze deletions) in field HTML, attributes
# included, so none may stand inside an attribute or a URL.
TEMPLATE_MARK_RE = re.compile(r"\{\{|\}\}|::")


def url_problem(url: str, *, relative: bool = True) -> str | None:
    """Why a link target may not be shipped, or None.

    Allowed: `https:`/`http:` URLs with a plain host name, `mailto:` addresses, and (when
    `relative`) relative references made of path characters. Entities are decoded first, since
    a browser decodes them before it reads the URL.
    """
    value = html.unescape(url)
    if not value:
        return "empty link target"
    if _URL_FORBIDDEN_RE.search(value):
        return f"URL '{printable(url)}' contains a space, backslash or control character"
    if TEMPLATE_MARK_RE.search(value):
        return f"URL '{printable(url)}' contains '{{{{' or '}}}}'"
    if value.startswith("//"):
        return f"scheme-relative URL '{printable(url)}' (write https://…)"
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme:
        if scheme not in LINK_SCHEMES:
            return f"URL scheme '{printable(scheme)}:' is not allowed (use https:)"
        if scheme == "mailto":
            return None if _MAILTO_RE.match(value) else f"malformed mailto: link '{printable(url)}'"
        if "@" in parts.netloc or not _HOST_RE.match(parts.netloc.lower()):
            return f"URL '{printable(url)}' has no plain host name"
        return None
    if not relative:
        return f"'{printable(url)}' is not an absolute https:// URL"
    if not _RELATIVE_RE.match(value):
        return f"relative link '{printable(url)}' must be a path inside the cards folder"
    return None


def image_reference_problem(src: str) -> str | None:
    """Why an image reference in a card is refused before it is resolved, or None.

    Images are files of the deck: a scheme, a host or an odd character is refused here; where a
    plain path leads (`..`, absolute, links) is for `resolve_inside` to judge.
    """
    value = html.unescape(src)
    if not value:
        return "empty image reference"
    if _URL_FORBIDDEN_RE.search(value) or value.startswith("//") or urlsplit(value).scheme:
        return (
            f"remote or inline resource '{printable(src)}' "
            "(images must be files in the cards folder)"
        )
    if not _PATH_RE.match(value):
        return f"image reference '{printable(src)}' must be a path inside the cards folder"
    return None


def is_media_name(src: str) -> bool:
    """True for the only image sources a rendered field may hold: content-hashed media names."""
    return bool(MEDIA_NAME_RE.match(src))


# --------------------------------------------------------------------------- plain text

# Names and titles become Anki deck names (inserted as HTML by Anki's deck list), CSV cells,
# breadcrumbs and PDF text: letters, digits, spaces and a little punctuation only.
_TITLE_CHAR = r"[\w .,;:!?'’()&/+#·–—-]"
_TITLE_RE = re.compile(rf"^[^\W_]{_TITLE_CHAR}*$")
_TITLE_CHAR_RE = re.compile(_TITLE_CHAR)


# A BCP 47 language tag of the common shape: language, optional script, optional region
# (`en`, `es`, `pt-BR`, `zh-Hant-TW`, `es-419`). It goes into HTML `lang` and Typst's `lang`.
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?")


def language_problem(value: str) -> str | None:
    """Why a deck's `language:` is refused, or None."""
    if not _LANGUAGE_RE.fullmatch(value):
        return "must be a language tag such as en, es, pt-BR or zh-Hant-TW"
    return None


def title_problem(value: str) -> str | None:
    """Why a deck name or syllabus title is refused, or None."""
    if not value.strip():
        return "must not be empty"
    if value != value.strip():
        return "must not start or end with a space"
    if "::" in value:
        return "must not contain '::' (Anki reads it as a deck level)"
    if not _TITLE_RE.match(value):
        bad = sorted({c for c in value if not _TITLE_CHAR_RE.match(c)})
        shown = ", ".join(repr(printable(c)) for c in bad) or "its first character"
        return (
            "may use letters, digits, spaces and . , ; : ! ? ' ( ) & / + # · – - only "
            f"(not {shown})"
        )
    return None


def plain_text_problem(value: str) -> str | None:
    """Why free text (a description or summary, shown as text, never as HTML) is refused."""
    if any(unicodedata.category(c) in ("Cc", "Cf") and c not in "\n\t" for c in value):
        return "contains control or formatting characters"
    if TEMPLATE_MARK_RE.search(value):
        return "contains '{{' or '}}' (template markup)"
    if re.search(r"\\[()\[\]]", value):
        return "contains a math delimiter (\\( \\) \\[ \\])"
    return None


_FILE_SEGMENT_RE = re.compile(r"^[^\W_][\w.-]*$")


def file_name_problem(relative: str) -> str | None:
    """Why a card file's path (relative to the cards folder) is refused, or None.

    The path is shown in every output (the note's SourceFile field, the site, messages, CSV),
    where a `:`, a backslash or a control character would be read as something else.
    """
    bad = [part for part in relative.split("/") if not _FILE_SEGMENT_RE.match(part)]
    if bad:
        return (
            f"file name '{printable(bad[0])}' may use letters, digits, '.', '_' and '-' only, "
            "starting with a letter or digit: rename it"
        )
    return None


# --------------------------------------------------------------------------- terminal

_CONTROL_RE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def printable(text: str) -> str:
    """Text safe to print on a terminal: control, bidi and line-separator characters are shown
    as escapes (`\\u001b`, `\\u202e`), so a value can never move the cursor or fake output."""
    return _CONTROL_RE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


# --------------------------------------------------------------------------- CSV cells

# OWASP CSV injection: a cell a spreadsheet would read as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: str, *, html_cell: bool) -> str:
    """A cell no spreadsheet runs as a formula.

    HTML cells (read by Anki as HTML) get their first character as a numeric entity, which
    renders identically; plain cells get OWASP's leading apostrophe.
    """
    if not value.startswith(_FORMULA_START):
        return value
    if html_cell:
        return f"&#{ord(value[0])};{value[1:]}"
    return f"'{value}"


_GUID_RE = re.compile(r"[A-Za-z0-9!#$%&()*+,\-./:;<=>?@\[\]^_`{|}~]{1,10}")


def guid_cell(value: str) -> str:
    """A note GUID for the column Anki's text importer matches notes on, verbatim: an apostrophe
    would make it another note's GUID. Only what `genanki.guid_for` makes is accepted: at most
    10 characters of Anki's base91 alphabet taken from a SHA-256, which no one can steer into a
    harmful formula (a DDE or HYPERLINK payload needs far more chosen characters)."""
    if not _GUID_RE.fullmatch(value):
        raise ValueError(f"not a note GUID: {value!r}")
    return value


# --------------------------------------------------------------------------- math

# TeX that MathJax may typeset: Anki desktop and AnkiDroid run MathJax 3 on `\(…\)`, `\[…\]` and
# `\begin{…}…\end{…}` found in the card's text. Its `html` and `action` extensions turn TeX into
# links, styles, classes and ids (`\href`, `\style`, `\class`, `\cssId`, `\data`), `\require`
# and `\unicode` load resources, and macros (`\def`, `\newcommand`) redefine all of them: only
# plain mathematics is allowed.
_MATH_COMMANDS = frozenset(
    """
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi
    pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta
    Lambda Xi Pi Sigma Upsilon Phi Psi Omega
    frac dfrac tfrac sqrt sum prod coprod int iint oint lim limsup liminf log ln lg exp sin cos tan
    cot sec csc arcsin arccos arctan sinh cosh tanh max min sup inf arg det dim gcd deg ker hom
    Pr bmod pmod mod binom dbinom tbinom choose over
    left right big Big bigg Bigg bigl bigr Bigl Bigr middle
    cdot cdots ldots dots vdots ddots times div pm mp ast star circ bullet oplus ominus otimes
    odot wedge vee cap cup setminus land lor lnot neg
    le leq ge geq ne neq lt gt approx equiv sim simeq cong propto ll gg prec succ preceq succeq
    in notin ni subset subseteq supset supseteq emptyset varnothing forall exists nexists
    infty partial nabla prime ell hbar Re Im aleph
    to gets rightarrow leftarrow Rightarrow Leftarrow leftrightarrow Leftrightarrow mapsto
    longrightarrow longleftarrow Longrightarrow implies iff uparrow downarrow
    text textrm textbf textit texttt textsf mathrm mathbf mathit mathsf mathtt mathcal mathbb
    mathfrak boldsymbol operatorname
    overline underline hat bar vec tilde dot ddot widehat widetilde overbrace underbrace
    overset underset stackrel not
    langle rangle lceil rceil lfloor rfloor lvert rvert lVert rVert vert Vert mid parallel perp
    quad qquad displaystyle textstyle scriptstyle limits nolimits
    top bot angle triangle square checkmark dagger ddagger oslash
    begin end hline
    """.split()
)
_MATH_SYMBOLS = frozenset("\\,;:!{}| %#&_$")
_MATH_ENVIRONMENTS = frozenset(
    "matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix smallmatrix cases aligned align align* "
    "gathered gather gather* split array equation equation*".split()
)
# Commands that reach HTML, load resources or define macros: refused even inside code, where
# MathJax does not look by default but a changed configuration might.
_MATH_DANGEROUS = frozenset(
    "href url style class cssId data attr require unicode mmlToken bbox html def gdef edef "
    "newcommand renewcommand providecommand DeclareMathOperator let newenvironment "
    "renewenvironment toggle mathtip texttip fragment".split()
)
_DANGEROUS_ANYWHERE_RE = re.compile(
    r"\\(?:" + "|".join(sorted(_MATH_DANGEROUS, key=len, reverse=True)) + r")(?![A-Za-z])"
)
_MATH_TOKEN_RE = re.compile(r"\\([A-Za-z]+|.)|\\$", re.DOTALL)
_MATH_OPEN_RE = re.compile(r"\\\(|\\\[|\\begin\{|\\\)|\\\]")
_ENV_NAME_RE = re.compile(r"\\begin\{([^{}]*)\}")
_HTML_TAG_RE = re.compile(r'<(/?)([A-Za-z][A-Za-z0-9]*)(?:[^>"]|"[^"]*")*>')


def _tex_problem(tex: str, allowed: frozenset[str] | None) -> str | None:
    for match in _MATH_TOKEN_RE.finditer(tex):
        name = match.group(1) or "\\"
        if allowed is None:
            if name in _MATH_DANGEROUS:
                return f"TeX command '\\{name}' is not allowed"
            continue
        if len(name) == 1 and not name.isalpha():
            if name not in _MATH_SYMBOLS:
                return f"TeX '\\{printable(name)}' is not allowed"
        elif name not in allowed:
            return f"TeX command '\\{printable(name)}' is not allowed (plain math only)"
    if allowed is not None:
        for env in _ENV_NAME_RE.findall(tex):
            if env not in _MATH_ENVIRONMENTS:
                return f"TeX environment '{printable(env)}' is not allowed"
    return None


_MATH_START_RE = re.compile(r"\\\(|\\\[|\\begin\{([^{}]*)\}")


@functools.cache
def _end_pattern(close: str) -> re.Pattern[str]:
    return re.compile(re.escape(close) + r"|\\(?:[a-zA-Z]|.)|[{}]", re.DOTALL)


def _find_end(text: str, position: int, close: str) -> int | None:
    r"""Where MathJax's `FindTeX.findEnd` closes math opened before `position`: tokens are the
    closer, a backslash with the character after it, and braces; the closer counts only
    outside braces (so `\\)` and `{\)}` do not close `\(`)."""
    braces = 0
    for match in _end_pattern(close).finditer(text, position):
        token = match.group(0)
        if token == close and braces == 0:
            return match.start()
        if token == "{":
            braces += 1
        elif token == "}" and braces:
            braces -= 1
    return None


def _math_regions(text: str) -> tuple[list[str], str | None]:
    """The spans MathJax would typeset — `\\(…\\)`, `\\[…\\]`, `\\begin{…}…\\end{…}`, found and
    closed as MathJax finds them — and the first delimiter never closed (it would pair with
    math in a neighbouring field)."""
    regions: list[str] = []
    unclosed: str | None = None
    position = 0
    while (opener := _MATH_START_RE.search(text, position)) is not None:
        token = opener.group(0)
        environment = opener.group(1)
        if environment is not None:
            close = f"\\end{{{environment}}}"
        else:
            close = "\\)" if token == "\\(" else "\\]"
        end = _find_end(text, opener.end(), close)
        if end is None:
            unclosed = unclosed or f"'{token}' is never closed with '{close}'"
            position = opener.end()  # MathJax, too, goes on looking after it
            continue
        start = opener.start() if environment is not None else opener.end()
        regions.append(text[start : end + len(close) if environment is not None else end])
        position = end + len(close)
    return regions, unclosed


def math_problems(fragment: str) -> list[str]:
    """Why the TeX in a sanitized HTML fragment may not reach MathJax; empty when it is fine.

    Text is read as MathJax reads it: entities decoded, inline tags joined, `<code>` and `<pre>`
    skipped (there only commands that reach HTML are refused, whatever the configuration).
    """
    if "\\" not in fragment and "&" not in fragment:
        return []
    outside: list[str] = []
    inside: list[str] = []
    depth = 0
    position = 0
    for tag in _HTML_TAG_RE.finditer(fragment):
        (inside if depth else outside).append(fragment[position : tag.start()])
        if tag.group(2).lower() in ("code", "pre"):
            depth = max(depth + (-1 if tag.group(1) else 1), 0)
            inside.append("\x00")
        position = tag.end()
    (inside if depth else outside).append(fragment[position:])
    problems = []
    text = html.unescape("".join(outside))
    regions, unbalanced = _math_regions(text)
    if unbalanced:
        problems.append(f"math delimiter {unbalanced}")
    for region in regions:
        problem = _tex_problem(region, _MATH_COMMANDS)
        if problem:
            problems.append(problem)
    code = html.unescape("".join(inside))
    # Wherever it stands — in code (a class can make MathJax read it), after a stray delimiter —
    # a command that reaches HTML, loads something or defines macros is refused.
    for where, whole in (("text", text), ("code that MathJax could read", code)):
        dangerous = _DANGEROUS_ANYWHERE_RE.search(whole)
        if dangerous:
            problems.append(f"TeX command '{dangerous.group(0)}' is not allowed (in {where})")
    return sorted(set(problems), key=problems.index)


_REPOSITORY_RE = re.compile(r"^https://[a-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~-]+)*/?$")


def repository_problem(url: str) -> str | None:
    """Why a deck's repository address (the base of "report a mistake" links) is refused."""
    problem = url_problem(url, relative=False)
    if problem:
        return problem
    if not _REPOSITORY_RE.match(url):
        return (
            f"'{printable(url)}' must be a plain https:// address of the repository "
            "(no query, fragment or special characters)"
        )
    return None
