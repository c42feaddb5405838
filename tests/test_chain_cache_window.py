"""The chain cache reuses a success over a time window [t0, end), never past a threshold.

Each test validates once at ``AT`` (t0), then at other instants, and checks both the answer
(the same as a cold validation: ``clear_chain_cache()`` then ``validate_chain``) and whether
the cache answered (``chain_cache_info``). Fixed datetimes only.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
from collections.abc import Callable

import pytest
from certs_helpers import T0, Chain, Issued, issue, make_chain, make_crl, make_ocsp, name
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko_certvalidator.policy_decl import FreshnessReqType

from pakn_sign.clock import VN_TZ
from pakn_sign.errors import IndeterminateError, UntrustedSigner, VerificationError
from pakn_sign.trust.cache_window import window_end
from pakn_sign.trust.paths import (
    ValidatedChain,
    build_validation_context,
    chain_cache_info,
    clear_chain_cache,
    validate_chain,
)
from pakn_sign.trust.policy import RevocationMode, TrustPolicy

AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
LEAF_FROM = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
LEAF_UNTIL = dt.datetime(2027, 3, 1, 8, tzinfo=dt.UTC)
FAR = dt.datetime(2027, 12, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def crl_chain() -> Chain:
    return make_chain(
        crl_url="http://127.0.0.1:9/ca.crl",
        leaf_kwargs={"not_before": LEAF_FROM, "not_after": LEAF_UNTIL},
    )


@pytest.fixture(scope="module")
def ocsp_chain() -> Chain:
    return make_chain(ocsp_url="http://127.0.0.1:9/ocsp")


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    clear_chain_cache()


def _policy(c: Chain, **kw: object) -> TrustPolicy:
    return TrustPolicy.from_anchors([c.root.cert], intermediates=[c.intermediate.cert], **kw)


def _crl_policy(c: Chain, *inter_crls: bytes, **kw: object) -> TrustPolicy:
    crls = inter_crls or (make_crl(c.intermediate, next_update=FAR),)
    return _policy(c, crls=(*crls, make_crl(c.root, next_update=FAR)), **kw)


Outcome = tuple[str, object]


def _outcome(run: Callable[[], ValidatedChain]) -> Outcome:
    try:
        r = run()
    except VerificationError as exc:
        return (type(exc).__name__, exc.sub_indication)
    return ("ok", (r.chain, r.revocation_status, r.validation_time))


def _counts() -> tuple[int, int]:
    info = chain_cache_info()
    return info.hits, info.misses


def _check_against_cold(c: Chain, policy: TrustPolicy, at: dt.datetime, **kw: object) -> Outcome:
    """Validate at ``at`` after a cached success at ``AT``; the answer must be the cold one,
    and a failure must not have come from the cache (it never holds failures)."""
    assert _outcome(lambda: validate_chain(c.leaf.cert, policy=policy, at=AT, **kw))[0] == "ok"
    hits = chain_cache_info().hits
    warm = _outcome(lambda: validate_chain(c.leaf.cert, policy=policy, at=at, **kw))
    assert chain_cache_info().hits == hits, "the cache answered past its window"
    clear_chain_cache()
    cold = _outcome(lambda: validate_chain(c.leaf.cert, policy=policy, at=at, **kw))
    assert warm == cold
    return warm


# --- inside the window -------------------------------------------------------------------


def test_later_instant_in_window_hits_and_is_dated_at_that_instant(crl_chain):
    policy = _crl_policy(crl_chain)
    first = validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    later = AT + 30 * DAY
    hits, misses = _counts()
    second = validate_chain(crl_chain.leaf.cert, policy=policy, at=later)
    assert _counts() == (hits + 1, misses)
    assert second.validation_time == later
    assert first.validation_time == AT  # the cached entry is not re-dated in place
    assert (second.chain, second.identity, second.revocation_status, second.purpose) == (
        first.chain,
        first.identity,
        first.revocation_status,
        first.purpose,
    )
    # the exact instant of t0 returns the stored result itself
    assert validate_chain(crl_chain.leaf.cert, policy=policy, at=AT) is first


def test_hit_keeps_the_callers_zone(crl_chain):
    policy = _crl_policy(crl_chain)
    validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    local = (AT + DAY).astimezone(VN_TZ)
    result = validate_chain(crl_chain.leaf.cert, policy=policy, at=local)
    assert chain_cache_info().hits == 1
    assert result.validation_time is local


def test_earlier_instant_than_t0_misses(crl_chain):
    policy = _crl_policy(crl_chain)
    validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    earlier = AT - dt.timedelta(microseconds=1)
    result = validate_chain(crl_chain.leaf.cert, policy=policy, at=earlier)
    assert _counts() == (0, 2)
    assert result.validation_time == earlier
    # the miss replaced the window (one per key): now AT is inside the new one
    validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    assert chain_cache_info().hits == 1
    assert chain_cache_info().size == 1


def test_concurrent_hits_each_get_their_own_instant(crl_chain):
    policy = _crl_policy(crl_chain)
    validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    times = [AT + dt.timedelta(seconds=i) for i in range(40)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        got = list(
            pool.map(
                lambda t: validate_chain(crl_chain.leaf.cert, policy=policy, at=t).validation_time,
                times,
            )
        )
    assert got == times
    assert _counts() == (40, 1)


def test_revocation_off_ignores_revocation_data_in_the_window(crl_chain):
    stale_soon = make_crl(crl_chain.intermediate, next_update=AT + DAY)
    policy = _crl_policy(crl_chain, stale_soon, revocation=RevocationMode.OFF)
    validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    assert validate_chain(crl_chain.leaf.cert, policy=policy, at=AT + 10 * DAY)
    assert chain_cache_info().hits == 1


# --- thresholds: certificates ------------------------------------------------------------


def test_attack_cache_window_past_leaf_not_after(crl_chain):
    policy = _crl_policy(crl_chain)
    after = LEAF_UNTIL + dt.timedelta(seconds=1)
    assert _check_against_cold(crl_chain, policy, after) == (
        "IndeterminateError",
        "OUT_OF_BOUNDS_NO_POE",
    )


def test_not_after_itself_is_outside_the_window_but_still_valid(crl_chain):
    # RFC 5280 §4.1.2.5: notAfter is inclusive; the window's end is exclusive (one more miss)
    policy = _crl_policy(crl_chain)
    outcome = _check_against_cold(crl_chain, policy, LEAF_UNTIL)
    assert outcome[0] == "ok"


@pytest.mark.parametrize("source", ["policy", "candidates"])
def test_attack_cache_window_intermediate_expires_first(source):
    c = make_chain(crl_url="http://127.0.0.1:9/ca.crl")
    short = issue(
        c.intermediate.cert.subject,
        issuer=c.root,
        key=c.intermediate.key,
        ca=True,
        not_after=AT + 3 * DAY,
        crl_url="http://127.0.0.1:9/ca.crl",
    )
    c2 = Chain(c.root, short, c.leaf)
    kw: dict[str, object] = {}
    policy = _crl_policy(c2)
    if source == "candidates":
        policy = policy.replace(intermediates=())
        kw["candidates"] = (short.cert,)
    assert _check_against_cold(c2, policy, AT + 4 * DAY, **kw) == (
        "IndeterminateError",
        "OUT_OF_BOUNDS_NO_POE",
    )


# --- thresholds: CRLs --------------------------------------------------------------------


def test_attack_cache_window_crl_next_update_passed(crl_chain):
    policy = _crl_policy(crl_chain, make_crl(crl_chain.intermediate, next_update=AT + 10 * DAY))
    assert _check_against_cold(crl_chain, policy, AT + 10 * DAY + dt.timedelta(seconds=1)) == (
        "IndeterminateError",
        "TRY_LATER",
    )


def test_attack_cache_window_crl_too_new_at_t0_revokes_later(crl_chain):
    # At AT the revoking CRL is "too new" (thisUpdate after AT): certvalidator's DEFAULT
    # freshness ignores it and the older CRL says good. Once AT passes its thisUpdate it
    # counts, and the leaf (revoked before AT) must come out revoked.
    good = make_crl(crl_chain.intermediate, next_update=FAR)
    issued = AT + 5 * DAY
    revoking = make_crl(
        crl_chain.intermediate,
        revoked=[(crl_chain.leaf.cert, AT - DAY)],
        this_update=issued,
        next_update=FAR,
    )
    policy = _crl_policy(crl_chain, good, revoking)
    assert validate_chain(crl_chain.leaf.cert, policy=policy, at=issued - DAY)  # still hits
    assert _check_against_cold(crl_chain, policy, issued + dt.timedelta(seconds=1)) == (
        "UntrustedSigner",
        "REVOKED",
    )


@pytest.mark.parametrize("where", ["policy", "extra"])
def test_attack_cache_window_stale_after_revocation(crl_chain, where):
    # A CRL issued before AT already lists the leaf as revoked from AT + 3 days (a scheduled
    # revocation): at AT the path is good, from that date on it is revoked.
    revoked_from = AT + 3 * DAY
    crl = make_crl(
        crl_chain.intermediate, revoked=[(crl_chain.leaf.cert, revoked_from)], next_update=FAR
    )
    kw: dict[str, object] = {}
    if where == "policy":
        policy = _crl_policy(crl_chain, crl)
    else:
        policy = _policy(crl_chain, crls=(make_crl(crl_chain.root, next_update=FAR),))
        kw["extra_crls"] = (crl,)
    validate_chain(crl_chain.leaf.cert, policy=policy, at=AT, **kw)
    validate_chain(crl_chain.leaf.cert, policy=policy, at=revoked_from - DAY, **kw)
    assert chain_cache_info().hits == 1
    after = revoked_from + dt.timedelta(seconds=1)
    assert _check_against_cold(crl_chain, policy, after, **kw) == ("UntrustedSigner", "REVOKED")


def test_attack_cache_window_intermediate_revoked_later(crl_chain):
    revoked_from = AT + 3 * DAY
    root_crl = make_crl(
        crl_chain.root, revoked=[(crl_chain.intermediate.cert, revoked_from)], next_update=FAR
    )
    inter_crl = make_crl(crl_chain.intermediate, next_update=FAR)
    policy = _policy(crl_chain, crls=(inter_crl, root_crl))
    after = revoked_from + dt.timedelta(seconds=1)
    assert _check_against_cold(crl_chain, policy, after) == ("UntrustedSigner", "REVOKED")


def test_crl_naming_other_certificate_issuers_is_not_cached(crl_chain):
    # certificateIssuer entries (RFC 5280 §5.3.3) shift which issuer later entries belong
    # to; a lookup by serial cannot mirror that, so such a result is not cached at all.
    entry = (
        x509.RevokedCertificateBuilder()
        .serial_number(12345)
        .revocation_date(T0)
        .add_extension(
            x509.CertificateIssuer([x509.DirectoryName(name((NameOID.COMMON_NAME, "Other")))]),
            critical=True,
        )
        .build()
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(crl_chain.intermediate.cert.subject)
        .last_update(T0)
        .next_update(FAR)
        .add_revoked_certificate(entry)
        .add_extension(x509.CRLNumber(2), critical=False)
        .sign(crl_chain.intermediate.key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    policy = _policy(crl_chain, revocation=RevocationMode.SOFT_FAIL, crls=(crl,))
    for _ in range(2):
        validate_chain(crl_chain.leaf.cert, policy=policy, at=AT)
    assert chain_cache_info().size == 0


# --- thresholds: OCSP --------------------------------------------------------------------


def test_attack_cache_window_ocsp_next_update_passed(ocsp_chain):
    resp = make_ocsp(ocsp_chain.leaf.cert, ocsp_chain.intermediate, next_update=AT + 2 * DAY)
    policy = _policy(ocsp_chain, ocsps=(resp,))
    validate_chain(ocsp_chain.leaf.cert, policy=policy, at=AT)
    validate_chain(ocsp_chain.leaf.cert, policy=policy, at=AT + DAY)
    assert chain_cache_info().hits == 1
    after = AT + 2 * DAY + dt.timedelta(seconds=1)
    assert _check_against_cold(ocsp_chain, policy, after) == ("IndeterminateError", "TRY_LATER")


def test_attack_cache_window_ocsp_too_new_at_t0_revokes_later(ocsp_chain):
    good = make_ocsp(ocsp_chain.leaf.cert, ocsp_chain.intermediate, next_update=FAR)
    issued = AT + 5 * DAY
    revoked = make_ocsp(
        ocsp_chain.leaf.cert,
        ocsp_chain.intermediate,
        status="revoked",
        revoked_at=AT - DAY,
        this_update=issued,
        next_update=FAR,
    )
    policy = _policy(ocsp_chain, ocsps=(good, revoked))
    assert _check_against_cold(ocsp_chain, policy, issued + dt.timedelta(seconds=1)) == (
        "UntrustedSigner",
        "REVOKED",
    )


def test_attack_cache_window_ocsp_revocation_dated_after_t0(ocsp_chain):
    # A response saying "revoked from AT + 3 days" is not "good" at AT, so certvalidator
    # takes the next one; after that date the first one decides.
    revoked_from = AT + 3 * DAY
    scheduled = make_ocsp(
        ocsp_chain.leaf.cert,
        ocsp_chain.intermediate,
        status="revoked",
        revoked_at=revoked_from,
        next_update=FAR,
    )
    good = make_ocsp(ocsp_chain.leaf.cert, ocsp_chain.intermediate, next_update=FAR)
    policy = _policy(ocsp_chain, ocsps=(scheduled, good))
    after = revoked_from + dt.timedelta(seconds=1)
    assert _check_against_cold(ocsp_chain, policy, after) == ("UntrustedSigner", "REVOKED")


def _delegated_ocsp(c: Chain, responder: Issued) -> bytes:
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=c.leaf.cert,
            issuer=c.intermediate.cert,
            algorithm=hashes.SHA256(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=T0,
            next_update=FAR,
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, responder.cert)
        .certificates([responder.cert])
    )
    return builder.sign(responder.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _responder(c: Chain, not_after: dt.datetime) -> Issued:
    # RFC 6960 §4.2.2.2: a delegated responder, issued by the CA with id-kp-OCSPSigning
    return issue(
        name((NameOID.COMMON_NAME, "OCSP responder")),
        issuer=c.intermediate,
        eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
        not_after=not_after,
    )


def test_attack_cache_window_ocsp_responder_certificate_expires(ocsp_chain):
    # The responder certificate travels inside the response, not in the path: its notAfter
    # still ends the window (the response is unusable afterwards).
    responder = _responder(ocsp_chain, AT + 3 * DAY)
    policy = _policy(ocsp_chain, ocsps=(_delegated_ocsp(ocsp_chain, responder),))
    end = window_end(AT, (ocsp_chain.leaf.cert, ocsp_chain.intermediate.cert), policy, (), (), ())
    assert end == AT + 3 * DAY
    after = AT + 4 * DAY
    assert _check_against_cold(ocsp_chain, policy, after) == ("IndeterminateError", "TRY_LATER")


# --- the window itself -------------------------------------------------------------------


def test_window_end_is_the_earliest_threshold_after_t0(crl_chain):
    future_ca = issue(
        name((NameOID.COMMON_NAME, "Next CA")),
        issuer=crl_chain.root,
        ca=True,
        not_before=AT + 20 * DAY,
    )
    chain = (crl_chain.leaf.cert, crl_chain.intermediate.cert, crl_chain.root.cert)
    base = _crl_policy(crl_chain)
    assert window_end(AT, chain, base, (), (), ()) == LEAF_UNTIL
    # a certificate becoming valid later (another path may then be chosen first)
    assert window_end(AT, chain, base, (future_ca.cert,), (), ()) == AT + 20 * DAY
    # thresholds before t0 have already passed: the CRLs' thisUpdate (T0) does not count
    crl = make_crl(crl_chain.intermediate, next_update=AT + 7 * DAY)
    assert window_end(AT, chain, base, (), (crl,), ()) == AT + 7 * DAY
    # a threshold exactly at t0: empty window, not cached
    assert window_end(AT + 7 * DAY, chain, base, (), (crl,), ()) is None
    # unreadable revocation data: not bounded, not cached
    assert window_end(AT, chain, base, (), (b"\x30\x00",), ()) is None
    assert window_end(AT, chain, base, (), (), (b"\x30\x00",)) is None


def test_window_relies_on_default_freshness(crl_chain):
    # cache_window bounds thisUpdate/nextUpdate as certvalidator's DEFAULT freshness rule
    # uses them (not retroactive); another rule would need other thresholds.
    ctx = build_validation_context(_crl_policy(crl_chain), moment=AT)
    assert ctx.revinfo_policy.freshness_req_type is FreshnessReqType.DEFAULT
    assert ctx.revinfo_policy.retroactive_revinfo is False


def test_failures_are_never_cached(crl_chain):
    policy = _crl_policy(crl_chain)
    before = LEAF_FROM - DAY
    for _ in range(2):
        with pytest.raises(UntrustedSigner):
            validate_chain(crl_chain.leaf.cert, policy=policy, at=before)
    assert chain_cache_info().size == 0
    with pytest.raises(IndeterminateError):
        validate_chain(crl_chain.leaf.cert, policy=_policy(crl_chain), at=AT)
    assert chain_cache_info().size == 0
