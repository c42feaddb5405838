"""Read a PAKN document whose format (XML or JSON) is told by its first byte."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..errors import InvalidInput
from .xmlparse import DEFAULT_LIMITS, XmlLimits

if TYPE_CHECKING:
    from ..models import Document, ValidationSettings
    from .jsoncodec import JsonLimits

__all__ = ["detect_format", "load_document"]

_D = TypeVar("_D")
_WHITESPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"


def detect_format(data: bytes) -> str:
    """``"xml"`` if the first non-whitespace byte is ``<``, ``"json"`` if it is ``{``.

    A UTF-8 byte-order mark before it is skipped (XML 1.0 §4.3.3 allows it).

    Raises:
        InvalidInput: empty, or any other first byte (with its offset).
    """
    stripped = bytes(data).removeprefix(_BOM).lstrip(_WHITESPACE)
    if not stripped:
        raise InvalidInput("empty input: expected an XML or JSON document", location="offset 0")
    first = stripped[0]
    if first == ord("<"):
        return "xml"
    if first == ord("{"):
        return "json"
    offset = len(data) - len(stripped)
    raise InvalidInput(
        f"expected an XML ('<') or JSON ('{{') document, found byte 0x{first:02x}",
        location=f"offset {offset}",
    )


@overload
def load_document(
    data: bytes,
    *,
    expect: None = None,
    xml_limits: XmlLimits = ...,
    json_limits: JsonLimits | None = None,
    settings: ValidationSettings | None = None,
) -> Document: ...
@overload
def load_document(
    data: bytes,
    *,
    expect: type[_D],
    xml_limits: XmlLimits = ...,
    json_limits: JsonLimits | None = None,
    settings: ValidationSettings | None = None,
) -> _D: ...
def load_document(
    data: bytes,
    *,
    expect: type[Any] | None = None,
    xml_limits: XmlLimits = DEFAULT_LIMITS,
    json_limits: JsonLimits | None = None,
    settings: ValidationSettings | None = None,
) -> Any:
    """Parse a document from XML or JSON bytes, chosen by the first non-whitespace byte.

    Args:
        data: the bytes as received.
        expect: a document class (e.g. ``Petition``) the document must be.
        xml_limits: limits for the XML parser.
        json_limits: limits for the JSON parser (its defaults when ``None``).
        settings: validation settings (agency-code mode, sector registry).

    Raises:
        InvalidInput: neither XML nor JSON, or malformed, or over a limit.
        SchemaError: does not match its schema or model, or is not ``expect``.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInput(f"input must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if detect_format(data) == "xml":
        from .xmlcodec import from_xml

        return from_xml(data, expect=expect, limits=xml_limits, settings=settings)
    from .jsoncodec import DEFAULT_JSON_LIMITS, from_json

    return from_json(
        data, expect=expect, limits=json_limits or DEFAULT_JSON_LIMITS, settings=settings
    )
