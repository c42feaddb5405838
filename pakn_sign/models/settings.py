"""Validation settings: how strict agency codes are and which sector list is in effect.

Settings are chosen, in this order, from:
1. pydantic's validation context, ``Model.model_validate_json(data, context={"pakn": s})``
   (``parse_document`` and ``from_json`` take ``settings=`` and pass it this way);
2. the innermost ``with use_settings(s):`` block (a ``ContextVar``, so threads and asyncio
   tasks do not see each other's settings);
3. the defaults: strict agency codes and :data:`DEFAULT_SECTORS`.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from pydantic import ValidationInfo

from .sectors import DEFAULT_SECTORS, SectorRegistry

__all__ = ["OrganIdMode", "ValidationSettings", "current_settings", "use_settings"]

CONTEXT_KEY = "pakn"


class OrganIdMode(enum.StrEnum):
    """How agency codes (mã định danh, QCVN 102:2016) are checked."""

    STRICT = "strict"
    """``LLL.LL.LL.Xnn`` with X in A–K, as QCVN 102:2016 examples show (the default)."""
    LENIENT = "lenient"
    """Also irregular real-world values such as ``28.22.H17`` (edoc_new.edxml) and later
    letter groups: 1–3 numeric groups of 1–3 digits, then a letter and two digits."""


@dataclass(frozen=True, slots=True)
class ValidationSettings:
    """What validation is in effect. Frozen; build a new one to change it."""

    organ_ids: OrganIdMode = OrganIdMode.STRICT
    sectors: SectorRegistry = field(default_factory=lambda: DEFAULT_SECTORS)


_DEFAULT = ValidationSettings()
_CURRENT: ContextVar[ValidationSettings | None] = ContextVar("pakn_settings", default=None)


def current_settings(info: ValidationInfo | None = None) -> ValidationSettings:
    """The settings for one validation: context, then ``use_settings``, then defaults."""
    context = info.context if info is not None else None
    if isinstance(context, dict):
        found = context.get(CONTEXT_KEY)
        if isinstance(found, ValidationSettings):
            return found
    return _CURRENT.get() or _DEFAULT


@contextlib.contextmanager
def use_settings(settings: ValidationSettings) -> Iterator[ValidationSettings]:
    """Make ``settings`` the default for validations inside the ``with`` block."""
    token = _CURRENT.set(settings)
    try:
        yield settings
    finally:
        _CURRENT.reset(token)
