"""Single-certificate views: ``certificate_report`` (``cert verify``) and ``certificate_info``
(``cert show``)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID

from ..clock import SystemClock, ensure_aware
from ..errors import ConfigurationError, InvalidInput, VerificationError
from .chain_checks import cert_signature_algorithm
from .identity import SignerIdentity
from .loading import load_certificates
from .paths import KeyPurpose, validate_chain
from .policy import TrustPolicy
from .report import Finding, Indication, SignatureReport, ValidationReport

__all__ = ["certificate_info", "certificate_report", "load_certificate"]

_REVOCATION_NOTES = {
    "good": "revocation status checked: not revoked at the validation time",
    "not_checked": "revocation was not checked (mode off)",
    "not_declared": "the certificate names no CRL or OCSP responder; none was checked",
    "soft_fail": "revocation status could not be established (ignored in soft-fail mode)",
}


def load_certificate(data: bytes, *, max_bytes: int = 1 << 20) -> x509.Certificate:
    """One certificate from PEM or DER bytes (the first, for a PEM bundle).

    Raises:
        InvalidInput: too large, or not a certificate.
    """
    if len(data) > max_bytes:
        raise InvalidInput(f"certificate file of {len(data)} bytes exceeds {max_bytes}")
    try:
        return load_certificates(data)[0]
    except ConfigurationError as exc:  # a file to inspect, not configuration: exit code 4
        raise InvalidInput("not a PEM or DER X.509 certificate") from exc


def certificate_report(
    cert: x509.Certificate,
    *,
    policy: TrustPolicy,
    candidates: Sequence[x509.Certificate] = (),
    at: dt.datetime | None = None,
    purpose: KeyPurpose = KeyPurpose.DOCUMENT_SIGNING,
    extra_crls: Sequence[bytes] = (),
    extra_ocsps: Sequence[bytes] = (),
) -> ValidationReport:
    """Validate one certificate and explain the outcome as a report (never raises on failure).

    Raises:
        InvalidInput: unreadable certificate or revocation data.
    """
    moment = ensure_aware(at, name="at") if at else policy.validation_time or SystemClock().now()
    identity = SignerIdentity.from_certificate(cert)
    try:
        vc = validate_chain(
            cert,
            policy=policy,
            candidates=candidates,
            at=moment,
            purpose=purpose,
            extra_crls=extra_crls,
            extra_ocsps=extra_ocsps,
        )
    except InvalidInput:
        raise
    except VerificationError as exc:
        sig = SignatureReport.from_error("certificate", exc, identity=identity, chain=(cert,))
    else:
        note = Finding(
            f"chain.revocation_{vc.revocation_status}",
            _REVOCATION_NOTES.get(vc.revocation_status, vc.revocation_status),
        )
        purpose_note = Finding("chain.purpose", f"valid for {purpose.value}")
        sig = SignatureReport(
            "certificate",
            Indication.TOTAL_PASSED,
            identity=vc.identity,
            chain=vc.chain,
            findings=(note, purpose_note),
        )
    fingerprint = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return ValidationReport.from_signatures(
        [sig], validation_time=moment, document_kind="certificate", document_id=fingerprint
    )


def _key_info(key: object) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPublicKey):
        return {"type": "RSA", "bits": key.key_size}
    if isinstance(key, ec.EllipticCurvePublicKey):
        return {"type": "EC", "bits": key.curve.key_size, "curve": key.curve.name}
    if isinstance(key, ed25519.Ed25519PublicKey):
        return {"type": "Ed25519", "bits": 256}
    if isinstance(key, ed448.Ed448PublicKey):
        return {"type": "Ed448", "bits": 456}
    if isinstance(key, dsa.DSAPublicKey):
        return {"type": "DSA", "bits": key.key_size}
    return {"type": type(key).__name__}


def _ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> Any:
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def certificate_info(cert: x509.Certificate) -> dict[str, Any]:
    """What ``cert show`` prints: identity, key, usages, validity, revocation pointers."""
    ku = _ext(cert, ExtensionOID.KEY_USAGE)
    usages: list[str] = []
    if isinstance(ku, x509.KeyUsage):
        for attr, label in [
            ("digital_signature", "digitalSignature"),
            ("content_commitment", "nonRepudiation"),
            ("key_encipherment", "keyEncipherment"),
            ("data_encipherment", "dataEncipherment"),
            ("key_agreement", "keyAgreement"),
            ("key_cert_sign", "keyCertSign"),
            ("crl_sign", "cRLSign"),
        ]:
            if getattr(ku, attr):
                usages.append(label)
    eku = _ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    bc = _ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
    crldp = _ext(cert, ExtensionOID.CRL_DISTRIBUTION_POINTS)
    aia = _ext(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    crl_urls = [
        n.value
        for dp in (crldp or [])
        for n in (dp.full_name or [])
        if isinstance(n, x509.UniformResourceIdentifier)
    ]
    ocsp_urls = [
        d.access_location.value
        for d in (aia or [])
        if d.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
    ]
    ident = SignerIdentity.from_certificate(cert)
    der = cert.public_bytes(serialization.Encoding.DER)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "X"),
        "identity": {
            "kind": ident.kind.value,
            "common_name": ident.common_name,
            "organization": ident.organization,
            "identifiers": ident.identifiers,
        },
        "key": _key_info(cert.public_key()),
        "signature_algorithm": cert_signature_algorithm(cert),
        "key_usage": usages,
        "extended_key_usage": [o._name or o.dotted_string for o in (eku or [])],
        "ca": bool(bc.ca) if isinstance(bc, x509.BasicConstraints) else False,
        "not_before": cert.not_valid_before_utc.isoformat().replace("+00:00", "Z"),
        "not_after": cert.not_valid_after_utc.isoformat().replace("+00:00", "Z"),
        "crl_urls": crl_urls,
        "ocsp_urls": ocsp_urls,
        "sha256": hashlib.sha256(der).hexdigest(),
    }
