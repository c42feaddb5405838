"""Which certificate a XAdES ``xades:Cert`` names, and a signer's certificate facts.

Both are functions of one certificate, memoised per certificate object (EN 319 132-1
§5.2.2.2 SigningCertificateV2).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from asn1crypto import tsp as a_tsp
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .algorithms import DigestAlgorithm

__all__ = ["CertRef", "PerCertificate", "cert_ref_matches", "certificate_facts", "issuer_serial_v2"]

_T = TypeVar("_T")


class PerCertificate(Generic[_T]):
    """``compute(cert, arg)`` memoised on the certificate's identity and ``arg``.

    ``functools.lru_cache`` hashes the certificate, which in cryptography 50 costs ~30K
    instructions (as much as the rest of a SignedProperties check); KeyInfo certificates
    are already one object per DER (xmldsig_keyinfo), so identity hits. Each entry holds
    the certificate, so its ``id`` is not reused while the entry lives (``is`` check).
    """

    def __init__(self, compute: Callable[[x509.Certificate, Any], _T], maxsize: int) -> None:
        self._compute = compute
        self._maxsize = maxsize
        self._memo: dict[tuple[int, Any], tuple[x509.Certificate, _T]] = {}

    def __call__(self, cert: x509.Certificate, arg: Any) -> _T:
        key = (id(cert), arg)
        hit = self._memo.get(key)
        if hit is not None and hit[0] is cert:
            return hit[1]
        value = self._compute(cert, arg)  # a refusal raises and is never stored
        if len(self._memo) >= self._maxsize:
            self._memo.clear()
        self._memo[key] = (cert, value)
        return value


@dataclass(frozen=True, slots=True)
class CertRef:
    """One ``xades:Cert`` of SigningCertificate(V2): a digest plus an optional issuer/serial."""

    digest_algorithm: DigestAlgorithm
    digest: bytes
    issuer_serial_v2: bytes | None = None
    """DER ``IssuerSerial`` (RFC 5035) from ``IssuerSerialV2``."""
    issuer_name: str | None = None
    """``X509IssuerName`` text from the V1 ``IssuerSerial`` (legacy, never checked by string)."""
    serial: int | None = None
    """``X509SerialNumber`` from the V1 ``IssuerSerial``."""


def issuer_serial_v2(cert: x509.Certificate) -> bytes:
    """DER ``IssuerSerial`` of RFC 5035 (EN 319 132-1 §5.2.2.2 IssuerSerialV2)."""
    issuer = a_x509.Name.load(cert.issuer.public_bytes())
    value = a_tsp.IssuerSerial(
        {
            "issuer": a_x509.GeneralNames([a_x509.GeneralName("directory_name", issuer)]),
            "serial_number": cert.serial_number,
        }
    )
    return bytes(value.dump())


def cert_ref_matches(ref: CertRef, cert: x509.Certificate) -> bool:
    """True iff ``ref`` names ``cert`` (see :func:`_cert_ref_matches`; memoised)."""
    return _REF_MATCHES(cert, ref)


def _cert_ref_matches(cert: x509.Certificate, ref: CertRef) -> bool:
    """True iff ``ref`` names ``cert``: the digest, and the issuer/serial when present.

    EN 319 132-1 §5.2.2.2: the digest identifies the certificate; IssuerSerialV2 is a hint
    that must not contradict it. The V1 ``X509IssuerName`` string is not compared (DN string
    forms differ between implementations); its serial number is.
    """
    der = cert.public_bytes(serialization.Encoding.DER)
    if hashlib.new(ref.digest_algorithm.hashlib_name, der).digest() != ref.digest:
        return False
    if ref.issuer_serial_v2 is not None:
        try:
            got = a_tsp.IssuerSerial.load(ref.issuer_serial_v2)
            ok_serial = int(got["serial_number"].native) == cert.serial_number
            names = [g.chosen for g in got["issuer"] if g.name == "directory_name"]
            der = cert.issuer.public_bytes()
            # Byte-equal names match at once; otherwise RFC 5280 §7.1 comparison (slow).
            ok_issuer = any(n.untag().dump() == der for n in names) or any(
                n.hashable == a_x509.Name.load(der).hashable for n in names
            )
        except (ValueError, TypeError):
            return False
        return ok_serial and ok_issuer
    return ref.serial is None or ref.serial == cert.serial_number


_REF_MATCHES: PerCertificate[bool] = PerCertificate(_cert_ref_matches, 1024)


def certificate_facts(cert: x509.Certificate, digest: DigestAlgorithm) -> tuple[str, str]:
    """Base64 of the certificate's digest and of its DER IssuerSerialV2 (cached per cert)."""
    return _FACTS(cert, digest)


def _certificate_facts(cert: x509.Certificate, digest: DigestAlgorithm) -> tuple[str, str]:
    # Signers sign many documents with one certificate: compute its digest once.
    der = cert.public_bytes(serialization.Encoding.DER)
    return _b64e(hashlib.new(digest.hashlib_name, der).digest()), _b64e(issuer_serial_v2(cert))


_FACTS: PerCertificate[tuple[str, str]] = PerCertificate(_certificate_facts, 64)


def _b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
