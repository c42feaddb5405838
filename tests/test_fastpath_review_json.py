"""Adversarial review of the verification fast paths (3/3): JSON and JWS.

``jsoncodec.compact_value`` (compact-length proof), ``jsoncodec.from_canonical_json``
(canonical-bytes proof), ``jws_parse._b64url`` (last-character proof) and the ``x5c``
lookup by thumbprint (``jws.certificates_of``) against their strict paths: same value or
same error, on hand-written attacks and hypothesis mutations.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import example_documents, xmldsig_signer
from cryptography.hazmat.primitives import serialization
from fastpath_helpers import doc_outcome, error_outcome
from hypothesis import given, settings
from hypothesis import strategies as st

from pakn_sign.codec.jsoncodec import compact_value, from_canonical_json, from_json, to_json
from pakn_sign.errors import InvalidInput, PaknSignError
from pakn_sign.signing.b64 import b64url_decode
from pakn_sign.signing.jws_json import loads_strict_json
from pakn_sign.signing.jws_parse import _b64url
from pakn_sign.signing.xmldsig_types import b64decode_strict

# == JSON: compact_value, from_canonical_json, base64url, x5c by thumbprint ==========


def _json_outcome(fn: Callable[[], Any]) -> tuple[object, ...]:
    try:
        return ("ok", json.dumps(fn(), ensure_ascii=True))  # values and key order
    except PaknSignError as exc:
        return error_outcome(exc)


@st.composite
def _json_mutations(draw: st.DrawFn, value: Any) -> bytes:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(_JSON_SPLICES)) + text[i:]
    return text.encode("utf-8", "surrogatepass")


_JSON_SPLICES = [
    " ", "\\u0041", "\\/", "\\ud83d\\ude00", "\\ud800", '"a":1,', '"a":"",', '"b":[],',
    ',"a":1', "-0", "1.0", "1e2", "0", "9223372036854775808", "\t", "\u00e9", "\U0001f600",
    "\x01", "\xff", '"', ",", "}", "]", "{", "[", "null", "NaN",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_compact_value_never_accepts_what_the_strict_parse_refuses_or_reads_otherwise(
    data: st.DataObject,
) -> None:
    """Spliced whitespace, escapes, duplicate members (whose lengths could compensate for
    something), numbers and junk: a compact_value answer is always the strict answer."""
    base = {"alg": "RS256", "a": 1, "b": "ệ", "c": [1, {"d": None}], "e": True}
    raw = data.draw(_json_mutations(base))
    got = compact_value(raw, 8)
    strict = _json_outcome(lambda: loads_strict_json(raw, max_bytes=1 << 16, max_depth=8))
    if got is not None:
        assert strict == ("ok", json.dumps(got, ensure_ascii=True))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":"xy","a":"z"}',  # a dropped member is never compensated by a shorter spelling
        b'{"aa":1,"a":2,"a":3}',
        b'{"a":"\\u00e9\\u00e9","a":"\xc3\xa9"}',  # escapes are longer than their UTF-8
        b'{"a":[1,2],"a":[1]}',
        b'{"a":{"b":1,"b":1}}',
        b'{"x":1,"x":1}',
    ],
)
def test_attack_duplicate_members_with_compensating_lengths(raw: bytes) -> None:
    assert compact_value(raw, 8) is None
    with pytest.raises(InvalidInput, match="duplicate"):
        loads_strict_json(raw, max_bytes=1 << 16, max_depth=8)


def _canonical_variants(data: bytes) -> list[bytes]:
    obj = json.loads(data)
    text = data.decode()
    return [
        data,
        json.dumps(obj, sort_keys=True, separators=(",", ":")).encode(),  # \\u escapes
        json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode(),  # key order
        json.dumps(obj, sort_keys=True, ensure_ascii=False).encode(),  # spaces
        text.replace("/", "\\/", 1).encode(),
        text.replace('"kind":', '"kind":"x","kind":', 1).encode(),  # duplicate, first loses
        text.replace("+00:00", "Z", 1).encode(),
        text.replace("+07:00", "+0700", 1).encode(),
        text.replace('"1"', '"\\u0031"', 1).encode(),
        text.replace("ệ", "e\u0323\u0302", 1).encode(),  # NFD
        text[:-1].encode() + b',"zz":1}',
        b" " + data,
        b"\xef\xbb\xbf" + data,
    ]


@pytest.mark.parametrize("index", range(len(example_documents())))
def test_attack_from_canonical_json_variants(index: int) -> None:
    """Non-canonical spellings of a valid document's payload: from_json's answer exactly."""
    doc = example_documents()[index]
    for raw in _canonical_variants(to_json(doc)):
        assert doc_outcome(from_canonical_json, raw) == doc_outcome(from_json, raw), raw[:80]


@settings(max_examples=400, deadline=None)
@given(st.text(st.sampled_from("AQgw-_9z+/= \n\x00é."), max_size=11))
def test_b64url_fast_path_equals_strict_on_any_text(text: str) -> None:
    def run(fn: Callable[[], Any]) -> tuple[object, ...]:
        try:
            return ("ok", fn())
        except InvalidInput as exc:
            return ("error", exc.message, exc.location)

    strict = run(lambda: (b64url_decode(text, where="/w"), text.encode("ascii")))
    assert run(lambda: _b64url(text, "/w")) == strict


@pytest.mark.parametrize("tail", ["AB", "AAB", "A_", "AA-", "AAAAAB", "QR", "QUJ"])
def test_attack_b64url_nonzero_unused_bits(tail: str) -> None:
    with pytest.raises(InvalidInput, match="unused"):
        _b64url(tail, "/w")
    with pytest.raises(InvalidInput, match="unused"):
        b64url_decode(tail, where="/w")


def test_attack_same_thumbprint_other_x5c_strings() -> None:
    """x5c looked up by x5t#S256: another chain under a remembered thumbprint (an appended
    intermediate, the leaf alone, a foreign leaf) is decoded afresh, never the remembered."""
    import hashlib

    from pakn_sign.errors import InvalidSignature
    from pakn_sign.signing.b64 import b64url_encode
    from pakn_sign.signing.jws import certificates_of

    leaf, other = (xmldsig_signer(k).certificate_chain[0] for k in ("rsa2048", "p256"))
    texts = [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in (leaf, other)
    ]
    thumb = b64url_encode(hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).digest())
    first = certificates_of({"x5c": [texts[0]], "x5t#S256": thumb})
    longer = certificates_of({"x5c": [texts[0], texts[1]], "x5t#S256": thumb})
    assert [c.serial_number for c in longer] == [leaf.serial_number, other.serial_number]
    assert [c.serial_number for c in certificates_of({"x5c": [texts[0]], "x5t#S256": thumb})] == [
        c.serial_number for c in first
    ]
    for x5c in ([texts[1]], [texts[1], texts[0]]):
        with pytest.raises(InvalidSignature, match="x5t#S256"):
            certificates_of({"x5c": x5c, "x5t#S256": thumb})
    # the remembered chain survives the attempts, and a bad string is refused each time
    assert len(certificates_of({"x5c": [texts[0], texts[1]], "x5t#S256": thumb})) == 2
    for _ in range(2):
        with pytest.raises(InvalidInput):
            certificates_of({"x5c": [texts[0] + "\n"], "x5t#S256": thumb})


def test_strict_decoders_agree_on_base64_alphabets() -> None:
    """Standard (x5c, XML) and url-safe (JWS) strict decoders never cross alphabets."""
    data = bytes(range(256))
    std = base64.b64encode(data).decode()
    url = base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert b64decode_strict(std, what="X") == data == b64url_decode(url)
    for text, decode in ((url, lambda t: b64decode_strict(t, what="X")), (std, b64url_decode)):
        with pytest.raises(InvalidInput):
            decode(text)


def test_attack_mismatched_thumbprint_never_evicts_a_remembered_chain() -> None:
    """A chain whose x5t#S256 does not match its leaf is refused and not remembered: a
    stream of such headers cannot fill (and so clear) the thumbprint memo."""
    import hashlib

    from pakn_sign.errors import InvalidSignature
    from pakn_sign.signing import jws
    from pakn_sign.signing.b64 import b64url_encode

    leaf, other = (xmldsig_signer(k).certificate_chain[0] for k in ("rsa2048", "p256"))
    text = base64.b64encode(other.public_bytes(serialization.Encoding.DER)).decode()
    good = b64url_encode(hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).digest())
    before = dict(jws._BY_THUMB)
    for i in range(300):
        with pytest.raises(InvalidSignature, match="x5t#S256"):
            jws.certificates_of({"x5c": [text], "x5t#S256": f"{good[:-4]}{i:04d}"})
    assert before == jws._BY_THUMB
