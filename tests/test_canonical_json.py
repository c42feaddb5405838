"""``canonical_json`` reads our wire models field by field; that must give pydantic's bytes.

The direct reading (``_canonical._plain_model``) knows only the value types our models hold;
these tests hold every wire model to that list, so a new field of another kind (a float, a
datetime without ``Timestamp``'s serialiser, an alias) fails here instead of changing digests.
The bytes themselves are compared with the json.dumps definition in test_json_codec.py.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
from typing import Annotated, Any

import pytest
from conftest import example_documents
from hypothesis import given, settings
from pydantic import AwareDatetime, BaseModel, PlainSerializer
from strategies import documents

from pakn_sign.models import _base, _canonical
from pakn_sign.models._base import Timestamp, WireModel, canonical_json


def _wire_models() -> list[type[WireModel]]:
    found: list[type[WireModel]] = []
    pending = list(WireModel.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith("pakn_sign.models."):
            found.append(cls)
        pending += cls.__subclasses__()
    return found


_ISO = next(m for m in typing.get_args(Timestamp)[1:] if isinstance(m, PlainSerializer))


def _plain_types(annotation: Any, serialised_as_iso: bool = False) -> list[str]:
    """What in ``annotation`` the direct reading would not write as pydantic does."""
    if typing.get_origin(annotation) is Annotated:
        inner, *meta = typing.get_args(annotation)
        iso = serialised_as_iso or any(m is _ISO for m in meta)
        custom = [m for m in meta if isinstance(m, PlainSerializer) and m is not _ISO]
        return [f"serialiser {m}" for m in custom] + _plain_types(inner, iso)
    origin = typing.get_origin(annotation)
    if origin is not None:  # tuple[...], X | None, Literal[...], dict[...]
        known = origin in (tuple, typing.Union, types.UnionType, typing.Literal)
        problems = [] if known else [getattr(origin, "__name__", str(origin))]
        for arg in typing.get_args(annotation):
            if arg is not Ellipsis and origin is not typing.Literal:
                problems += _plain_types(arg, serialised_as_iso)
        return problems
    if annotation is AwareDatetime or annotation is dt.datetime:
        return [] if serialised_as_iso else ["a datetime without Timestamp's serialiser"]
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return []  # checked as a model of its own
        if issubclass(annotation, enum.Enum):
            return [] if all(type(m.value) in (str, int) for m in annotation) else ["enum"]
        if annotation in (str, int, bool, type(None), dt.date, tuple):
            return []
        return [annotation.__name__]
    return [repr(annotation)]


@pytest.mark.parametrize("cls", _wire_models(), ids=lambda c: c.__name__)
def test_every_wire_model_holds_only_what_the_direct_reading_knows(cls: type[WireModel]) -> None:
    assert not cls.model_computed_fields
    assert not cls.__pydantic_decorators__.field_serializers
    assert not cls.__pydantic_decorators__.model_serializers
    for name, info in cls.model_fields.items():
        assert info.alias is None, name
        assert info.serialization_alias is None, name
        assert not info.exclude, name
        annotation = (
            Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        )
        assert _plain_types(annotation) == [], (cls.__name__, name)


def test_the_rule_catches_what_it_must() -> None:
    assert _plain_types(dt.datetime) == ["a datetime without Timestamp's serialiser"]
    assert _plain_types(float | None) == ["float"]
    assert _plain_types(Timestamp | None) == []
    assert _plain_types(tuple[dict[str, int], ...]) == ["dict"]
    assert _plain_types(typing.Literal["a", "b"]) == []


@pytest.mark.parametrize("index", range(len(example_documents())))
def test_wire_models_take_the_direct_reading(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = example_documents()[index]
    expected = canonical_json(doc)
    calls: list[Any] = []
    real = _canonical._sorted_plain
    monkeypatch.setattr(_canonical, "_sorted_plain", lambda v: calls.append(v) or real(v))
    assert canonical_json(doc) == expected
    assert calls == []


@settings(max_examples=100, deadline=None)
@given(doc=documents())
def test_direct_reading_equals_pydantics_dump(doc: Any) -> None:
    dumped = doc.__pydantic_serializer__.to_python(doc, mode="json")
    reference = json.dumps(dumped, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(doc) == reference.encode()


def test_other_models_take_pydantics_dump() -> None:
    class Local(WireModel):  # a wire model outside pakn_sign.models: not ours to read
        at: dt.datetime

    local = Local(at=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    assert canonical_json(local) == b'{"at":"2026-11-20T09:00:00Z"}'  # pydantic's form
    assert _canonical._WIRE[Local] is None
    assert _base.canonical_json is canonical_json
