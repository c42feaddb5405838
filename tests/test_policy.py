"""TrustPolicy: construction rules, unsafe options, algorithm/key checks, signer requirements."""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata

import pytest
from certs_helpers import UID, issue, make_chain, make_crl, name, new_key
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.x509.oid import NameOID

from pakn_sign.errors import ConfigurationError, PolicyViolation
from pakn_sign.signing.algorithms import SignatureAlgorithm
from pakn_sign.trust.identity import IdentityKind, SignerIdentity
from pakn_sign.trust.policy import (
    DEFAULT_ALGORITHMS,
    RevocationMode,
    TrustPolicy,
    UnsafeOptionWarning,
)
from pakn_sign.trust.requirements import (
    AllOf,
    AnyOf,
    SignerIs,
    SignerIsOfficialOf,
    SignerIsOrganisation,
    SignerIsOrganisationWithMST,
    SignerIsPerson,
)


@pytest.fixture(scope="module")
def chain():
    return make_chain()


@pytest.fixture(scope="module")
def policy(chain):
    return TrustPolicy.from_anchors([chain.root.cert], intermediates=[chain.intermediate.cert])


PERSON = SignerIdentity.from_dn_string(
    "UID=CCCD:001089020747, CN=Nguyễn Văn A, O=Bộ Tư pháp, OU=000.00.00.G10, C=VN"
)
SEAL = SignerIdentity.from_dn_string(
    "UID=MST:0400260612, UID=MNS:1047665, CN=SỞ Y TẾ, O=ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG, C=VN"
)


def test_anchors_are_required():
    with pytest.raises(ConfigurationError, match="anchor"):
        TrustPolicy(anchors=())


def test_defaults_are_secure(policy):
    assert policy.revocation is RevocationMode.HARD_FAIL
    assert policy.allow_fetching is False
    assert SignatureAlgorithm.RSA_SHA1 not in policy.allowed_algorithms
    assert SignatureAlgorithm.ECDSA_SHA1 not in policy.allowed_algorithms
    assert SignatureAlgorithm.RSA_PSS_SHA256 in policy.allowed_algorithms
    assert SignatureAlgorithm.ED25519 in policy.allowed_algorithms
    assert policy.min_rsa_bits == 2048
    assert policy.key_usage == {"digital_signature", "non_repudiation"}


def test_policy_is_frozen_and_hashable(policy):
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.allow_fetching = True  # type: ignore[misc]
    assert hash(policy) == hash(
        TrustPolicy.from_anchors(policy.anchors, intermediates=policy.intermediates)
    )


def test_naive_validation_time_refused(chain):
    with pytest.raises(ConfigurationError, match="timezone"):
        TrustPolicy.from_anchors([chain.root.cert], validation_time=dt.datetime(2026, 1, 1))


def test_empty_algorithm_set_refused(chain):
    with pytest.raises(ConfigurationError, match="empty"):
        TrustPolicy.from_anchors([chain.root.cert], allowed_algorithms=frozenset())


def test_attack_sha1_smuggled_in_without_unsafe_flag(chain):
    with pytest.raises(ConfigurationError, match="unsafe_allow_sha1"):
        TrustPolicy.from_anchors(
            [chain.root.cert],
            allowed_algorithms=DEFAULT_ALGORITHMS | {SignatureAlgorithm.RSA_SHA1},
        )


def test_small_rsa_floor_needs_legacy_flag(chain):
    with pytest.raises(ConfigurationError, match="below 2048"):
        TrustPolicy.from_anchors([chain.root.cert], min_rsa_bits=1024)


def test_unsafe_allow_sha1_warns_on_construction_and_on_every_use(policy):
    with pytest.warns(UnsafeOptionWarning, match="SHA-1"):
        legacy = policy.unsafe_allow_sha1()
    assert SignatureAlgorithm.RSA_SHA1 in legacy.allowed_algorithms
    key = rsa.generate_private_key(65537, 2048).public_key()
    for _ in range(2):
        with pytest.warns(UnsafeOptionWarning, match="RSA_SHA1"):
            legacy.check_algorithm(SignatureAlgorithm.RSA_SHA1, key)


def test_unsafe_legacy_warns_for_both_flags(chain):
    with pytest.warns(UnsafeOptionWarning) as record:
        legacy = TrustPolicy.unsafe_legacy([chain.root.cert])
    assert len(record) == 2
    assert legacy.min_rsa_bits == 1024


def test_check_algorithm_refuses_sha1_by_default(policy):
    key = rsa.generate_private_key(65537, 2048).public_key()
    with pytest.raises(PolicyViolation) as info:
        policy.check_algorithm(SignatureAlgorithm.RSA_SHA1, key)
    assert info.value.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"


def test_check_algorithm_refuses_small_rsa(policy):
    key = rsa.generate_private_key(65537, 1024).public_key()
    with pytest.raises(PolicyViolation, match="RSA-1024") as info:
        policy.check_algorithm(SignatureAlgorithm.RSA_SHA256, key)
    assert info.value.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"


def test_check_algorithm_refuses_unlisted_curve(policy):
    key = ec.generate_private_key(ec.SECP256K1()).public_key()
    with pytest.raises(PolicyViolation, match="secp256k1"):
        policy.check_algorithm(SignatureAlgorithm.ECDSA_SHA256, key)


def test_attack_algorithm_key_type_confusion(policy):
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(PolicyViolation, match="needs a RSA key"):
        policy.check_algorithm(SignatureAlgorithm.RSA_SHA256, key)


def test_dsa_refused_unless_legacy(policy):
    key = dsa.generate_private_key(2048).public_key()
    with pytest.raises(PolicyViolation, match="DSA"):
        policy.check_key(key)


def test_check_algorithm_accepts_defaults(policy):
    policy.check_algorithm(SignatureAlgorithm.ECDSA_SHA384, new_key("ec").public_key())
    policy.check_algorithm(SignatureAlgorithm.ED25519, new_key("ed25519").public_key())
    policy.check_algorithm(
        SignatureAlgorithm.RSA_PSS_SHA256, rsa.generate_private_key(65537, 2048).public_key()
    )


def test_fingerprint_changes_with_every_field(policy, chain):
    other = make_chain()
    variants = [
        policy.replace(anchors=(other.root.cert,)),
        policy.replace(intermediates=()),
        policy.replace(crls=(make_crl(chain.intermediate),)),
        policy.replace(ocsps=(b"\x30\x00",)),
        policy.replace(revocation=RevocationMode.SOFT_FAIL),
        policy.replace(allow_fetching=True),
        policy.replace(validation_time=dt.datetime(2026, 5, 1, tzinfo=dt.UTC)),
        policy.replace(allowed_algorithms=frozenset({SignatureAlgorithm.ED25519})),
        policy.replace(min_rsa_bits=3072),
        policy.replace(key_usage=frozenset({"non_repudiation"})),
        policy.replace(signer=SignerIsPerson()),
        policy.replace(personal_signer=SignerIsPerson()),
        policy.replace(organisation_signer=SignerIsOrganisation()),
        policy.replace(required_roles=frozenset({"personal"})),
    ]
    prints = {policy.fingerprint} | {v.fingerprint for v in variants}
    assert len(prints) == len(variants) + 1
    same = TrustPolicy.from_anchors(policy.anchors, intermediates=policy.intermediates)
    assert same.fingerprint == policy.fingerprint


def test_from_pem_files(tmp_path, chain):
    root = tmp_path / "root.pem"
    root.write_bytes(chain.root.pem)
    inter = tmp_path / "inter.der"
    inter.write_bytes(chain.intermediate.der)
    crl = tmp_path / "ca.crl"
    crl.write_bytes(make_crl(chain.intermediate))
    p = TrustPolicy.from_pem_files([root], intermediates=[inter], crls=[crl])
    assert p.anchors == (chain.root.cert,)
    assert p.intermediates == (chain.intermediate.cert,)
    assert len(p.crls) == 1


def test_from_pem_files_rejects_garbage(tmp_path):
    bad = tmp_path / "x.pem"
    bad.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigurationError):
        TrustPolicy.from_pem_files([bad])


def test_offline_strict_and_online(chain):
    strict = TrustPolicy.offline_strict([chain.root.cert])
    assert strict.revocation is RevocationMode.REQUIRE
    assert not strict.allow_fetching
    online = TrustPolicy.online([chain.root.cert])
    assert online.allow_fetching
    assert online.revocation is RevocationMode.HARD_FAIL


# --- signer requirements -------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [lambda: AllOf([]), lambda: AnyOf([]), lambda: SignerIs(), lambda: SignerIsOfficialOf()]
)
def test_empty_composites_raise(make):
    with pytest.raises(ConfigurationError):
        make()


def test_role_requirements():
    assert SignerIsPerson().check(PERSON) is None
    assert SignerIsPerson().check(SEAL) is not None
    assert SignerIsOrganisation().check(SEAL) is None
    assert SignerIsOrganisation().check(PERSON) is not None


def test_organisation_with_mst():
    assert SignerIsOrganisationWithMST("0400260612").check(SEAL) is None
    assert "expected MST" in (SignerIsOrganisationWithMST("0100686209").check(SEAL) or "")
    assert SignerIsOrganisationWithMST("0400260612").check(PERSON) is not None


def test_official_of_agency_by_name_in_nfd_and_by_code():
    nfd = unicodedata.normalize("NFD", "bộ tư pháp")
    assert SignerIsOfficialOf(organization=nfd).check(PERSON) is None
    assert SignerIsOfficialOf(agency_code="000.00.00.G10").check(PERSON) is None
    assert SignerIsOfficialOf(agency_code="000.00.00.G12").check(PERSON) is not None
    assert SignerIsOfficialOf(organization="Bộ Tài chính").check(PERSON) is not None
    assert SignerIsOfficialOf(organization="Bộ Tư pháp").check(SEAL) is not None


def test_all_of_any_of():
    both = AllOf([SignerIsPerson(), SignerIs(cccd="001089020747")])
    assert both.check(PERSON) is None
    assert both.check(SEAL) is not None
    either = AnyOf([SignerIsOrganisationWithMST("0400260612"), SignerIs(cccd="001089020747")])
    assert either.check(PERSON) is None
    assert either.check(SEAL) is None
    assert AnyOf([SignerIs(cccd="1")]).check(PERSON).startswith("none of")  # type: ignore[union-attr]


def test_check_signer_per_role(policy):
    p = policy.replace(
        signer=AnyOf([SignerIsPerson(), SignerIsOrganisation()]),
        personal_signer=SignerIsOfficialOf(agency_code="000.00.00.G10"),
        organisation_signer=SignerIsOrganisationWithMST("0400260612"),
    )
    p.check_signer(PERSON, role="personal")
    p.check_signer(SEAL, role="organisation")
    with pytest.raises(PolicyViolation) as info:
        p.check_signer(PERSON, role="organisation")
    assert info.value.sub_indication == "SIG_CONSTRAINTS_FAILURE"
    unknown = SignerIdentity(kind=IdentityKind.UNKNOWN)
    with pytest.raises(PolicyViolation):
        p.check_signer(unknown)


def test_requirements_compare_by_value():
    assert SignerIs(mst="1") == SignerIs(mst="1")
    assert hash(AllOf([SignerIsPerson()])) == hash(AllOf((SignerIsPerson(),)))


def test_seal_certificate_identity_through_policy(policy):
    seal = issue(
        name((UID, "MST:0400260612"), (NameOID.COMMON_NAME, "SỞ Y TẾ")),
        key_usage=["digital_signature"],
    )
    ident = SignerIdentity.from_certificate(seal.cert)
    policy.replace(signer=SignerIsOrganisationWithMST("0400260612")).check_signer(ident)
