"""JAdES baseline B-B / B-T over PAKN JSON documents, personal then organisation signatures."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from xades_helpers import PERSONAL, SEAL, answer

from pakn_sign.codec.jsoncodec import from_json, to_json
from pakn_sign.errors import (
    ConfigurationError,
    IndeterminateError,
    InvalidInput,
    InvalidSignature,
    PolicyViolation,
    UnsupportedFeature,
    UntrustedSigner,
    VerificationError,
)
from pakn_sign.models import Answer, Petition
from pakn_sign.signing.algorithms import SignatureAlgorithm
from pakn_sign.signing.b64 import b64url_decode, b64url_encode
from pakn_sign.signing.jades import sign_json
from pakn_sign.signing.jades_verify import inspect_jades, verify_jades
from pakn_sign.signing.jws import build_signature
from pakn_sign.signing.jws_json import dumps_compact
from pakn_sign.signing.timestamps import HttpTimestampAuthority
from pakn_sign.trust.report import Indication

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=2)


@pytest.fixture(scope="module")
def tsa(pki_service: Any) -> HttpTimestampAuthority:
    return HttpTimestampAuthority(pki_service.tsa_url)


@pytest.fixture(scope="module")
def both(test_pki: Any) -> bytes:
    personal = sign_json(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    return sign_json(personal, test_pki.signer(SEAL), role="organisation", at=NOW)


def entries(data: bytes) -> dict[str, Any]:
    return json.loads(data)  # type: ignore[no-any-return]


def header_of(entry: dict[str, Any]) -> dict[str, Any]:
    return json.loads(b64url_decode(entry["protected"]))  # type: ignore[no-any-return]


def test_b_b_personal_verifies(test_pki: Any) -> None:
    signed = sign_json(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    result = verify_jades(signed, policy=test_pki.policy(), at=NOW)
    (info,) = result.signatures
    assert result.format == "jades"
    assert (info.level, info.role, info.id) == ("B-B", "personal", "sig-1")
    assert info.claimed_signing_time == NOW
    assert info.timestamp_time is None
    assert info.identity.cccd == "001190000010"
    assert info.algorithm is SignatureAlgorithm.RSA_SHA256
    assert info.chain[-1] == test_pki.root.cert


def test_headers_follow_the_profile(test_pki: Any) -> None:
    signed = sign_json(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    (entry,) = entries(signed)["signatures"]
    h = header_of(entry)
    assert h["alg"] == "RS256"
    assert (h["typ"], h["cty"]) == ("jose+json", "json")
    assert h["sigT"] == "2026-11-20T09:30:00Z"
    assert h["srAts"] == {"claimed": [{"role": "personal"}]}
    assert set(h["crit"]) == {"sigT", "srAts"}
    assert len(h["x5c"]) == len(test_pki.signer(PERSONAL).certificate_chain)
    assert "paknCov" not in h


def test_verify_returns_the_model_parsed_from_the_payload_bytes(test_pki: Any) -> None:
    doc = answer("Đoạn trả lời dài. " * 200)
    signed = sign_json(doc, test_pki.signer(PERSONAL), role="personal", at=NOW)
    result = verify_jades(signed, policy=test_pki.policy(), expect=Answer, at=NOW)
    assert result.signed_bytes == to_json(doc)
    assert result.document == doc
    assert result.document == from_json(result.signed_bytes)
    assert b64url_decode(entries(signed)["payload"]) == result.signed_bytes


def test_signing_document_bytes_signs_their_canonical_form(test_pki: Any) -> None:
    pretty = json.dumps(json.loads(to_json(answer())), indent=2, ensure_ascii=True).encode()
    signed = sign_json(pretty, test_pki.signer(PERSONAL), role="personal", at=NOW)
    assert verify_jades(signed, policy=test_pki.policy(), at=NOW).signed_bytes == to_json(answer())


def test_expect_other_kind_is_a_policy_violation(test_pki: Any) -> None:
    signed = sign_json(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    with pytest.raises(PolicyViolation, match="expected a Petition"):
        verify_jades(signed, policy=test_pki.policy(), expect=Petition, at=NOW)


def test_b_t_live_tsa(test_pki: Any, tsa: HttpTimestampAuthority) -> None:
    signed = sign_json(
        answer(), test_pki.signer(PERSONAL), role="personal", level="B-T", tsa=tsa, at=NOW
    )
    (entry,) = entries(signed)["signatures"]
    (item,) = entry["header"]["etsiU"]
    tst = json.loads(b64url_decode(item))["sigTst"]["tstTokens"][0]["val"]
    assert base64.b64decode(tst)[:1] == b"\x30"  # a DER TimeStampToken
    (info,) = verify_jades(signed, policy=test_pki.policy(), at=LATER).signatures
    assert info.level == "B-T"
    assert info.timestamp_time == NOW  # the service's clock is frozen at PKI_NOW


def test_b_t_needs_a_tsa(test_pki: Any) -> None:
    with pytest.raises(ConfigurationError, match="timestamp authority"):
        sign_json(answer(), test_pki.signer(PERSONAL), role="personal", level="B-T", at=NOW)


def test_unknown_level_and_role_refused(test_pki: Any) -> None:
    with pytest.raises(ConfigurationError):
        sign_json(answer(), test_pki.signer(PERSONAL), role="personal", level="B-LTA", at=NOW)
    with pytest.raises(ConfigurationError):
        sign_json(answer(), test_pki.signer(PERSONAL), role="mayor", at=NOW)


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_personal_then_organisation(test_pki: Any, tsa: HttpTimestampAuthority, level: str) -> None:
    kw: dict[str, Any] = {"level": level, "tsa": tsa if level == "B-T" else None, "at": NOW}
    first = sign_json(answer(), test_pki.signer(PERSONAL), role="personal", **kw)
    second = sign_json(first, test_pki.signer(SEAL), role="organisation", **kw)
    policy = test_pki.policy(required_roles=frozenset({"personal", "organisation"}))
    result = verify_jades(second, policy=policy, expect=Answer, at=LATER)
    assert [(s.role, s.level) for s in result.signatures] == [
        ("personal", level),
        ("organisation", level),
    ]
    assert (
        result.signatures[1].identity.organization_identifier is not None
        or result.signatures[1].identity
    )
    org = header_of(entries(second)["signatures"][1])
    assert "paknCov" in org["crit"]
    assert len(org["paknCov"]) == 1
    # The personal entry is carried unchanged.
    assert entries(second)["signatures"][0] == entries(first)["signatures"][0]


def test_personal_over_organisation_is_refused_when_signing(test_pki: Any, both: bytes) -> None:
    with pytest.raises(ConfigurationError, match="personal first"):
        sign_json(both, test_pki.signer(PERSONAL), role="personal", at=NOW)


def test_attack_personal_signature_removed(test_pki: Any, both: bytes) -> None:
    obj = entries(both)
    obj["signatures"] = obj["signatures"][1:]
    with pytest.raises(InvalidSignature, match="paknCov"):
        verify_jades(dumps_compact(obj), policy=test_pki.policy(), at=NOW)


def test_attack_signatures_reordered(test_pki: Any, both: bytes) -> None:
    obj = entries(both)
    obj["signatures"] = obj["signatures"][::-1]
    with pytest.raises(VerificationError) as info:
        verify_jades(dumps_compact(obj), policy=test_pki.policy(), at=NOW)
    assert isinstance(info.value, InvalidSignature | PolicyViolation)


def test_attack_personal_signature_replaced(test_pki: Any, both: bytes) -> None:
    """A fresh, valid personal signature (other time) swapped in under the seal."""
    other = sign_json(
        answer(), test_pki.signer(PERSONAL), role="personal", at=NOW + dt.timedelta(seconds=1)
    )
    obj = entries(both)
    obj["signatures"][0] = entries(other)["signatures"][0]
    with pytest.raises(InvalidSignature, match="paknCov"):
        verify_jades(dumps_compact(obj), policy=test_pki.policy(), at=NOW)


def test_attack_organisation_removed_when_policy_requires_it(test_pki: Any, both: bytes) -> None:
    obj = entries(both)
    obj["signatures"] = obj["signatures"][:1]
    data = dumps_compact(obj)
    assert verify_jades(data, policy=test_pki.policy(), at=NOW).signatures[0].role == "personal"
    policy = test_pki.policy(required_roles=frozenset({"personal", "organisation"}))
    with pytest.raises(PolicyViolation, match="requires"):
        verify_jades(data, policy=policy, at=NOW)


def test_attack_payload_replaced(test_pki: Any, both: bytes) -> None:
    obj = entries(both)
    obj["payload"] = b64url_encode(to_json(answer("Một câu trả lời khác.")))
    with pytest.raises(InvalidSignature) as info:
        verify_jades(dumps_compact(obj), policy=test_pki.policy(), at=NOW)
    assert info.value.sub_indication == "SIG_CRYPTO_FAILURE"


def test_attack_role_claim_changed(test_pki: Any, both: bytes) -> None:
    """srAts is signed: editing the claimed role breaks the signature."""
    obj = entries(both)
    h = header_of(obj["signatures"][0])
    h["srAts"] = {"claimed": [{"role": "organisation"}]}
    obj["signatures"][0]["protected"] = b64url_encode(dumps_compact(h))
    with pytest.raises(InvalidSignature):
        verify_jades(dumps_compact(obj), policy=test_pki.policy(), at=NOW)


def _resign(test_pki: Any, name: str, header: dict[str, Any]) -> bytes:
    """A JAdES-like single entry over answer() with exactly ``header`` (correctly signed)."""
    signer = test_pki.signer(name)
    seg = b64url_encode(to_json(answer())).encode()
    entry = build_signature(
        seg, header, lambda d: signer.sign_raw(d, SignatureAlgorithm.RSA_SHA256)
    )
    return dumps_compact({"payload": seg.decode(), "signatures": [entry]})


def test_attack_jades_parameter_not_critical(test_pki: Any) -> None:
    signed = sign_json(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    h = header_of(entries(signed)["signatures"][0])
    h["crit"] = ["srAts"]  # sigT present but no longer critical
    with pytest.raises(InvalidSignature, match="critical"):
        verify_jades(_resign(test_pki, PERSONAL, h), policy=test_pki.policy(), at=NOW)


def test_attack_missing_role_claim(test_pki: Any) -> None:
    signed = sign_json(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    h = header_of(entries(signed)["signatures"][0])
    del h["srAts"]
    h["crit"] = ["sigT"]
    with pytest.raises(InvalidSignature, match="srAts"):
        verify_jades(_resign(test_pki, PERSONAL, h), policy=test_pki.policy(), at=NOW)


def test_attack_unknown_unprotected_header(test_pki: Any, both: bytes) -> None:
    obj = entries(both)
    obj["signatures"][0]["header"] = {"kid": "attacker-chosen"}
    with pytest.raises(UnsupportedFeature):
        verify_jades(dumps_compact(obj), policy=test_pki.policy(), at=NOW)


def test_attack_timestamp_moved_to_another_signature(
    test_pki: Any, tsa: HttpTimestampAuthority
) -> None:
    first = sign_json(
        answer(), test_pki.signer(PERSONAL), role="personal", level="B-T", tsa=tsa, at=NOW
    )
    second = sign_json(first, test_pki.signer(SEAL), role="organisation", at=NOW)
    obj = entries(second)
    obj["signatures"][1]["header"] = obj["signatures"][0]["header"]
    with pytest.raises(InvalidSignature) as info:
        verify_jades(dumps_compact(obj), policy=test_pki.policy(), at=LATER)
    assert info.value.sub_indication == "HASH_FAILURE"


def test_revoked_signer_refused_by_policy(test_pki: Any) -> None:
    signed = sign_json(answer(), test_pki.signer("revoked"), role="personal", at=NOW)
    with pytest.raises(UntrustedSigner) as info:
        verify_jades(signed, policy=test_pki.policy(), at=NOW)
    assert info.value.sub_indication == "REVOKED"


def test_expired_signer_refused_by_policy(test_pki: Any) -> None:
    signed = sign_json(answer(), test_pki.signer("expired"), role="personal", at=NOW)
    # EN 319 102-1: expired without proof of existence before expiry is INDETERMINATE.
    with pytest.raises(IndeterminateError) as info:
        verify_jades(signed, policy=test_pki.policy(), at=NOW)
    assert info.value.sub_indication == "OUT_OF_BOUNDS_NO_POE"


def test_algorithm_outside_policy_refused(test_pki: Any) -> None:
    signed = sign_json(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    policy = test_pki.policy(allowed_algorithms=frozenset({SignatureAlgorithm.ECDSA_SHA256}))
    with pytest.raises(PolicyViolation):
        verify_jades(signed, policy=policy, at=NOW)


def test_zero_signatures_fail(test_pki: Any) -> None:
    data = dumps_compact({"payload": b64url_encode(to_json(answer())), "signatures": []})
    with pytest.raises(InvalidInput, match="non-empty"):
        verify_jades(data, policy=test_pki.policy(), at=NOW)
    report = inspect_jades(data, policy=test_pki.policy(), at=NOW)
    assert report.indication is Indication.TOTAL_FAILED


def test_inspect_reports_each_signature(test_pki: Any, both: bytes) -> None:
    good = inspect_jades(both, policy=test_pki.policy(), at=NOW)
    assert good.indication is Indication.TOTAL_PASSED
    assert [s.role for s in good.signatures] == ["personal", "organisation"]
    assert good.document_kind == "answer"
    obj = entries(both)
    obj["signatures"][0] = entries(
        sign_json(answer(), test_pki.signer(PERSONAL), role="personal", at=LATER)
    )["signatures"][0]
    bad = inspect_jades(dumps_compact(obj), policy=test_pki.policy(), at=LATER)
    assert bad.indication is Indication.TOTAL_FAILED
    assert bad.signatures[0].indication is Indication.TOTAL_PASSED
    assert bad.signatures[1].indication is Indication.TOTAL_FAILED


def test_inspect_raises_only_for_unreadable_input(test_pki: Any) -> None:
    with pytest.raises(InvalidInput):
        inspect_jades(b"not json", policy=test_pki.policy(), at=NOW)


def test_joserfc_verifies_each_jades_signature_and_fails_closed_on_paknCov(
    test_pki: Any, both: bytes
) -> None:
    """Interop: a generic JWS library verifies every entry once it knows our critical names;
    without knowing ``paknCov`` it refuses the seal instead of reading it as payload-only."""
    from cryptography.hazmat.primitives import serialization
    from joserfc import jws as jose_jws
    from joserfc.errors import JoseError
    from joserfc.jwk import import_key
    from joserfc.registry import HeaderParameter

    def registry(names: tuple[str, ...]) -> jose_jws.JWSRegistry:
        reg = jose_jws.JWSRegistry(
            header_registry={n: HeaderParameter(n, lambda v: None) for n in names},
            algorithms=["RS256"],
        )
        reg.max_header_length = 16_384
        return reg

    obj = entries(both)
    keys = []
    for name in (PERSONAL, SEAL):
        pub = test_pki.get(name).cert.public_key()
        pem = pub.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        keys.append(import_key(pem, "RSA"))
    full = registry(("sigT", "srAts", "paknCov"))
    for i, key in enumerate(keys):
        one = {"payload": obj["payload"], "signatures": [obj["signatures"][i]]}
        assert jose_jws.deserialize_json(one, key, registry=full).payload == to_json(answer())
    seal_only = {"payload": obj["payload"], "signatures": [obj["signatures"][1]]}
    with pytest.raises(JoseError):
        jose_jws.deserialize_json(seal_only, keys[1], registry=registry(("sigT", "srAts")))
