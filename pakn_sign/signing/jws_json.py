"""Strict JSON for JWS: UTF-8 only, duplicate keys, NaN/Infinity and deep nesting refused.

RFC 7515 §5.2 step 4 lets a parser reject duplicate Header Parameter names and says JWS
parsers MUST either reject them or use only the last one; we reject (an attacker can
otherwise show one ``alg`` to one library and another to the next). Used for the JWS
JSON serialisation and for decoded protected headers. Sizes are checked by callers
before any byte reaches ``json``.

When ``pakn_sign.codec.jsoncodec.loads_strict`` is available the codec's loader is the
document loader; this one stays private to the signature layer because header parsing
needs different limits (small depth, no document schema).
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import InvalidInput

__all__ = ["dumps_compact", "loads_strict_json"]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise InvalidInput(f"duplicate JSON member {key!r}", location=f"/{key}")
        obj[key] = value
    return obj


def _no_constant(name: str) -> Any:
    raise InvalidInput(f"JSON constant {name} is not allowed")


def _depth(value: Any, limit: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise InvalidInput(f"JSON nesting deeper than {limit}")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def loads_strict_json(data: bytes, *, max_bytes: int, max_depth: int = 16, where: str = "") -> Any:
    """Parse UTF-8 JSON strictly; raise ``InvalidInput`` (with ``location``) on anything odd."""
    if len(data) > max_bytes:
        raise InvalidInput(f"JSON is {len(data)} bytes, limit {max_bytes}", location=where or None)
    if data.startswith(b"\xef\xbb\xbf"):
        raise InvalidInput("JSON must not start with a byte-order mark", location=where or None)
    try:
        text = data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except InvalidInput as exc:
        exc.location = f"{where}{exc.location or ''}" or None
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"not strict UTF-8 JSON: {exc}", location=where or None) from exc
    _depth(value, max_depth)
    return value


def dumps_compact(value: Any) -> bytes:
    """Compact UTF-8 JSON in insertion order (what we sign is exactly what we emit)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
