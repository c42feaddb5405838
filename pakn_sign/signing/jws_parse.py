"""Parse JWS (RFC 7515 §7.1 compact, §7.2.1 general, §7.2.2 flattened) strictly.

Parsing checks structure and header rules only; no key is touched here. The rules,
numbered as the checks below apply them:

1. size limits before parsing (whole input, decoded protected header, payload, count);
2. strict JSON (duplicate members refused) and strict base64url everywhere;
3. general: a non-empty ``signatures`` array and no flattened members beside it
   (§7.2.1); an empty or missing array is a failure, never "nothing to check";
4. per signature: ``alg`` in the protected header (JAdES TS 119 182-1 §5.1.2: it is a
   signed header parameter); protected and unprotected names disjoint (§7.2.1);
5. ``jwk``, ``jku``, ``x5u`` refused anywhere (keys never come from the message);
6. ``crit`` (§4.1.11): protected, a non-empty list of unique names, none of them a
   registered RFC 7515/7518 name, each present and each understood, else refused;
   ``b64`` (RFC 7797 §6) and ``sigD`` (TS 119 182-1 §5.2.8) must be listed when present.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import pybase64

from ..errors import InvalidInput, UnsupportedFeature
from .b64 import b64url_decode, b64url_encode
from .jws_json import loads_strict_json

__all__ = [
    "DEFAULT_UNPROTECTED",
    "REGISTERED_HEADERS",
    "JWSLimits",
    "ParsedJWS",
    "ParsedSignature",
    "check_header",
    "parse_jws",
]

REGISTERED_HEADERS = frozenset(
    # RFC 7515 §4.1 and RFC 7518 §4.1 / §5.1 (JWE names, which never belong in a JWS crit).
    {"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit"}
    | {"enc", "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c"}
)
FORBIDDEN_HEADERS = frozenset({"jwk", "jku", "x5u"})
"""Keys and key URLs named by the message itself: never honoured (RFC 8725 §3.10)."""
DEFAULT_UNPROTECTED = frozenset({"kid", "etsiU"})
"""Unprotected names we accept: a key hint and the JAdES unsigned-properties container."""
MUST_BE_CRITICAL = ("b64", "sigD")
_STR = repeat(str)  # isinstance(c, str) for each c, by map in C (repeat never runs out)


@dataclass(frozen=True, slots=True)
class JWSLimits:
    """Size limits applied before any parsing (DESIGN.md §8: refuse before it costs memory)."""

    max_bytes: int = 8 * 1024 * 1024
    """Whole serialisation."""
    max_header_bytes: int = 64 * 1024
    """One decoded protected header (a 4-certificate ``x5c`` is about 8 KB)."""
    max_payload_bytes: int = 4 * 1024 * 1024
    """Decoded payload."""
    max_signatures: int = 8
    """Entries in a general ``signatures`` array."""


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    """One signature entry, decoded but not yet verified."""

    protected_b64: str
    """The protected header exactly as sent (the signing input uses these bytes)."""
    protected: dict[str, Any]
    header: dict[str, Any]
    """The unprotected header (``{}`` if absent)."""
    signature_b64: str
    signature: bytes
    protected_ascii: bytes = field(default=b"", compare=False, repr=False)
    """``protected_b64`` as ASCII bytes when the parser had them (saves re-encoding)."""


@dataclass(frozen=True, slots=True)
class ParsedJWS:
    """A parsed JWS in any serialisation."""

    payload: bytes
    payload_segment: bytes
    """The payload as it enters the signing input (base64url text, or raw if b64 is false)."""
    signatures: tuple[ParsedSignature, ...]
    serialization: str
    """``"compact"``, ``"flattened"`` or ``"general"``."""

    def signing_input(self, index: int) -> bytes:
        """RFC 7515 §5.1 step 8: ASCII(protected) || '.' || payload segment."""
        sig = self.signatures[index]
        head = sig.protected_ascii or sig.protected_b64.encode("ascii")
        return b".".join((head, self.payload_segment))


def check_header(
    protected: dict[str, Any],
    header: dict[str, Any],
    *,
    understood: Iterable[str] = (),
    unprotected_allowed: Iterable[str] = DEFAULT_UNPROTECTED,
    where: str = "",
) -> None:
    """Apply rules 4–6 to one signature's headers; raise ``InvalidInput``/``UnsupportedFeature``."""
    both = protected.keys() & header.keys() if header else None
    if both:
        raise InvalidInput(
            f"header names in both protected and unprotected: {sorted(both)}", location=where
        )
    forbidden = not FORBIDDEN_HEADERS.isdisjoint(protected) or (
        bool(header) and not FORBIDDEN_HEADERS.isdisjoint(header)
    )
    for name in FORBIDDEN_HEADERS & (set(protected) | set(header)) if forbidden else ():
        raise UnsupportedFeature(
            f"header {name!r} is refused: keys never come from the message",
            location=f"{where}/{name}",
        )
    extra = set(header).difference(unprotected_allowed) if header else None
    if extra:
        raise UnsupportedFeature(
            f"unprotected header parameters not allowed: {sorted(extra)}",
            location=f"{where}/header",
        )
    alg = protected.get("alg")
    if not isinstance(alg, str):
        raise InvalidInput(
            "'alg' must be a string in the protected header", location=f"{where}/protected/alg"
        )
    if alg.lower() == "none":  # RFC 8725 §3.1: never accept an unsecured JWS
        raise UnsupportedFeature(
            "'alg: none' is refused (unsecured JWS)", location=f"{where}/protected/alg"
        )
    crit = protected.get("crit")
    listed: set[str] = set()
    if crit is not None:
        if not isinstance(crit, list) or not crit or not all(map(isinstance, crit, _STR)):
            raise InvalidInput(
                "'crit' must be a non-empty array of strings", location=f"{where}/crit"
            )
        listed = set(crit)
        if len(listed) != len(crit):
            raise InvalidInput("'crit' lists a name twice", location=f"{where}/crit")
        registered = listed & REGISTERED_HEADERS
        if registered:
            raise InvalidInput(
                f"'crit' must not list registered headers: {sorted(registered)}",
                location=f"{where}/crit",
            )
        unknown = listed.difference(understood)
        if unknown:
            raise UnsupportedFeature(
                f"critical header parameters not understood: {sorted(unknown)}",
                location=f"{where}/crit",
            )
        missing = listed.difference(protected)
        if missing:
            raise InvalidInput(
                f"'crit' names absent parameters: {sorted(missing)}", location=f"{where}/crit"
            )
    if "crit" in header:
        raise InvalidInput("'crit' must be integrity protected", location=f"{where}/header/crit")
    for name in MUST_BE_CRITICAL:
        if name in protected and name not in listed:
            raise InvalidInput(
                f"{name!r} is present but not listed in 'crit'", location=f"{where}/{name}"
            )
    if "b64" in protected and not isinstance(protected["b64"], bool):
        raise InvalidInput("'b64' must be a boolean", location=f"{where}/b64")


def _b64url(text: str, where: str) -> tuple[bytes, bytes]:
    """(decoded, ASCII text) of strict base64url, as ``b64url_decode`` accepts and refuses.

    A SIMD decode with ``validate`` of text free of ``+``, ``/`` and ``=`` (memchr each)
    proves the alphabet and that no padding or whitespace is there. Canonical trailing bits
    (RFC 4648 §3.5) concern only the last character of a partial quantum: every full
    4-character group re-encodes to itself (24 bits both ways), so the unused low bits of
    that character being zero proves what re-encoding everything and comparing would.
    Anything else goes to ``b64url_decode``, which raises (or decodes) exactly as before.
    """
    raw = text.encode("ascii") if text.isascii() else b""
    data = _b64url_ascii(raw) if raw else None
    if data is not None:
        return data, raw
    return b64url_decode(text, where=where), text.encode("ascii")


_PAD = (b"", b"", b"==", b"=")  # by len % 4 (1 is impossible and never padded)
_URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# By len % 4: the last characters whose unused low bits (4 after 2 characters, 2 after 3) are 0.
_ZERO_TAIL = {
    rest: frozenset(c for i, c in enumerate(_URL_ALPHABET) if not i & mask)
    for rest, mask in ((2, 0x0F), (3, 0x03))
}


def _decode_protected(text: Any, limits: JWSLimits, where: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(text, str) or not text:
        raise InvalidInput("the protected header is missing or empty", location=where)
    if len(text) > _b64_size(limits.max_header_bytes):
        raise InvalidInput(
            f"protected header larger than {limits.max_header_bytes} bytes", location=where
        )
    raw = _b64url(text, where)[0]
    obj = loads_strict_json(raw, max_bytes=limits.max_header_bytes, max_depth=8, where=where)
    if not isinstance(obj, dict):
        raise InvalidInput("the protected header is not a JSON object", location=where)
    return text, obj


def _payload(b64: bool, segment: str, limits: JWSLimits) -> tuple[bytes, bytes]:
    if len(segment) > _b64_size(limits.max_payload_bytes):
        raise InvalidInput(
            f"payload larger than {limits.max_payload_bytes} bytes", location="/payload"
        )
    if not b64:  # RFC 7797 §3: the payload is used as is.
        raw = segment.encode("utf-8")
        return raw, raw
    return _b64url(segment, "/payload")


def _finish(
    entries: list[tuple[str, dict[str, Any], dict[str, Any], str]],
    payload_text: str | None,
    detached: bytes | None,
    serialization: str,
    limits: JWSLimits,
    understood: Iterable[str],
    unprotected_allowed: Iterable[str],
) -> ParsedJWS:
    sigs = []
    b64_values = set()
    for i, (ptext, prot, hdr, stext) in enumerate(entries):
        where = f"/signatures/{i}" if serialization == "general" else ""
        check_header(
            prot, hdr, understood=understood, unprotected_allowed=unprotected_allowed, where=where
        )
        b64_values.add(prot.get("b64", True))
        if not isinstance(stext, str) or not stext:
            raise InvalidInput(
                "the signature value is missing or empty", location=f"{where}/signature"
            )
        sigs.append(
            ParsedSignature(ptext, prot, hdr, stext, _b64url(stext, f"{where}/signature")[0])
        )
    if len(b64_values) != 1:  # RFC 7797 §3: every signature must use the same b64 value.
        raise InvalidInput("signatures disagree on 'b64'", location="/signatures")
    b64 = bool(b64_values.pop())
    if payload_text is None:
        if detached is None:
            raise InvalidInput(
                "the payload is missing (detached content needs the payload)", location="/payload"
            )
        if len(detached) > limits.max_payload_bytes:
            raise InvalidInput("detached payload too large", location="/payload")
        return ParsedJWS(
            detached,
            b64url_encode(detached).encode() if b64 else detached,
            tuple(sigs),
            serialization,
        )
    if detached is not None:
        raise InvalidInput("payload given both inline and detached", location="/payload")
    payload, segment = _payload(b64, payload_text, limits)
    return ParsedJWS(payload, segment, tuple(sigs), serialization)


def parse_jws(
    data: bytes | str,
    *,
    limits: JWSLimits = JWSLimits(),
    understood: Iterable[str] = ("b64",),
    unprotected_allowed: Iterable[str] = DEFAULT_UNPROTECTED,
    detached_payload: bytes | None = None,
    allow_compact: bool = False,
) -> ParsedJWS:
    """Parse a JWS JSON serialisation (or, if ``allow_compact``, the compact one)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > limits.max_bytes:
        raise InvalidInput(f"JWS is {len(raw)} bytes, limit {limits.max_bytes}")
    if raw[:1] != b"{":
        if not allow_compact:
            raise InvalidInput("expected the JWS JSON serialisation (an object)")
        return _parse_compact(raw, limits, understood, detached_payload)
    # Read the name sets once: a caller's one-shot iterator must serve every signature.
    if not isinstance(understood, (frozenset, set)):
        understood = frozenset(understood)
    if not isinstance(unprotected_allowed, (frozenset, set)):
        unprotected_allowed = frozenset(unprotected_allowed)
    if detached_payload is None:
        fast = _parse_written_layout(raw, limits, understood, unprotected_allowed)
        if fast is not None:
            return fast
    obj = loads_strict_json(raw, max_bytes=limits.max_bytes, max_depth=16)
    assert isinstance(obj, dict)
    payload_text = obj.get("payload")
    if payload_text is not None and not isinstance(payload_text, str):
        raise InvalidInput("'payload' must be a string", location="/payload")
    flat = {"protected", "header", "signature"} & set(obj)
    if "signatures" in obj:
        if flat:  # RFC 7515 §7.2.2: flattened members MUST NOT sit beside "signatures".
            raise InvalidInput(f"general JWS with flattened members {sorted(flat)}")
        extra = set(obj) - {"payload", "signatures"}
        sigs = obj["signatures"]
        if not isinstance(sigs, list) or not sigs:
            raise InvalidInput("'signatures' must be a non-empty array", location="/signatures")
        if len(sigs) > limits.max_signatures:
            raise InvalidInput(
                f"more than {limits.max_signatures} signatures", location="/signatures"
            )
        entries = []
        for i, s in enumerate(sigs):
            where = f"/signatures/{i}"
            if not isinstance(s, dict) or set(s) - {"protected", "header", "signature"}:
                raise InvalidInput(
                    "a signature entry must be an object of protected/header/signature",
                    location=where,
                )
            entries.append(_entry(s, limits, where))
        kind = "general"
    else:
        if "signature" not in obj:
            raise InvalidInput("no 'signatures' array and no 'signature': nothing is signed")
        extra = set(obj) - {"payload", "protected", "header", "signature"}
        entries = [_entry(obj, limits, "")]
        kind = "flattened"
    if extra:
        raise InvalidInput(f"unknown top-level members: {sorted(extra)}")
    return _finish(
        entries, payload_text, detached_payload, kind, limits, understood, unprotected_allowed
    )


def _entry(
    s: dict[str, Any], limits: JWSLimits, where: str
) -> tuple[str, dict[str, Any], dict[str, Any], str]:
    ptext, prot = _decode_protected(s.get("protected"), limits, f"{where}/protected")
    hdr = s.get("header", {})
    if not isinstance(hdr, dict):
        raise InvalidInput("'header' must be an object", location=f"{where}/header")
    return ptext, prot, hdr, s.get("signature")  # type: ignore[return-value]


def _parse_compact(
    raw: bytes, limits: JWSLimits, understood: Iterable[str], detached: bytes | None
) -> ParsedJWS:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise InvalidInput("compact JWS must be ASCII") from exc
    parts = text.split(".")
    if len(parts) != 3:
        raise InvalidInput(f"compact JWS needs 3 parts, found {len(parts)}")
    ptext, prot = _decode_protected(parts[0], limits, "/protected")
    payload_text: str | None = parts[1]
    if detached is not None:
        if parts[1]:
            raise InvalidInput("payload given both inline and detached", location="/payload")
        payload_text = None
    return _finish(
        [(ptext, prot, {}, parts[2])], payload_text, detached, "compact", limits, understood, ()
    )


# The general serialisation as our signers write it (B-B: no unprotected header), in order.
_HEAD = b'{"payload":"'
_FIRST = b'","signatures":[{"protected":"'
_VALUE = b'","signature":"'
_NEXT = b'"},{"protected":"'
_END = b'"}]}'


def _parse_written_layout(
    raw: bytes, limits: JWSLimits, understood: Iterable[str], unprotected_allowed: Iterable[str]
) -> ParsedJWS | None:
    """``raw`` parsed without a JSON parse when it is laid out exactly as ``sign_json`` writes
    it, else None (the caller parses it in full; None is "not this layout", never "invalid").

    Every piece between the fixed delimiters must decode as strict base64url, whose alphabet
    has no ``"``, ``\\`` or control character: then ``raw`` is exactly the JSON object
    ``{"payload": P, "signatures": [{"protected": H, "signature": S}, ...]}`` (no duplicate,
    nothing else), which the full parse would read the same way. The per-signature checks
    are the full parse's (``check_header``); any refusal leaves the input to the full parse,
    which raises with its own words and locations.
    """
    if not raw.startswith(_HEAD) or not raw.endswith(_END):
        return None
    first = raw.find(_FIRST)
    if first < 0:
        return None
    segment = raw[len(_HEAD) : first]
    entries = raw[first + len(_FIRST) : len(raw) - len(_END)].split(_NEXT)
    if len(entries) > limits.max_signatures or len(segment) > _b64_size(limits.max_payload_bytes):
        return None
    payload = _b64url_ascii(segment)
    if payload is None:
        return None
    sigs = []
    for entry in entries:
        parts = entry.split(_VALUE)
        if len(parts) != 2 or len(parts[0]) > _b64_size(limits.max_header_bytes):
            return None
        head_raw, value_raw = parts
        head, value = _b64url_ascii(head_raw), _b64url_ascii(value_raw)
        if not head or not value:
            return None
        try:
            prot = loads_strict_json(head, max_bytes=limits.max_header_bytes, max_depth=8)
            if type(prot) is not dict or prot.get("b64", True) is not True:
                return None
            check_header(prot, {}, understood=understood, unprotected_allowed=unprotected_allowed)
        except (InvalidInput, UnsupportedFeature):
            return None
        sigs.append(
            ParsedSignature(
                head_raw.decode("ascii"), prot, {}, value_raw.decode("ascii"), value, head_raw
            )
        )
    return ParsedJWS(payload, segment, tuple(sigs), "general")


def _b64_size(decoded: int) -> int:
    """The longest base64url text ``decoded`` bytes can need (a bound checked before decoding)."""
    return (decoded * 4) // 3 + 4


def _b64url_ascii(raw: bytes) -> bytes | None:
    """``raw`` decoded if it is strict base64url (see ``_b64url`` for the proof), else None."""
    rest = len(raw) % 4
    # pybase64 warns on '+' and '/' with url-safe altchars. find, not `in`, which raises
    # and clears a TypeError per call trying the bytes as an int.
    if rest == 1 or raw.find(b"+") >= 0 or raw.find(b"/") >= 0 or raw.find(b"=") >= 0:
        return None
    try:
        # Positional arguments: the keywords cost ~0.25 us a call to parse (altchars, validate).
        data = pybase64.b64decode(raw + _PAD[rest], b"-_", True)
    except ValueError:
        return None
    return data if not rest or raw[-1] in _ZERO_TAIL[rest] else None
