"""How a pydantic model maps to XML, derived once per class from its field annotations.

The mapping rules (docs/schemas.md §"XML mapping"):

* a model is an element whose children are its fields, in declaration order, each named by
  the field name in PascalCase, in the namespace ``urn:pakn-sign:pakn:1``;
* ``X | None`` fields are omitted when ``None`` (``minOccurs="0"``);
* a list or tuple is a wrapper element whose children are the items: a model item is named
  after its class, a scalar item is ``Item``;
* a union of models is a wrapper element holding exactly one child named after the member's
  class; that member's discriminator field is not written (the element name carries it),
  exactly as the root element name carries a document's ``kind``;
* scalars are their JSON form as text (pydantic's ``mode="json"``), booleans ``true``/``false``.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from pydantic import BaseModel

__all__ = [
    "NS",
    "FieldSpec",
    "ListShape",
    "ModelShape",
    "ScalarShape",
    "Shape",
    "UnionShape",
    "model_plan",
    "pascal",
    "qname",
]

NS = "urn:pakn-sign:pakn:1"
"""The namespace of every PAKN business document element (DESIGN.md §3)."""

ITEM = "Item"
"""Element name of a scalar list item."""

JsonKind = Literal["str", "int", "float", "bool"]


def pascal(name: str) -> str:
    """``case_id`` -> ``CaseId``; ``sha256`` -> ``Sha256``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def qname(local: str) -> str:
    """Clark notation of a name in the PAKN namespace."""
    return f"{{{NS}}}{local}"


@dataclass(frozen=True, slots=True)
class ScalarShape:
    """A leaf holding text; ``json`` says which JSON type the text stands for."""

    json: JsonKind


@dataclass(frozen=True, slots=True)
class ModelShape:
    """A nested model: its fields are child elements."""

    cls: type[BaseModel]


@dataclass(frozen=True, slots=True)
class UnionShape:
    """One child element named after the member class (a choice in the XSD)."""

    members: tuple[tuple[str, type[BaseModel]], ...]
    """(element local name, class) for every member."""
    discriminator: str | None
    """The field the element name stands for, omitted from the XML."""

    def by_local(self, local: str) -> type[BaseModel] | None:
        """The member class whose element is named ``local``."""
        for name, cls in self.members:
            if name == local:
                return cls
        return None


@dataclass(frozen=True, slots=True)
class ListShape:
    """A wrapper element with zero or more items, each named ``item_local`` (or per member)."""

    item: Shape
    item_local: str | None
    """The item element name; ``None`` when the item is a union (named per member)."""


Shape = ScalarShape | ModelShape | UnionShape | ListShape


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One model field as an XML child element."""

    name: str
    """The Python field name (and JSON key)."""
    local: str
    """The element's local name (PascalCase)."""
    shape: Shape
    optional: bool
    """``None`` allowed: the element is omitted for ``None``."""
    tag: str
    """Clark-notation tag."""
    start: str = ""
    """``<pakn:Local>``, as the canonical writer emits it (filled in)."""
    end: str = ""
    """``</pakn:Local>``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", f"<pakn:{self.local}>")
        object.__setattr__(self, "end", f"</pakn:{self.local}>")


@dataclass(frozen=True, slots=True)
class ModelPlan:
    """The fields of a model that appear in XML, and the one the element name replaces."""

    cls: type[BaseModel]
    fields: tuple[FieldSpec, ...]
    implied: dict[str, Any]
    """Fields not written because the element name implies them (discriminator -> value)."""
    by_tag: dict[str, FieldSpec] = field(default_factory=dict)
    """Clark tag -> field (filled from ``fields``)."""
    rows: tuple[tuple[str, str, str, str, Shape | None], ...] = ()
    """Per field, for the canonical writer: (name, local, start tag, end tag, shape or
    ``None`` for a scalar), so its loop reads no attributes (filled from ``fields``)."""

    def __post_init__(self) -> None:
        self.by_tag.update((spec.tag, spec) for spec in self.fields)
        rows = tuple(
            (s.name, s.local, s.start, s.end, None if type(s.shape) is ScalarShape else s.shape)
            for s in self.fields
        )
        object.__setattr__(self, "rows", rows)

    def field_by_tag(self, tag: str) -> FieldSpec | None:
        """The field whose element has this Clark tag."""
        return self.by_tag.get(tag)


def _unwrap(ann: Any) -> tuple[Any, list[Any]]:
    """Strip ``Annotated`` layers, returning the bare type and the collected metadata."""
    meta: list[Any] = []
    while typing.get_origin(ann) is typing.Annotated:
        meta.extend(getattr(ann, "__metadata__", ()))
        ann = ann.__origin__
    # PEP 695 / TypeAliasType aliases: look through to the value.
    value = getattr(ann, "__value__", None)
    if value is not None and type(ann).__name__ == "TypeAliasType":
        inner, more = _unwrap(value)
        return inner, meta + more
    return ann, meta


def _is_union(ann: Any) -> bool:
    return typing.get_origin(ann) in (Union, types.UnionType)


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _discriminator(meta: list[Any]) -> str | None:
    for item in meta:
        disc = getattr(item, "discriminator", None)
        if isinstance(disc, str):
            return disc
    return None


def literal_value(cls: type[BaseModel], field: str) -> Any:
    """The single value of a ``Literal[...]`` field (a discriminator)."""
    ann, _ = _unwrap(cls.model_fields[field].annotation)
    args = typing.get_args(ann) if typing.get_origin(ann) is Literal else ()
    if len(args) != 1:
        raise TypeError(f"{cls.__name__}.{field} must be a one-value Literal to discriminate")
    return args[0]


def _json_kind(ann: Any) -> JsonKind:
    if typing.get_origin(ann) is Literal:
        values = typing.get_args(ann)
        return _json_kind(type(values[0])) if values else "str"
    if isinstance(ann, type):
        if issubclass(ann, enum.Enum):
            return _json_kind(type(next(iter(ann)).value))
        if issubclass(ann, bool):
            return "bool"
        if issubclass(ann, int):
            return "int"
        if issubclass(ann, float):
            return "float"
    # str, constrained str, datetimes, dates, Decimal, UUID, URLs: JSON strings.
    return "str"


def shape_of(ann: Any) -> tuple[Shape, bool]:
    """The XML shape of an annotation and whether ``None`` is allowed."""
    ann, meta = _unwrap(ann)
    optional = False
    if _is_union(ann):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        optional = len(args) < len(typing.get_args(ann))
        if len(args) == 1:
            inner, inner_optional = shape_of(args[0])
            return inner, optional or inner_optional
        bare = [_unwrap(a)[0] for a in args]
        if not all(_is_model(a) for a in bare):
            raise TypeError(f"only unions of models map to XML, got {ann!r}")
        disc = _discriminator(meta)
        members = tuple((cls.__name__, cls) for cls in bare)
        return UnionShape(members, disc), optional
    origin = typing.get_origin(ann)
    if origin in (list, tuple, frozenset, set):
        params: tuple[Any, ...] = typing.get_args(ann)
        if origin is tuple and not (len(params) == 2 and params[1] is Ellipsis):
            raise TypeError(f"only homogeneous tuples map to XML, got {ann!r}")
        item, item_optional = shape_of(params[0] if params else Any)
        if item_optional:
            raise TypeError(f"list items cannot be None in XML, got {ann!r}")
        if isinstance(item, ModelShape):
            return ListShape(item, item.cls.__name__), optional
        if isinstance(item, UnionShape):
            return ListShape(item, None), optional
        return ListShape(item, ITEM), optional
    if _is_model(ann):
        return ModelShape(ann), optional
    if origin is not None and origin is not Literal:
        raise TypeError(f"no XML mapping for {ann!r}")
    if ann is Any or ann is None:
        raise TypeError(f"no XML mapping for {ann!r}")
    return ScalarShape(_json_kind(ann)), optional


@functools.cache
def model_plan(cls: type[BaseModel], implied: frozenset[str] = frozenset()) -> ModelPlan:
    """The XML plan of ``cls``; fields named in ``implied`` are carried by the element name."""
    specs: list[FieldSpec] = []
    values: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        if name in implied:
            values[name] = literal_value(cls, name)
            continue
        annotation: Any = info.annotation
        if info.metadata:
            annotation = typing.Annotated[(annotation, *info.metadata)]
        shape, optional = shape_of(annotation)
        if isinstance(shape, UnionShape) and shape.discriminator is None:
            disc = info.discriminator
            if isinstance(disc, str):
                shape = UnionShape(shape.members, disc)
        local = pascal(name)
        specs.append(FieldSpec(name, local, shape, optional, qname(local)))
    locals_ = [s.local for s in specs]
    if len(set(locals_)) != len(locals_):
        raise TypeError(f"{cls.__name__}: two fields map to the same element name")
    return ModelPlan(cls, tuple(specs), values)


def member_plan(shape: UnionShape, cls: type[BaseModel]) -> ModelPlan:
    """The plan of a union member, its discriminator implied by the element name."""
    implied = frozenset({shape.discriminator}) if shape.discriminator else frozenset()
    return model_plan(cls, implied)
