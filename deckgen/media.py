"""What a media file must be to ship: type checked by content, size capped, SVG allow-listed."""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesNSImpl

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from deckgen.safety import printable

if TYPE_CHECKING:
    from defusedxml.expatreader import DefusedExpatParser

# The hard cap: a larger image is refused (DG111). Lint warns well before it, from
# deckgen.lint.MEDIA_WARNING_BYTES (DG402).
MAX_MEDIA_BYTES = 5 * 1024 * 1024
# Pixel caps for raster images, checked from the header before any decoder sees the image:
# Typst and browsers allocate width * height * 4 bytes, so an 80000x80000 PNG of a few hundred
# KiB would need 25 GB. 8192 a side and 40 megapixels is far beyond any card picture.
MAX_IMAGE_SIDE = 8192
MAX_IMAGE_PIXELS = 40_000_000
# An SVG is rendered as the tree its <use> and url(#id) references expand to: ten nested groups
# of ten references each would be 10^10 elements from a file of a few KiB ("billion laughs").
MAX_SVG_ELEMENTS = 250_000
MAX_SVG_DEPTH = 256

# Suffix → the formats Pillow may find in the file (MPO is a JPEG with extra pictures appended).
_RASTER_FORMATS: dict[str, tuple[str, ...]] = {
    ".png": ("PNG",),
    ".jpg": ("JPEG", "MPO"),
    ".jpeg": ("JPEG", "MPO"),
    ".gif": ("GIF",),
    ".webp": ("WEBP",),
}
MEDIA_SUFFIXES = frozenset({*_RASTER_FORMATS, ".svg"})
# Only these parsers ever see a file: Pillow would otherwise try every format it knows.
_PILLOW_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")


@functools.cache
def _pillow() -> ModuleType:
    """Pillow's Image module, imported by the first image checked (a build whose changed card
    files have none never pays for it), with deckgen's cap on pixels set: any decode elsewhere
    in the process (there is none today) gets it too, not Pillow's 89 MP."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    return Image


SVG_DANGER = "is an SVG with scripts, event handlers or external references"


def problem_code(problem: str) -> str:
    """The rule code of a `media_problem` answer, decided by deckgen's own leading words (the
    rest of a message may quote an attacker's element names)."""
    if problem.startswith(SVG_DANGER):
        return "DG404"
    return "DG111" if "(limit " in problem else "DG405"


def media_problem(path: Path) -> str | None:
    """Why a media file may not be shipped (type checked by content, size capped), or None."""
    suffix = path.suffix.lower()
    if suffix not in MEDIA_SUFFIXES:
        return f"is not one of {', '.join(sorted(MEDIA_SUFFIXES))}"
    size = path.stat().st_size
    if size > MAX_MEDIA_BYTES:
        return f"is {size / 1024 / 1024:.1f} MiB (limit {MAX_MEDIA_BYTES // 1024 // 1024} MiB)"
    if suffix == ".svg":
        return svg_problem(path.read_bytes())
    return raster_problem(path, suffix)


# --------------------------------------------------------------------------- raster images


def raster_problem(path: Path, suffix: str) -> str | None:
    """Why a PNG, JPEG, GIF or WebP file is refused: wrong format or too many pixels, or None.

    Only the header is read (`Image.open` is lazy; nothing calls `load()`), so a decompression
    bomb costs nothing here.
    """
    Image = _pillow()
    label = suffix[1:].upper()
    limit = f"limit {MAX_IMAGE_SIDE} pixels a side and {MAX_IMAGE_PIXELS // 1_000_000} megapixels"
    try:
        with warnings.catch_warnings():
            # Pillow warns between its cap and twice it; the check below refuses those with a size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=_PILLOW_FORMATS) as image:
                found, (width, height) = image.format, image.size
    except Image.DecompressionBombError:
        return f"is an image of more than {2 * MAX_IMAGE_PIXELS // 1_000_000} megapixels ({limit})"
    except Exception:  # a malformed header may raise anything (struct.error, …): none escapes
        return f"is not a {label} file (checked by content): not a valid image"
    if found not in _RASTER_FORMATS[suffix]:
        return f"is not a {label} file (checked by content): it is a {found} image"
    if width < 1 or height < 1:
        return f"is not a {label} file (checked by content): it has no pixels"
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
        return f"is a {width}×{height} image ({limit})"
    return None


# --------------------------------------------------------------------------- SVG

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# Drawing only. Left out on purpose: script, foreignObject (HTML inside SVG), a (navigation),
# image and feImage (load other files), style (CSS: @import, url()), animate/set (can rewrite
# href to javascript:), filters (rasterized: a huge blur region is a memory bomb), switch, and
# marker (drawn again at every vertex of every path that inherits it: a marker of 500 shapes on a
# path of 40000 vertices ran Typst out of memory, and inheritance through <g> and <use> makes
# the count depend on context the expansion check cannot memoise).
SVG_ELEMENTS = frozenset(
    """svg g defs symbol use title desc metadata path rect circle ellipse line polyline polygon
    text tspan textPath linearGradient radialGradient stop clipPath mask pattern""".split()
)
# Presentation properties: allowed as attributes and, with checked values, inside style="…".
SVG_PROPERTIES = frozenset(
    """fill fill-opacity fill-rule stroke stroke-width stroke-linecap stroke-linejoin
    stroke-miterlimit stroke-dasharray stroke-dashoffset stroke-opacity opacity stop-color
    stop-opacity clip-path clip-rule mask color display
    visibility overflow font-family font-size font-size-adjust font-weight font-style font-variant
    font-stretch text-anchor dominant-baseline alignment-baseline baseline-shift text-decoration
    letter-spacing word-spacing writing-mode direction unicode-bidi shape-rendering text-rendering
    color-interpolation color-rendering paint-order vector-effect transform-origin""".split()
)
SVG_ATTRIBUTES = SVG_PROPERTIES | frozenset(
    """id class lang role aria-label aria-hidden aria-labelledby aria-describedby width height
    viewBox preserveAspectRatio version baseProfile x y x1 y1 x2 y2 cx cy r rx ry fx fy fr d
    points pathLength transform dx dy rotate textLength lengthAdjust startOffset method spacing
    side gradientUnits gradientTransform spreadMethod offset patternUnits patternContentUnits
    patternTransform clipPathUnits maskUnits maskContentUnits refX refY href style""".split()
)
_XML_ATTRIBUTES = frozenset({"space", "lang"})

# A reference inside the same file: the only kind of href or url() an SVG may hold.
_LOCAL_REF_RE = re.compile(r"#([A-Za-z0-9_.:-]+)")
_URL_OPEN_RE = re.compile(r"url\s*\(", re.IGNORECASE)
_URL_LOCAL_RE = re.compile(r"\s*(['\"]?)#([A-Za-z0-9_.:-]+)\1\s*\)")
# The grammar of a presentation property's value, as an attribute or inside style="…": a list,
# split by spaces or commas, of `none`-like keywords, numbers with a unit or %, #hex and
# rgb()/rgba()/hsl()/hsla() colours, url(#id), and `!important`. Anything else is refused: CSS
# functions that load (image-set, -webkit-image-set, image, cross-fade, element, src, url with a
# target), strings, comments, escapes and @-rules. font-family alone may quote a font name.
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_COLOUR_ARG = rf"{_NUMBER}(?:%|deg)?"
_VALUE_TOKEN_RE = re.compile(
    r"url\(\s*(['\"]?)#([A-Za-z0-9_.:-]+)\1\s*\)"
    rf"|(?:rgba?|hsla?)\(\s*{_COLOUR_ARG}(?:(?:\s*[,/]\s*|\s+){_COLOUR_ARG})*\s*\)"
    r"|#[0-9A-Fa-f]{3,8}(?![\w-])"
    rf"|{_NUMBER}(?:%|[A-Za-z]+)?(?![\w(-])"
    r"|[A-Za-z][A-Za-z0-9-]*(?![\w(-])"
    r"|!important(?![\w(-])",
    re.IGNORECASE,
)
_FONT_NAME_RE = re.compile(r"(['\"])[A-Za-z0-9 ._-]*\1")
_SEPARATORS_RE = re.compile(r"[\s,]*")
# Attributes that are not CSS but hold functions: transform's, and url(#id) in any of them.
_TRANSFORM_FUNCTIONS = frozenset(
    "matrix translate translatex translatey scale scalex scaley rotate skewx skewy url".split()
)
_FUNCTION_RE = re.compile(r"([A-Za-z0-9_-]*)\s*\(")
# Text for people or for ids, never read as CSS or as a function call.
_TEXT_ATTRIBUTES = frozenset(
    "id class lang role aria-label aria-labelledby aria-describedby".split()
)


class SvgRefused(Exception):
    """Raised by the checker at the first thing in an SVG that may not be shipped."""

    def __init__(self, what: str, *, limit: int = 0) -> None:
        super().__init__(what)
        self.what = what
        self.limit = limit  # set when a size limit was passed, rather than unsafe content found


class _NotSvg(Exception):
    """The document is XML, but its root element is not an SVG <svg>."""


def _shown(value: str, limit: int = 60) -> str:
    text = printable(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Element:
    tag: str
    refs: list[str] = field(default_factory=list)
    children: list[int] = field(default_factory=list)


class _SvgChecker(ContentHandler):
    """Checks every element and attribute against the allow-list as expat reports them."""

    def __init__(self, parser: DefusedExpatParser) -> None:
        super().__init__()
        self._parser = parser
        self.elements: list[_Element] = []
        self.ids: dict[str, int] = {}
        self._open: list[int] = []

    def _line(self) -> int:
        return int(self._parser.getLineNumber())

    def _refuse(self, what: str, hint: str = "") -> SvgRefused:
        return SvgRefused(f"{what} (line {self._line()}{'; ' + hint if hint else ''})")

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        uri, local = name
        if not self.elements and not (local == "svg" and uri in (SVG_NS, None)):
            raise _NotSvg(local)
        if uri not in (SVG_NS, None):
            raise self._refuse(f"<{local}> from namespace '{_shown(uri)}'")
        if local not in SVG_ELEMENTS:
            raise self._refuse(f"<{local}>")
        if len(self._open) >= MAX_SVG_DEPTH:
            raise SvgRefused(f"elements nested deeper than {MAX_SVG_DEPTH}", limit=MAX_SVG_DEPTH)
        index = len(self.elements)
        parent = self._open[-1] if self._open else -1
        element = _Element(local)
        self.elements.append(element)
        if parent >= 0:
            self.elements[parent].children.append(index)
        self._open.append(index)
        for (attr_uri, attr), value in attrs.items():
            self._attribute(local, attr_uri, attr, value, element)
            if attr == "id" and attr_uri is None:
                self.ids.setdefault(value, index)

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        self._open.pop()

    def processingInstruction(self, target: str, data: str) -> None:
        # <?xml-stylesheet href="…"?> makes a browser load CSS from anywhere.
        raise self._refuse(f"processing instruction <?{_shown(target)}?>")

    def _attribute(
        self, tag: str, uri: str | None, attr: str, value: str, element: _Element
    ) -> None:
        where = f"on <{tag}>"
        if uri is None and attr.lower().startswith("on"):
            raise self._refuse(f"event handler {attr}= {where}")
        if attr == "href" and uri in (XLINK_NS, None):
            match = _LOCAL_REF_RE.fullmatch(value)
            if not match:
                raise self._refuse(f"link href='{_shown(value)}' {where}", "only #id may be linked")
            element.refs.append(match.group(1))
            return
        if uri == XML_NS and attr in _XML_ATTRIBUTES:
            return
        if uri is not None or attr not in SVG_ATTRIBUTES:
            shown = attr if uri is None else f"{attr} from namespace '{_shown(uri)}'"
            raise self._refuse(f"attribute {shown} {where}")
        # Presentation attributes are read with CSS syntax: a backslash escape could spell
        # `url(` in a way the check below cannot see, and no drawing needs one.
        if "\\" in value:
            raise self._refuse(f"backslash in {attr}= {where}")
        if attr == "style":
            element.refs.extend(self._style(value, where))
        elif attr in SVG_PROPERTIES:
            refs = self._property_value(attr, value)
            if refs is None:
                if _URL_OPEN_RE.search(value):  # name the url(…) it holds
                    list(self._local_urls(value, f"{attr}= {where}"))
                raise self._refuse(
                    f"value '{_shown(value.strip())}' of {attr}= {where}",
                    "only colours, numbers, keywords and url(#id) are allowed",
                )
            element.refs.extend(refs)
        elif "(" in value and attr not in _TEXT_ATTRIBUTES:  # most values hold no function
            for function in _FUNCTION_RE.finditer(value):
                if function.group(1).lower() not in _TRANSFORM_FUNCTIONS:
                    shown = _shown(value[function.start() :], 40)
                    raise self._refuse(f"function '{shown}' in {attr}= {where}")
            element.refs.extend(self._local_urls(value, f"{attr}= {where}"))

    @staticmethod
    def _property_value(prop: str, value: str) -> list[str] | None:
        """The ids a property's value references, or None if it is outside the grammar."""
        refs: list[str] = []
        position, end = 0, len(value)
        while True:
            position = _SEPARATORS_RE.match(value, position).end()  # type: ignore[union-attr]
            if position >= end:
                return refs
            token = _VALUE_TOKEN_RE.match(value, position)
            if token is None and prop == "font-family":
                token = _FONT_NAME_RE.match(value, position)
            elif token is not None and token.group(2):
                refs.append(token.group(2))
            if token is None or token.end() == position:
                return None
            position = token.end()

    def _local_urls(self, value: str, where: str) -> Iterator[str]:
        """The ids of every url(#id) in a value; any other url(…) is refused."""
        for match in _URL_OPEN_RE.finditer(value):
            local = _URL_LOCAL_RE.match(value, match.end())
            if not local:
                shown = _shown(value[match.end() :], 40)
                raise self._refuse(f"url({shown} in {where}", "only url(#id) is allowed")
            yield local.group(2)

    def _style(self, value: str, where: str) -> Iterator[str]:
        for declaration in value.split(";"):
            if not declaration.strip():
                continue
            name, colon, css = declaration.partition(":")
            prop = name.strip().lower()
            if not colon or prop not in SVG_PROPERTIES:
                raise self._refuse(f"style property '{_shown(prop)}' {where}")
            refs = self._property_value(prop, css)
            if refs is None:
                raise self._refuse(f"style value '{_shown(css.strip())}' for {prop} {where}")
            yield from refs


# A gradient is a paint, not drawn content: referencing it repeats nothing.
_PAINTS = frozenset({"linearGradient", "radialGradient"})


def _check_expansion(checker: _SvgChecker) -> None:
    """Refuse an SVG whose references expand it past the limits, or that references itself.

    Every element costs itself, its children and the content it references (<use>, patterns,
    markers, masks, clip paths), memoised so that the walk stays linear in the file even when
    the expansion is exponential. The walk is iterative: a deep file must not overflow Python.
    """
    elements, ids = checker.elements, checker.ids
    too_many = SvgRefused(
        f"more than {MAX_SVG_ELEMENTS:,} elements once <use> and url(#id) are expanded",
        limit=MAX_SVG_ELEMENTS,
    )
    if len(elements) > MAX_SVG_ELEMENTS:
        raise too_many
    if not any(element.refs for element in elements):
        return  # nothing repeats: the file is its own expansion, its depth checked while read
    cost = [0] * len(elements)
    depth = [0] * len(elements)
    state = [0] * len(elements)  # 0 unvisited, 1 on the walk's stack, 2 done

    def successors(index: int) -> list[int]:
        return elements[index].children + [ids[r] for r in elements[index].refs if r in ids]

    for root in range(len(elements)):
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, iter(successors(root)))]
        while stack:
            index, pending = stack[-1]
            step = next(pending, None)
            if step is not None:
                if state[step] == 1:
                    raise SvgRefused("a reference cycle (an element that uses itself)")
                if state[step] == 0:
                    state[step] = 1
                    stack.append((step, iter(successors(step))))
                continue
            stack.pop()
            drawn = [n for n in successors(index) if elements[n].tag not in _PAINTS]
            cost[index] = min(1 + sum(cost[n] for n in drawn), MAX_SVG_ELEMENTS + 1)
            depth[index] = 1 + max((depth[n] for n in drawn), default=0)
            state[index] = 2
            if cost[index] > MAX_SVG_ELEMENTS:
                raise too_many
            if depth[index] > MAX_SVG_DEPTH:
                raise SvgRefused(
                    f"references nested deeper than {MAX_SVG_DEPTH}", limit=MAX_SVG_DEPTH
                )


def svg_problem(data: bytes) -> str | None:
    """Why an SVG file is refused, naming the first offending element or attribute, or None.

    expat (through defusedxml, which refuses DTDs, entities and external references) reads the
    file once, namespace-aware: `<s:script>` with `s` bound to SVG is seen as the `script` it
    is, and entities such as `&#106;avascript:` are decoded before any value is checked.
    """
    # imported here: its expat reader brings in urllib and http.client, for SVGs only
    from defusedxml.expatreader import DefusedExpatParser

    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_namespaces, True)
    checker = _SvgChecker(parser)
    parser.setContentHandler(checker)
    danger = SVG_DANGER
    try:
        parser.feed(data)
        parser.close()
        if not checker.elements:
            return "is not an SVG file (checked by content): it has no <svg> element"
        _check_expansion(checker)
    except _NotSvg as root:
        return f"is not an SVG file (checked by content): its root element is <{root}>"
    except SvgRefused as refused:
        if refused.limit:
            return f"is an SVG with {refused.what} (limit {refused.limit:,})"
        return f"{danger}: {refused.what}"
    except DTDForbidden:
        return f"{danger}: a <!DOCTYPE> declaration (line {parser.getLineNumber()})"
    except EntitiesForbidden:
        return f"{danger}: an <!ENTITY> declaration (line {parser.getLineNumber()})"
    except ExternalReferenceForbidden:
        return f"{danger}: an external entity (line {parser.getLineNumber()})"
    except SAXParseException as error:
        return (
            "is not an SVG file (checked by content): not well-formed XML at line "
            f"{error.getLineNumber()} ({error.getMessage()})"
        )
    return None
