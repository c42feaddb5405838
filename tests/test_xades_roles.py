"""Personal then organisation signatures (Decree 30/2020 Art. 32), their order and the policy."""

from __future__ import annotations

import datetime as dt

import pytest
from xades_helpers import DS, PERSONAL, SEAL, answer, signatures, tobytes, tree

import pakn_sign.signing.xades as xades_mod
from pakn_sign.errors import ConfigurationError, InvalidSignature, PolicyViolation
from pakn_sign.signing.sign_xml import sign_xml
from pakn_sign.signing.xades_props import SIGNED_PROPERTIES_TYPE, build_qualifying_properties
from pakn_sign.signing.xmldsig import ReferenceSpec, build_signature
from pakn_sign.trust.requirements import (
    SignerIsOrganisation,
    SignerIsOrganisationWithMST,
    SignerIsPerson,
)
from pakn_sign.verify import verify

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def personal(test_pki) -> bytes:
    return sign_xml(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)


@pytest.fixture(scope="module")
def both(test_pki, personal) -> bytes:
    return sign_xml(personal, test_pki.signer(SEAL), role="organisation", at=NOW)


def ref_uris(sig) -> list[str]:
    return [r.get("URI") for r in sig.iter(f"{DS}Reference")]


def test_organisation_covers_document_and_personal_signature(both):
    s1, s2 = signatures(tree(both))
    assert (s1.get("Id"), s2.get("Id")) == ("sig-1", "sig-2")
    assert ref_uris(s1) == ["#pakn-doc", "#sig-1-signedprops"]
    assert ref_uris(s2) == ["#pakn-doc", "#sig-1", "#sig-2-signedprops"]


def test_personal_then_organisation_verifies(test_pki, both):
    result = verify(
        both, policy=test_pki.policy(required_roles={"personal", "organisation"}), at=NOW
    )
    assert [s.role for s in result.signatures] == ["personal", "organisation"]
    assert result.signatures[1].identity.mst == "0100000010"
    assert result.signer.mst == "0100000010"


def test_personal_over_organisation_is_refused(test_pki, both):
    with pytest.raises(ConfigurationError, match=r"Art\. 32"):
        sign_xml(both, test_pki.signer("official-g12"), role="personal", at=NOW)


def test_two_personal_then_organisation(test_pki, personal):
    two = sign_xml(personal, test_pki.signer("official-g12"), role="personal", at=NOW)
    three = sign_xml(two, test_pki.signer(SEAL), role="organisation", at=NOW)
    _, s2, s3 = signatures(tree(three))
    assert ref_uris(s2) == ["#pakn-doc", "#sig-2-signedprops"]
    assert ref_uris(s3) == ["#pakn-doc", "#sig-1", "#sig-2", "#sig-3-signedprops"]
    roles = [s.role for s in verify(three, policy=test_pki.policy(), at=NOW).signatures]
    assert roles == ["personal", "personal", "organisation"]


def test_attack_remove_personal_signature(test_pki, both):
    root = tree(both)
    root.remove(signatures(root)[0])
    with pytest.raises(InvalidSignature):
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)


def test_attack_remove_organisation_signature_caught_by_required_roles(test_pki, both):
    root = tree(both)
    root.remove(signatures(root)[1])
    stripped = tobytes(root)
    # Without a role requirement a lone personal signature is a valid document …
    assert len(verify(stripped, policy=test_pki.policy(), at=NOW).signatures) == 1
    # … so a policy that needs the seal must say so, and then refuses it.
    with pytest.raises(PolicyViolation, match="organisation"):
        verify(stripped, policy=test_pki.policy(required_roles={"organisation"}), at=NOW)


def test_attack_reorder_signatures(test_pki, both):
    root = tree(both)
    _, s2 = signatures(root)
    root.remove(s2)
    root.insert(1, s2)  # organisation first, then personal
    with pytest.raises((InvalidSignature, PolicyViolation)):
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)


def test_attack_replace_personal_signature(test_pki, both):
    # Another official signs the same document; their sig-1 replaces the original.
    other = sign_xml(answer(), test_pki.signer("official-g12"), role="personal", at=NOW)
    root = tree(both)
    original = signatures(root)[0]
    replacement = signatures(tree(other))[0]
    assert replacement.get("Id") == original.get("Id") == "sig-1"
    root.replace(original, replacement)
    with pytest.raises(InvalidSignature) as err:
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)
    assert err.value.sub_indication == "HASH_FAILURE"


def test_attack_personal_signature_after_organisation(test_pki, both, monkeypatch):
    # A hostile tool that skips the signing-side check: verify must still refuse.
    monkeypatch.setattr(xades_mod, "check_can_add", lambda existing, new: None)
    late = sign_xml(both, test_pki.signer("official-g12"), role="personal", at=NOW)
    with pytest.raises(PolicyViolation, match=r"Art\. 32"):
        verify(late, policy=test_pki.policy(), at=NOW)


def test_attack_organisation_signature_not_covering_personal(test_pki, personal):
    # A hand-built seal over the document only: Art. 32 needs it to cover sig-1 too.
    root = tree(personal)
    seal = test_pki.signer(SEAL)
    qp, _ = build_qualifying_properties(
        signature_id="sig-2",
        signed_properties_id="sig-2-sp",
        signing_time=NOW,
        signing_certificate=seal.certificate_chain[0],
        role="organisation",
        document_reference_id="sig-2-ref-doc",
    )
    refs = [
        ReferenceSpec("#pakn-doc", id="sig-2-ref-doc"),
        ReferenceSpec("#sig-2-sp", type=SIGNED_PROPERTIES_TYPE),
    ]
    build_signature(root, seal, references=refs, objects=[qp], signature_id="sig-2")
    with pytest.raises(InvalidSignature, match="every earlier signature"):
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)


def test_policy_identity_requirements(test_pki, both):
    ok = test_pki.policy(
        personal_signer=SignerIsPerson(),
        organisation_signer=SignerIsOrganisationWithMST("0100000010"),
    )
    assert len(verify(both, policy=ok, at=NOW).signatures) == 2
    wrong_agency = test_pki.policy(organisation_signer=SignerIsOrganisationWithMST("0100000099"))
    with pytest.raises(PolicyViolation, match="0100000099"):
        verify(both, policy=wrong_agency, at=NOW)


def test_personal_certificate_claiming_organisation_role(test_pki):
    # An official's own certificate used for the "organisation" role: the policy refuses it.
    signed = sign_xml(answer(), test_pki.signer(PERSONAL), role="organisation", at=NOW)
    policy = test_pki.policy(organisation_signer=SignerIsOrganisation())
    with pytest.raises(PolicyViolation, match="organisation"):
        verify(signed, policy=policy, at=NOW)


def test_unknown_role_is_refused_when_signing(test_pki):
    with pytest.raises(ConfigurationError, match="role"):
        sign_xml(answer(), test_pki.signer(PERSONAL), role="clerk", at=NOW)
