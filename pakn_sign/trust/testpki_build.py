"""Certificate and CRL builders of the test PKI (RFC 5280 profiles), with ``cryptography``.

Every function takes its times explicitly; nothing here reads the clock. Tests use these
builders directly to make the odd certificates an attack test needs (wrong EKU, foreign CA).
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from ..errors import ConfigurationError
from ..signing.algorithms import PrivateKey

__all__ = [
    "ALGORITHMS",
    "CertProfile",
    "Issuer",
    "build_crl",
    "ca_algorithm",
    "generate_key",
    "issue_certificate",
    "self_signed_root",
]

ALGORITHMS = ("rsa2048", "rsa3072", "p256", "ed25519")


def generate_key(algorithm: str) -> PrivateKey:
    """A fresh private key: ``rsa2048``, ``rsa3072``, ``p256`` or ``ed25519``."""
    if algorithm == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "rsa3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if algorithm == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ConfigurationError(f"unknown key algorithm {algorithm!r}; expected one of {ALGORITHMS}")


def ca_algorithm(algorithm: str) -> str:
    """CAs and service keys (TSA, OCSP, TLS): RSA-2048 under RSA, P-256 otherwise.

    TLS stacks and CMS timestamp clients handle RSA and P-256 everywhere; Ed25519 stays
    on the document-signing certificates, where the ``--algorithm`` choice matters.
    """
    return "rsa2048" if algorithm.startswith("rsa") else "p256"


def _sig_hash(key: PrivateKey) -> hashes.SHA256 | None:
    # Ed25519 signs without a separate hash (RFC 8410 §3).
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


class CertProfile(enum.Enum):
    """What a certificate is for; selects KeyUsage / EKU / extra extensions."""

    INTERMEDIATE = "intermediate"
    SIGNING = "signing"  # officials and organisation seals
    TSA = "tsa"
    OCSP = "ocsp"
    TLS_SERVER = "tls-server"
    TLS_CLIENT = "tls-client"


@dataclass(frozen=True, slots=True)
class Issuer:
    """A CA that issues: its certificate, key and the URLs its children point at."""

    cert: x509.Certificate
    key: PrivateKey
    crl_url: str | None = None
    ocsp_url: str | None = None
    ca_issuers_url: str | None = None


def _key_usage(*, signature: bool, non_repudiation: bool, key_enc: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signature,
        content_commitment=non_repudiation,
        key_encipherment=key_enc,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def self_signed_root(
    key: PrivateKey, subject: x509.Name, *, not_before: dt.datetime, not_after: dt.datetime
) -> x509.Certificate:
    """A self-signed root CA (basicConstraints CA, keyCertSign + cRLSign, critical)."""
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            _key_usage(signature=False, non_repudiation=False, key_enc=False, ca=True),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    return builder.sign(key, _sig_hash(key))


def issue_certificate(
    issuer: Issuer,
    public_key: CertificatePublicKeyTypes,
    subject: x509.Name,
    profile: CertProfile,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    eku_override: Sequence[x509.ObjectIdentifier] | None = None,
    eku_critical: bool | None = None,
) -> x509.Certificate:
    """Issue one certificate of ``profile`` under ``issuer``.

    ``eku_override``/``eku_critical`` exist for attack tests (a TSA without timeStamping).
    """
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    is_ca = profile is CertProfile.INTERMEDIATE
    # A government CA issues only end-entity certificates: pathLen 0 (RFC 5280 §4.2.1.9).
    builder = builder.add_extension(
        x509.BasicConstraints(ca=is_ca, path_length=0 if is_ca else None), critical=True
    )
    rsa_key = isinstance(public_key, rsa.RSAPublicKey)
    usage = {
        CertProfile.INTERMEDIATE: _key_usage(
            signature=False, non_repudiation=False, key_enc=False, ca=True
        ),
        CertProfile.SIGNING: _key_usage(
            signature=True, non_repudiation=True, key_enc=False, ca=False
        ),
        CertProfile.TSA: _key_usage(signature=True, non_repudiation=True, key_enc=False, ca=False),
        CertProfile.OCSP: _key_usage(
            signature=True, non_repudiation=False, key_enc=False, ca=False
        ),
        CertProfile.TLS_SERVER: _key_usage(
            signature=True, non_repudiation=False, key_enc=rsa_key, ca=False
        ),
        CertProfile.TLS_CLIENT: _key_usage(
            signature=True, non_repudiation=False, key_enc=False, ca=False
        ),
    }[profile]
    builder = builder.add_extension(usage, critical=True)
    eku: list[x509.ObjectIdentifier] | None = {
        CertProfile.TSA: [ExtendedKeyUsageOID.TIME_STAMPING],
        CertProfile.OCSP: [ExtendedKeyUsageOID.OCSP_SIGNING],
        CertProfile.TLS_SERVER: [ExtendedKeyUsageOID.SERVER_AUTH],
        CertProfile.TLS_CLIENT: [ExtendedKeyUsageOID.CLIENT_AUTH],
    }.get(profile)
    if eku_override is not None:
        eku = list(eku_override)
    if eku:
        # RFC 3161 §2.3: a TSA certificate's EKU is only timeStamping and MUST be critical.
        critical = eku_critical if eku_critical is not None else profile is CertProfile.TSA
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=critical)
    if profile is CertProfile.OCSP:
        # RFC 6960 §4.2.2.2.1: the responder's own status is not checked.
        builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
    if dns_names or ip_addresses:
        names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if issuer.crl_url:
        point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(issuer.crl_url)],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    access: list[x509.AccessDescription] = []
    if issuer.ocsp_url and profile is not CertProfile.OCSP:
        access.append(
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(issuer.ocsp_url),
            )
        )
    if issuer.ca_issuers_url:
        access.append(
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(issuer.ca_issuers_url),
            )
        )
    if access:
        builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    return builder.sign(issuer.key, _sig_hash(issuer.key))


def build_crl(
    issuer: Issuer,
    revoked: Sequence[tuple[int, dt.datetime, x509.ReasonFlags | None]],
    *,
    this_update: dt.datetime,
    next_update: dt.datetime,
    number: int,
) -> x509.CertificateRevocationList:
    """A CRL (RFC 5280 §5) with CRL number and AKI; entries are (serial, time, reason)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    for serial, when, reason in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if reason is not None and reason is not x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer.key, _sig_hash(issuer.key))
