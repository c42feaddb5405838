"""The JSON/JWS parsers' fast paths give exactly the strict paths' results and errors.

``jsoncodec.compact_value`` (pydantic-core parse + compact-length proof, used by
``jws_json.loads_strict_json``) and ``jws_parse._b64url`` (SIMD
decode + re-encode proof) only ever accept what the strict code accepts, with the same
value; everything else falls through to the strict code. Each test compares the two.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pakn_sign.codec import jsoncodec
from pakn_sign.codec.jsoncodec import JsonLimits, compact_value, loads_strict
from pakn_sign.errors import InvalidInput
from pakn_sign.signing import jws_json
from pakn_sign.signing.b64 import b64url_decode, b64url_encode
from pakn_sign.signing.jws_json import loads_strict_json
from pakn_sign.signing.jws_parse import _b64url


def _strict(data: bytes, max_depth: int) -> tuple[tuple[str, Any], tuple[str, Any]]:
    """Both parsers with the fast path switched off, as (outcome, value or message) pairs."""
    saved = jws_json.compact_value
    jws_json.compact_value = jsoncodec.compact_value = lambda d, m: None  # type: ignore[assignment]
    try:
        return _outcome(data, max_depth)
    finally:
        jws_json.compact_value = jsoncodec.compact_value = saved  # type: ignore[assignment]


def _catch(fn: Any) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except InvalidInput as exc:
        return "error", (exc.message, exc.location)


def _outcome(data: bytes, max_depth: int) -> tuple[tuple[str, Any], tuple[str, Any]]:
    return (
        _catch(lambda: loads_strict_json(data, max_bytes=1 << 20, max_depth=max_depth, where="/x")),
        _catch(lambda: loads_strict(data, JsonLimits(max_bytes=1 << 20, max_depth=max_depth))),
    )


REFUSED_OR_SLOW = [
    b'{"a":1,"a":2}',  # duplicate member: merged by pydantic-core, refused by the strict parse
    b'{"a":{"b":1,"b":1}}',
    b'[{"k":"v","k":"v"}]',
    b'{"a":NaN}',
    b'{"a":-Infinity}',
    b'{"a":1.5}',
    b'{"a":1e400}',
    b'{"a":-0}',
    b'{"a": 1}',
    b'{"a":1}\n',
    b'{"a":"\\u0041"}',
    b'{"a":"\\/"}',
    b'{"a":"\\ud800"}',
    b'{"a":123456789012345678901234567890}',
    b"\xef\xbb\xbf{}",
    b'{"a":"\xff"}',
    b'{"a":"\xed\xa0\x80"}',
    b'{"a":"x\ty"}',
    b"[[[[[[[[[1]]]]]]]]]",  # deeper than 8
    b'{"a":1} x',
    b'"top-level string"',
    b"",
]


@pytest.mark.parametrize("data", REFUSED_OR_SLOW)
def test_unusual_json_takes_the_strict_path(data: bytes) -> None:
    assert compact_value(data, 8) is None
    assert _outcome(data, 8) == _strict(data, 8)


def test_attack_duplicate_member_refused_with_fast_path() -> None:
    with pytest.raises(InvalidInput, match="duplicate JSON member 'alg'"):
        loads_strict_json(b'{"alg":"RS256","alg":"none"}', max_bytes=1024)
    with pytest.raises(InvalidInput, match="duplicate object key 'kind'"):
        loads_strict(b'{"kind":"petition","kind":"answer"}')


@pytest.mark.parametrize(
    "data",
    [b"{}", b"[]", b'{"a":[true,false,null,-5,0,"\xe1\xba\xa1"],"\xc3\xa9":{"b":[]}}'],
)
def test_compact_json_takes_the_fast_path(data: bytes) -> None:
    assert compact_value(data, 8) == json.loads(data)
    assert _outcome(data, 8) == _strict(data, 8)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=_json, depth=st.integers(1, 6), spaced=st.booleans(), dup=st.booleans())
def test_fast_and_strict_agree(value: Any, depth: int, spaced: bool, dup: bool) -> None:
    sep = (", ", ": ") if spaced else (",", ":")
    text = json.dumps(value, separators=sep, ensure_ascii=dup)  # ensure_ascii: escapes
    if dup and text.startswith("{") and len(text) > 2:
        text = '{"d":1,"d":2,' + text[1:]
    data = text.encode("utf-8", "surrogatepass")
    assert _outcome(data, depth) == _strict(data, depth)


_URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _b64_outcome(fn: Any, text: str) -> tuple[str, Any]:
    try:
        return "ok", fn(text)
    except InvalidInput as exc:
        return "error", (exc.message, exc.location)


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=_URL + "+/= \n\té", max_size=12) | st.text(alphabet=_URL))
def test_b64url_fast_path_agrees_with_strict_decoder(text: str) -> None:
    fast = _b64_outcome(lambda t: _b64url(t, "/w")[0], text)
    assert fast == _b64_outcome(lambda t: b64url_decode(t, where="/w"), text)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=64))
def test_b64url_fast_path_decodes_canonical_text(data: bytes) -> None:
    text = b64url_encode(data)
    assert _b64url(text, "/w") == (data, text.encode("ascii"))


@pytest.mark.parametrize("text", ["QQ", "QR", "QUI", "QUJ", "QUJD=", "QU JD", "Q", "QUJD+", "QUJ/"])
def test_attack_noncanonical_base64url_refused_with_fast_path(text: str) -> None:
    expected = _b64_outcome(lambda t: b64url_decode(t, where="/w"), text)
    assert _b64_outcome(lambda t: _b64url(t, "/w")[0], text) == expected
    if text not in ("QQ", "QUI"):  # the canonical ones
        assert expected[0] == "error"


@pytest.mark.parametrize("tail_len", [2, 3])
def test_b64url_fast_path_checks_every_possible_last_quantum(tail_len: int) -> None:
    """The fast path re-encodes only the last partial quantum: every 2- and 3-character tail
    after a full group is accepted or refused exactly as the strict decoder does."""
    for tail in itertools.product(_URL, repeat=tail_len):
        text = "QUJD" + "".join(tail)
        fast = _b64_outcome(lambda t: _b64url(t, "/w")[0], text)
        assert fast == _b64_outcome(lambda t: b64url_decode(t, where="/w"), text), text
