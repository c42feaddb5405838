"""Named attacks on the JWS layer: each is refused for the stated reason, not by accident.

Every forged input is *correctly signed* over its forged header by the victim's key
(or by the attacker's, where that is the attack), so only the rule under test can refuse it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import pytest
from _local_ca import LocalCA, new_key
from cryptography.hazmat.primitives import serialization

from pakn_sign.errors import InvalidInput, InvalidSignature, PolicyViolation, UnsupportedFeature
from pakn_sign.signing.algorithms import SignatureAlgorithm, sign_with_key
from pakn_sign.signing.b64 import b64url_encode
from pakn_sign.signing.jws import (
    DEFAULT_JWS_ALGORITHMS,
    JWSLimits,
    build_signature,
    sign_flattened,
    sign_general,
    verify_flattened,
    verify_general,
)
from pakn_sign.signing.jws_json import dumps_compact
from pakn_sign.signing.jws_jwk import UnsafeJWSWarning, unsafe_verify_with_jwk
from pakn_sign.signing.signers import LocalKeySigner

ALLOWED = DEFAULT_JWS_ALGORITHMS
PAYLOAD = '{"kind":"petition","title":"Đề nghị sửa đường"}'.encode()


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA.create()


@pytest.fixture(scope="module")
def signer(ca: LocalCA) -> LocalKeySigner:
    key = new_key("rsa2048")
    return LocalKeySigner(key, [ca.issue(key.public_key(), "Nguyễn Văn A"), ca.cert])


def x5c(s: LocalKeySigner) -> list[str]:
    return [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
        for c in s.certificate_chain
    ]


def forge(
    s: LocalKeySigner, prot: Mapping[str, Any], payload: bytes = PAYLOAD, **extra: Any
) -> bytes:
    """A flattened JWS over ``prot`` correctly signed with ``s``'s key (RS256)."""
    seg = b64url_encode(payload).encode()
    entry = build_signature(seg, prot, lambda d: s.sign_raw(d, SignatureAlgorithm.RSA_SHA256))
    return dumps_compact({"payload": seg.decode(), **entry, **extra})


def base_header(s: LocalKeySigner, **kw: Any) -> dict[str, Any]:
    return {"alg": "RS256", "x5c": x5c(s), **kw}


def test_baseline_forge_verifies(signer: LocalKeySigner) -> None:
    """The forging helper itself produces valid JWS: the attacks below fail only by their rule."""
    assert verify_flattened(forge(signer, base_header(signer)), allowed=ALLOWED).payload == PAYLOAD


def test_attack_alg_none(signer: LocalKeySigner) -> None:
    for name in ("none", "None", "NONE"):
        for sig in ("", "AAAA"):
            seg = b64url_encode(dumps_compact({"alg": name, "x5c": x5c(signer)}))
            data = dumps_compact(
                {"payload": b64url_encode(PAYLOAD), "protected": seg, "signature": sig}
            )
            with pytest.raises(UnsupportedFeature, match="none"):
                verify_flattened(data, allowed=ALLOWED)


def test_attack_hs256_key_confusion_with_rsa_public_key(signer: LocalKeySigner) -> None:
    """HS256 keyed with the victim's RSA public key (PEM and DER) as the shared secret."""
    cert = signer.certificate_chain[0]
    for secret in (
        cert.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    ):
        header = b64url_encode(dumps_compact({"alg": "HS256", "x5c": x5c(signer)}))
        seg = b64url_encode(PAYLOAD)
        mac = hmac.new(secret, f"{header}.{seg}".encode(), hashlib.sha256).digest()
        data = dumps_compact({"payload": seg, "protected": header, "signature": b64url_encode(mac)})
        with pytest.raises(UnsupportedFeature, match="MAC"):
            verify_flattened(data, allowed=ALLOWED)
        # Even the explicit-key layer with HMAC allowed refuses an RSA JWK for HS256.
        n = cert.public_key().public_numbers()  # type: ignore[union-attr]
        rsa_jwk = {"kty": "RSA", "n": b64url_encode(n.n.to_bytes(256, "big")), "e": "AQAB"}
        with pytest.raises(InvalidSignature, match="oct"), pytest.warns(UnsafeJWSWarning):
            unsafe_verify_with_jwk(data, rsa_jwk, allow_hmac=True)


def test_attack_alg_outside_allow_list(signer: LocalKeySigner) -> None:
    only_ec = frozenset({SignatureAlgorithm.ECDSA_SHA256})
    with pytest.raises(PolicyViolation) as info:
        verify_flattened(forge(signer, base_header(signer)), allowed=only_ec)
    assert info.value.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"


def test_attack_alg_and_key_type_mismatch(ca: LocalCA) -> None:
    """ES256 header over an RSA certificate: the algorithm is bound to x5c[0]'s key type."""
    key = new_key("rsa2048")
    s = LocalKeySigner(key, [ca.issue(key.public_key(), "x")])
    seg = b64url_encode(PAYLOAD).encode()
    entry = build_signature(seg, {"alg": "ES256", "x5c": x5c(s)}, lambda d: b"\x00" * 64)
    with pytest.raises(InvalidSignature, match="RSA"):
        verify_flattened(dumps_compact({"payload": seg.decode(), **entry}), allowed=ALLOWED)


@pytest.mark.parametrize("name", ["jwk", "jku", "x5u"])
def test_attack_embedded_key_or_key_url(signer: LocalKeySigner, name: str) -> None:
    attacker = new_key("rsa2048")
    n = attacker.public_key().public_numbers()
    value: Any = {"kty": "RSA", "n": b64url_encode(n.n.to_bytes(256, "big")), "e": "AQAB"}
    if name != "jwk":
        value = "https://attacker.example/keys"
    with pytest.raises(UnsupportedFeature, match=name):
        verify_flattened(forge(signer, base_header(signer, **{name: value})), allowed=ALLOWED)


def test_attack_embedded_jwk_in_unprotected_header(signer: LocalKeySigner) -> None:
    data = forge(signer, base_header(signer), header={"jwk": {"kty": "oct", "k": "AA"}})
    with pytest.raises(UnsupportedFeature, match="jwk"):
        verify_flattened(data, allowed=ALLOWED)


def test_attack_x5c_only_in_unprotected_header(signer: LocalKeySigner) -> None:
    data = forge(signer, {"alg": "RS256"}, header={"x5c": x5c(signer)})
    with pytest.raises(UnsupportedFeature, match="unprotected"):
        verify_flattened(data, allowed=ALLOWED)


def test_attack_empty_signatures_array(signer: LocalKeySigner) -> None:
    data = dumps_compact({"payload": b64url_encode(PAYLOAD), "signatures": []})
    with pytest.raises(InvalidInput, match="non-empty"):
        verify_general(data, allowed=ALLOWED)


def test_attack_missing_signatures(signer: LocalKeySigner) -> None:
    data = dumps_compact({"payload": b64url_encode(PAYLOAD)})
    with pytest.raises(InvalidInput, match="nothing is signed"):
        verify_general(data, allowed=ALLOWED)
    with pytest.raises(InvalidInput, match="nothing is signed"):
        verify_flattened(data, allowed=ALLOWED)


def test_attack_general_mixed_with_flattened_members(signer: LocalKeySigner) -> None:
    good = json.loads(sign_general(PAYLOAD, [signer]))
    flat = json.loads(sign_flattened(b"other", signer))
    data = dumps_compact({**good, "protected": flat["protected"], "signature": flat["signature"]})
    with pytest.raises(InvalidInput, match="flattened members"):
        verify_general(data, allowed=ALLOWED)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s + "=",
        lambda s: s + "==",
        lambda s: s[:10] + " " + s[10:],
        lambda s: s[:10] + "\n" + s[10:],
        lambda s: s.replace("-", "+").replace("_", "/") if ("-" in s or "_" in s) else s + "+",
    ],
    ids=["pad1", "pad2", "space", "newline", "std-alphabet"],
)
@pytest.mark.parametrize("member", ["payload", "protected", "signature"])
def test_attack_padding_whitespace_base64(signer: LocalKeySigner, mutate: Any, member: str) -> None:
    obj = json.loads(sign_flattened(PAYLOAD, signer))
    obj[member] = mutate(obj[member])
    with pytest.raises(InvalidInput, match="base64"):
        verify_flattened(dumps_compact(obj), allowed=ALLOWED)


def test_attack_noncanonical_trailing_bits(signer: LocalKeySigner) -> None:
    payload = b"ab"  # base64url "YWI": the last char carries 2 unused bits
    obj = json.loads(sign_flattened(payload, signer))
    assert obj["payload"] == "YWI"
    obj["payload"] = "YWJ"  # decodes to the same bytes with a non-zero unused bit
    with pytest.raises(InvalidInput, match="trailing bits"):
        verify_flattened(dumps_compact(obj), allowed=ALLOWED)


def test_attack_unknown_crit(signer: LocalKeySigner) -> None:
    data = forge(signer, base_header(signer, crit=["exp2"], exp2=1))
    with pytest.raises(UnsupportedFeature, match="not understood"):
        verify_flattened(data, allowed=ALLOWED)


@pytest.mark.parametrize("name", ["alg", "x5c", "kid", "typ"])
def test_attack_crit_lists_registered_header(signer: LocalKeySigner, name: str) -> None:
    header = base_header(signer, kid="k", typ="JOSE+JSON", crit=[name])
    with pytest.raises(InvalidInput, match="registered"):
        verify_flattened(forge(signer, header), allowed=ALLOWED)


def test_attack_crit_names_absent_parameter(signer: LocalKeySigner) -> None:
    with pytest.raises(InvalidInput, match="absent"):
        verify_flattened(forge(signer, base_header(signer, crit=["b64"])), allowed=ALLOWED)


def test_attack_crit_in_unprotected_header(signer: LocalKeySigner) -> None:
    data = forge(signer, base_header(signer), header={"crit": ["b64"]})
    with pytest.raises(UnsupportedFeature):
        verify_flattened(data, allowed=ALLOWED)


def test_attack_b64_false_without_crit(signer: LocalKeySigner) -> None:
    header = base_header(signer, b64=False)
    seg = PAYLOAD  # RFC 7797: unencoded payload
    entry = build_signature(
        seg, header, lambda d: signer.sign_raw(d, SignatureAlgorithm.RSA_SHA256)
    )
    data = dumps_compact({"payload": seg.decode(), **entry})
    with pytest.raises(InvalidInput, match="'b64' is present but not listed"):
        verify_flattened(data, allowed=ALLOWED)
    # With crit it is a valid RFC 7797 JWS.
    ok = sign_flattened(PAYLOAD, signer, protected={"b64": False, "crit": ["b64"]})
    assert verify_flattened(ok, allowed=ALLOWED).payload == PAYLOAD


def test_attack_sigd_without_crit(signer: LocalKeySigner) -> None:
    sig_d = {"mId": "http://uri.etsi.org/19182/HttpHeaders", "pars": ["x"]}
    with pytest.raises(InvalidInput, match="'sigD' is present but not listed"):
        verify_flattened(forge(signer, base_header(signer, sigD=sig_d)), allowed=ALLOWED)


def test_attack_oversized_header(signer: LocalKeySigner) -> None:
    data = forge(signer, base_header(signer, pad="x" * 70_000))
    with pytest.raises(InvalidInput, match="protected header larger"):
        verify_flattened(data, allowed=ALLOWED)


def test_attack_oversized_payload(signer: LocalKeySigner) -> None:
    data = sign_flattened(b"x" * 5000, signer)
    with pytest.raises(InvalidInput, match="payload larger"):
        verify_flattened(data, allowed=ALLOWED, limits=JWSLimits(max_payload_bytes=4096))
    with pytest.raises(InvalidInput, match="limit"):
        verify_flattened(data, allowed=ALLOWED, max_bytes=4096)


def test_attack_too_many_signatures(signer: LocalKeySigner) -> None:
    data = sign_general(PAYLOAD, [signer] * 3)
    with pytest.raises(InvalidInput, match="more than 2"):
        verify_general(data, allowed=ALLOWED, limits=JWSLimits(max_signatures=2))


def test_attack_duplicate_keys_in_protected_header(signer: LocalKeySigner) -> None:
    """Two "alg" members: some parsers take the first, some the last. We take neither."""
    chain = json.dumps(x5c(signer))
    raw = f'{{"alg":"none","x5c":{chain},"alg":"RS256"}}'.encode()
    prot = b64url_encode(raw)
    seg = b64url_encode(PAYLOAD)
    sig = signer.sign_raw(f"{prot}.{seg}".encode(), SignatureAlgorithm.RSA_SHA256)
    data = dumps_compact({"payload": seg, "protected": prot, "signature": b64url_encode(sig)})
    with pytest.raises(InvalidInput, match="duplicate"):
        verify_flattened(data, allowed=ALLOWED)


def test_attack_duplicate_keys_in_outer_json(signer: LocalKeySigner) -> None:
    good = sign_flattened(PAYLOAD, signer).decode()
    data = good[:-1] + ',"payload":"' + b64url_encode(b'{"kind":"forged"}') + '"}'
    with pytest.raises(InvalidInput, match="duplicate"):
        verify_flattened(data.encode(), allowed=ALLOWED)


def test_attack_payload_swapped_between_signatures(signer: LocalKeySigner, ca: LocalCA) -> None:
    """Two general JWS by two signers; graft B's signature entry onto A's payload."""
    key_b = new_key("p256")
    other = LocalKeySigner(key_b, [ca.issue(key_b.public_key(), "Trần Thị B")])
    a = json.loads(sign_general(PAYLOAD, [signer]))
    b = json.loads(sign_general(b'{"kind":"answer"}', [other]))
    grafted = dumps_compact(
        {"payload": a["payload"], "signatures": [*a["signatures"], *b["signatures"]]}
    )
    with pytest.raises(InvalidSignature) as info:
        verify_general(grafted, allowed=ALLOWED)
    assert info.value.sub_indication == "SIG_CRYPTO_FAILURE"


def test_attack_x5t_mismatch(signer: LocalKeySigner, ca: LocalCA) -> None:
    other = ca.issue(new_key("p256").public_key(), "someone else")
    thumb = b64url_encode(hashlib.sha256(other.public_bytes(serialization.Encoding.DER)).digest())
    with pytest.raises(InvalidSignature, match="x5t#S256"):
        verify_flattened(forge(signer, base_header(signer, **{"x5t#S256": thumb})), allowed=ALLOWED)


def test_attack_x5c_swapped_under_a_remembered_thumbprint(
    signer: LocalKeySigner, ca: LocalCA
) -> None:
    """x5c is looked up by x5t#S256 once seen; another x5c under that thumbprint is decoded."""
    thumb = b64url_encode(
        hashlib.sha256(
            signer.certificate_chain[0].public_bytes(serialization.Encoding.DER)
        ).digest()
    )
    good = forge(signer, base_header(signer, **{"x5t#S256": thumb}))
    assert verify_flattened(good, allowed=ALLOWED).certificates == tuple(signer.certificate_chain)
    key = new_key("rsa2048")
    impostor = LocalKeySigner(key, [ca.issue(key.public_key(), "Impostor"), ca.cert])
    swapped = forge(impostor, base_header(impostor, **{"x5t#S256": thumb}))
    with pytest.raises(InvalidSignature, match="x5t#S256"):
        verify_flattened(swapped, allowed=ALLOWED)
    assert verify_flattened(good, allowed=ALLOWED).certificates == tuple(signer.certificate_chain)


def test_attack_certificate_swapped_in_x5c(signer: LocalKeySigner, ca: LocalCA) -> None:
    """Signed by the victim's key, x5c names someone else: the signature must not verify."""
    key = new_key("rsa2048")
    impostor = LocalKeySigner(key, [ca.issue(key.public_key(), "Impostor")])
    data = forge(signer, base_header(impostor))
    with pytest.raises(InvalidSignature):
        verify_flattened(data, allowed=ALLOWED)


def test_attack_es256_signature_on_wrong_curve(ca: LocalCA) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    s = LocalKeySigner(key, [ca.issue(key.public_key(), "P-384 holder")])
    seg = b64url_encode(PAYLOAD).encode()
    entry = build_signature(
        seg,
        {"alg": "ES256", "x5c": x5c(s)},
        lambda d: sign_with_key(key, d, SignatureAlgorithm.ECDSA_SHA256),
    )
    with pytest.raises(InvalidSignature, match="secp256r1"):
        verify_flattened(dumps_compact({"payload": seg.decode(), **entry}), allowed=ALLOWED)


def test_attack_unknown_top_level_member(signer: LocalKeySigner) -> None:
    obj = json.loads(sign_flattened(PAYLOAD, signer))
    obj["signatures"] = []
    with pytest.raises(InvalidInput):
        verify_flattened(dumps_compact(obj), allowed=ALLOWED)
    obj = json.loads(sign_flattened(PAYLOAD, signer))
    obj["extra"] = 1
    with pytest.raises(InvalidInput, match="unknown top-level"):
        verify_flattened(dumps_compact(obj), allowed=ALLOWED)


def test_attack_nan_and_deep_nesting(signer: LocalKeySigner) -> None:
    with pytest.raises(InvalidInput, match="NaN"):
        verify_flattened(
            b'{"payload":"","protected":"e30","signature":"","x":NaN}', allowed=ALLOWED
        )
    deep = b'{"payload":' + b"[" * 5000 + b"]" * 5000 + b"}"
    with pytest.raises(InvalidInput):
        verify_flattened(deep, allowed=ALLOWED)


def test_sign_refuses_headers_the_verifier_would_refuse(signer: LocalKeySigner) -> None:
    with pytest.raises(UnsupportedFeature):
        sign_flattened(PAYLOAD, signer, protected={"jku": "https://x"})
    with pytest.raises(InvalidInput):
        sign_flattened(PAYLOAD, signer, protected={"alg": "none"})
    with pytest.raises(InvalidInput, match="crit"):
        sign_flattened(PAYLOAD, signer, protected={"b64": False})


def test_attack_malformed_x5c_certificate_is_a_typed_error(signer: LocalKeySigner) -> None:
    """A bad certificate version in x5c raised cryptography's InvalidVersion (not ValueError)."""
    der = signer.certificate_chain[0].public_bytes(serialization.Encoding.DER)
    assert b"\xa0\x03\x02\x01\x02" in der
    bad = der.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x05", 1)
    header = base_header(signer)
    header["x5c"] = [base64.b64encode(bad).decode(), *header["x5c"][1:]]
    with pytest.raises(InvalidInput):
        verify_flattened(forge(signer, header), allowed=ALLOWED)
