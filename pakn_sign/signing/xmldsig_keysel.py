"""The verifying key of a ds:Signature: a caller's resolver, else the KeyInfo leaf certificate.

Bound to the algorithm before any cryptography runs (CVE-2025-48994 class), RSA size floor.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from ..errors import InvalidInput, InvalidSignature, PolicyViolation, UnsupportedFeature
from .algorithms import PublicKey, SignatureAlgorithm, key_type_of
from .xmldsig_keyinfo import MEMO_MAX_DER
from .xmldsig_types import KeyInfoData

__all__ = ["KeyResolver", "check_key", "select_key"]

KeyResolver = Callable[[KeyInfoData], PublicKey | None]
"""Maps what KeyInfo says to a public key the caller accepts, or ``None`` to refuse."""
_CRYPTO = "CRYPTO_CONSTRAINTS_FAILURE"


def _spki(key: PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _leaf_certificate(info: KeyInfoData) -> x509.Certificate:
    """The one certificate that issued none of the others (KeyInfo order is not fixed)."""
    ders = info.certificates_der
    index = _LEAF_INDEX.get(ders)
    if index is None:
        index = _leaf_index(ders, info.certificates)
        if all(len(d) <= MEMO_MAX_DER for d in ders):  # oversized input is never kept
            if len(_LEAF_INDEX) >= 256:
                _LEAF_INDEX.clear()
            _LEAF_INDEX[ders] = index
    return info.certificates[index]


_LEAF_INDEX: dict[tuple[bytes, ...], int] = {}
"""DERs -> leaf position: a function of the certificates alone, worked out once per chain
(keyed by the DERs only: hashing the certificate objects as well cost more than the rest)."""


def _leaf_index(ders: tuple[bytes, ...], certs: tuple[x509.Certificate, ...]) -> int:
    # A refusal is raised, never stored. Duplicates count once (the last).
    last = {der: i for i, der in enumerate(ders)}
    unique = [certs[i] for i in last.values()]
    leaves = [
        i
        for i in last.values()
        if not any(o is not certs[i] and o.issuer == certs[i].subject for o in unique)
    ]
    if len(leaves) != 1:
        raise InvalidInput(
            f"cannot tell the signing certificate among {len(unique)} KeyInfo certificates",
            code="xmldsig.keyinfo",
        )
    return leaves[0]


def select_key(
    info: KeyInfoData, resolver: KeyResolver | None
) -> tuple[PublicKey, x509.Certificate | None]:
    if resolver is not None:
        key = resolver(info)
        if key is None:
            raise UnsupportedFeature("no key accepted for this KeyInfo", code="xmldsig.no_key")
        spki = _spki(key)
        cert = next((c for c in info.certificates if _spki_of(c) == spki), None)
        return key, cert
    if not info.certificates:
        raise UnsupportedFeature(
            "KeyInfo has no X509Certificate; KeyValue, KeyName or X509 lookups need a key_resolver",
            code="xmldsig.no_key",
        )
    leaf = _leaf_certificate(info)
    leaf_key = _cert_key(leaf)
    if not isinstance(leaf_key, PublicKey):
        raise UnsupportedFeature(
            f"certificate key type {type(leaf_key).__name__} is not supported",
            code="xmldsig.key_type",
        )
    return leaf_key, leaf


def _cert_key(cert: x509.Certificate) -> CertificatePublicKeyTypes:
    # The certificate parsed, but its SubjectPublicKeyInfo is only read here: an unknown
    # curve or a malformed key raises cryptography's errors, which must not escape.
    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UnsupportedFeature(
            f"KeyInfo certificate key cannot be loaded: {exc}", code="xmldsig.key_type"
        ) from exc


def _spki_of(cert: x509.Certificate) -> bytes:
    return _cert_key(cert).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def check_key(alg: SignatureAlgorithm, key: PublicKey, min_rsa_bits: int) -> None:
    # CVE-2025-48994 class: the algorithm is bound to the key type before any crypto runs.
    if key_type_of(key) is not alg.key_type:
        raise InvalidSignature(
            f"{alg.name} cannot verify with a {key_type_of(key).value} key",
            sub_indication="SIG_CRYPTO_FAILURE",
        )
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < min_rsa_bits:
        raise PolicyViolation(
            f"RSA-{key.key_size} key; at least {min_rsa_bits} bits required",
            sub_indication=_CRYPTO,
        )
