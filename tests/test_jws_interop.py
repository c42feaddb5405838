"""Interop (DESIGN.md §8): what we sign, joserfc and jwcrypto verify; what they sign, we verify.

Their tokens carry ``x5c`` (the signer's certificate chain) in the protected header, as a
certificate-key signer would send them; we verify with the certificate's key only.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from _local_ca import LocalCA, new_key
from cryptography.hazmat.primitives import serialization
from joserfc import jws as jose_jws
from joserfc.jwk import import_key as jose_import_key
from jwcrypto import jwk as jwc_jwk
from jwcrypto import jws as jwc_jws

from pakn_sign.errors import InvalidSignature
from pakn_sign.signing.jws import (
    DEFAULT_JWS_ALGORITHMS,
    sign_flattened,
    sign_general,
    verify_flattened,
    verify_general,
)
from pakn_sign.signing.signers import LocalKeySigner

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated:UserWarning")

PAYLOAD = '{"kind":"answer","content":"Trả lời kiến nghị số 12/2026"}'.encode()
CASES = [("rsa2048", "RS256", "RSA"), ("p256", "ES256", "EC"), ("ed25519", "EdDSA", "OKP")]


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA.create()


def _signer(ca: LocalCA, kind: str) -> LocalKeySigner:
    key = new_key(kind)
    return LocalKeySigner(key, [ca.issue(key.public_key(), f"Cán bộ {kind}"), ca.cert])


def _pem(s: LocalKeySigner, private: Any = None) -> bytes:
    if private is not None:
        return private.private_bytes(  # type: ignore[no-any-return]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return (
        s.certificate_chain[0]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _x5c(s: LocalKeySigner) -> list[str]:
    return [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
        for c in s.certificate_chain
    ]


def _joserfc_registry(alg: str) -> jose_jws.JWSRegistry:
    reg = jose_jws.JWSRegistry(algorithms=[alg])
    reg.max_header_length = 16_384  # x5c with two certificates is ~2 KB
    return reg


@pytest.mark.parametrize(("kind", "alg", "kty"), CASES, ids=[c[1] for c in CASES])
def test_joserfc_verifies_ours(ca: LocalCA, kind: str, alg: str, kty: str) -> None:
    s = _signer(ca, kind)
    key = jose_import_key(_pem(s), kty)  # type: ignore[arg-type]
    flat = jose_jws.deserialize_json(
        json.loads(sign_flattened(PAYLOAD, s)), key, registry=_joserfc_registry(alg)
    )
    assert flat.payload == PAYLOAD
    general = jose_jws.deserialize_json(
        json.loads(sign_general(PAYLOAD, [s])), key, registry=_joserfc_registry(alg)
    )
    assert general.payload == PAYLOAD


@pytest.mark.parametrize(("kind", "alg", "kty"), CASES, ids=[c[1] for c in CASES])
def test_jwcrypto_verifies_ours(ca: LocalCA, kind: str, alg: str, kty: str) -> None:
    s = _signer(ca, kind)
    key = jwc_jwk.JWK.from_pem(_pem(s))
    token = jwc_jws.JWS()
    token.deserialize(sign_flattened(PAYLOAD, s).decode())
    token.verify(key, alg=alg)
    assert token.payload == PAYLOAD
    tampered = json.loads(sign_flattened(PAYLOAD, s))
    tampered["payload"] = tampered["payload"][:-2] + (
        "AA" if tampered["payload"][-2:] != "AA" else "BA"
    )
    bad = jwc_jws.JWS()
    bad.deserialize(json.dumps(tampered))
    with pytest.raises(jwc_jws.InvalidJWSSignature):
        bad.verify(key, alg=alg)


@pytest.mark.parametrize(("kind", "alg", "kty"), CASES, ids=[c[1] for c in CASES])
def test_we_verify_joserfc(ca: LocalCA, kind: str, alg: str, kty: str) -> None:
    private = new_key(kind)
    s = LocalKeySigner(private, [ca.issue(private.public_key(), "joserfc signer"), ca.cert])
    key = jose_import_key(_pem(s, private), kty)  # type: ignore[arg-type]
    reg = _joserfc_registry(alg)
    flat = jose_jws.serialize_json(
        {"protected": {"alg": alg, "x5c": _x5c(s)}}, PAYLOAD, key, registry=reg
    )
    got = verify_flattened(json.dumps(flat).encode(), allowed=DEFAULT_JWS_ALGORITHMS)
    assert got.payload == PAYLOAD
    assert got.certificates[0] == s.certificate_chain[0]
    general = jose_jws.serialize_json(
        {"protected": {"alg": alg, "x5c": _x5c(s)}}, PAYLOAD, key, registry=reg
    )
    general_obj = {
        "payload": general["payload"],
        "signatures": [{k: general[k] for k in ("protected", "signature")}],
    }
    assert (
        verify_general(json.dumps(general_obj).encode(), allowed=DEFAULT_JWS_ALGORITHMS)[0].payload
        == PAYLOAD
    )


@pytest.mark.parametrize(("kind", "alg", "kty"), CASES, ids=[c[1] for c in CASES])
def test_we_verify_jwcrypto(ca: LocalCA, kind: str, alg: str, kty: str) -> None:
    private = new_key(kind)
    s = LocalKeySigner(private, [ca.issue(private.public_key(), "jwcrypto signer"), ca.cert])
    key = jwc_jwk.JWK.from_pem(_pem(s, private))
    token = jwc_jws.JWS(PAYLOAD)
    token.add_signature(key, None, protected=json.dumps({"alg": alg, "x5c": _x5c(s)}))
    got = verify_flattened(token.serialize(compact=False).encode(), allowed=DEFAULT_JWS_ALGORITHMS)
    assert got.payload == PAYLOAD
    # And a signature by someone else's key under this x5c is refused.
    other = jwc_jwk.JWK.from_pem(_pem(s, new_key(kind)))
    forged = jwc_jws.JWS(PAYLOAD)
    forged.add_signature(other, None, protected=json.dumps({"alg": alg, "x5c": _x5c(s)}))
    with pytest.raises(InvalidSignature):
        verify_flattened(forged.serialize(compact=False).encode(), allowed=DEFAULT_JWS_ALGORITHMS)


def test_add_signature_keeps_earlier_entries_and_joserfc_verifies_each(ca: LocalCA) -> None:
    from pakn_sign.signing.jws import add_signature

    a, b = _signer(ca, "rsa2048"), _signer(ca, "p256")
    first = sign_general(PAYLOAD, [a])
    both = add_signature(first, b)
    assert json.loads(both)["signatures"][0] == json.loads(first)["signatures"][0]
    got = verify_general(both, allowed=DEFAULT_JWS_ALGORITHMS)
    assert [v.certificates[0] for v in got] == [a.certificate_chain[0], b.certificate_chain[0]]
    obj = json.loads(both)
    for i, (s, alg, kty) in enumerate(((a, "RS256", "RSA"), (b, "ES256", "EC"))):
        one = {"payload": obj["payload"], "signatures": [obj["signatures"][i]]}
        key = jose_import_key(_pem(s), kty)  # type: ignore[arg-type]
        assert (
            jose_jws.deserialize_json(one, key, registry=_joserfc_registry(alg)).payload == PAYLOAD
        )
