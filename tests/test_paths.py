"""validate_chain: time bounds, revocation (CRL/OCSP, soft/hard), usage, crypto, cache safety."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import socket

import pytest
from certs_helpers import (
    T0,
    UID,
    Chain,
    issue,
    make_chain,
    make_crl,
    make_ocsp,
    name,
    new_key,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pakn_sign.errors import IndeterminateError, PolicyViolation, UntrustedSigner
from pakn_sign.trust.identity import IdentityKind
from pakn_sign.trust.paths import (
    KeyPurpose,
    chain_cache_info,
    clear_chain_cache,
    validate_chain,
)
from pakn_sign.trust.policy import RevocationMode, TrustPolicy, UnsafeOptionWarning
from pakn_sign.trust.requirements import SignerIsOrganisation

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
LEAF_FROM = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
LEAF_UNTIL = dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
REVOKED_AT = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def _closed_port() -> int:
    # a port nobody listens on: bind, read the number, close (connection refused afterwards)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def crl_chain() -> Chain:
    """Leaf and intermediate declare a CRL DP; the leaf has its own validity window."""
    return make_chain(
        crl_url="http://127.0.0.1:9/ca.crl",
        leaf_kwargs={"not_before": LEAF_FROM, "not_after": LEAF_UNTIL},
    )


@pytest.fixture(scope="module")
def ocsp_chain() -> Chain:
    return make_chain(ocsp_url="http://127.0.0.1:9/ocsp")


def _policy(c: Chain, **kw: object) -> TrustPolicy:
    return TrustPolicy.from_anchors([c.root.cert], intermediates=[c.intermediate.cert], **kw)


def _crls(c: Chain, *revoked) -> tuple[bytes, bytes]:
    return make_crl(c.intermediate, revoked=list(revoked)), make_crl(c.root)


def test_valid_chain_leaf_first_to_anchor(crl_chain):
    result = validate_chain(
        crl_chain.leaf.cert, policy=_policy(crl_chain, crls=_crls(crl_chain)), at=AT
    )
    assert result.chain == (crl_chain.leaf.cert, crl_chain.intermediate.cert, crl_chain.root.cert)
    assert result.leaf is crl_chain.leaf.cert
    assert result.anchor == crl_chain.root.cert
    assert result.revocation_status == "good"
    assert result.validation_time == AT
    assert result.identity.kind is IdentityKind.PERSON
    assert result.identity.cccd == "001089020747"


@pytest.mark.parametrize(
    ("at", "outcome"),
    [
        (LEAF_FROM - dt.timedelta(seconds=1), "NOT_YET_VALID"),
        (LEAF_FROM, None),
        (LEAF_FROM + dt.timedelta(seconds=1), None),
        (LEAF_UNTIL - dt.timedelta(seconds=1), None),
        (LEAF_UNTIL, None),  # RFC 5280 §4.1.2.5: notAfter is inclusive
        (LEAF_UNTIL + dt.timedelta(seconds=1), "OUT_OF_BOUNDS_NO_POE"),
    ],
    ids=["nb-1s", "nb", "nb+1s", "na-1s", "na", "na+1s"],
)
def test_validity_bounds_to_the_second(crl_chain, at, outcome):
    policy = _policy(crl_chain, revocation=RevocationMode.OFF)
    if outcome is None:
        assert validate_chain(crl_chain.leaf.cert, policy=policy, at=at).validation_time == at
        return
    err = UntrustedSigner if outcome == "NOT_YET_VALID" else IndeterminateError
    with pytest.raises(err) as info:
        validate_chain(crl_chain.leaf.cert, policy=policy, at=at)
    assert info.value.sub_indication == outcome


def test_revoked_before_validation_time_fails(crl_chain):
    crls = _crls(crl_chain, (crl_chain.leaf.cert, REVOKED_AT))
    with pytest.raises(UntrustedSigner) as info:
        validate_chain(crl_chain.leaf.cert, policy=_policy(crl_chain, crls=crls), at=AT)
    assert info.value.sub_indication == "REVOKED"
    assert info.value.code == "verify.revoked"


def test_revoked_after_validation_time_passes(crl_chain):
    # the caller proves existence before the revocation by passing that time (e.g. a timestamp)
    crls = _crls(crl_chain, (crl_chain.leaf.cert, REVOKED_AT))
    before = REVOKED_AT - dt.timedelta(days=1)
    result = validate_chain(crl_chain.leaf.cert, policy=_policy(crl_chain, crls=crls), at=before)
    assert result.revocation_status == "good"


def test_revoked_intermediate_fails(crl_chain):
    root_crl = make_crl(crl_chain.root, revoked=[(crl_chain.intermediate.cert, REVOKED_AT)])
    crls = (make_crl(crl_chain.intermediate), root_crl)
    with pytest.raises(UntrustedSigner) as info:
        validate_chain(crl_chain.leaf.cert, policy=_policy(crl_chain, crls=crls), at=AT)
    assert info.value.sub_indication == "REVOKED"


@pytest.mark.parametrize(
    ("status", "error", "sub"),
    [
        ("good", None, None),
        ("revoked", UntrustedSigner, "REVOKED"),
        ("unknown", IndeterminateError, "TRY_LATER"),
    ],
)
def test_ocsp_status(ocsp_chain, status, error, sub):
    resp = make_ocsp(
        ocsp_chain.leaf.cert, ocsp_chain.intermediate, status=status, revoked_at=REVOKED_AT
    )
    policy = _policy(ocsp_chain, ocsps=(resp,))
    if error is None:
        assert (
            validate_chain(ocsp_chain.leaf.cert, policy=policy, at=AT).revocation_status == "good"
        )
        return
    with pytest.raises(error) as info:
        validate_chain(ocsp_chain.leaf.cert, policy=policy, at=AT)
    assert info.value.sub_indication == sub


def test_ocsp_about_another_certificate_does_not_count(ocsp_chain):
    other = make_chain(ocsp_url="http://127.0.0.1:9/ocsp")
    resp = make_ocsp(other.leaf.cert, other.intermediate, status="good")
    with pytest.raises(IndeterminateError) as info:
        validate_chain(ocsp_chain.leaf.cert, policy=_policy(ocsp_chain, ocsps=(resp,)), at=AT)
    assert info.value.sub_indication == "TRY_LATER"


def test_stale_crl_is_try_later(crl_chain):
    stale = make_crl(crl_chain.intermediate, this_update=T0, next_update=T0 + dt.timedelta(days=7))
    policy = _policy(crl_chain, crls=(stale, make_crl(crl_chain.root)))
    with pytest.raises(IndeterminateError) as info:
        validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    assert info.value.sub_indication == "TRY_LATER"


@pytest.mark.parametrize(
    ("mode", "outcome"),
    [
        (RevocationMode.OFF, "not_checked"),
        (RevocationMode.SOFT_FAIL, "soft_fail"),
        (RevocationMode.HARD_FAIL, "TRY_LATER"),
        (RevocationMode.REQUIRE, "TRY_LATER"),
    ],
)
def test_revocation_modes_without_data(crl_chain, mode, outcome):
    policy = _policy(crl_chain, revocation=mode)
    if outcome.islower():
        assert (
            validate_chain(crl_chain.leaf.cert, policy=policy, at=AT).revocation_status == outcome
        )
        return
    with pytest.raises(IndeterminateError) as info:
        validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    assert info.value.sub_indication == outcome


def test_require_mode_needs_data_even_when_not_declared():
    c = make_chain()  # no CRL DP, no OCSP URL
    assert validate_chain(c.leaf.cert, policy=_policy(c), at=AT).revocation_status == "not_declared"
    with pytest.raises(IndeterminateError):
        validate_chain(c.leaf.cert, policy=_policy(c, revocation=RevocationMode.REQUIRE), at=AT)
    ok = _policy(c, revocation=RevocationMode.REQUIRE, crls=_crls(c))
    assert validate_chain(c.leaf.cert, policy=ok, at=AT).revocation_status == "good"


@pytest.mark.parametrize(
    ("mode", "fails"), [(RevocationMode.SOFT_FAIL, False), (RevocationMode.HARD_FAIL, True)]
)
def test_responder_down_soft_vs_hard(mode, fails):
    port = _closed_port()
    c = make_chain(
        ocsp_url=f"http://127.0.0.1:{port}/ocsp", crl_url=f"http://127.0.0.1:{port}/c.crl"
    )
    policy = _policy(c, revocation=mode, allow_fetching=True)
    if not fails:
        assert validate_chain(c.leaf.cert, policy=policy, at=AT).revocation_status == "soft_fail"
        return
    with pytest.raises(IndeterminateError) as info:
        validate_chain(c.leaf.cert, policy=policy, at=AT)
    assert info.value.sub_indication == "TRY_LATER"


def test_unknown_anchor_no_chain(crl_chain):
    other = make_chain()
    policy = TrustPolicy.from_anchors([other.root.cert], revocation=RevocationMode.OFF)
    with pytest.raises(UntrustedSigner) as info:
        validate_chain(
            crl_chain.leaf.cert, policy=policy, candidates=[crl_chain.intermediate.cert], at=AT
        )
    assert info.value.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"


def test_attack_root_with_same_name_but_other_key(crl_chain):
    impostor = issue(crl_chain.root.cert.subject, ca=True)
    policy = TrustPolicy.from_anchors([impostor.cert], revocation=RevocationMode.OFF)
    with pytest.raises(UntrustedSigner):
        validate_chain(
            crl_chain.leaf.cert, policy=policy, candidates=[crl_chain.intermediate.cert], at=AT
        )


def test_intermediate_from_candidates(crl_chain):
    policy = TrustPolicy.from_anchors([crl_chain.root.cert], revocation=RevocationMode.OFF)
    with pytest.raises(UntrustedSigner):
        validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    result = validate_chain(
        crl_chain.leaf.cert, policy=policy, candidates=[crl_chain.intermediate.cert], at=AT
    )
    assert len(result.chain) == 3


def test_attack_end_entity_used_as_issuer():
    c = make_chain()
    fake = issue(
        name((NameOID.COMMON_NAME, "Evil")), issuer=c.leaf, key_usage=["digital_signature"]
    )
    policy = _policy(c, revocation=RevocationMode.OFF)
    with pytest.raises(UntrustedSigner):
        validate_chain(fake.cert, policy=policy, candidates=[c.leaf.cert], at=AT)


def test_key_usage_required_for_document_signing():
    c = make_chain(leaf_kwargs={"key_usage": ["key_encipherment"]})
    policy = _policy(c, revocation=RevocationMode.OFF)
    with pytest.raises(UntrustedSigner) as info:
        validate_chain(c.leaf.cert, policy=policy, at=AT)
    assert info.value.code == "verify.key_usage"
    assert info.value.sub_indication == "CHAIN_CONSTRAINTS_FAILURE"
    assert validate_chain(c.leaf.cert, policy=policy, at=AT, purpose=KeyPurpose.ANY).chain


def test_non_repudiation_alone_is_enough():
    c = make_chain(leaf_kwargs={"key_usage": ["non_repudiation"]})
    assert validate_chain(c.leaf.cert, policy=_policy(c, revocation=RevocationMode.OFF), at=AT)


@pytest.mark.parametrize(
    ("purpose", "eku"),
    [
        (KeyPurpose.TIMESTAMPING, ExtendedKeyUsageOID.TIME_STAMPING),
        (KeyPurpose.OCSP_SIGNING, ExtendedKeyUsageOID.OCSP_SIGNING),
        (KeyPurpose.TLS_SERVER, ExtendedKeyUsageOID.SERVER_AUTH),
        (KeyPurpose.TLS_CLIENT, ExtendedKeyUsageOID.CLIENT_AUTH),
    ],
)
def test_extended_key_usage_per_purpose(purpose, eku):
    with_eku = make_chain(leaf_kwargs={"eku": [eku]})
    policy = _policy(with_eku, revocation=RevocationMode.OFF)
    assert (
        validate_chain(with_eku.leaf.cert, policy=policy, at=AT, purpose=purpose).purpose is purpose
    )
    plain = make_chain()
    with pytest.raises(UntrustedSigner, match="ExtendedKeyUsage"):
        validate_chain(
            plain.leaf.cert,
            policy=_policy(plain, revocation=RevocationMode.OFF),
            at=AT,
            purpose=purpose,
        )


def test_small_rsa_intermediate_is_crypto_constraints_failure():
    root = issue(name((NameOID.COMMON_NAME, "R")), ca=True)
    weak = issue(
        name((NameOID.COMMON_NAME, "Weak CA")), issuer=root, ca=True, key=new_key("rsa1024")
    )
    leaf = issue(name((NameOID.COMMON_NAME, "L")), issuer=weak, key_usage=["digital_signature"])
    policy = TrustPolicy.from_anchors(
        [root.cert], intermediates=[weak.cert], revocation=RevocationMode.OFF
    )
    with pytest.raises(PolicyViolation) as info:
        validate_chain(leaf.cert, policy=policy, at=AT)
    assert info.value.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"


def test_unlisted_curve_in_path_refused():
    c = make_chain(key_kind="ec-k256")
    with pytest.raises(PolicyViolation) as info:
        validate_chain(c.leaf.cert, policy=_policy(c, revocation=RevocationMode.OFF), at=AT)
    assert info.value.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"


def test_attack_sha1_signed_leaf_refused_then_accepted_with_warning():
    c = make_chain(key_kind="rsa2048")
    sha1_leaf = issue(
        name((NameOID.COMMON_NAME, "Legacy")),
        issuer=c.intermediate,
        key=new_key("rsa2048"),
        key_usage=["digital_signature"],
        sha1=True,
    )
    policy = _policy(c, revocation=RevocationMode.OFF)
    with pytest.raises(PolicyViolation) as info:
        validate_chain(sha1_leaf.cert, policy=policy, at=AT)
    assert info.value.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"
    with pytest.warns(UnsafeOptionWarning):
        legacy = policy.unsafe_allow_sha1()
    for _ in range(2):  # warns on every use: unsafe policies are never cached
        with pytest.warns(UnsafeOptionWarning, match="SHA-1 certificate"):
            validate_chain(sha1_leaf.cert, policy=legacy, at=AT)


def test_ed25519_and_rsa_chains():
    for kind in ("ed25519", "rsa2048"):
        c = make_chain(key_kind=kind)
        assert (
            len(
                validate_chain(
                    c.leaf.cert, policy=_policy(c, revocation=RevocationMode.OFF), at=AT
                ).chain
            )
            == 3
        )


def test_signer_requirement_applied_for_document_signing(crl_chain):
    policy = _policy(crl_chain, revocation=RevocationMode.OFF, signer=SignerIsOrganisation())
    with pytest.raises(PolicyViolation) as info:
        validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    assert info.value.sub_indication == "SIG_CONSTRAINTS_FAILURE"


def test_policy_validation_time_used_when_at_is_none(crl_chain):
    policy = _policy(
        crl_chain,
        revocation=RevocationMode.OFF,
        validation_time=LEAF_FROM - dt.timedelta(seconds=1),
    )
    with pytest.raises(UntrustedSigner):
        validate_chain(crl_chain.leaf.cert, policy=policy)


def test_naive_at_refused(crl_chain):
    from pakn_sign.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        validate_chain(crl_chain.leaf.cert, policy=_policy(crl_chain), at=dt.datetime(2026, 6, 1))


def test_works_inside_a_running_event_loop(crl_chain):
    policy = _policy(crl_chain, crls=_crls(crl_chain))

    async def handler() -> int:
        return len(validate_chain(crl_chain.leaf.cert, policy=policy, at=AT).chain)

    assert asyncio.run(handler()) == 3


# --- cache safety -----------------------------------------------------------------------


def test_cache_hit_returns_same_result(crl_chain):
    clear_chain_cache()
    policy = _policy(crl_chain, crls=_crls(crl_chain))
    first = validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    second = validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    assert second is first
    info = chain_cache_info()
    assert (info.hits, info.misses, info.size) == (1, 1, 1)


def test_cache_misses_on_every_changed_input(crl_chain):
    clear_chain_cache()
    policy = _policy(crl_chain, crls=_crls(crl_chain))
    validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    # (1) a later CRL revoking the leaf: new policy fingerprint -> must not reuse "good"
    revoking = policy.replace(crls=_crls(crl_chain, (crl_chain.leaf.cert, REVOKED_AT)))
    with pytest.raises(UntrustedSigner):
        validate_chain(crl_chain.leaf.cert, policy=revoking, at=AT)
    # (2) the same CRL as extra data found with the signature
    with pytest.raises(UntrustedSigner):
        validate_chain(
            crl_chain.leaf.cert,
            policy=policy.replace(crls=()),
            at=AT,
            extra_crls=_crls(crl_chain, (crl_chain.leaf.cert, REVOKED_AT)),
        )
    # (3) a time past the leaf's notAfter
    with pytest.raises(IndeterminateError):
        validate_chain(crl_chain.leaf.cert, policy=policy, at=LEAF_UNTIL + dt.timedelta(seconds=1))
    # (4) another purpose
    with pytest.raises(UntrustedSigner):
        validate_chain(crl_chain.leaf.cert, policy=policy, at=AT, purpose=KeyPurpose.TIMESTAMPING)
    # (5) other anchors
    with pytest.raises(UntrustedSigner):
        validate_chain(
            crl_chain.leaf.cert, policy=policy.replace(anchors=(make_chain().root.cert,)), at=AT
        )
    # (6) the candidate certificates: a path found via a candidate is not reused without it
    bare = TrustPolicy.from_anchors([crl_chain.root.cert], revocation=RevocationMode.OFF)
    validate_chain(
        crl_chain.leaf.cert, policy=bare, candidates=[crl_chain.intermediate.cert], at=AT
    )
    with pytest.raises(UntrustedSigner):
        validate_chain(crl_chain.leaf.cert, policy=bare, at=AT)
    assert chain_cache_info().hits == 0


def test_cache_is_bounded_and_thread_safe(crl_chain):
    from pakn_sign.trust.cache import LRUCache

    lru: LRUCache[int] = LRUCache(maxsize=3)
    for i in range(5):
        lru.put(i, i)
    assert lru.get(0) is None
    assert lru.get(4) == 4
    assert lru.info().size == 3
    clear_chain_cache()
    policy = _policy(crl_chain, crls=_crls(crl_chain))
    times = [AT + dt.timedelta(seconds=i % 4) for i in range(24)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        chains = list(
            pool.map(
                lambda t: validate_chain(crl_chain.leaf.cert, policy=policy, at=t).chain, times
            )
        )
    assert all(ch == chains[0] for ch in chains)
    assert chain_cache_info().size == 1  # one entry per key: a window, not an instant


def test_identity_memo_is_per_object_and_never_confuses_reused_ids(crl_chain):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from pakn_sign.trust import paths as paths_module
    from pakn_sign.trust.cache import IdentityMemo

    calls: list[object] = []

    def compute(obj: object) -> int:
        calls.append(obj)
        return len(calls)

    memo: IdentityMemo[object, int] = IdentityMemo(compute, maxsize=2)
    a, b = [1], [1]  # equal, distinct objects: each is computed for itself
    assert (memo(a), memo(a), memo(b)) == (1, 1, 2)
    # Evicted entries release their object; a later object with the same id is a miss.
    memo([2])
    memo([3])
    assert memo(a) == 5
    # The chain cache key of a certificate is its DER digest, whichever object carries it.
    leaf = crl_chain.leaf.cert
    copy = x509.load_der_x509_certificate(leaf.public_bytes(serialization.Encoding.DER))
    key_of = paths_module._cache_key
    args = (TrustPolicy.from_anchors([crl_chain.root.cert]), (), KeyPurpose.ANY, (), ())
    assert key_of(leaf, *args) == key_of(copy, *args)


def test_fetching_policies_are_not_cached():
    port = _closed_port()
    c = make_chain(ocsp_url=f"http://127.0.0.1:{port}/ocsp")
    clear_chain_cache()
    policy = _policy(c, revocation=RevocationMode.SOFT_FAIL, allow_fetching=True)
    validate_chain(c.leaf.cert, policy=policy, at=AT)
    validate_chain(c.leaf.cert, policy=policy, at=AT)
    assert chain_cache_info().size == 0


def test_organisation_seal_identity():
    c = make_chain(
        leaf_subject=name(
            (UID, "MST:0400260612"),
            (UID, "MNS:1047665"),
            (NameOID.COMMON_NAME, "SỞ Y TẾ"),
            (NameOID.ORGANIZATION_NAME, "ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG"),
        )
    )
    result = validate_chain(
        c.leaf.cert,
        policy=_policy(c, revocation=RevocationMode.OFF, signer=SignerIsOrganisation()),
        at=AT,
    )
    assert result.identity.kind is IdentityKind.ORGANISATION
    assert result.identity.mst == "0400260612"
    assert result.identity.mns == "1047665"


# --- live OCSP / CRL from the test PKI's service (pakn-sign pki serve) ------------------


def _live_policy(test_pki, mode=RevocationMode.HARD_FAIL, **kw):
    return test_pki.policy(revocation=mode, allow_fetching=True, crls=(), **kw)


def test_live_ocsp_good(pki_service, test_pki):
    official = next(iter(test_pki.officials.values()))
    result = validate_chain(official.cert, policy=_live_policy(test_pki), at=test_pki.now)
    assert result.revocation_status == "good"
    assert result.anchor == test_pki.root.cert


def test_live_ocsp_revoked(pki_service, test_pki):
    with pytest.raises(UntrustedSigner) as info:
        validate_chain(test_pki.revoked.cert, policy=_live_policy(test_pki), at=test_pki.now)
    assert info.value.sub_indication == "REVOKED"


def test_live_revoked_certificate_valid_before_its_revocation(pki_service, test_pki):
    # local CRLs only, validation time before the revocation (now - 1 day)
    before = test_pki.now - dt.timedelta(days=2)
    policy = test_pki.policy(revocation=RevocationMode.HARD_FAIL)
    with pytest.raises(IndeterminateError):
        # the CRL was issued after `before`, so it cannot speak for that time (no POE)
        validate_chain(test_pki.revoked.cert, policy=policy, at=before)
    with pytest.raises(UntrustedSigner):
        validate_chain(test_pki.revoked.cert, policy=policy, at=test_pki.now)


def test_live_ocsp_unknown_serial(pki_service, test_pki):
    from certs_helpers import Issued

    ca = Issued(test_pki.intermediate.cert, test_pki.intermediate.key)  # type: ignore[arg-type]
    stray = issue(
        name((UID, "CCCD:079000000001"), (NameOID.COMMON_NAME, "Không có trong sổ")),
        issuer=ca,
        key_usage=["digital_signature", "non_repudiation"],
        ocsp_url=pki_service.ocsp_url,
        not_before=test_pki.now - dt.timedelta(days=1),
        not_after=test_pki.now + dt.timedelta(days=30),
    )
    with pytest.raises(IndeterminateError) as info:
        validate_chain(stray.cert, policy=_live_policy(test_pki), at=test_pki.now)
    assert info.value.sub_indication == "TRY_LATER"
    # soft-fail forgives only missing/unreachable data; an explicit "unknown" is not missing
    with pytest.raises(IndeterminateError):
        validate_chain(
            stray.cert, policy=_live_policy(test_pki, RevocationMode.SOFT_FAIL), at=test_pki.now
        )


def test_attack_candidate_flood_refused_before_path_building(crl_chain):
    from pakn_sign.errors import InvalidInput
    from pakn_sign.trust.paths import MAX_CANDIDATES

    flood = [crl_chain.intermediate.cert] * (MAX_CANDIDATES + 1)
    with pytest.raises(InvalidInput, match="candidate"):
        validate_chain(crl_chain.leaf.cert, policy=_policy(crl_chain), candidates=flood, at=AT)


def test_attack_revocation_data_flood_refused(crl_chain):
    from pakn_sign.errors import InvalidInput
    from pakn_sign.trust.paths import MAX_REVINFO

    crl = make_crl(crl_chain.intermediate)
    with pytest.raises(InvalidInput, match="revocation data"):
        validate_chain(
            crl_chain.leaf.cert,
            policy=_policy(crl_chain),
            extra_crls=[crl] * (MAX_REVINFO + 1),
            at=AT,
        )


def test_malformed_extra_crl_is_invalid_input(crl_chain):
    from pakn_sign.errors import InvalidInput

    with pytest.raises(InvalidInput):
        validate_chain(
            crl_chain.leaf.cert,
            policy=_policy(crl_chain),
            extra_crls=[b"\x30\x03\x02\x01\x00"],
            at=AT,
        )
