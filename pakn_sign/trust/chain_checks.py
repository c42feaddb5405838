"""Checks on a built path that certvalidator does not make the way our policy wants.

* every certificate's signature algorithm is in ``policy.allowed_algorithms`` and every
  public key (anchor included: it signs the next certificate) passes ``policy.check_key``;
* the leaf allows the purpose: KeyUsage for document signing, EKU for the others.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, SignatureAlgorithmOID

from ..errors import PolicyViolation, UntrustedSigner
from ..signing.algorithms import SignatureAlgorithm
from .policy import RevocationMode, UnsafeOptionWarning

if TYPE_CHECKING:
    from .paths import KeyPurpose
    from .policy import TrustPolicy

__all__ = [
    "cert_signature_algorithm",
    "check_path_crypto",
    "check_purpose",
    "declares_revocation",
    "local_revinfo_covers",
    "revocation_status",
]

_HASHES = {"sha1": "SHA1", "sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512"}
_DSA_OIDS = {
    SignatureAlgorithmOID.DSA_WITH_SHA1,
    SignatureAlgorithmOID.DSA_WITH_SHA224,
    SignatureAlgorithmOID.DSA_WITH_SHA256,
}


def cert_signature_algorithm(cert: x509.Certificate | x509.CertificateRevocationList) -> str:
    """Our name for the algorithm that signed ``cert``: a ``SignatureAlgorithm`` name, ``DSA``,
    or ``unknown:<oid>``."""
    oid = cert.signature_algorithm_oid
    if oid == SignatureAlgorithmOID.ED25519:
        return SignatureAlgorithm.ED25519.name
    if oid in _DSA_OIDS:
        return "DSA"
    try:
        h = cert.signature_hash_algorithm
    except Exception:  # cryptography raises UnsupportedAlgorithm for unknown OIDs
        h = None
    hname = _HASHES.get(h.name) if h is not None else None
    if hname is None:
        return f"unknown:{oid.dotted_string}"
    if oid == SignatureAlgorithmOID.RSASSA_PSS:
        return f"RSA_PSS_{hname}"
    if "ecdsa" in (oid._name or "").lower() or oid.dotted_string.startswith("1.2.840.10045.4"):
        return f"ECDSA_{hname}"
    return f"RSA_{hname}"


def check_path_crypto(chain: Sequence[x509.Certificate], policy: TrustPolicy) -> None:
    """Algorithm and key-size constraints on every certificate of ``chain`` (leaf first).

    The anchor's self-signature is not checked (RFC 5280 §6.1: an anchor is trusted as
    configured), but its key is, since it signed the certificate below it.

    Raises:
        PolicyViolation: ``CRYPTO_CONSTRAINTS_FAILURE``.
    """
    for cert in chain:
        policy.check_key(cert.public_key())
    for cert in chain[:-1]:
        name = cert_signature_algorithm(cert)
        if name == "DSA" and policy.unsafe_legacy_keys:
            continue
        alg = SignatureAlgorithm.__members__.get(name)
        if alg in policy.allowed_algorithms and alg is not None and alg.name.endswith("SHA1"):
            warnings.warn(
                f"accepting a SHA-1 certificate signature ({alg.name}) under unsafe_sha1",
                UnsafeOptionWarning,
                stacklevel=4,
            )
        if alg is None or alg not in policy.allowed_algorithms:
            raise PolicyViolation(
                f"certificate {cert.subject.rfc4514_string()!r} is signed with {name}, "
                "which the policy does not allow",
                sub_indication="CRYPTO_CONSTRAINTS_FAILURE",
                code="verify.algorithm_not_allowed",
            )


def _ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def check_purpose(
    leaf: x509.Certificate,
    purpose: KeyPurpose,
    policy: TrustPolicy,
    eku: x509.ObjectIdentifier | None,
) -> None:
    """The leaf's KeyUsage / EKU allow ``purpose`` (RFC 5280 §4.2.1.3, §4.2.1.12).

    Document signing requires a KeyUsage extension with one of ``policy.key_usage``
    (digitalSignature or nonRepudiation by default): a certificate without KeyUsage is
    refused, since a signing certificate must say what it is for.

    Raises:
        UntrustedSigner: ``CHAIN_CONSTRAINTS_FAILURE`` with code ``verify.key_usage``.
    """
    if purpose.value == "any":
        return
    ku = _ext(leaf, ExtensionOID.KEY_USAGE)
    have: set[str] = set()
    if isinstance(ku, x509.KeyUsage):
        if ku.digital_signature:
            have.add("digital_signature")
        if ku.content_commitment:
            have.add("non_repudiation")
    if purpose.value == "document_signing":
        if not have & policy.key_usage:
            raise UntrustedSigner(
                f"KeyUsage {sorted(have) or 'absent'} allows none of {sorted(policy.key_usage)}",
                sub_indication="CHAIN_CONSTRAINTS_FAILURE",
                code="verify.key_usage",
            )
        return
    if ku is not None and not have:
        raise UntrustedSigner(
            "KeyUsage does not allow digital signatures",
            sub_indication="CHAIN_CONSTRAINTS_FAILURE",
            code="verify.key_usage",
        )
    ext = _ext(leaf, ExtensionOID.EXTENDED_KEY_USAGE)
    usages = list(ext) if isinstance(ext, x509.ExtendedKeyUsage) else []
    if eku not in usages:
        raise UntrustedSigner(
            f"ExtendedKeyUsage lacks {eku._name if eku else '?'} needed for {purpose.value}",
            sub_indication="CHAIN_CONSTRAINTS_FAILURE",
            code="verify.key_usage",
        )


def declares_revocation(cert: x509.Certificate) -> bool:
    """True if ``cert`` names a CRL distribution point or an OCSP responder."""
    if _ext(cert, ExtensionOID.CRL_DISTRIBUTION_POINTS) is not None:
        return True
    aia = _ext(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    if isinstance(aia, x509.AuthorityInformationAccess):
        return any(d.access_method == AuthorityInformationAccessOID.OCSP for d in aia)
    return False


def local_revinfo_covers(
    cert: x509.Certificate, crls: Sequence[bytes], ocsps: Sequence[bytes]
) -> bool:
    """True if a supplied CRL is from ``cert``'s issuer or an OCSP response names its serial.

    Used only to *describe* a soft-fail success; the revocation decision is certvalidator's.
    """
    for der in crls:
        try:
            if x509.load_der_x509_crl(der).issuer == cert.issuer:
                return True
        except ValueError:
            continue
    for der in ocsps:
        try:
            resp = ocsp.load_der_ocsp_response(der)
            if resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL and any(
                r.serial_number == cert.serial_number for r in resp.responses
            ):
                return True
        except ValueError:
            continue
    return False


def revocation_status(
    leaf: x509.Certificate,
    policy: TrustPolicy,
    soft_failed: bool,
    extra_crls: Sequence[bytes],
    extra_ocsps: Sequence[bytes],
) -> str:
    """What the successful validation established about the leaf's revocation status."""
    mode = policy.revocation
    if mode is RevocationMode.OFF:
        return "not_checked"
    if soft_failed:
        return "soft_fail"
    if mode is RevocationMode.REQUIRE:
        return "good"  # certvalidator refused to pass without fresh data for every cert
    if not declares_revocation(leaf):
        # certvalidator checks even local data only where the certificate declares it
        return "not_declared"
    if mode is RevocationMode.HARD_FAIL or policy.allow_fetching:
        return "good"
    covered = local_revinfo_covers(leaf, (*policy.crls, *extra_crls), (*policy.ocsps, *extra_ocsps))
    return "good" if covered else "soft_fail"
