"""XAdES baseline levels B-B, B-T, B-LT against the live test TSA / OCSP / CRL service."""

from __future__ import annotations

import datetime as dt

import pytest
from xades_helpers import DS, PERSONAL, SEAL, XADES, answer, tree

from pakn_sign.errors import ConfigurationError, IndeterminateError, UntrustedSigner
from pakn_sign.signing.sign_xml import sign_xml
from pakn_sign.signing.timestamps import HttpTimestampAuthority
from pakn_sign.trust.policy import RevocationMode, TrustPolicy
from pakn_sign.verify import verify

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=2)


@pytest.fixture(scope="module")
def tsa(pki_service):
    return HttpTimestampAuthority(pki_service.tsa_url)


def offline_policy(pki) -> TrustPolicy:
    """The root only: no intermediates, CRLs or OCSP given, no fetching, every status required."""
    return TrustPolicy.offline_strict([pki.root.cert])


def test_b_b_personal_verifies(test_pki):
    signed = sign_xml(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    result = verify(signed, policy=test_pki.policy(), at=NOW)
    (info,) = result.signatures
    assert info.level == "B-B"
    assert info.role == "personal"
    assert info.claimed_signing_time == NOW
    assert info.timestamp_time is None
    assert info.identity.cccd == "001190000010"
    assert result.document == answer()


def test_b_b_output_is_utf8_not_char_refs(test_pki):
    signed = sign_xml(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    assert signed.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "Trần Thị Bình".encode() in signed
    assert b"&#" not in signed


def test_b_t_live_tsa(test_pki, tsa):
    signed = sign_xml(
        answer(), test_pki.signer(PERSONAL), role="personal", level="B-T", tsa=tsa, at=NOW
    )
    stamps = tree(signed).findall(f".//{XADES}SignatureTimeStamp")
    assert len(stamps) == 1
    assert stamps[0].find(f"{DS}CanonicalizationMethod") is not None
    (info,) = verify(signed, policy=test_pki.policy(), at=LATER).signatures
    assert info.level == "B-T"
    assert info.timestamp_time == NOW  # the service's clock is frozen at PKI_NOW


def test_b_t_needs_a_tsa(test_pki):
    with pytest.raises(ConfigurationError, match="timestamp authority"):
        sign_xml(answer(), test_pki.signer(PERSONAL), role="personal", level="B-T", at=NOW)


def test_b_lt_fetches_live_revocation_data_and_verifies_offline(test_pki, tsa):
    # Sign with fetching on and no local CRLs: every status comes from the live service.
    fetch_policy = test_pki.policy(crls=(), allow_fetching=True)
    signed = sign_xml(
        answer(),
        test_pki.signer(PERSONAL),
        role="personal",
        level="B-LT",
        tsa=tsa,
        policy=fetch_policy,
        at=NOW,
    )
    root = tree(signed)
    assert root.findall(f".//{XADES}CertificateValues/{XADES}EncapsulatedX509Certificate")
    revocation = root.findall(f".//{XADES}RevocationValues//*")
    assert revocation, "B-LT must embed revocation values"
    # Later, offline, with nothing but the root: the embedded data alone must suffice.
    (info,) = verify(signed, policy=offline_policy(test_pki), at=LATER).signatures
    assert info.level == "B-LT"
    assert info.timestamp_time == NOW


def test_b_lt_from_local_crls(test_pki, tsa):
    signed = sign_xml(
        answer(),
        test_pki.signer(SEAL),
        role="organisation",
        level="B-LT",
        tsa=tsa,
        policy=test_pki.policy(),
        at=NOW,
    )
    crls = tree(signed).findall(f".//{XADES}CRLValues/{XADES}EncapsulatedCRLValue")
    assert crls
    (info,) = verify(signed, policy=offline_policy(test_pki), at=LATER).signatures
    assert info.level == "B-LT"


def test_b_t_does_not_verify_offline_without_revocation_data(test_pki, tsa):
    signed = sign_xml(
        answer(), test_pki.signer(PERSONAL), role="personal", level="B-T", tsa=tsa, at=NOW
    )
    with pytest.raises(IndeterminateError):
        verify(signed, policy=offline_policy(test_pki), at=LATER)


def test_b_lt_without_any_revocation_source_is_refused(test_pki, tsa):
    policy = test_pki.policy(crls=(), allow_fetching=False)
    with pytest.raises(ConfigurationError, match="revocation data"):
        sign_xml(
            answer(),
            test_pki.signer(PERSONAL),
            role="personal",
            level="B-LT",
            tsa=tsa,
            policy=policy,
            at=NOW,
        )


def test_revocation_off_policy_still_verifies_b_b(test_pki):
    signed = sign_xml(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    policy = TrustPolicy.from_anchors(
        [test_pki.root.cert],
        intermediates=[test_pki.intermediate.cert],
        revocation=RevocationMode.OFF,
    )
    assert verify(signed, policy=policy, at=NOW).signatures[0].level == "B-B"


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_personal_then_organisation_at_every_level(test_pki, tsa, level):
    policy = test_pki.policy()
    first = sign_xml(
        answer(),
        test_pki.signer(PERSONAL),
        role="personal",
        level=level,
        tsa=tsa,
        policy=policy,
        at=NOW,
    )
    both = sign_xml(
        first,
        test_pki.signer(SEAL),
        role="organisation",
        level=level,
        tsa=tsa,
        policy=policy,
        at=NOW,
    )
    result = verify(both, policy=policy, at=LATER)
    assert [(s.role, s.level) for s in result.signatures] == [
        ("personal", level),
        ("organisation", level),
    ]


def test_b_t_timestamp_is_proof_of_existence_after_the_signer_expired(test_pki, tsa):
    # The official's certificate ends 2028-11-19; the TSA's in 2031. Revocation is off so
    # only the validity periods are in play (EN 319 102-1 §5.6.2.4, simplified).
    after_expiry = dt.datetime(2029, 6, 1, tzinfo=dt.UTC)
    policy = test_pki.policy(revocation=RevocationMode.OFF)
    plain = sign_xml(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    with pytest.raises((IndeterminateError, UntrustedSigner)):
        verify(plain, policy=policy, at=after_expiry)
    stamped = sign_xml(
        answer(), test_pki.signer(PERSONAL), role="personal", level="B-T", tsa=tsa, at=NOW
    )
    (info,) = verify(stamped, policy=policy, at=after_expiry).signatures
    assert info.timestamp_time == NOW
