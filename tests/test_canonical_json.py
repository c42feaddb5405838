"""``canonical_json`` reads our wire models field by field; that must give pydantic's bytes.

The direct reading (``_canonical._plain_model``) writes each value by its own type, checked
against its field's plan (``_canonical_plan.plan_of``): the exact types validation gives.
These tests hold every wire model to having a plan, the plan to refusing what the reading
cannot write as pydantic does (a float, a datetime without ``Timestamp``'s serialiser, a
custom serialiser), and compare both ways on every kind. Values validation would not have
given are compared in tests/test_fastpath_review_2.py.
"""

from __future__ import annotations

import datetime as dt
import pkgutil
import typing
from typing import Annotated, Any

import pydantic
import pytest
from conftest import example_documents
from fastpath_helpers import canonical_reference
from hypothesis import given, settings
from pydantic import AwareDatetime, PlainSerializer
from strategies import documents

from pakn_sign import models as models_package
from pakn_sign.models import _base, _canonical
from pakn_sign.models._base import Timestamp, WireModel, canonical_json
from pakn_sign.models._canonical_plan import plan_of

_PACKAGE = {f"pakn_sign.models.{m.name}" for m in pkgutil.iter_modules(models_package.__path__)}


def _wire_models() -> list[type[WireModel]]:
    """Our wire models (not the probes other tests make under that package's name)."""
    found: list[type[WireModel]] = []
    pending = list(WireModel.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__module__ in _PACKAGE:
            found.append(cls)
        pending += cls.__subclasses__()
    return found


@pytest.mark.parametrize("cls", _wire_models(), ids=lambda c: c.__name__)
def test_every_wire_model_has_a_plan(cls: type[WireModel]) -> None:
    """Each wire model is read directly (no silent fallback to the slower dump)."""
    plan = plan_of(cls)
    assert plan is not None
    assert [name for name, _, _ in plan] == sorted(cls.model_fields)


def _plan_for(**fields: Any) -> Any:
    cls = pydantic.create_model(  # type: ignore[call-overload]
        "Probe", __base__=WireModel, __module__="pakn_sign.models.probe", **fields
    )
    return plan_of(cls)


@pytest.mark.parametrize(
    "annotation",
    [
        float,
        dt.datetime,  # pydantic writes "Z" for UTC; Timestamp's serialiser keeps "+00:00"
        AwareDatetime,
        dict[str, int],
        tuple[tuple[str, ...], ...],
        Annotated[str, PlainSerializer(str.upper)],
        typing.Literal[1.5],
    ],
)
def test_fields_the_direct_reading_cannot_write_leave_the_model_to_pydantic(
    annotation: Any,
) -> None:
    assert _plan_for(x=(annotation, ...)) is None


def test_plan_lists_the_types_validation_gives() -> None:
    plan = _plan_for(at=(Timestamp | None, None), n=(int, 0), t=(tuple[str, ...], ()))
    assert plan == (
        ("at", frozenset({dt.datetime, type(None)}), frozenset()),
        ("n", frozenset({int}), frozenset()),
        ("t", frozenset({tuple}), frozenset({str})),
    )


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
    assert canonical_json(doc) == canonical_reference(doc)


def test_other_models_take_pydantics_dump() -> None:
    class Local(WireModel):  # a wire model outside pakn_sign.models: not ours to read
        at: dt.datetime

    local = Local(at=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    assert canonical_json(local) == b'{"at":"2026-11-20T09:00:00Z"}'  # pydantic's form
    assert plan_of(Local) is None
    assert _base.canonical_json is canonical_json
