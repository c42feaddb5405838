"""Strict base64 (signing/b64.py) against a reference built on the standard library.

The decoders check the alphabet, length and trailing bits themselves and then hand canonical
text to pybase64 (SIMD) for speed; these tests pin that the accepted set and the bytes are
exactly those of the stdlib reference, for valid, mangled and arbitrary input.
"""

from __future__ import annotations

import base64
import binascii
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pakn_sign.errors import InvalidInput
from pakn_sign.signing.b64 import b64_decode_strict, b64url_decode, b64url_encode

_URL = re.compile(r"[A-Za-z0-9_-]*")
_STD = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _reference_url(text: str) -> bytes | None:
    """Strict base64url by the definition: canonical iff re-encoding gives the text back."""
    if not _URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    data = binascii.a2b_base64(text.translate(str.maketrans("-_", "+/")) + "=" * (-len(text) % 4))
    return data if base64.urlsafe_b64encode(data).rstrip(b"=").decode() == text else None


def _reference_std(text: str) -> bytes | None:
    if not _STD.fullmatch(text):
        return None
    data = base64.b64decode(text, validate=True)
    return data if base64.b64encode(data).decode() == text else None


def _outcome(decode: object, text: str) -> bytes | None:
    try:
        return decode(text)  # type: ignore[operator, no-any-return]
    except InvalidInput:
        return None


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= \n.é"


@st.composite
def _mangled(draw: st.DrawFn, *, url: bool) -> str:
    data = draw(st.binary(max_size=48))
    text = (base64.urlsafe_b64encode(data).rstrip(b"=") if url else base64.b64encode(data)).decode()
    if text and draw(st.booleans()):
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + draw(st.sampled_from(_ALPHABET)) + text[i + 1 :]
    return text


@settings(max_examples=1000)
@given(st.one_of(_mangled(url=True), st.text(_ALPHABET, max_size=12)))
def test_base64url_accepts_exactly_the_canonical_encodings(text: str) -> None:
    assert _outcome(b64url_decode, text) == _reference_url(text)


@settings(max_examples=1000)
@given(st.one_of(_mangled(url=False), st.text(_ALPHABET, max_size=12)))
def test_padded_base64_accepts_exactly_the_canonical_encodings(text: str) -> None:
    assert _outcome(b64_decode_strict, text) == _reference_std(text)


@given(st.binary(max_size=5000))
def test_base64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert text == base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    assert b64url_decode(text) == data
