"""Prove, without a second parse, that validated JSON bytes hold every key exactly once.

``from_canonical_json`` validates untrusted bytes with pydantic-core straight away. That
parser accepts what the strict parse (``loads_strict``) accepts, and gives the same document,
except for one thing: it merges a duplicate member where the strict parse refuses it (RFC 8259
§4; a signer could otherwise show one value to us and another to a first-wins parser). The
other refusals cannot change a validated document: every document field is a string, bool,
bounded integer, datetime or model (no float or free-form value, so NaN and huge integers fail
validation; nesting is the models' own; tests hold the schemas to this), and the caller checks
the size and the BOM.

So the document is the strict parse's if no object in ``data`` repeats a member. The proof:

1. No string ends in a backslash: then no ``"`` is escaped (RFC 8259 §7), and splitting at
   every ``"`` alternates between what lies outside strings and string contents.
2. Outside strings there is no whitespace, so every member name is directly followed by
   ``:``; the names are counted exactly as the outside pieces that start with ``:``.
3. Every model in the document had every one of its fields in the input
   (``__pydantic_fields_set__``), and unknown members are refused (``extra="forbid"``): each
   object holds at least its model's fields, so the members number at least the total F.
   If the count equals F, the members are exactly F: one per field, none repeated.

Anything that does not meet 1-3 is not proven here (``False``), which is not "invalid": the
caller then takes a slower proof or the strict parse. Measured on a 4 KB answer: ~4 us, where
writing the document back canonically and comparing costs ~9 us (~20 us inside a JAdES verify).
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

__all__ = ["each_key_once", "explicit_field_count"]


def each_key_once(data: bytes, document: BaseModel) -> bool:
    """True if ``data`` (which validated to ``document``) has every member name exactly once."""
    # Split at every '"': with no escaped quote, the pieces alternate outside / inside strings
    # (pieces[1::2] are string contents). bytes.split on one byte runs memchr; a two-byte
    # find or count costs ~1 ns a byte in CPython 3.11 (4 us for 4 KB), this ~0.1.
    pieces = data.split(b'"')
    if len(pieces) % 2 == 0:
        return False
    if data.find(b"\\") >= 0 and b"\\" in b"".join([p[-1:] for p in pieces[1::2]]):
        return False  # a string piece ending in a backslash: maybe an escaped quote
    # What follows each string, up to the next one; a member name is followed by ':'.
    between = b"\0".join(pieces[2::2])
    for space in b" \t\n\r":
        if between.find(space) >= 0:
            return False  # not compact: not proven here
    fields = explicit_field_count(document)
    return fields >= 0 and between.count(b"\0:") + between.startswith(b":") == fields


def explicit_field_count(model: BaseModel) -> int:
    """Fields of ``model`` and of every model inside it; -1 if the input left any field out.

    A field the input did not give (its default was used) is missing from
    ``__pydantic_fields_set__``; such a document cannot be proven by counting.
    """
    total = 0
    pending: list[Any] = [model]
    while pending:
        m = pending.pop()
        cls = type(m)
        fields, nested = _SHAPES.get(cls) or _shape(cls)
        if len(m.__pydantic_fields_set__) != fields:
            return -1
        total += fields
        values = m.__dict__
        for name in nested:
            _collect(values[name], pending)
    return total


def _collect(value: Any, pending: list[Any]) -> None:
    if isinstance(value, BaseModel):
        pending.append(value)
    elif type(value) is tuple or type(value) is list:
        for item in value:
            _collect(item, pending)


_SHAPES: dict[type[BaseModel], tuple[int, tuple[str, ...]]] = {}


def _shape(cls: type[BaseModel]) -> tuple[int, tuple[str, ...]]:
    """(number of fields, names of the fields whose type can hold a model), kept per class."""
    nested = tuple(
        name for name, info in cls.model_fields.items() if _may_hold_model(info.annotation)
    )
    shape = _SHAPES[cls] = (len(cls.model_fields), nested)
    return shape


def _may_hold_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_may_hold_model(arg) for arg in typing.get_args(annotation))
