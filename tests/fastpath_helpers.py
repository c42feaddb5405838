"""Outcome helpers shared by the fast-path review tests (tests/test_fastpath_review*.py).

A fast path and its strict path are compared by outcome: the value they return, or the
error they raise as (class, code, message, location, sub-indication).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from pakn_sign.errors import PaknSignError


def error_outcome(exc: PaknSignError) -> tuple[object, ...]:
    """Everything a caller can see of a refusal."""
    sub = getattr(exc, "sub_indication", None)
    return ("error", type(exc).__name__, exc.code, exc.message, exc.location, sub)


def doc_outcome(fn: Callable[..., Any], *args: Any) -> tuple[object, ...]:
    """``fn(*args)`` as (kind, serialised document) or its refusal."""
    try:
        doc = fn(*args)
    except PaknSignError as exc:
        return error_outcome(exc)
    # the serialised model, not ==: aware datetimes in other zones compare equal
    return ("ok", type(doc).__name__, doc.model_dump_json())


def string_leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, value) of every string in a JSON value (keys and indexes along the path)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from string_leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from string_leaves(value, (*path, i))
    elif isinstance(node, str):
        yield path, node


def canonical_reference(model: Any) -> bytes:
    """The definition ``canonical_json`` must equal: pydantic's JSON-mode dump, keys sorted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic warns about values of the wrong type
        dumped = model.__pydantic_serializer__.to_python(model, mode="json")
    return json.dumps(
        dumped, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def bytes_outcome(fn: Callable[[Any], bytes], model: Any) -> tuple[object, ...]:
    """``fn(model)`` as ("ok", bytes) or ("error", exception class name)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydantic warns about values of the wrong type
            return ("ok", fn(model))
    except Exception as exc:  # what a caller sees: the class (messages differ by design)
        return ("error", type(exc).__name__)
