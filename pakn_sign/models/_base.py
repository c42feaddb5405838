"""The base of every wire model and the shared field types.

Text is NFC on construction: the same Vietnamese words in NFD give different bytes and
so a different digest (DESIGN.md §3; Decree 92/2017 asks for Unicode per TCVN 6909:2001).
NFD input is accepted and normalised, never refused: it is what some macOS and Windows IMEs
produce, and refusing it would push every caller to normalise by hand.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticKnownError, core_schema

from ._canonical import canonical_json, document_digest

__all__ = [
    "SHA256_PATTERN",
    "CleanText",
    "Line",
    "ListToTuple",
    "Name",
    "Sha256Hex",
    "Text",
    "Timestamp",
    "WireModel",
    "canonical_json",
    "document_digest",
    "nfc_line",
    "nfc_text",
]

_T = TypeVar("_T")

# C0 controls other than TAB and LF, DEL, C1 controls, surrogates and the two XML-illegal
# noncharacters: none can travel in XML 1.0 §2.2 text or means anything in a petition.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# A screen in C for the same set, on the UTF-8 bytes (the regex costs ~10 ns a character):
# surrogates do not encode; C0 controls and DEL are single bytes; C1 controls start with
# 0xC2 and U+FFFE/U+FFFF with 0xEF 0xBF. Text the screen flags goes to the regex.
_NOT_CONTROL = bytes(b for b in range(256) if b in b"\t\n" or 0x20 <= b != 0x7F)
_LINE_BREAKS = re.compile("\r\n?")
# In the validation context of JSON bytes that `json_strings_clean` passed: every string read
# from them is free of that set already, so `CleanText` skips its own screen. The context, not
# a ContextVar: a validation a callback starts meanwhile has its own context and screens.
STRINGS_CLEAN_KEY = "pakn_strings_clean"
_SAFE_ESCAPES = frozenset(b'nt"\\/')


def json_strings_clean(data: bytes) -> bool:
    """True if no string read from the JSON ``data`` can hold a code point ``_FORBIDDEN`` refuses.

    RFC 8259 §7: the parser refuses raw bytes below 0x20 inside a string, so what is left is
    DEL, C1 controls (lead byte 0xC2: every U+0080-U+00BF is screened, as `_may_be_forbidden`
    does), U+FFFE/U+FFFF (0xEF 0xBF ...) and escapes. Only ``\\n``, ``\\t``, ``\\"``,
    ``\\\\`` and ``\\/`` pass; ``\\u`` (which can spell any code point, lone surrogates
    included), ``\\b``, ``\\f`` and ``\\r`` do not. False means "not proven", never "bad".
    """
    # find with an int is memchr; with a two-byte needle it costs ~1 ns a byte.
    if data.find(0x7F) >= 0 or data.find(0xC2) >= 0:
        return False
    if data.find(0xEF) >= 0 and data.find(b"\xef\xbf") >= 0:
        return False
    if data.find(0x5C) >= 0:
        # The byte after every backslash (after an escaped backslash that is the next
        # character, checked too: a false alarm, never a miss).
        for piece in data.split(b"\\")[1:]:
            if piece and piece[0] not in _SAFE_ESCAPES:
                return False
    return True


def validate_clean_json(validate: Any, data: bytes, context: dict[str, Any] | None) -> Any:
    """``validate(data, context=...)``, telling `CleanText` when the bytes settle its screen."""
    if json_strings_clean(data):  # a new dict each time: validators may keep the context
        context = {**context, STRINGS_CLEAN_KEY: True} if context else {STRINGS_CLEAN_KEY: True}
    return validate(data, context=context)


def _wire_schema(schema: dict[str, Any], cls: type[Any]) -> None:
    # On the wire `kind` and `schema_version` are required even though Python callers get
    # defaults: every document carries its version marker (STYLE.md §6).
    label = getattr(cls, "label_vi", None)
    if isinstance(label, str):  # DESIGN.md §3: Vietnamese labels in the schema annotations
        schema["title"] = f"{label} ({cls.__name__})"
    props = schema.get("properties", {})
    required = schema.setdefault("required", [])
    for key in ("type", "schema_version", "kind"):
        if key in props and key not in required:
            required.insert(0, key)


class WireModel(BaseModel):
    """Base of every wire model: strict types, no unknown fields, immutable."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        json_schema_extra=_wire_schema,
    )


def _may_be_forbidden(value: str) -> bool:
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return True
    # memchr for the lead byte first: CPython's two-byte search costs 3 us on 4 KB of
    # Vietnamese text, where 0xEF (U+F000-U+FFFF) hardly ever occurs. find(), not `in`:
    # bytes.__contains__ first tries the argument as an integer and raises and clears a
    # TypeError for every bytes argument.
    return (
        bool(data.translate(None, _NOT_CONTROL))
        or data.find(b"\xc2") >= 0
        or (data.find(b"\xef") >= 0 and data.find(b"\xef\xbf") >= 0)
    )


def _clean_text(value: str, *, single_line: bool, screened: bool = False) -> str:
    if "\r" in value:
        value = _LINE_BREAKS.sub("\n", value)
    value = unicodedata.normalize("NFC", value)
    # Short single-line values: str.isprintable is False for every refused code point (they
    # are Cc, Cs or Cn) and for TAB/LF, so True settles the screen and the line check in one
    # C loop (2.4 ns a character: for long text the byte screen below is cheaper). False
    # (NBSP, a format character...) takes the full checks.
    if single_line and len(value) <= _PRINTABLE_MAX and value.isprintable():
        value = value.strip()
        if not value:
            raise ValueError("expected non-blank text")
        return value
    screen = not screened and _may_be_forbidden(value)
    bad = _FORBIDDEN.search(value) if screen else None
    if bad is not None:
        raise ValueError(f"control or non-character U+{ord(bad.group()):04X} is not allowed")
    if single_line:
        value = value.strip()
        if "\n" in value or "\t" in value:
            raise ValueError("expected a single line (no line break or tab)")
    if not value.strip():
        raise ValueError("expected non-blank text")
    return value


_PRINTABLE_MAX = 512


def nfc_line(value: str) -> str:
    """NFC, LF line ends, no control characters, stripped, a single non-blank line."""
    return _clean_text(value, single_line=True)


def nfc_text(value: str) -> str:
    """NFC, LF line ends, no control characters other than TAB and LF, not blank."""
    return _clean_text(value, single_line=False)


class CleanText:
    """``Annotated`` metadata for ``Name``/``Line``/``Text``: the NFC clean-up, then the length.

    ``Field(min_length, max_length)`` after an ``AfterValidator`` makes pydantic add two
    Python validators per field; here the maximum is checked in the same call and raises the
    error pydantic's ``max_length_validator`` raises (same type, context and input, counted
    on the NFC value), and the JSON Schema keeps ``minLength``/``maxLength``. The minimum (1)
    needs no check: a value the clean-up returns is never empty.
    """

    __slots__ = ("max_length", "validate")

    def __init__(self, *, single_line: bool, max_length: int) -> None:
        self.max_length = max_length

        def validate(value: str, info: core_schema.ValidationInfo) -> str:
            context = info.context
            screened = type(context) is dict and context.get(STRINGS_CLEAN_KEY) is True
            value = _clean_text(value, single_line=single_line, screened=screened)
            if len(value) > max_length:
                raise PydanticKnownError(
                    "too_long",
                    {"field_type": "Value", "max_length": max_length, "actual_length": len(value)},
                )
            return value

        self.validate = validate

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self.validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "minLength": 1, "maxLength": self.max_length}


Name = Annotated[str, CleanText(single_line=True, max_length=200)]
"""Single-line NFC text of at most 200 characters (people's and agencies' names)."""
Line = Annotated[str, CleanText(single_line=True, max_length=500)]
"""Single-line NFC text of at most 500 characters (titles, addresses, file names)."""
Text = Annotated[str, CleanText(single_line=False, max_length=20_000)]
"""Multi-line NFC text of at most 20,000 characters (petition content, answers, reasons)."""


_ZERO = dt.timedelta(0)


def _fixed_offset(value: dt.datetime) -> dt.datetime:
    offset = value.utcoffset()
    assert offset is not None  # AwareDatetime ran first
    if offset == _ZERO:  # the usual case; dt.timezone(timedelta(0)) is dt.UTC itself
        return value.replace(tzinfo=dt.UTC)
    # xs:dateTime (XSD 1.1 §3.3.7) allows offsets of whole minutes up to ±14:00.
    if offset.seconds % 60 or offset.microseconds or abs(offset) > dt.timedelta(hours=14):
        raise ValueError("expected a UTC offset in whole minutes within ±14:00")
    return value.replace(tzinfo=dt.timezone(offset))


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


Timestamp = Annotated[
    AwareDatetime,
    AfterValidator(_fixed_offset),
    PlainSerializer(_iso, return_type=str, when_used="json"),
]
"""An aware datetime, serialised as ISO 8601 keeping its offset (``+00:00``, never ``Z``)."""

SHA256_PATTERN = r"^[0-9a-f]{64}$"
Sha256Hex = Annotated[str, Field(pattern=SHA256_PATTERN, description="SHA-256, lowercase hex")]
"""A SHA-256 digest as 64 lowercase hex digits."""


def _tuple_from_list(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


ListToTuple = BeforeValidator(_tuple_from_list)
"""Lets Python callers pass a list where a model field holds a tuple."""
