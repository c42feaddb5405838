"""Adversarial review of the chain cache's time window (paths.validate_chain + cache_window).

A success computed at t0 is reused at t (t0 <= t < end). Each case here validates at t0, then
at t, and compares with a cold validation at t (empty cache). ``test_attack_cache_window_*``
are the findings of the review (each failed before its fix); the other tests record attacks
that held: time-dependent certvalidator behaviour the window already bounds.
Random thresholds: tests/test_chain_cache_window_differential.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings

import pytest
from asn1crypto import x509 as asn1_x509
from cache_window_helpers import crl, ocsp_response, outcome, warm_and_cold
from certs_helpers import Chain, Issued, issue, make_chain, name, new_key
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko_certvalidator.policy_decl import FRESHNESS_FALLBACK_VALIDITY_DEFAULT
from pyhanko_certvalidator.revinfo import archival

from pakn_sign.clock import VN_TZ
from pakn_sign.errors import PolicyViolation
from pakn_sign.trust import cache_window
from pakn_sign.trust.cache_window import window_end
from pakn_sign.trust.identity import SignerIdentity
from pakn_sign.trust.paths import (
    ValidatedChain,
    build_validation_context,
    chain_cache_info,
    clear_chain_cache,
    validate_chain,
)
from pakn_sign.trust.policy import RevocationMode, TrustPolicy
from pakn_sign.trust.requirements import AllOf, SignerIs, SignerIsPerson

AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
OLD = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FAR = dt.datetime(2027, 12, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SEC = dt.timedelta(seconds=1)
END_OF_TIME = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
CRL_URL = "http://127.0.0.1:9/ca.crl"
OCSP_URL = "http://127.0.0.1:9/ocsp"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    clear_chain_cache()


@pytest.fixture(scope="module")
def crl_chain() -> Chain:
    return make_chain(crl_url=CRL_URL)


def _policy(c: Chain, **kw: object) -> TrustPolicy:
    return TrustPolicy.from_anchors([c.root.cert], intermediates=[c.intermediate.cert], **kw)


def _good_crls(c: Chain) -> tuple[bytes, bytes]:
    return (
        crl(c.intermediate, this=OLD, next_=FAR),
        crl(c.root, this=OLD, next_=FAR),
    )


def _assert_same(c: Chain, policy: TrustPolicy, t0: dt.datetime, t: dt.datetime, **kw: object):
    """At t after a success at t0: the cold answer, whether the cache answered or not."""
    first, warm, cold, _ = warm_and_cold(
        lambda when: validate_chain(c.leaf.cert, policy=policy, at=when, **kw), t0, t
    )
    assert first[0] == "ok"
    assert warm == cold
    return cold


def _mallory() -> Issued:
    return issue(name((NameOID.COMMON_NAME, "Mallory")))


# --- findings ----------------------------------------------------------------------------


def test_attack_cache_window_attacker_crl_far_future_without_next_update(crl_chain):
    # Anyone may add a CRL to a B-LT signature's unsigned properties. One of the attacker's
    # own, thisUpdate 9999-12-31T23:59:59Z and no nextUpdate, is ignored by certvalidator
    # (no issuer in the path), but thisUpdate + 30 min overflowed in window_end: every
    # verification of that signature raised OverflowError instead of returning.
    evil = crl(_mallory(), this=END_OF_TIME, next_=None)
    policy = _policy(crl_chain, crls=_good_crls(crl_chain))
    r = validate_chain(crl_chain.leaf.cert, policy=policy, at=AT, extra_crls=(evil,))
    assert r.revocation_status == "good"
    assert chain_cache_info().size == 0  # not bounded: not cached


def test_attack_cache_window_attacker_ocsp_far_future_without_next_update(crl_chain):
    mallory = _mallory()
    evil = ocsp_response(crl_chain.leaf.cert, mallory.cert, mallory, this=END_OF_TIME, next_=None)
    policy = _policy(crl_chain, crls=_good_crls(crl_chain))
    r = validate_chain(crl_chain.leaf.cert, policy=policy, at=AT, extra_ocsps=(evil,))
    assert r.revocation_status == "good"
    assert chain_cache_info().size == 0


def _negative_serial(cert: x509.Certificate) -> x509.Certificate:
    a = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    a["tbs_certificate"]["serial_number"] = -5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return x509.load_der_x509_certificate(a.dump(force=True))


def test_attack_cache_window_negative_serial_candidate(crl_chain):
    # A junk certificate with a negative serial among the candidates (KeyInfo is often not
    # signed): certvalidator ignores it, but cryptography cannot look a negative serial up
    # in a CRL, and the ValueError escaped validate_chain after a successful validation.
    junk = _negative_serial(crl_chain.leaf.cert)
    policy = _policy(crl_chain, crls=_good_crls(crl_chain))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        r = validate_chain(crl_chain.leaf.cert, policy=policy, at=AT, candidates=(junk,))
    assert r.revocation_status == "good"
    assert chain_cache_info().size == 0


class AllowedCitizens:
    """A deployment's own requirement: an allow-list of CCCD numbers (SignerRequirement is a
    Protocol). Its repr shows the size, not the numbers, as one would want in logs."""

    def __init__(self, cccds: set[str]) -> None:
        self.cccds = frozenset(cccds)

    def check(self, identity: SignerIdentity) -> str | None:
        return None if identity.cccd in self.cccds else f"CCCD {identity.cccd} not allowed"

    def __repr__(self) -> str:
        return f"AllowedCitizens({len(self.cccds)} numbers)"


def test_attack_cache_window_requirement_repr_hides_state(crl_chain):
    # The policy fingerprint holds repr(signer): two allow-lists of the same size have the
    # same fingerprint, and the window reused "allowed" for a signer the new list refuses.
    leaf = crl_chain.leaf.cert
    before = _policy(
        crl_chain, revocation=RevocationMode.OFF, signer=AllowedCitizens({"001089020747"})
    )
    after = before.replace(signer=AllowedCitizens({"079200001234"}))
    validate_chain(leaf, policy=before, at=AT)
    with pytest.raises(PolicyViolation):
        validate_chain(leaf, policy=after, at=AT + DAY)


class AllowedByDefaultRepr:
    def __init__(self, cccds: set[str]) -> None:
        self.cccds = frozenset(cccds)

    def check(self, identity: SignerIdentity) -> str | None:
        return None if identity.cccd in self.cccds else "not allowed"


def test_attack_cache_window_freed_requirement_address_reused(crl_chain):
    # The default repr holds the object's address, and CPython reuses a freed object's
    # address. A service that rebuilds its policy per request (allow-list read from a
    # database) got a fingerprint equal to an earlier policy's with another list, and the
    # window kept the earlier answer for up to a year. Here requests alternate between a
    # list that allows the signer and one that no longer does: each must get its own answer.
    leaf = crl_chain.leaf.cert
    answers = []
    for i in range(40):
        allowed = {"001089020747"} if i % 2 == 0 else set()
        policy = _policy(
            crl_chain, revocation=RevocationMode.OFF, signer=AllowedByDefaultRepr(allowed)
        )
        at = AT + i * SEC
        answers.append(outcome(lambda p=policy, t=at: validate_chain(leaf, policy=p, at=t))[0])
        del policy
    assert answers == ["ok", "PolicyViolation"] * 20


class FrozenOut(TrustPolicy):
    """A deployment's policy that refuses every signer while an incident is handled."""

    def check_signer(self, identity: SignerIdentity, *, role: str | None = None) -> None:
        raise PolicyViolation(
            "signing suspended", sub_indication="SIG_CONSTRAINTS_FAILURE", code="verify.x"
        )


def test_attack_cache_window_policy_subclass_overrides_check_signer(crl_chain):
    # The fingerprint covers the fields, not the class: a subclass's own check_signer was
    # skipped on a hit from the plain policy with the same fields.
    base = _policy(crl_chain, revocation=RevocationMode.OFF)
    frozen = FrozenOut(
        **{f.name: getattr(base, f.name) for f in dataclasses.fields(base) if f.init}
    )
    validate_chain(crl_chain.leaf.cert, policy=base, at=AT)
    with pytest.raises(PolicyViolation):
        validate_chain(crl_chain.leaf.cert, policy=frozen, at=AT + DAY)


def test_attack_cache_window_t0_hit_keeps_callers_zone(crl_chain):
    # A hit at exactly t0, asked in another zone, returned the stored result dated in the
    # first caller's zone (same instant; a report then showed UTC instead of Vietnam time).
    policy = _policy(crl_chain, crls=_good_crls(crl_chain))
    validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    local = AT.astimezone(VN_TZ)
    r = validate_chain(crl_chain.leaf.cert, policy=policy, at=local)
    assert chain_cache_info().hits == 1
    assert r.validation_time is local


@pytest.mark.parametrize(
    "signer",
    [None, SignerIsPerson(), AllOf([SignerIsPerson(), SignerIs(cccd="001089020747")])],
    ids=["none", "library", "composed"],
)
def test_library_requirements_are_still_cached(crl_chain, signer):
    policy = _policy(crl_chain, revocation=RevocationMode.OFF, signer=signer)
    validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    validate_chain(crl_chain.leaf.cert, policy=policy, at=AT + DAY)
    assert chain_cache_info().hits == 1


# --- held: certvalidator's time-dependent behaviour is inside the thresholds --------------


def test_fallback_freshness_is_certvalidators_own_constant():
    # _judge_revinfo (DEFAULT freshness, nextUpdate absent) reads this very object
    assert archival.FRESHNESS_FALLBACK_VALIDITY_DEFAULT is FRESHNESS_FALLBACK_VALIDITY_DEFAULT
    assert cache_window.FRESHNESS_FALLBACK_VALIDITY_DEFAULT is FRESHNESS_FALLBACK_VALIDITY_DEFAULT


def test_validation_is_point_in_time_without_tolerance(crl_chain):
    # Revocation dates after the moment are ignored only in point-in-time validation; the
    # thresholds are exact only with zero tolerance.
    ctx = build_validation_context(_policy(crl_chain, crls=_good_crls(crl_chain)), moment=AT)
    assert ctx.timing_params.point_in_time_validation is True
    assert ctx.time_tolerance == dt.timedelta(0)


@pytest.mark.parametrize("offset", [-SEC, dt.timedelta(0), SEC])
def test_crl_without_next_update_crosses_the_fallback(crl_chain, offset):
    inter = crl(crl_chain.intermediate, this=AT - DAY / 24, next_=None)
    policy = _policy(crl_chain, crls=(inter, crl(crl_chain.root, this=OLD, next_=FAR)))
    t = AT - DAY / 24 + FRESHNESS_FALLBACK_VALIDITY_DEFAULT + offset
    expected = "ok" if offset <= dt.timedelta(0) else "IndeterminateError"
    assert _assert_same(crl_chain, policy, AT - DAY / 48, t)[0] == expected


def test_ocsp_without_next_update_crosses_the_fallback():
    c = make_chain(ocsp_url=OCSP_URL)
    this = AT - 10 * dt.timedelta(minutes=1)
    resp = ocsp_response(c.leaf.cert, c.intermediate.cert, c.intermediate, this=this, next_=None)
    policy = _policy(c, ocsps=(resp,))
    t = this + FRESHNESS_FALLBACK_VALIDITY_DEFAULT + SEC
    assert _assert_same(c, policy, AT, t)[0] == "IndeterminateError"


def test_duplicate_crl_entries_first_one_decides(crl_chain):
    # certvalidator takes the first entry with the serial; so must the window: the entry
    # dated after t0 comes first, an older one after it.
    serial = crl_chain.leaf.cert.serial_number
    listed = crl(
        crl_chain.intermediate, this=OLD, next_=FAR, revoked=[(serial, AT + 3 * DAY), (serial, OLD)]
    )
    policy = _policy(crl_chain, crls=(listed, crl(crl_chain.root, this=OLD, next_=FAR)))
    chain = (crl_chain.leaf.cert, crl_chain.intermediate.cert, crl_chain.root.cert)
    assert window_end(AT, chain, policy, (), (), ()) == AT + 3 * DAY
    assert _assert_same(crl_chain, policy, AT, AT + 3 * DAY + SEC)[1] == "REVOKED"


@pytest.mark.parametrize("delta_this", [OLD, AT + 2 * DAY], ids=["scheduled", "too_new_at_t0"])
def test_delta_crl_revocation_after_t0(crl_chain, delta_this):
    # RFC 5280 §5.2.4/§5.2.6: the base names a freshest CRL; the delta, once usable, lists
    # the leaf (revoked from AT + 3 days, or already before AT but issued after it).
    base = crl(
        crl_chain.intermediate,
        this=OLD,
        next_=FAR,
        extensions=[
            x509.FreshestCRL(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(CRL_URL)], None, None, None
                    )
                ]
            )
        ],
    )
    revoked_from = AT + 3 * DAY if delta_this == OLD else AT - DAY
    delta = crl(
        crl_chain.intermediate,
        this=delta_this,
        next_=FAR,
        number=2,
        revoked=[(crl_chain.leaf.cert.serial_number, revoked_from)],
        extensions=[x509.DeltaCRLIndicator(1)],
    )
    policy = _policy(crl_chain, crls=(base, delta, crl(crl_chain.root, this=OLD, next_=FAR)))
    assert _assert_same(crl_chain, policy, AT, AT + DAY)[0] == "ok"
    assert _assert_same(crl_chain, policy, AT, AT + 3 * DAY + SEC)[1] == "REVOKED"


def _crl_signer(c: Chain, **kw: object) -> Issued:
    # Another key of the same CA name, for CRLs only (RFC 5280 §6.3.3 (f)), from the root
    return issue(
        c.intermediate.cert.subject, issuer=c.root, key_usage=["crl_sign"], crl_url=CRL_URL, **kw
    )  # type: ignore[arg-type]


def _signer_policy(c: Chain, signer: Issued, root_revoked: list[tuple[int, dt.datetime]]):
    return TrustPolicy.from_anchors(
        [c.root.cert],
        intermediates=[c.intermediate.cert, signer.cert],
        crls=(
            crl(signer, this=OLD, next_=FAR),
            crl(c.root, this=OLD, next_=FAR, revoked=root_revoked),
        ),
    )


def test_separate_crl_signer_expires_after_t0(crl_chain):
    # The CRL issuer's own path is validated at the moment and fails once it expired.
    signer = _crl_signer(crl_chain, not_after=AT + 3 * DAY)
    policy = _signer_policy(crl_chain, signer, [])
    assert _assert_same(crl_chain, policy, AT, AT + 2 * DAY)[0] == "ok"
    assert _assert_same(crl_chain, policy, AT, AT + 4 * DAY)[1] == "TRY_LATER"


def test_separate_crl_signer_revoked_after_t0(crl_chain):
    # (before t0: tests/test_crl_issuer_recursion.py)
    signer = _crl_signer(crl_chain)
    policy = _signer_policy(crl_chain, signer, [(signer.cert.serial_number, AT + 3 * DAY)])
    assert _assert_same(crl_chain, policy, AT, AT + 2 * DAY)[0] == "ok"
    assert _assert_same(crl_chain, policy, AT, AT + 4 * DAY)[1] == "TRY_LATER"


def test_delegated_ocsp_responder_revoked_after_t0():
    c = make_chain(ocsp_url=OCSP_URL)
    responder = issue(
        name((NameOID.COMMON_NAME, "OCSP responder")),
        issuer=c.intermediate,
        eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
        crl_url=CRL_URL,
    )
    resp = ocsp_response(
        c.leaf.cert, c.intermediate.cert, responder, this=OLD, next_=FAR, embed=[responder.cert]
    )
    revoked = [(responder.cert.serial_number, AT + 3 * DAY)]
    policy = _policy(
        c,
        ocsps=(resp,),
        crls=(
            crl(c.intermediate, this=OLD, next_=FAR, revoked=revoked),
            crl(c.root, this=OLD, next_=FAR),
        ),
    )
    assert _assert_same(c, policy, AT, AT + 2 * DAY)[0] == "ok"
    assert _assert_same(c, policy, AT, AT + 3 * DAY + SEC)[0] != "ok"


def test_trust_anchor_expiry_is_a_threshold_though_certvalidator_ignores_it():
    # RFC 5280 §6.1.1 (d): a trust anchor is a name and a key, its validity is not checked
    # (certvalidator derives no TrustQualifiers from the anchor certificate). The window
    # still ends at the anchor's notAfter: one more miss, and cold agrees after it.
    root = issue(name((NameOID.COMMON_NAME, "Short Root")), ca=True, not_after=AT + 3 * DAY)
    inter = issue(name((NameOID.COMMON_NAME, "Sub")), issuer=root, ca=True)
    leaf = issue(name((NameOID.COMMON_NAME, "Leaf")), issuer=inter, key=new_key())
    c = Chain(root, inter, leaf)
    policy = _policy(c, revocation=RevocationMode.OFF)
    chain = (leaf.cert, inter.cert, root.cert)
    assert window_end(AT, chain, policy, (), (), ()) == AT + 3 * DAY
    assert _assert_same(c, policy, AT, AT + 3 * DAY + SEC)[0] == "ok"


def test_ocsp_about_another_certificate_only_shortens_the_window(crl_chain):
    # Revocation times of any single response count, whoever it is about: a shorter window
    # (a miss), never a longer one.
    other = make_chain()
    resp = ocsp_response(
        other.leaf.cert, other.intermediate.cert, other.intermediate,
        this=OLD, next_=FAR, revoked_at=AT + 5 * DAY,
    )  # fmt: skip
    policy = _policy(crl_chain, crls=_good_crls(crl_chain))
    chain = (crl_chain.leaf.cert, crl_chain.intermediate.cert, crl_chain.root.cert)
    assert window_end(AT, chain, policy, (), (), (resp,)) == AT + 5 * DAY


def test_cached_result_is_the_cold_result_in_every_field(crl_chain):
    policy = _policy(crl_chain, crls=_good_crls(crl_chain))

    def run(at: dt.datetime) -> ValidatedChain:
        return validate_chain(crl_chain.leaf.cert, policy=policy, at=at)

    first, warm, cold, hit = warm_and_cold(run, AT, AT + 100 * DAY)
    assert hit
    assert warm == cold
    assert outcome(lambda: run(AT))[1:5] == first[1:5]
