"""Outcome helpers shared by the fast-path review tests (tests/test_fastpath_review*.py).

A fast path and its strict path are compared by outcome: the value they return, or the
error they raise as (class, code, message, location, sub-indication).
"""

from __future__ import annotations

from collections.abc import Callable
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
