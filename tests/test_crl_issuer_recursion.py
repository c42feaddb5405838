"""A CRL accepted on certvalidator's word that it knows the CRL's issuer (found by the cache
window review; not a cache matter: cold validation gave the same answer).

pyhanko-certvalidator 0.33, ``revinfo/validate_crl.py``: ``_find_crl_issuer`` has a recursion
case for a candidate CRL issuer that is itself being validated further up the stack; it
records ``(CRL, candidate)`` in the revocation manager (``record_crl_issuer``) *without*
verifying the CRL's signature or the candidate's path. ``_handle_single_crl`` trusts that
record for every later certificate (``check_crl_issuer``) and skips both checks.

The recursion is reached whenever the certificate pool holds two certificates of one CA
name issued by the same issuer, each a candidate "indirect" CRL issuer for the other: a
CA that was re-keyed (old and new certificate, both public and often both in a B-LT
signature's certificate values), or a CA with a separate CRL-signing certificate (RFC 5280
§6.3.3 (f), PKITS 4.4.19-21). Then a CRL in the CA's name, signed by anyone, counted as the
CA's: a revoked signer whose real CRL is stale or absent (revocation data that came with
the signature) was reported as good. ``build_validation_context`` now disables the record
lookup (``check_crl_issuer`` answers "unknown"), so every CRL's issuer path and signature are
checked where it is used; NIST PKITS still passes (tests/test_pkits.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from cache_window_helpers import crl
from certs_helpers import Chain, Issued, issue, make_chain, new_key

from pakn_sign.errors import IndeterminateError, UntrustedSigner, VerificationError
from pakn_sign.trust.paths import clear_chain_cache, validate_chain
from pakn_sign.trust.policy import RevocationMode, TrustPolicy

AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
OLD = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FAR = dt.datetime(2027, 12, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
CRL_URL = "http://127.0.0.1:9/ca.crl"

pytestmark = pytest.mark.filterwarnings("ignore")  # certvalidator logs the failed paths


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    clear_chain_cache()


@pytest.fixture(scope="module")
def ca() -> Chain:
    return make_chain(crl_url=CRL_URL)


def _same_name_certificate(c: Chain, **kw: object) -> Issued:
    """Another certificate of the CA's name from the same root, declaring the same CRL."""
    return issue(c.intermediate.cert.subject, issuer=c.root, key=new_key(), crl_url=CRL_URL, **kw)  # type: ignore[arg-type]


def _forged(c: Chain) -> bytes:
    """A CRL in the CA's name listing nothing, signed with a key the CA never had."""
    return crl(Issued(c.intermediate.cert, new_key()), this=OLD, next_=FAR, number=99)


def _stale_revoking(c: Chain) -> bytes:
    """The CA's real CRL: lists the leaf, but its nextUpdate has passed."""
    revoked = [(c.leaf.cert.serial_number, OLD)]
    return crl(c.intermediate, this=OLD, next_=AT - DAY, revoked=revoked)


def _run(c: Chain, policy: TrustPolicy, **kw: object) -> str:
    try:
        return validate_chain(c.leaf.cert, policy=policy, at=AT, **kw).revocation_status
    except VerificationError as exc:
        return exc.sub_indication or type(exc).__name__


def test_forged_crl_alone_is_refused(ca):
    # Without a second certificate of the CA's name the forgery fails its signature check.
    policy = TrustPolicy.from_anchors(
        [ca.root.cert],
        intermediates=[ca.intermediate.cert],
        crls=(crl(ca.root, this=OLD, next_=FAR), _stale_revoking(ca), _forged(ca)),
    )
    assert _run(ca, policy) == "TRY_LATER"


@pytest.mark.parametrize("mode", [RevocationMode.HARD_FAIL, RevocationMode.REQUIRE])
@pytest.mark.parametrize("where", ["policy", "signature"])
def test_attack_forged_crl_with_a_rekeyed_ca_certificate(ca, mode, where):
    # The re-keyed CA certificate comes with the signature (candidates), the forged CRL in
    # the policy or with the signature; the CA's real CRL, which revokes the leaf, is stale.
    rekeyed = _same_name_certificate(ca, ca=True)
    crls = (crl(ca.root, this=OLD, next_=FAR), _stale_revoking(ca))
    forged = _forged(ca)
    policy = TrustPolicy.from_anchors(
        [ca.root.cert],
        intermediates=[ca.intermediate.cert],
        crls=(*crls, forged) if where == "policy" else crls,
        revocation=mode,
    )
    extra = () if where == "policy" else (forged,)
    assert _run(ca, policy, candidates=(rekeyed.cert,), extra_crls=extra) == "TRY_LATER"


def test_attack_crl_signed_by_a_revoked_crl_signer(ca):
    # PKITS 4.4.21 in other clothes: the CA's separate CRL-signing certificate is revoked
    # (by the root's CRL, before AT); a CRL it signed must not establish anything.
    signer = _same_name_certificate(ca, key_usage=["crl_sign"])
    policy = TrustPolicy.from_anchors(
        [ca.root.cert],
        intermediates=[ca.intermediate.cert, signer.cert],
        crls=(
            crl(signer, this=OLD, next_=FAR),
            crl(ca.root, this=OLD, next_=FAR, revoked=[(signer.cert.serial_number, OLD)]),
        ),
    )
    with pytest.raises(IndeterminateError):
        validate_chain(ca.leaf.cert, policy=policy, at=AT)


def test_a_fresh_real_crl_still_revokes(ca):
    # Every CRL is processed: the forgery cannot hide a revocation listed in a usable CRL.
    rekeyed = _same_name_certificate(ca, ca=True)
    revoked = [(ca.leaf.cert.serial_number, OLD)]
    policy = TrustPolicy.from_anchors(
        [ca.root.cert],
        intermediates=[ca.intermediate.cert],
        crls=(
            crl(ca.root, this=OLD, next_=FAR),
            crl(ca.intermediate, this=OLD, next_=FAR, revoked=revoked),
            _forged(ca),
        ),
    )
    with pytest.raises(UntrustedSigner):
        validate_chain(ca.leaf.cert, policy=policy, at=AT, candidates=(rekeyed.cert,))


def test_separate_crl_signer_still_works(ca):
    # PKITS 4.4.19 in other clothes: a CRL from the CA's valid CRL-signing certificate
    signer = _same_name_certificate(ca, key_usage=["crl_sign"])
    revoked = [(ca.leaf.cert.serial_number, OLD)]
    policy = TrustPolicy.from_anchors(
        [ca.root.cert],
        intermediates=[ca.intermediate.cert, signer.cert],
        crls=(crl(signer, this=OLD, next_=FAR), crl(ca.root, this=OLD, next_=FAR)),
    )
    assert _run(ca, policy) == "good"
    listing = policy.replace(
        crls=(crl(signer, this=OLD, next_=FAR, revoked=revoked), crl(ca.root, this=OLD, next_=FAR))
    )
    assert _run(ca, listing) == "REVOKED"
