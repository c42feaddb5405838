"""Per wire-model class: the exact value types each field may hold for the direct canonical reading.

``_canonical._plain_model`` writes a value by its own type; pydantic writes it by the field's
declared type. The two agree when the value is of a type the field declares, which validation
guarantees. ``model_construct`` and ``model_copy(update=...)`` skip validation, so the reading
checks each value's exact type against its field's plan and leaves anything else (a bool in an
int field, a datetime in a text or date field, a missing field) to pydantic's dump.

A class has no plan (None) if a field's type is one the direct reading does not write as
pydantic does: a float, a dict, a datetime without ``Timestamp``'s ``isoformat`` serialiser,
any other serialiser (field, model or annotated), an alias or exclusion, a computed field, a
tuple of tuples, or a model without a plan.
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
import types
import typing
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, PlainSerializer, WrapSerializer

__all__ = ["FieldPlan", "plan_of"]

FieldPlan = tuple[str, frozenset[type[Any]], frozenset[type[Any]]]
"""(field name, exact types its value may have, exact types of a tuple value's items)."""

_NONE: frozenset[type[Any]] = frozenset()
_PLANS: dict[type[Any], tuple[FieldPlan, ...] | None] = {}
"""Only our own classes (a fixed set): a foreign class is never kept alive by this cache."""
_LOCK = threading.RLock()  # one planner at a time: a half-made plan is never read as "none"


def plan_of(cls: type[Any]) -> tuple[FieldPlan, ...] | None:
    """The fields of ``cls`` in sorted order with their types, or None (pydantic decides)."""
    if cls in _PLANS:
        return _PLANS[cls]
    if not cls.__module__.startswith("pakn_sign.models."):
        return None  # a foreign model (uncached): one string test, no import
    from ._base import WireModel, _iso  # _base imports the canonical writer, which imports us

    if not issubclass(cls, WireModel):
        return None
    with _LOCK:
        if cls in _PLANS:
            return _PLANS[cls]
        _PLANS[cls] = None  # while in progress: a model that contains itself has no plan
        _PLANS[cls] = plan = _plan(cls, _iso)
        return plan


def _plan(cls: Any, iso: Any) -> tuple[FieldPlan, ...] | None:
    decorators = cls.__pydantic_decorators__
    if cls.model_computed_fields or decorators.field_serializers or decorators.model_serializers:
        return None
    plan = []
    for name in sorted(cls.model_fields):
        info = cls.model_fields[name]
        if (
            info.alias is not None
            or info.serialization_alias is not None
            or info.exclude
            or getattr(info, "exclude_if", None) is not None
        ):
            return None
        annotation = (
            Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        )
        found = _types(annotation, iso)
        if found is None:
            return None
        plan.append((name, *found))
    return tuple(plan)


def _types(annotation: Any, iso: Any) -> tuple[frozenset[type[Any]], frozenset[type[Any]]] | None:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        inner, *meta = args
        serialisers = [m for m in meta if isinstance(m, PlainSerializer | WrapSerializer)]
        if not serialisers:
            return _types(inner, iso)
        if len(serialisers) == 1 and getattr(serialisers[0], "func", None) is iso:
            return (frozenset({dt.datetime}), _NONE) if _is_datetime(inner) else None
        return None
    if origin is typing.Union or origin is types.UnionType:
        values: set[type[Any]] = set()
        items: set[type[Any]] = set()
        for arg in args:
            found = _types(arg, iso)
            if found is None:
                return None
            values |= found[0]
            items |= found[1]
        return frozenset(values), frozenset(items)
    if origin is typing.Literal:
        kinds = frozenset(type(a) for a in args)
        return (kinds, _NONE) if kinds <= {str, int, bool} else None
    if origin is tuple:
        if len(args) != 2 or args[1] is not Ellipsis:
            return None
        item = _types(args[0], iso)
        if item is None or item[1] or tuple in item[0]:
            return None
        return frozenset({tuple}), item[0]
    if annotation is None or annotation is type(None):
        return frozenset({type(None)}), _NONE
    if annotation in (str, int, bool, dt.date):
        return frozenset({annotation}), _NONE
    if origin is not None or not isinstance(annotation, type) or _is_datetime(annotation):
        return None
    if issubclass(annotation, enum.Enum):
        plain = all(type(m.value) in (str, int) for m in annotation)
        return (frozenset({annotation}), _NONE) if plain else None
    if issubclass(annotation, BaseModel) and plan_of(annotation) is not None:
        return frozenset({annotation}), _NONE
    return None


def _is_datetime(annotation: Any) -> bool:
    return annotation is AwareDatetime or (
        isinstance(annotation, type) and issubclass(annotation, dt.datetime)
    )
