"""``jws_parse._parse_written_layout`` reads only what the full parse reads, the same way.

The fast path recognises the JWS JSON serialisation exactly as ``sign_json`` writes it
(``{"payload":…,"signatures":[{"protected":…,"signature":…},…]}``) without a JSON parse.
Everything else, including every near miss, must give the full parse's result or error.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastpath_helpers import error_outcome
from hypothesis import given, settings
from hypothesis import strategies as st
from xades_helpers import PERSONAL, SEAL, answer

from pakn_sign.errors import PaknSignError
from pakn_sign.signing import jws_parse
from pakn_sign.signing.b64 import b64url_encode
from pakn_sign.signing.jades import JADES_LIMITS, JADES_UNDERSTOOD, sign_json
from pakn_sign.signing.jws_parse import ParsedJWS, parse_jws
from pakn_sign.trust.testpki import TestPKI

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    pki = TestPKI.create(Path(tmp_path_factory.mktemp("pki")), now=NOW)
    doc = answer()
    personal = sign_json(doc, pki.signer(PERSONAL), role="personal", at=NOW)
    both = sign_json(personal, pki.signer(SEAL), role="organisation", at=NOW)
    return {"personal": personal, "both": both}


def _parse(raw: bytes) -> ParsedJWS:
    return parse_jws(
        raw, limits=JADES_LIMITS, understood=JADES_UNDERSTOOD, unprotected_allowed={"etsiU"}
    )


def _outcome(raw: bytes, *, fast: bool) -> tuple[object, ...]:
    saved = jws_parse._parse_written_layout
    if not fast:
        jws_parse._parse_written_layout = lambda *args: None  # type: ignore[assignment]
    try:
        parsed = _parse(raw)
    except PaknSignError as exc:
        return error_outcome(exc)
    finally:
        jws_parse._parse_written_layout = saved
    signing_inputs = [parsed.signing_input(i) for i in range(len(parsed.signatures))]
    return ("ok", parsed, signing_inputs)


def _same(raw: bytes) -> tuple[object, ...]:
    fast = _outcome(raw, fast=True)
    assert fast == _outcome(raw, fast=False), raw[:160]
    return fast


@pytest.mark.parametrize("which", ["personal", "both"])
def test_signed_documents_take_the_fast_path(signed: dict[str, bytes], which: str) -> None:
    raw = signed[which]
    parsed = jws_parse._parse_written_layout(
        raw, JADES_LIMITS, JADES_UNDERSTOOD, frozenset({"etsiU"})
    )
    assert parsed is not None
    assert len(parsed.signatures) == (1 if which == "personal" else 2)
    assert _same(raw)[0] == "ok"


def _splice(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert old in raw
    return raw.replace(old, new, 1)


@pytest.mark.parametrize(
    "forge",
    [
        # a second "signatures" member after the first (the last one wins in some parsers)
        lambda r: r[:-1] + b',"signatures":[{"protected":"e30","signature":"AA"}]}',
        # a second payload after the signatures
        lambda r: r[:-1] + b',"payload":"e30"}',
        # the payload member repeated in front
        lambda r: b'{"payload":"e30",' + r[1:],
        # an escaped quote that would end the payload early in a naive split
        lambda r: _splice(r, b'{"payload":"', b'{"payload":"e30\\",\\"x'),
        # an unprotected header between protected and signature
        lambda r: _splice(r, b'","signature":"', b'","header":{"kid":"k"},"signature":"'),
        # whitespace between members
        lambda r: _splice(r, b'","signatures":[', b'", "signatures":['),
        # a fourth field in an entry, in the position the layout does not expect
        lambda r: _splice(r, b'"}]}', b'","x":"y"}]}'),
        # padding and the standard alphabet in the payload
        lambda r: _splice(r, b'","signatures"', b'=","signatures"'),
        lambda r: _splice(r, b'{"payload":"', b'{"payload":"+/'),
        # a signature value split by the entry delimiter
        lambda r: _splice(r, b'"}]}', b'"},{"protected":""}]}'),
        # an empty protected header
        lambda r: _splice(r, b'"protected":"', b'"protected":"","signature":"AA"},{"protected":"'),
    ],
)
def test_attack_near_misses_of_the_layout_get_the_full_parse(
    signed: dict[str, bytes], forge: Any
) -> None:
    raw = forge(signed["personal"])
    assert (
        jws_parse._parse_written_layout(raw, JADES_LIMITS, JADES_UNDERSTOOD, frozenset({"etsiU"}))
        is None
    )
    _same(raw)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none"},
        {"alg": "RS256", "jwk": {"kty": "oct", "k": "AA"}},
        {"alg": "RS256", "jku": "https://evil.example/keys"},
        {"alg": "RS256", "crit": ["alg"]},
        {"alg": "RS256", "crit": ["sigT"]},
        {"alg": "RS256", "crit": ["exp"], "exp": 1},
        {"alg": "RS256", "b64": False},
        {"alg": 5},
        ["alg", "RS256"],
    ],
)
def test_attack_forbidden_headers_in_the_written_layout(header: Any) -> None:
    """The layout is ours, the header is not: every header rule of the full parse applies."""
    head = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    raw = b'{"payload":"e30","signatures":[{"protected":"%s","signature":"AAAA"}]}' % (
        head.encode()
    )
    assert _same(raw)[0] == "error"


def test_unencoded_payload_is_left_to_the_full_parse() -> None:
    """RFC 7797 ``b64: false`` is valid JWS; the layout path reads only base64url payloads."""
    head = b64url_encode(b'{"alg":"RS256","b64":false,"crit":["b64"]}')
    raw = b'{"payload":"e30","signatures":[{"protected":"%s","signature":"AAAA"}]}' % (
        head.encode()
    )
    limits, known = JADES_LIMITS, JADES_UNDERSTOOD
    assert jws_parse._parse_written_layout(raw, limits, known, frozenset()) is None
    assert _same(raw)[0] == "ok"


_PIECES = [
    b'"', b"\\", b",", b":", b"{", b"}", b"[", b"]", b" ", b"\n", b"\x00", b"\xc3\xa9", b"=",
    b"+", b"/", b"A", b"Q", b'","signature":"', b'"},{"protected":"', b'","signatures":[{',
    b'"protected":"eyJhbGciOiJub25lIn0"',
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_envelopes_get_the_full_parse_answer(
    signed: dict[str, bytes], data: st.DataObject
) -> None:
    raw = signed[data.draw(st.sampled_from(["personal", "both"]))]
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(raw)))
        if data.draw(st.booleans()):
            raw = raw[:i] + data.draw(st.sampled_from(_PIECES)) + raw[i:]
        else:
            raw = raw[:i] + raw[i + data.draw(st.integers(1, 4)) :]
    _same(raw)


def test_limits_still_apply_on_the_fast_path(signed: dict[str, bytes]) -> None:
    raw = signed["both"]
    tight = jws_parse.JWSLimits(max_signatures=1)
    with pytest.raises(PaknSignError, match="more than 1 signatures"):
        parse_jws(raw, limits=tight, understood=JADES_UNDERSTOOD, unprotected_allowed={"etsiU"})
    small = jws_parse.JWSLimits(max_payload_bytes=16)
    with pytest.raises(PaknSignError, match="payload larger than 16 bytes"):
        parse_jws(raw, limits=small, understood=JADES_UNDERSTOOD, unprotected_allowed={"etsiU"})
