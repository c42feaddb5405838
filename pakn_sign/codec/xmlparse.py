"""The one hardened XML parser every untrusted byte goes through.

No DTD (refused before parsing, so no entity expansion can cost memory), no entity
resolution, no network, no XInclude processing, UTF-8 only, limits on total size,
nesting depth and text-node size. Every refusal is an ``InvalidInput`` naming the line.
"""

from __future__ import annotations

import codecs
import re
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
    dtd = _DOCTYPE.search(data)
    if dtd:
        raise InvalidInput(
            "DTDs and entity declarations are not allowed",
            location=f"line {_line_of(data, dtd.start())}",
            code="input.dtd_forbidden",
        )
    # Check UTF-8 first: libxml2 silently replaces some invalid sequences in recovery paths.
    _check_utf8(data)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else "?"
        raise InvalidInput(f"not well-formed XML: {exc.msg}", location=f"line {line}") from None
    except (etree.LxmlError, ValueError) as exc:  # pragma: no cover - defensive, lxml internals
        raise InvalidInput(f"XML could not be parsed: {exc}", location="line ?") from None
    _check_shape(root, limits)
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


def _check_shape(root: etree._Element, limits: XmlLimits) -> None:
    """Depth and text-node limits; one pass, no recursion."""
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
