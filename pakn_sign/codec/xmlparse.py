"""The one hardened XML parser every untrusted byte goes through.

No DTD (refused before parsing, so no entity expansion can cost memory), no entity
resolution, no network, no XInclude processing, UTF-8 only, limits on total size,
nesting depth and text-node size. Every refusal is an ``InvalidInput`` naming the line.
"""

from __future__ import annotations

import codecs
import re
import threading
from dataclasses import dataclass

from lxml import etree

from ..errors import InvalidInput

__all__ = ["DEFAULT_LIMITS", "XmlLimits", "parse_xml"]


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Limits applied before and while parsing untrusted XML."""

    max_bytes: int = 16 * 1024 * 1024
    """Whole document size. PAKN documents carry attachments by digest, not inline."""
    max_depth: int = 64
    """Element nesting depth (libxml2 itself stops at 256 without XML_PARSE_HUGE)."""
    max_text_bytes: int = 4 * 1024 * 1024
    """Largest single text node; libxml2 caps at 10 MB without XML_PARSE_HUGE."""


DEFAULT_LIMITS = XmlLimits()

# A DOCTYPE may only appear in the prolog, but refusing the token anywhere outside of
# escaped text is harmless for our documents and closes every DTD-based attack
# (billion laughs, quadratic blow-up, external and parameter entities, external DTD).
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_DECL_ENCODING = re.compile(rb"^<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _parser() -> etree.XMLParser:
    # One parser per thread (lxml parsers must not be shared between threads); a new
    # one per call cost a parser context each time. Parsers hold no state between parses.
    parser: etree.XMLParser | None = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = _new_parser()
    return parser


_PARSERS = threading.local()


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def parse_xml(data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS) -> etree._ElementTree:
    """Parse untrusted UTF-8 XML bytes into a tree, or raise ``InvalidInput``.

    Args:
        data: the document bytes, exactly as received.
        limits: size, depth and text-node limits.

    Raises:
        InvalidInput: oversized, DTD or entity declarations, not UTF-8, not well-formed,
            too deep, or a text node over the limit; ``location`` names the line.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInput(f"XML input must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > limits.max_bytes:
        raise InvalidInput(
            f"XML document is {len(data)} bytes; the limit is {limits.max_bytes}",
            location=f"offset {limits.max_bytes}",
            code="input.too_large",
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:4] in (b"\x00<\x00?", b"<\x00?\x00"):
        raise InvalidInput("XML must be UTF-8; found UTF-16", location="line 1")
    m = _DECL_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    if m and m.group(1).lower() not in (b"utf-8", b"utf8"):
        enc = m.group(1).decode("ascii")
        raise InvalidInput(f"XML must be UTF-8; declared encoding is {enc}", location="line 1")
    # Both tokens contain "!": one C-level byte scan spares the regex on most documents.
    dtd = _DOCTYPE.search(data) if b"!" in data else None
    if dtd:
        raise InvalidInput(
            "DTDs and entity declarations are not allowed",
            location=f"line {_line_of(data, dtd.start())}",
            code="input.dtd_forbidden",
        )
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        # libxml2 without recovery refuses every invalid UTF-8 sequence (overlong forms,
        # surrogates, > U+10FFFF, truncation: tests/test_bad_input.py), so decoding in
        # Python is needed only to name the offending byte and line, here.
        _check_utf8(data)
        line = exc.lineno if exc.lineno else "?"
        raise InvalidInput(f"not well-formed XML: {exc.msg}", location=f"line {line}") from None
    except (etree.LxmlError, ValueError) as exc:  # pragma: no cover - defensive, lxml internals
        raise InvalidInput(f"XML could not be parsed: {exc}", location="line ?") from None
    if _shape_exceeded(root, limits, len(data)):
        _check_shape(root, limits)
        raise InvalidInput(  # pragma: no cover - _check_shape names the node first
            "XML exceeds the depth or text-node limits", location="line ?"
        )
    return root.getroottree()


_UTF8_CHUNK = 1 << 20


def _check_utf8(data: bytes) -> None:
    """Refuse invalid UTF-8, decoding in chunks so no copy of the whole input is made."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data) + 1, _UTF8_CHUNK):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(
                view[start : start + _UTF8_CHUNK], final=start + _UTF8_CHUNK >= len(data)
            )
        except UnicodeDecodeError as exc:
            offset = min(max(start - pending + exc.start, 0), len(data) - 1)
            raise InvalidInput(
                f"invalid UTF-8 byte 0x{data[offset]:02x}",
                location=f"line {_line_of(data, offset)}",
            ) from None


_LOCAL = threading.local()
_TEXT_NODES = (
    "boolean((/*//text() | /*//comment() | /*//processing-instruction())[string-length() > $n])"
)


def _xpath(expr: str) -> etree.XPath:
    # Compiled once per thread (lxml evaluators are not shared across threads).
    cache: dict[str, etree.XPath] = _LOCAL.__dict__.setdefault("xpaths", {})
    xp = cache.get(expr)
    if xp is None:
        xp = cache[expr] = etree.XPath(expr)
    return xp


def _shape_exceeded(root: etree._Element, limits: XmlLimits, size: int) -> bool:
    """The limits of :func:`_check_shape`, evaluated in libxml2 (no Python tree walk).

    Depth: a node other than text below an element at depth ``max_depth`` (elements,
    comments and PIs count, as in the walk). Text: XPath ``string-length`` counts
    characters, as ``len`` does in the walk; a node cannot hold more characters than the
    input has bytes, so small inputs skip that scan.
    """
    if limits.max_depth < 1:
        return True
    deep = "boolean(" + "/*" * limits.max_depth + "/node()[not(self::text())])"
    if bool(_xpath(deep)(root)):
        return True
    if size <= limits.max_text_bytes:
        return False
    return bool(_xpath(_TEXT_NODES)(root, n=limits.max_text_bytes))


def _check_shape(root: etree._Element, limits: XmlLimits) -> None:
    """Depth and text-node limits; one pass, no recursion (run to locate a violation)."""
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        if depth > limits.max_depth:
            raise InvalidInput(
                f"XML nesting deeper than {limits.max_depth} elements",
                location=f"line {el.sourceline}",
                code="input.too_deep",
            )
        for text in (el.text, el.tail):
            if text is not None and len(text) > limits.max_text_bytes:
                raise InvalidInput(
                    f"text node of {len(text)} characters exceeds {limits.max_text_bytes}",
                    location=f"line {el.sourceline}",
                    code="input.too_large",
                )
        stack.extend((child, depth + 1) for child in el)
