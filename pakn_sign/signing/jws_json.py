"""Strict JSON for JWS: UTF-8 only, duplicate keys, NaN/Infinity and deep nesting refused.

RFC 7515 §5.2 step 4 lets a parser reject duplicate Header Parameter names and says JWS
parsers MUST either reject them or use only the last one; we reject (an attacker can
otherwise show one ``alg`` to one library and another to the next). Used for the JWS
JSON serialisation and for decoded protected headers. Sizes are checked by callers
before any byte reaches ``json``.

Inputs that could nest deeper than the limit go to the codec's ``loads_strict`` (depth counted
on the raw bytes before parsing); the rest take the same checks on a fast path.

Compact JSON (what JWS producers write) first takes the codec's ``compact_value``, which
accepts only what the strict parse accepts, with the same value; any other input, valid or
not, takes the strict parse below, so errors are exactly the strict parse's.
"""

from __future__ import annotations

import json
from typing import Any

from ..codec.jsoncodec import JsonLimits, compact_value, loads_strict
from ..errors import InvalidInput

__all__ = ["dumps_compact", "loads_strict_json"]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise InvalidInput(f"duplicate JSON member {dup!r}", location=f"/{dup}")
    return obj


def _no_constant(name: str) -> Any:
    raise InvalidInput(f"JSON constant {name} (NaN/Infinity) is not allowed")


# Built once: json.loads with hooks builds a decoder and scanner per call (8 us, more than
# parsing a JWS header). The hooks are stateless; the BOM is refused on the bytes above.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def loads_strict_json(data: bytes, *, max_bytes: int, max_depth: int = 16, where: str = "") -> Any:
    """Parse UTF-8 JSON strictly; raise ``InvalidInput`` with ``location`` prefixed by ``where``.

    Nesting can only exceed ``max_depth`` if there are more opening brackets than that, and
    counting them is a C loop; only such inputs pay for ``loads_strict``'s exact depth scan
    (measured: the scan is 4x the parse itself on a 10 KB JWS).
    """
    if len(data) <= max_bytes:
        fast = compact_value(data, max_depth)
        if fast is not None:
            return fast
    try:
        if len(data) > max_bytes or data.count(b"{") + data.count(b"[") > max_depth:
            return loads_strict(data, JsonLimits(max_bytes=max_bytes, max_depth=max_depth))
        if data.startswith(b"\xef\xbb\xbf"):
            raise InvalidInput("JSON must not start with a byte order mark (RFC 8259 §8.1)")
        return _DECODER.decode(data.decode("utf-8"))
    except InvalidInput as exc:
        if not where:
            raise
        raise InvalidInput(exc.message, location=f"{where} {exc.location or ''}".strip()) from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"not strict UTF-8 JSON: {exc}", location=where or None) from exc


def dumps_compact(value: Any) -> bytes:
    """Compact UTF-8 JSON in insertion order (what we sign is exactly what we emit)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
