"""Model <-> element tree, driven by :mod:`._xmlplan`; no I/O, no validation of its own."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from ..errors import InvalidInput, SchemaError
from ._xmlplan import (
    NS,
    ListShape,
    ModelPlan,
    ModelShape,
    ScalarShape,
    Shape,
    UnionShape,
    member_plan,
    model_plan,
    qname,
)
from ._xmlschema import location_of

__all__ = [
    "Node",
    "decode_model",
    "encode_model",
    "encode_model_c14n",
    "encode_model_c14n_bytes",
]


# -- encoding ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # xs:double spellings of the JSON-incompatible values pydantic may emit.
        return {"inf": "INF", "-inf": "-INF", "nan": "NaN"}.get(repr(value), repr(value))
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"no XML text form for {type(value).__name__}")


# -- canonical text --------------------------------------------------------------------------

# XML 1.0 §2.2 Char, as lxml enforces it on element text (no C0 controls but tab, LF, CR;
# no U+FFFE/U+FFFF); surrogates cannot be encoded at all.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Anything that needs escaping or refusing: most text has none (one C-level scan)."""


class _BadText(Exception):
    """Unrepresentable text; carries the element path, filled in while unwinding."""

    def __init__(self) -> None:
        super().__init__()
        self.path: list[str] = []


def _c14n_text(text: str) -> str:
    """Text as Canonical XML 1.0 §2.3 writes it: ``&``, ``<``, ``>`` and CR escaped."""
    if _SPECIAL.search(text) is None:
        return text
    if _NOT_XML_CHAR.search(text):
        raise _BadText
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")
    )


def _scalar_text(data: Any, texts: list[str] | None) -> str:
    # ``texts`` collects raw values (checked once, see encode_model_c14n); ``None`` escapes.
    value = data if type(data) is str else _text(data)
    if texts is None:
        return _c14n_text(value)
    texts.append(value)
    return value


def _c14n_value(
    out: list[str], shape: Shape, model: Any, data: Any, texts: list[str] | None
) -> None:
    if type(shape) is ScalarShape:
        out.append(_scalar_text(data, texts))
    elif type(shape) is ModelShape:
        _c14n_fields(out, model_plan(shape.cls), model, data, texts)
    elif type(shape) is UnionShape:
        local = type(model).__name__
        out.append(f"<pakn:{local}>")
        try:
            _c14n_fields(out, member_plan(shape, type(model)), model, data, texts)
        except _BadText as exc:
            exc.path.append("/" + local)
            raise
        out.append(f"</pakn:{local}>")
    else:
        assert isinstance(shape, ListShape)
        item_local = shape.item_local
        for i, (item_model, item_data) in enumerate(zip(model, data, strict=True)):
            try:
                if item_local is None:  # a union: the member element is the item
                    _c14n_value(out, shape.item, item_model, item_data, texts)
                else:
                    out.append(f"<pakn:{item_local}>")
                    _c14n_value(out, shape.item, item_model, item_data, texts)
                    out.append(f"</pakn:{item_local}>")
            except _BadText as exc:
                exc.path.append(f"[{i}]")
                raise


def _c14n_fields(
    out: list[str],
    plan: ModelPlan,
    model: BaseModel,
    data: dict[str, Any],
    texts: list[str] | None,
) -> None:
    append = out.append
    for name, local, start, end, shape in plan.rows:
        value = data[name]
        if value is None:  # None dumps as None and nothing else does (omitted: minOccurs=0)
            continue
        try:
            append(start)
            if shape is None:  # a scalar: the common case, inline
                if type(value) is not str:
                    value = _text(value)
                if texts is None:
                    value = _c14n_text(value)
                else:
                    texts.append(value)
                append(value)
            else:
                _c14n_value(out, shape, getattr(model, name), value, texts)
            append(end)
        except _BadText as exc:
            exc.path.append("/" + local)
            raise


_MARKUP_OR_BAD = b"&<>\r" + bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
"""Markup characters, CR, and the C0 controls XML 1.0 §2.2 excludes (tab and LF are Chars)."""


def _plain(raw: bytes, tags: int) -> bool:
    """True when no text value of ``raw`` needs escaping or refusing.

    The markup holds ``tags`` ``<`` and ``tags`` ``>`` and none of the other characters of
    ``_MARKUP_OR_BAD``, so deleting them all removes exactly ``2 * tags`` bytes unless a
    value holds one. U+FFFE/U+FFFF are searched by their UTF-8 form; a surrogate already
    failed to encode. One C-level pass over the bytes (a regex pass per value cost ~4x).
    """
    if len(raw) - len(raw.translate(None, _MARKUP_OR_BAD)) != 2 * tags:
        return False
    # U+FFC0..U+FFFF all start EF BF: one scan, and a second only when one is there.
    return b"\xef\xbf" not in raw or (b"\xef\xbf\xbe" not in raw and b"\xef\xbf\xbf" not in raw)


def encode_model_c14n_bytes(
    model: BaseModel, *, implied: frozenset[str], element_id: str | None = None
) -> bytes:
    """Exclusive C14N 1.0 of ``encode_model(model)`` (with ``Id=element_id``), as UTF-8.

    The same elements and text as :func:`encode_model`, written as Canonical XML writes
    them (empty elements as start-end pairs, the ``pakn`` namespace declared on the root,
    C14N escaping): the exact octets a Reference to the element digests, with no tree.
    ``element_id`` must already be an NCName (checked by the caller).

    Raises:
        InvalidInput: a value XML 1.0 cannot carry (the element path is named).
    """
    local = type(model).__name__
    head = f'<pakn:{local} xmlns:pakn="{NS}"' + (
        "" if element_id is None else f' Id="{element_id}"'
    )
    # model_dump(mode="json") without its Python wrapper (same serializer, same defaults).
    data = model.__pydantic_serializer__.to_python(model, mode="json")
    plan = model_plan(type(model), implied)
    texts: list[str] = []
    out = [head, ">"]
    _c14n_fields(out, plan, model, data, texts)
    out.append(f"</pakn:{local}>")
    try:
        raw = "".join(out).encode()
    except UnicodeEncodeError:  # a lone surrogate
        raw = b""
    # Every item but ">" and the values is one tag (the head has its "<", ">" the head's ">").
    if raw and _plain(raw, len(out) - 1 - len(texts)):
        return raw
    # Rare: some value needs escaping or refusing; write again, value by value, so a
    # refusal names the element.
    out = [head, ">"]
    try:
        _c14n_fields(out, plan, model, data, None)
    except _BadText as exc:
        raise InvalidInput(
            "text cannot be represented in XML 1.0: All strings must be XML compatible: "
            "Unicode or ASCII, no NULL bytes or control characters",
            location="/" + local + "".join(reversed(exc.path)),
        ) from None
    out.append(f"</pakn:{local}>")
    return "".join(out).encode()


def encode_model_c14n(
    model: BaseModel, *, implied: frozenset[str], element_id: str | None = None
) -> str:
    """:func:`encode_model_c14n_bytes` as text."""
    return encode_model_c14n_bytes(model, implied=implied, element_id=element_id).decode()


_OWN_TEXT = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def encode_model(model: BaseModel, *, implied: frozenset[str]) -> etree._Element:
    """The element of ``model`` (named after its class), its ``implied`` fields left out.

    Parsed from :func:`encode_model_c14n` (our own escaped text: one mapping, and as fast
    as building element by element).
    """
    return etree.fromstring(encode_model_c14n(model, implied=implied), parser=_OWN_TEXT)


# -- decoding ------------------------------------------------------------------------------


class Node:
    """Where a JSON value came from, to point model errors at a line and element."""

    __slots__ = ("children", "element")  # one per element decoded: kept light

    def __init__(self, element: etree._Element) -> None:
        self.element = element
        self.children: dict[str | int, Node] = {}

    def locate(self, loc: tuple[str | int, ...]) -> etree._Element:
        """The deepest element on a pydantic error ``loc`` (union tags are skipped)."""
        node = self
        for key in loc:
            node = node.children.get(key, node)
        return node.element


def _elements(el: etree._Element) -> list[etree._Element]:
    """Child elements; comments and PIs inside a document are refused (their text is
    excluded by exclusive C14N, so what is signed and what is read could differ)."""
    out: list[etree._Element] = []
    for child in el:
        if not isinstance(child.tag, str):
            raise InvalidInput(
                "comments and processing instructions are not allowed inside a document",
                location=location_of(el),
                code="input.comment_forbidden",
            )
        out.append(child)
    return out


_BOOLS = {"true": True, "1": True, "false": False, "0": False}
_SPECIAL_FLOATS = {"INF": "inf", "-INF": "-inf", "NaN": "nan"}


def scalar_value(text: str, kind: str) -> Any:
    """The JSON value a scalar element's text stands for (``KeyError``/``ValueError`` if none)."""
    if kind == "str":
        return text
    if kind == "bool":
        return _BOOLS[text]
    if kind == "int":
        return int(text.strip())
    value = text.strip()
    return float(_SPECIAL_FLOATS.get(value, value))


def _scalar(el: etree._Element, shape: ScalarShape) -> Any:
    if len(el):
        _elements(el)
        raise SchemaError("expected text, found child elements", location=location_of(el))
    text = el.text or ""
    try:
        return scalar_value(text, shape.json)
    except (KeyError, ValueError):
        raise SchemaError(
            f"expected {shape.json}, found {text[:40]!r}", location=location_of(el)
        ) from None


def _decode_value(el: etree._Element, shape: Shape, node: Node) -> Any:
    if isinstance(shape, ScalarShape):
        return _scalar(el, shape)
    if isinstance(shape, ModelShape):
        return _decode_fields(el, model_plan(shape.cls), node)
    if isinstance(shape, UnionShape):
        kids = _elements(el)
        if len(kids) != 1:
            raise SchemaError(
                f"expected one of {[m for m, _ in shape.members]}", location=location_of(el)
            )
        return _decode_member(kids[0], shape, node)
    items: list[Any] = []
    for i, child in enumerate(_elements(el)):
        sub = node.children[i] = Node(child)
        if shape.item_local is None:
            assert isinstance(shape.item, UnionShape)
            items.append(_decode_member(child, shape.item, sub))
        elif child.tag != qname(shape.item_local):
            raise SchemaError(f"expected pakn:{shape.item_local}", location=location_of(child))
        else:
            items.append(_decode_value(child, shape.item, sub))
    return items


def _decode_member(el: etree._Element, shape: UnionShape, node: Node) -> dict[str, Any]:
    local = etree.QName(el).localname
    cls = shape.by_local(local) if el.tag == qname(local) else None
    if cls is None:
        raise SchemaError(
            f"expected one of {[m for m, _ in shape.members]}", location=location_of(el)
        )
    return _decode_fields(el, member_plan(shape, cls), node)


def _decode_fields(el: etree._Element, plan: ModelPlan, node: Node) -> dict[str, Any]:
    obj: dict[str, Any] = dict(plan.implied)
    by_tag = plan.by_tag
    children = node.children
    try:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):
                _elements(el)  # raises: comments and PIs are refused
            spec = by_tag.get(tag)
            if spec is None or spec.name in obj:
                raise SchemaError("unexpected element", location=location_of(child))
            sub = children[spec.name] = Node(child)
            shape = spec.shape
            if type(shape) is ScalarShape:
                obj[spec.name] = _scalar(child, shape)
            else:
                obj[spec.name] = _decode_value(child, shape, sub)
    except (SchemaError, InvalidInput):
        _elements(el)  # a comment or PI here is reported first, whatever came before it
        raise
    return obj


def decode_model(
    el: etree._Element,
    cls: type[BaseModel],
    *,
    implied: frozenset[str],
    context: dict[str, Any] | None = None,
) -> BaseModel:
    """Read ``el`` as ``cls`` and validate it with the model (strict, JSON mode).

    Raises:
        SchemaError: the model refused a value; located by line and element path.
    """
    root = Node(el)
    obj = _decode_fields(el, model_plan(cls, implied), root)
    try:
        # JSON mode: strict models take ISO datetimes and enum values as JSON strings.
        return cls.model_validate_json(to_json(obj), context=context)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = root.locate(tuple(err["loc"]))
        raise SchemaError(f"{err['msg']} ({err['type']})", location=location_of(where)) from None
