"""PAKN documents <-> XML in the namespace ``urn:pakn-sign:pakn:1`` (schemas/xsd/pakn-1.xsd).

Writing is deterministic: the same model always gives the same bytes (UTF-8, XML
declaration, two-space indentation, Vietnamese as characters, never ``&#NNNN;``).
Reading goes through the hardened :func:`~pakn_sign.codec.xmlparse.parse_xml`, then the
XSD, then the pydantic model; every refusal names the line and the element path.

A document may arrive inside the signed container ``<pakn:Signed>`` (one document, then
one or more ``ds:Signature``); :func:`from_xml` returns the inner document and
:func:`split_signed` hands the parts to the signature code.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import TYPE_CHECKING, Any, TypeVar, overload

from lxml import etree

from ..errors import ConfigurationError, InvalidInput, SchemaError
from ._xmlmap import (
    decode_model,
    encode_model,
    encode_model_c14n,
    encode_model_c14n_bytes,
)
from ._xmlplan import NS, qname
from ._xmlquick import decode_model_quick
from ._xmlschema import DSIG_NS, location_of, validate_schema
from .xmlparse import DEFAULT_LIMITS, XmlLimits, parse_xml

if TYPE_CHECKING:
    from ..models import Document, ValidationSettings

__all__ = [
    "DSIG_NS",
    "NS",
    "SIGNED_TAG",
    "document_from_element",
    "document_from_signed",
    "from_xml",
    "split_signed",
    "to_canonical_bytes",
    "to_canonical_xml",
    "to_xml",
    "to_xml_element",
]

_D = TypeVar("_D")
SIGNED_TAG = qname("Signed")
"""Clark tag of the signed container ``<pakn:Signed>``."""
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_IMPLIED = frozenset({"kind"})
_NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")


def _types() -> dict[str, type[Any]]:
    from ..models import DOCUMENT_TYPES

    return DOCUMENT_TYPES


@functools.cache
def _by_name() -> dict[str, type[Any]]:
    """Root element local name (the class name) -> document class."""
    return {cls.__name__: cls for cls in _types().values()}


def _check_encodable(doc: Document, element_id: str | None) -> None:
    if _by_name().get(type(doc).__name__) is not type(doc):
        raise ConfigurationError(f"not a PAKN document model: {type(doc).__name__}")
    if element_id is not None and not _NCNAME.fullmatch(element_id):
        # xs:ID is an NCName (Namespaces in XML 1.0 §3): no colon, no leading digit.
        raise ConfigurationError(f"element_id {element_id!r} is not an XML NCName")


def to_xml_element(doc: Document, *, element_id: str | None = None) -> etree._Element:
    """The document as an element tree, built directly from the model.

    Args:
        doc: any PAKN document model.
        element_id: value of the root's ``Id`` attribute (the target of ``#id`` signature
            references), if any.

    Raises:
        InvalidInput: a text value has characters XML 1.0 cannot carry.
        ConfigurationError: not a document model, or ``element_id`` is not an NCName.
    """
    _check_encodable(doc, element_id)
    root = encode_model(doc, implied=_IMPLIED)
    if element_id is not None:
        root.set("Id", element_id)
    return root


def to_canonical_xml(doc: Document, *, element_id: str | None = None) -> str:
    """Exclusive C14N 1.0 of ``to_xml_element(doc, element_id=...)``, as text, with no tree.

    The octets a same-document Reference to the element digests (XMLDSig §4.4.3.3).

    Raises:
        InvalidInput, ConfigurationError: as :func:`to_xml_element`.
    """
    _check_encodable(doc, element_id)
    return encode_model_c14n(doc, implied=_IMPLIED, element_id=element_id)


def to_canonical_bytes(doc: Document, *, element_id: str | None = None) -> bytes:
    """:func:`to_canonical_xml` as UTF-8 octets (what is digested), without a decode.

    Raises:
        InvalidInput, ConfigurationError: as :func:`to_xml_element`.
    """
    _check_encodable(doc, element_id)
    return encode_model_c14n_bytes(doc, implied=_IMPLIED, element_id=element_id)


def to_xml(doc: Document, *, element_id: str | None = None) -> bytes:
    """The document as deterministic UTF-8 XML bytes with an XML declaration.

    Args:
        doc: any PAKN document model.
        element_id: optional root ``Id`` attribute.
    """
    el = to_xml_element(doc, element_id=element_id)
    return etree.tostring(el, encoding="UTF-8", xml_declaration=True, pretty_print=True)


def split_signed(
    tree: etree._ElementTree | etree._Element,
) -> tuple[etree._Element, tuple[etree._Element, ...]]:
    """Split a ``<pakn:Signed>`` container into its document and its ``ds:Signature`` elements.

    An unsigned document is returned as ``(root, ())``. Only the structure is checked here
    (the XSD check is in :func:`document_from_element`); signature semantics are the
    XMLDSig code's job.

    Raises:
        SchemaError: the container does not hold exactly one PAKN document followed by
            one or more ``ds:Signature`` elements.
    """
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    if root.tag != SIGNED_TAG:
        return root, ()
    kids = [k for k in root if isinstance(k.tag, str)]
    if not kids or etree.QName(kids[0]).namespace != NS or kids[0].tag == SIGNED_TAG:
        raise SchemaError(
            "pakn:Signed must start with one PAKN document", location=location_of(root)
        )
    sigs = tuple(kids[1:])
    for sig in sigs:
        if sig.tag != f"{{{DSIG_NS}}}Signature":
            raise SchemaError("expected ds:Signature", location=location_of(sig))
    if not sigs:
        raise SchemaError("pakn:Signed holds no ds:Signature", location=location_of(root))
    return kids[0], sigs


_HAS_XSI = f"boolean(descendant-or-self::*/@*[namespace-uri() = '{_XSI_NS}'])"
_LOCAL = threading.local()


def _has_xsi(root: etree._Element) -> bool:
    # lxml evaluators lock per call: one per thread, compiled once.
    xp = getattr(_LOCAL, "xsi", None)
    if xp is None:
        xp = _LOCAL.xsi = etree.XPath(_HAS_XSI)
    return bool(xp(root))


def _refuse_xsi(root: etree._Element) -> None:
    # XSD 1.0 §2.6: xsi:type could substitute types and xsi:schemaLocation names schemas
    # to fetch; neither has a place in a PAKN document. One libxml2 scan; the walk below
    # only names the element.
    if not _has_xsi(root):
        return
    for el in root.iter(tag=etree.Element):
        for name in el.attrib:
            if etree.QName(name).namespace == _XSI_NS:
                raise InvalidInput(
                    f"xsi:{etree.QName(name).localname} attributes are not allowed",
                    location=location_of(el),
                    code="input.unsupported",
                )


def _check_expect(el: etree._Element, expect: type[Any] | None) -> type[Any]:
    """The model class named by the root element; ``SchemaError`` if unknown or not ``expect``."""
    if expect is not None and expect not in _types().values():
        raise ConfigurationError(f"expect must be a document class, got {expect!r}")
    if etree.QName(el).namespace != NS:
        raise SchemaError(
            f"expected an element in namespace {NS}, found {el.tag}", location=location_of(el)
        )
    by_name = _by_name()
    local = etree.QName(el).localname
    cls = by_name.get(local)
    if cls is None:
        raise SchemaError(
            f"expected one of {sorted(by_name)}, found pakn:{local}", location=location_of(el)
        )
    if expect is not None and cls is not expect:
        raise SchemaError(
            f"expected a {expect.__name__} document, found a {local}", location=location_of(el)
        )
    return cls


def document_from_element(
    el: etree._Element,
    *,
    expect: type[Any] | None = None,
    settings: ValidationSettings | None = None,
) -> Document:
    """Validate an element (a document or a Signed container) by XSD and model.

    Args:
        el: the element; for a ``<pakn:Signed>`` container the inner document is read.
        expect: a document class (e.g. ``Petition``) the document must be.
        settings: validation settings (agency-code mode, sector registry); the ones in
            effect (``use_settings``) or the defaults when ``None``.

    Raises:
        SchemaError: XSD or model violation, or not the expected kind (line and path given).
        InvalidInput: comments, PIs or xsi attributes inside the document.
    """
    _refuse_xsi(el)
    validate_schema(el)
    doc_el, _ = split_signed(el)
    cls = _check_expect(doc_el, expect)
    from ..models.settings import CONTEXT_KEY

    context = {CONTEXT_KEY: settings} if settings is not None else None
    result: Document = decode_model(doc_el, cls, implied=_IMPLIED, context=context)  # type: ignore[assignment]
    return result


@overload
def from_xml(
    data: bytes,
    *,
    expect: None = None,
    limits: XmlLimits = ...,
    settings: ValidationSettings | None = None,
) -> Document: ...
@overload
def from_xml(
    data: bytes,
    *,
    expect: type[_D],
    limits: XmlLimits = ...,
    settings: ValidationSettings | None = None,
) -> _D: ...
def from_xml(
    data: bytes,
    *,
    expect: type[Any] | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
    settings: ValidationSettings | None = None,
) -> Any:
    """Parse untrusted XML bytes into a document model.

    Args:
        data: the bytes as received (an unsigned document or a ``<pakn:Signed>`` container).
        expect: a document class (e.g. ``Petition``) the document must be.
        limits: parser size, depth and text-node limits.
        settings: validation settings, as for :func:`document_from_element`.

    Raises:
        InvalidInput: not well-formed, not UTF-8, DTDs/entities, limits exceeded.
        SchemaError: XSD or model violation, or another kind than ``expect``.
    """
    tree = parse_xml(data, limits=limits)
    root = tree.getroot()
    if root.tag != SIGNED_TAG:
        _check_expect(root, expect)  # a clear message before the XSD's
    return document_from_element(root, expect=expect, settings=settings)


def document_from_signed(el: etree._Element, canonical: bytes) -> Document:
    """``from_xml(canonical)``, where ``canonical`` is the exclusive C14N of ``el``.

    For a verifier: ``el`` is the referenced element in the already parsed input and
    ``canonical`` the exact octets its Reference digested. The model is mapped from ``el``
    and written back with :func:`to_canonical_xml`; equal bytes prove it is the model of
    ``canonical`` (``from_xml(to_canonical_xml(m)) == m``, and that text is XSD-valid:
    tests/test_xml_codec.py), with no second parse and no XSD pass. Anything else (a
    comment, an xsi or foreign attribute, another prefix, non-canonical text, a model
    error) takes the full path, which gives the precise refusal or accepts valid but
    non-canonical content.

    Raises:
        InvalidInput, SchemaError: as :func:`from_xml` of ``canonical``.
    """
    doc = _canonical_model(el, canonical)
    return doc if doc is not None else from_xml(canonical)


def _canonical_model(el: etree._Element, canonical: bytes) -> Document | None:
    tag = el.tag
    if not isinstance(tag, str) or not tag.startswith(_NS_OPEN):
        return None
    cls = _by_name().get(tag[len(_NS_OPEN) :])
    element_id = el.get("Id")
    if cls is None or (element_id is not None and not _NCNAME.fullmatch(element_id)):
        return None
    doc = decode_model_quick(el, cls, implied=_IMPLIED)
    if doc is None:
        return None
    try:
        text = encode_model_c14n_bytes(doc, implied=_IMPLIED, element_id=element_id)
    except InvalidInput:
        return None
    return doc if text == canonical else None  # type: ignore[return-value]


_NS_OPEN = "{" + NS + "}"
