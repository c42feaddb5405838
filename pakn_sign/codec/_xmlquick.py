"""A verifier's quick model decoder: :func:`._xmlmap.decode_model` without error locations.

Used only where a refusal costs nothing but the full path (xmlcodec.document_from_signed):
anything unusual returns ``None`` and the caller runs :func:`._xmlmap.decode_model`.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from ._xmlmap import scalar_value
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

__all__ = ["decode_model_quick"]


class _NotQuick(Exception):
    """Anything the quick decoder does not take; the caller then runs the full decoder."""


def _quick_scalar(el: etree._Element, shape: ScalarShape) -> Any:
    if len(el):
        raise _NotQuick
    try:
        return scalar_value(el.text or "", shape.json)
    except (KeyError, ValueError):
        raise _NotQuick from None


def _quick_value(el: etree._Element, shape: Shape) -> Any:
    if type(shape) is ScalarShape:
        return _quick_scalar(el, shape)
    if type(shape) is ModelShape:
        return _quick_fields(el, model_plan(shape.cls))
    if type(shape) is UnionShape:
        kids = list(el)
        if len(kids) != 1:
            raise _NotQuick
        return _quick_member(kids[0], shape)
    assert isinstance(shape, ListShape)
    item, item_local = shape.item, shape.item_local
    if item_local is None:
        assert isinstance(item, UnionShape)
        return [_quick_member(child, item) for child in el]
    item_tag = qname(item_local)
    items = []
    for child in el:
        if child.tag != item_tag:
            raise _NotQuick
        items.append(_quick_value(child, item))
    return items


def _quick_member(el: etree._Element, shape: UnionShape) -> dict[str, Any]:
    tag = el.tag
    cls = shape.by_local(tag[len(NS) + 2 :]) if isinstance(tag, str) else None
    if cls is None or tag != qname(cls.__name__):
        raise _NotQuick
    return _quick_fields(el, member_plan(shape, cls))


def _quick_fields(el: etree._Element, plan: ModelPlan) -> dict[str, Any]:
    obj: dict[str, Any] = dict(plan.implied)
    by_tag = plan.by_tag
    for child in el:
        spec = by_tag.get(child.tag)  # a comment's or PI's tag is a function: no match
        if spec is None or spec.name in obj:
            raise _NotQuick
        shape = spec.shape
        if type(shape) is ScalarShape and shape.json == "str" and not len(child):
            obj[spec.name] = child.text or ""  # most fields: inline
        elif type(shape) is ScalarShape:
            obj[spec.name] = _quick_scalar(child, shape)
        else:
            obj[spec.name] = _quick_value(child, shape)
    return obj


def decode_model_quick(
    el: etree._Element, cls: type[BaseModel], *, implied: frozenset[str]
) -> BaseModel | None:
    """:func:`decode_model` without error locations: the model, or ``None`` for anything
    :func:`decode_model` would refuse (and possibly for more; callers then run it)."""
    try:
        obj = _quick_fields(el, model_plan(cls, implied))
        return cls.model_validate_json(to_json(obj))
    except (_NotQuick, ValidationError):
        return None
