"""Model <-> element tree, driven by :mod:`._xmlplan`; no I/O, no validation of its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from pydantic import BaseModel
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

__all__ = ["Node", "decode_model", "encode_model"]


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


def _set_text(el: etree._Element, text: str, where: str) -> None:
    try:
        el.text = text
    except ValueError as exc:
        # XML 1.0 §2.2: control characters (other than tab, LF, CR) have no representation.
        raise InvalidInput(
            f"text cannot be represented in XML 1.0: {exc}", location=where
        ) from None


def _encode_value(parent: etree._Element, shape: Shape, model: Any, data: Any, where: str) -> None:
    """Fill ``parent`` with ``model`` (the Python value) whose JSON form is ``data``."""
    if isinstance(shape, ScalarShape):
        _set_text(parent, _text(data), where)
    elif isinstance(shape, ModelShape):
        _encode_fields(parent, model_plan(shape.cls), model, data, where)
    elif isinstance(shape, UnionShape):
        local = type(model).__name__
        child = etree.SubElement(parent, qname(local))
        _encode_fields(child, member_plan(shape, type(model)), model, data, f"{where}/{local}")
    else:
        _encode_list(parent, shape, model, data, where)


def _encode_list(
    parent: etree._Element, shape: ListShape, model: Any, data: Any, where: str
) -> None:
    for i, (item_model, item_data) in enumerate(zip(model, data, strict=True)):
        if shape.item_local is None:  # a union: the member element is the item
            _encode_value(parent, shape.item, item_model, item_data, f"{where}[{i}]")
            continue
        child = etree.SubElement(parent, qname(shape.item_local))
        _encode_value(child, shape.item, item_model, item_data, f"{where}[{i}]")


def _encode_fields(
    el: etree._Element, plan: ModelPlan, model: BaseModel, data: dict[str, Any], where: str
) -> None:
    for spec in plan.fields:
        value = getattr(model, spec.name)
        if value is None:
            continue
        child = etree.SubElement(el, spec.tag)
        _encode_value(child, spec.shape, value, data[spec.name], f"{where}/{spec.local}")


def encode_model(model: BaseModel, *, implied: frozenset[str]) -> etree._Element:
    """The element of ``model`` (named after its class), its ``implied`` fields left out."""
    local = type(model).__name__
    root = etree.Element(qname(local), nsmap={"pakn": NS})
    data = model.model_dump(mode="json")
    _encode_fields(root, model_plan(type(model), implied), model, data, f"/{local}")
    return root


# -- decoding ------------------------------------------------------------------------------


@dataclass
class Node:
    """Where a JSON value came from, to point model errors at a line and element."""

    element: etree._Element
    children: dict[str | int, Node] = field(default_factory=dict)

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


def _scalar(el: etree._Element, shape: ScalarShape) -> Any:
    if len(el):
        _elements(el)
        raise SchemaError("expected text, found child elements", location=location_of(el))
    text = el.text or ""
    kind = shape.json
    if kind == "str":
        return text
    try:
        if kind == "bool":
            return _BOOLS[text]
        if kind == "int":
            return int(text.strip())
        value = text.strip()
        return float(_SPECIAL_FLOATS.get(value, value))
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
    from pydantic import ValidationError

    root = Node(el)
    obj = _decode_fields(el, model_plan(cls, implied), root)
    try:
        # JSON mode: strict models take ISO datetimes and enum values as JSON strings.
        return cls.model_validate_json(to_json(obj), context=context)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = root.locate(tuple(err["loc"]))
        raise SchemaError(f"{err['msg']} ({err['type']})", location=location_of(where)) from None
