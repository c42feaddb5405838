"""Builders and outcome helpers for the chain-cache window reviews (EC P-256 keys only).

CRLs and OCSP responses with any thisUpdate/nextUpdate (nextUpdate may be absent), revocation
entries by serial (duplicates allowed, in order), delta-CRL extensions, delegated responders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from asn1crypto import crl as asn1_crl
from certs_helpers import Issued
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

from pakn_sign.errors import VerificationError
from pakn_sign.trust.paths import ValidatedChain, chain_cache_info, clear_chain_cache

Outcome = tuple[object, ...]


def crl(
    issuer: Issued,
    *,
    this: dt.datetime,
    next_: dt.datetime | None,
    revoked: Sequence[tuple[int, dt.datetime]] = (),
    number: int = 1,
    extensions: Sequence[x509.ExtensionType] = (),
) -> bytes:
    """A CRL signed by ``issuer``; ``next_=None`` omits nextUpdate (RFC 5280 §5.1.2.5 allows
    it; cryptography's builder does not, so the TBS is re-signed without it)."""
    # No nextUpdate: built as [this - 1 s, this], then thisUpdate := nextUpdate, dropped.
    last = this if next_ is not None else this - dt.timedelta(seconds=1)
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(last)
        .next_update(next_ or this)
        .add_extension(x509.CRLNumber(number), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
    )
    for ext in extensions:
        b = b.add_extension(ext, False)
    for serial, when in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        b = b.add_revoked_certificate(entry.build())
    der = b.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    if next_ is not None:
        return der
    parsed = asn1_crl.CertificateList.load(der)
    tbs = parsed["tbs_cert_list"]
    tbs["this_update"] = tbs["next_update"]
    tbs["next_update"] = None
    tbs_der = tbs.dump(force=True)
    assert isinstance(issuer.key, ec.EllipticCurvePrivateKey)
    signature = issuer.key.sign(tbs_der, ec.ECDSA(hashes.SHA256()))
    out = asn1_crl.CertificateList(
        {
            "tbs_cert_list": asn1_crl.TbsCertList.load(tbs_der),
            "signature_algorithm": parsed["signature_algorithm"],
            "signature": signature,
        }
    )
    return out.dump()


def ocsp_response(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    signer: Issued,
    *,
    this: dt.datetime,
    next_: dt.datetime | None,
    revoked_at: dt.datetime | None = None,
    unknown: bool = False,
    embed: Sequence[x509.Certificate] = (),
) -> bytes:
    """An OCSP response about ``cert`` signed by ``signer`` (the issuer or a delegate)."""
    status = ocsp.OCSPCertStatus.GOOD
    if revoked_at is not None:
        status = ocsp.OCSPCertStatus.REVOKED
    elif unknown:
        status = ocsp.OCSPCertStatus.UNKNOWN
    b = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=cert,
            issuer=issuer,
            algorithm=hashes.SHA256(),
            cert_status=status,
            this_update=this,
            next_update=next_,
            revocation_time=revoked_at,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
    )
    if embed:
        b = b.certificates(list(embed))
    resp = b.sign(signer.key, hashes.SHA256())
    return resp.public_bytes(serialization.Encoding.DER)


def outcome(run: Callable[[], ValidatedChain]) -> Outcome:
    """Everything a caller can see of a result, or the error's class, sub-indication, code."""
    try:
        r = run()
    except VerificationError as exc:
        return (type(exc).__name__, exc.sub_indication, exc.code)
    return ("ok", r.chain, r.identity, r.revocation_status, r.purpose, r.validation_time)


def warm_and_cold(
    validate: Callable[[dt.datetime], ValidatedChain], t0: dt.datetime, t: dt.datetime
) -> tuple[Outcome, Outcome, Outcome, bool]:
    """(at t0, at t after t0, at t from an empty cache, whether the cache answered at t)."""
    clear_chain_cache()
    first = outcome(lambda: validate(t0))
    hits = chain_cache_info().hits
    warm = outcome(lambda: validate(t))
    hit = chain_cache_info().hits > hits
    clear_chain_cache()
    cold = outcome(lambda: validate(t))
    return first, warm, cold, hit
