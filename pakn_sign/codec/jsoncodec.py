"""Model <-> JSON, with a hardened parser for untrusted bytes.

``to_json`` writes the canonical form (sorted keys, compact separators, UTF-8 without ASCII
escapes, datetimes as ISO 8601 keeping their offset): the same model always gives the same
bytes, and those bytes are what ``DocumentRef.sha256`` digests. ``loads_strict`` refuses, in
this order and before any of it costs memory: oversize input, invalid UTF-8 or a BOM,
nesting deeper than the limit (counted on the raw bytes, so Python's recursion limit is never
reached), then duplicate keys and NaN/Infinity (RFC 8259 §4 and §6: names SHOULD be unique;
NaN is not JSON). ``compact_value`` is a fast path for compact, mostly-ASCII JSON (JWS
headers) that accepts only what those checks accept; ``loads_strict`` does not use it, since
pydantic-core builds non-ASCII strings slower than ``json`` does (a 4 KB Vietnamese answer).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, TypeVar, overload

import pydantic_core

from ..errors import InvalidInput
from ..models._base import canonical_json
from ..models.document import (
    Document,
    check_envelope,
    check_expected,
    json_pointer,
    try_validate_document_json,
    validate_document_json,
)
from ..models.settings import ValidationSettings
from .json_proof import each_key_once

__all__ = [
    "DEFAULT_JSON_LIMITS",
    "JsonLimits",
    "compact_value",
    "from_canonical_json",
    "from_json",
    "loads_strict",
    "to_json",
]

_D = TypeVar("_D")


@dataclass(frozen=True, slots=True)
class JsonLimits:
    """Limits applied before and while parsing untrusted JSON."""

    max_bytes: int = 16 * 1024 * 1024
    """Whole document size; documents carry attachments by digest, not inline."""
    max_depth: int = 64
    """Nesting of arrays and objects; our deepest document needs 4."""


DEFAULT_JSON_LIMITS = JsonLimits()

# A string token, possessive so it never backtracks; an unterminated string runs to the end
# (the parser rejects it later). Linear time on any input.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = tuple(1 if b in b"[{" else -1 if b in b"]}" else 0 for b in range(256))


def _max_depth(data: bytes) -> int:
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


class _Marked(dict[str, Any]):
    """An object in which the parser saw a duplicate key."""

    duplicate: str = ""


class _NonFinite:
    def __init__(self, token: str):
        self.token = token


def _find(node: Any, path: tuple[int | str, ...] = ()) -> tuple[tuple[int | str, ...], Any]:
    # Iterative depth-first search for the first marked value; depth is already bounded.
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(node, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, _Marked | _NonFinite):
            return where, value
        if isinstance(value, dict):
            stack.extend((v, (*where, k)) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((v, (*where, i)) for i, v in reversed(list(enumerate(value))))
    return (), None


def loads_strict(data: bytes, limits: JsonLimits = DEFAULT_JSON_LIMITS) -> Any:
    """Parse untrusted JSON bytes, or raise ``InvalidInput``.

    Args:
        data: UTF-8 JSON (no BOM).
        limits: size and depth limits.

    Raises:
        InvalidInput: too big, not UTF-8, too deep, malformed, duplicate key, NaN/Infinity.
    """
    data = bytes(data)
    if len(data) > limits.max_bytes:
        raise InvalidInput(f"JSON is {len(data)} bytes; the limit is {limits.max_bytes}")
    if data.startswith(b"\xef\xbb\xbf"):
        raise InvalidInput("JSON must not start with a byte order mark (RFC 8259 §8.1)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "JSON is not valid UTF-8 (RFC 8259 §8.1)", location=f"byte {exc.start}"
        ) from exc
    # Nesting never exceeds the number of opening brackets (counted in C); only inputs with
    # more than the limit pay for the exact scan, which skips brackets inside strings.
    openers = data.count(b"{") + data.count(b"[")
    depth = _max_depth(data) if openers > limits.max_depth else openers
    if depth > limits.max_depth:
        raise InvalidInput(f"JSON nests {depth} levels deep; the limit is {limits.max_depth}")
    try:
        try:
            return _FAST.decode(text)
        except _Refused:  # a duplicate key or NaN: parse again, marking, to say where
            return _locate_refusal(text)
    except InvalidInput:
        raise
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"malformed JSON: {exc.msg}", location=f"line {exc.lineno}, column {exc.colno}"
        ) from exc
    except (ValueError, RecursionError) as exc:  # e.g. an integer beyond int_max_str_digits
        raise InvalidInput(f"JSON value refused: {exc}") from exc


_WORDS = {True: 4, False: 5, None: 4}  # len("true"), len("false"), len("null")


def compact_value(data: bytes, max_depth: int) -> dict[str, Any] | list[Any] | None:
    """The object or array ``data`` holds if it is compact JSON the strict checks accept, else None.

    pydantic-core's parser (Rust) refuses what :func:`loads_strict` refuses (malformed or
    non-UTF-8 input, a BOM, NaN/Infinity, lone surrogates) except duplicate members, which
    it merges. So the value counts only if ``data`` is exactly as long as the value written
    compactly without escapes: every other way to write it is longer (whitespace, an escape,
    a leading zero, ``-0``, a duplicate member), never shorter, so equal lengths prove none
    is there. It must also nest at most ``max_depth`` deep and hold no float and no integer
    over 64 bits (where the two parsers' limits differ). None means "not proven here", not
    "invalid": the caller then runs the strict checks. Size limits are the caller's.
    """
    try:
        value = pydantic_core.from_json(data, allow_inf_nan=False, cache_strings="keys")
    except ValueError:
        return None
    if type(value) is not dict and type(value) is not list:
        return None
    try:
        return value if _compact_size(value, max_depth) == len(data) else None
    except (_Unusual, UnicodeEncodeError):
        return None


class _Unusual(Exception):
    """A float, a big integer, or nesting deeper than the limit: the strict path decides."""


def _compact_size(value: Any, max_depth: int) -> int:
    """UTF-8 length of ``value`` as compact JSON without escapes, keys in their order."""
    size = 0
    level: list[Any] = [value]
    texts: list[str] = []  # keys and string values: measured together, 2 quotes each
    for _ in range(max_depth):  # level by level: depth is bounded before anything deeper
        nested: list[Any] = []
        for node in level:
            n = len(node)
            size += n + 1 if n else 2  # brackets and commas
            if type(node) is dict:
                texts += node
                size += n  # colons
                node = node.values()
            for item in node:
                t = type(item)
                if t is str:
                    texts.append(item)
                elif t is dict or t is list:
                    nested.append(item)
                elif t is int and -(2**63) <= item < 2**63:
                    size += len(str(item))
                elif t is bool or item is None:
                    size += _WORDS[item]
                else:  # a float or a big integer
                    raise _Unusual
        if not nested:
            joined = "".join(texts)
            return (
                size + 2 * len(texts) + (len(joined) if joined.isascii() else len(joined.encode()))
            )
        level = nested
    raise _Unusual  # deeper than max_depth


class _Refused(Exception):
    """A duplicate key or a non-finite constant met by the fast parse."""


def _fast_pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(items)
    if len(obj) != len(items):
        raise _Refused
    return obj


def _fast_constant(token: str) -> Any:
    raise _Refused


# One decoder, built once: json.loads with hooks builds a decoder and scanner per call, which
# costs more than parsing a 4 KB document. The hooks are stateless (the scanner's key memo
# is only an interning cache, as for json.loads' shared default decoder).
_FAST = json.JSONDecoder(object_pairs_hook=_fast_pairs, parse_constant=_fast_constant)


def _locate_refusal(text: str) -> Any:
    """The slow parse of refused input: mark the first duplicate or NaN, then locate it."""
    seen: list[bool] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in items:
            if key in obj and not seen:
                marked = _Marked(obj)
                marked.duplicate = key
                seen.append(True)
                return marked
            obj[key] = value
        return obj

    def constant(token: str) -> _NonFinite:
        seen.append(True)
        return _NonFinite(token)

    result = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    if seen:
        where, bad = _find(result)
        if isinstance(bad, _Marked):
            raise InvalidInput(
                f"duplicate object key {bad.duplicate!r}",
                location=json_pointer((*where, bad.duplicate), result),
            )
        token = bad.token if isinstance(bad, _NonFinite) else "?"
        raise InvalidInput(
            f"{token} is not a JSON number (RFC 8259 §6)", location=json_pointer(where, result)
        )
    raise AssertionError("the fast parse refused what the marking parse accepts")


def to_json(doc: Document) -> bytes:
    """The canonical JSON bytes of ``doc`` (deterministic; see the module docstring)."""
    return canonical_json(doc)


@overload
def from_json(
    data: bytes,
    *,
    expect: None = None,
    limits: JsonLimits = ...,
    settings: ValidationSettings | None = None,
) -> Document: ...
@overload
def from_json(
    data: bytes,
    *,
    expect: type[_D],
    limits: JsonLimits = ...,
    settings: ValidationSettings | None = None,
) -> _D: ...
def from_json(
    data: bytes,
    *,
    expect: type[Any] | None = None,
    limits: JsonLimits = DEFAULT_JSON_LIMITS,
    settings: ValidationSettings | None = None,
) -> Any:
    """Parse and validate one document from untrusted JSON bytes.

    Args:
        data: UTF-8 JSON bytes.
        expect: a kind class (e.g. ``Petition``); any other kind raises ``SchemaError``.
        limits: size and depth limits, checked before parsing.
        settings: validation settings (agency-code mode, sector registry).

    Raises:
        InvalidInput: unreadable JSON (see :func:`loads_strict`).
        SchemaError: valid JSON that is not a valid document; ``location`` is a JSON pointer.
    """
    data = bytes(data)
    parsed = loads_strict(data, limits)
    check_envelope(parsed)
    return check_expected(validate_document_json(data, parsed, settings=settings), expect)


def from_canonical_json(
    data: bytes, *, expect: type[Any] | None = None, settings: ValidationSettings | None = None
) -> Any:
    """:func:`from_json` with default limits, faster when ``data`` is what :func:`to_json` writes.

    Same result and same errors as ``from_json``. The document is validated straight from the
    bytes, then kept only with a proof that the strict parse would accept the bytes and give
    this same document: ``each_key_once`` (no member repeated; see ``json_proof`` for why
    that suffices), else writing the document back canonically gives ``data`` byte for byte
    (the canonical form has no duplicate key, NaN, BOM, deep nesting or odd encoding).
    Otherwise (any other input, valid or not) ``from_json`` runs unchanged. For signed
    payloads (JAdES), which our signers write canonically: saves the strict parse (~40%).
    """
    data = bytes(data)
    if len(data) <= DEFAULT_JSON_LIMITS.max_bytes and data[:1] == b"{":
        doc = try_validate_document_json(data, settings=settings)
        if doc is not None and (each_key_once(data, doc) or canonical_json(doc) == data):
            return check_expected(doc, expect)
    return from_json(data, expect=expect, settings=settings)
