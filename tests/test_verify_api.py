"""The ``verify`` / ``inspect`` contract: what a result holds and when verify raises."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib

import pytest
from lxml import etree
from xades_helpers import DS, PAKN, PERSONAL, SEAL, answer, petition, tree

import pakn_sign.verify_xades as verify_xades_mod
from pakn_sign.codec.xmlcodec import to_xml
from pakn_sign.errors import (
    ConfigurationError,
    IndeterminateError,
    InvalidInput,
    InvalidSignature,
    PolicyViolation,
    UntrustedSigner,
)
from pakn_sign.models import Answer, Petition
from pakn_sign.signing.sign_xml import sign_xml
from pakn_sign.trust.report import Indication
from pakn_sign.trust.requirements import SignerIsOrganisationWithMST
from pakn_sign.verify import SignatureInfo, VerificationResult, detect_format, inspect, verify

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def both(test_pki) -> bytes:
    first = sign_xml(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    return sign_xml(first, test_pki.signer(SEAL), role="organisation", at=NOW)


def test_result_fields(test_pki, both):
    result = verify(both, policy=test_pki.policy(), at=NOW)
    assert isinstance(result, VerificationResult)
    assert result.format == "xades"
    assert isinstance(result.document, Answer)
    assert result.document == answer()
    personal, seal = result.signatures
    assert isinstance(personal, SignatureInfo)
    assert (personal.id, personal.role, personal.level) == ("sig-1", "personal", "B-B")
    assert (seal.id, seal.role) == ("sig-2", "organisation")
    assert personal.chain[0] == test_pki.get(PERSONAL).cert
    assert personal.chain[-1] == test_pki.root.cert
    assert seal.identity.mst == "0100000010"
    assert personal.algorithm.name == "RSA_SHA256"
    assert personal.claimed_signing_time == NOW
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.signed_bytes = b""  # type: ignore[misc]


def test_signed_bytes_are_exactly_the_digested_document(test_pki, both):
    result = verify(both, policy=test_pki.policy(), at=NOW)
    root = tree(both)
    doc_el = root.find(f"{PAKN}Answer")
    assert result.signed_bytes == etree.tostring(doc_el, method="c14n", exclusive=True)
    for sig in root.findall(f"{DS}Signature"):
        ref = sig.find(f"{DS}SignedInfo/{DS}Reference[@URI='#pakn-doc']")
        digest = base64.b64decode(ref.findtext(f"{DS}DigestValue"))
        assert hashlib.sha256(result.signed_bytes).digest() == digest
    # Nothing outside the document element: no signature, no container.
    assert b"Signature" not in result.signed_bytes
    assert not result.signed_bytes.startswith(b"<?xml")


def test_model_is_parsed_from_the_signed_bytes(test_pki, both, monkeypatch):
    """The model is ``from_xml`` of the signed bytes: read from those octets, or mapped from
    the element they were canonicalised from and proven equal to them byte for byte."""
    from pakn_sign.codec.xmlcodec import from_xml

    seen: list[bytes] = []
    real = verify_xades_mod.document_from_signed

    def spy(el, canonical):
        seen.append(canonical)
        return real(el, canonical)

    monkeypatch.setattr(verify_xades_mod, "document_from_signed", spy)
    result = verify(both, policy=test_pki.policy(), at=NOW)
    assert seen == [result.signed_bytes]
    assert result.document == from_xml(result.signed_bytes)


def test_expect_matching_kind(test_pki, both):
    assert isinstance(
        verify(both, policy=test_pki.policy(), expect=Answer, at=NOW).document, Answer
    )


def test_expect_mismatch_raises_policy_violation(test_pki, both):
    with pytest.raises(PolicyViolation, match="Petition"):
        verify(both, policy=test_pki.policy(), expect=Petition, at=NOW)


def test_petition_round_trip(test_pki):
    signed = sign_xml(petition(), test_pki.signer("citizen"), role="personal", at=NOW)
    result = verify(signed, policy=test_pki.policy(), expect=Petition, at=NOW)
    assert result.document == petition()


def test_unsigned_document_is_a_failure(test_pki):
    with pytest.raises(InvalidSignature, match="no signature"):
        verify(to_xml(answer(), element_id="pakn-doc"), policy=test_pki.policy(), at=NOW)


def test_untrusted_root_raises(test_pki, tmp_path, both):
    from pakn_sign.trust.testpki import TestPKI

    other = TestPKI.create(tmp_path / "other", now=NOW)
    with pytest.raises(UntrustedSigner):
        verify(both, policy=other.policy(), at=NOW)


def test_naive_time_is_refused(test_pki, both):
    with pytest.raises(ConfigurationError):
        verify(both, policy=test_pki.policy(), at=dt.datetime(2026, 11, 20, 9, 30))


def test_unreadable_input_raises_invalid_input(test_pki):
    with pytest.raises(InvalidInput):
        verify(b"<pakn:Signed", policy=test_pki.policy(), at=NOW)
    with pytest.raises(InvalidInput):
        inspect(b"\x00\x01binary", policy=test_pki.policy(), at=NOW)


def test_detect_format():
    assert detect_format(b"<?xml version='1.0'?><a/>") == "xades"
    assert detect_format(b'  {"payload": "x"}') == "jades"
    assert detect_format(b"%PDF-1.7\n") == "pades"
    with pytest.raises(InvalidInput):
        detect_format(b"GIF89a")


def test_inspect_passed_report(test_pki, both):
    report = inspect(both, policy=test_pki.policy(), at=NOW)
    assert report.indication is Indication.TOTAL_PASSED
    d = report.to_dict()
    assert d["document"] == {"kind": "answer", "id": answer().document_id}
    assert [s["role"] for s in d["signatures"]] == ["personal", "organisation"]
    s1 = d["signatures"][0]
    assert {
        "id",
        "role",
        "indication",
        "sub_indication",
        "signer",
        "signing_time",
        "timestamp_time",
        "level",
        "scope",
        "chain",
    } <= set(s1)
    assert s1["scope"] == ["#pakn-doc", "#sig-1-signedprops"]
    assert s1["signer"]["identifiers"]


def test_inspect_never_raises_on_bad_signature(test_pki, both):
    tampered = both.replace("Trả lời".encode(), "Trả  lời".encode())
    report = inspect(tampered, policy=test_pki.policy(), at=NOW)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].sub_indication == "HASH_FAILURE"


def test_inspect_reports_policy_refusal(test_pki, both):
    policy = test_pki.policy(organisation_signer=SignerIsOrganisationWithMST("0100000099"))
    report = inspect(both, policy=policy, at=NOW)
    assert report.indication is not Indication.TOTAL_PASSED
    assert report.signatures[0].indication is Indication.TOTAL_PASSED
    assert report.signatures[1].sub_indication == "SIG_CONSTRAINTS_FAILURE"


def test_policy_validation_time_is_used_when_at_is_none(test_pki, both):
    # Long after every certificate expired: only the policy's fixed time makes it verify.
    policy = test_pki.policy(validation_time=NOW)
    assert len(verify(both, policy=policy).signatures) == 2
    late = test_pki.policy(validation_time=NOW + dt.timedelta(days=365 * 30))
    with pytest.raises((UntrustedSigner, IndeterminateError)):
        verify(both, policy=late)


def test_dispatch_json_goes_to_jades(test_pki):
    from pakn_sign.signing.jades import sign_json

    signed = sign_json(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    result = verify(signed, policy=test_pki.policy(), expect=Answer, at=NOW)
    assert result.format == "jades"
    assert result.document == answer()
    assert inspect(signed, policy=test_pki.policy(), at=NOW).indication is Indication.TOTAL_PASSED


def test_dispatch_pdf_goes_to_pades(test_pki):
    from _pdf_letter import make_letter

    from pakn_sign.signing.pades import sign_pdf

    signed = sign_pdf(make_letter(pages=1), test_pki.signer(PERSONAL), role="personal", at=NOW)
    result = verify(signed, policy=test_pki.policy(), at=NOW)
    assert result.format == "pades"
    assert [s.role for s in result.signatures] == ["personal"]
    assert inspect(signed, policy=test_pki.policy(), at=NOW).indication is Indication.TOTAL_PASSED
    with pytest.raises(PolicyViolation):
        verify(signed, policy=test_pki.policy(), expect=Answer, at=NOW)
