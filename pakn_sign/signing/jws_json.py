"""Strict JSON for JWS: UTF-8 only, duplicate keys, NaN/Infinity and deep nesting refused.

RFC 7515 §5.2 step 4 lets a parser reject duplicate Header Parameter names and says JWS
parsers MUST either reject them or use only the last one; we reject (an attacker can
otherwise show one ``alg`` to one library and another to the next). Used for the JWS
JSON serialisation and for decoded protected headers. Sizes are checked by callers
before any byte reaches ``json``.

The loader is the codec's ``loads_strict`` (depth counted on the raw bytes before parsing);
the signature layer only sets smaller limits and prefixes error locations.
"""

from __future__ import annotations

import json
from typing import Any

from ..codec.jsoncodec import JsonLimits, loads_strict
from ..errors import InvalidInput

__all__ = ["dumps_compact", "loads_strict_json"]


def loads_strict_json(data: bytes, *, max_bytes: int, max_depth: int = 16, where: str = "") -> Any:
    """Parse UTF-8 JSON strictly (``codec.jsoncodec.loads_strict``), prefixing ``location``."""
    try:
        return loads_strict(data, JsonLimits(max_bytes=max_bytes, max_depth=max_depth))
    except InvalidInput as exc:
        if not where:
            raise
        inner = exc.location or ""
        raise InvalidInput(exc.message, location=f"{where} {inner}".strip()) from exc


def dumps_compact(value: Any) -> bytes:
    """Compact UTF-8 JSON in insertion order (what we sign is exactly what we emit)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
