"""The one signing primitive: a certificate chain and ``sign_raw``.

Format code (XAdES, JAdES, PAdES, envelopes) calls ``Signer.sign_raw`` and never sees
a private key, so PKCS#11 tokens and remote signers plug in unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from ..errors import ConfigurationError, SigningError
from .algorithms import (
    PrivateKey,
    PublicKey,
    SignatureAlgorithm,
    default_algorithm,
    sign_with_key,
)

__all__ = ["LocalKeySigner", "Signer", "check_new_signature_algorithm"]


@runtime_checkable
class Signer(Protocol):
    """Signs bytes for one certificate.

    ``sign_raw`` returns the signature value as XMLDSig 1.1 and JWS encode it: PKCS#1 bytes
    for RSA, raw ``r || s`` (each half the curve size) for ECDSA, 64 bytes for Ed25519.
    """

    @property
    def certificate_chain(self) -> Sequence[x509.Certificate]:
        """Signing certificate first, then intermediates (anchors optional)."""
        ...

    @property
    def default_algorithm(self) -> SignatureAlgorithm:
        """The algorithm used when the caller names none."""
        ...

    def sign_raw(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Sign ``data`` (the message, not a digest) with ``algorithm``."""
        ...


def check_new_signature_algorithm(alg: SignatureAlgorithm, key: PublicKey) -> None:
    """Refuse SHA-1 and RSA < 2048 for *new* signatures (brief; NIST SP 800-131A)."""
    digest = alg.digest
    if digest is not None and digest.name == "SHA1":
        raise ConfigurationError(f"{alg.name}: SHA-1 is never used for new signatures")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise ConfigurationError(f"RSA-{key.key_size} is too small for new signatures (≥ 2048)")


class LocalKeySigner:
    """A signer holding a ``cryptography`` private key (from PEM or PKCS#12 files).

    The key is loaded once; loading an RSA PEM runs OpenSSL's key check (~55 ms), so
    reuse the signer rather than re-loading per document.
    """

    def __init__(self, key: PrivateKey, chain: Sequence[x509.Certificate]):
        if not chain:
            raise ConfigurationError("a signer needs at least its signing certificate")
        if chain[0].public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) != key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ):
            raise SigningError("the private key does not match the signing certificate")
        self._key = key
        self._chain = tuple(chain)
        # The key never changes: its public half, default algorithm and the algorithms that
        # passed the new-signature check are fixed facts (~4 us a signature saved). A refusal
        # is never recorded, so it is raised on every call.
        self._public = key.public_key()
        self._default: SignatureAlgorithm | None = None
        self._allowed: frozenset[SignatureAlgorithm] = frozenset()

    @classmethod
    def from_pem(
        cls,
        key_pem: bytes,
        cert_pem: bytes,
        chain_pem: bytes | None = None,
        *,
        password: bytes | None = None,
    ) -> LocalKeySigner:
        """Build from a PEM private key, the PEM signing certificate and optional PEM chain."""
        try:
            key = serialization.load_pem_private_key(key_pem, password=password)
            certs = x509.load_pem_x509_certificates(cert_pem)
            if chain_pem:
                certs += x509.load_pem_x509_certificates(chain_pem)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"cannot load PEM key or certificates: {exc}") from exc
        if not isinstance(key, PrivateKey):
            raise ConfigurationError(f"unsupported private key type {type(key).__name__}")
        return cls(key, certs)

    @classmethod
    def from_pkcs12(cls, data: bytes, *, password: bytes | None) -> LocalKeySigner:
        """Build from a PKCS#12 (.p12/.pfx) file's bytes."""
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"cannot open PKCS#12: {exc}") from exc
        if key is None or cert is None:
            raise ConfigurationError("the PKCS#12 file holds no private key or no certificate")
        if not isinstance(key, PrivateKey):
            raise ConfigurationError(f"unsupported private key type {type(key).__name__}")
        return cls(key, [cert, *extra])

    @property
    def certificate_chain(self) -> Sequence[x509.Certificate]:
        return self._chain

    @property
    def default_algorithm(self) -> SignatureAlgorithm:
        if self._default is None:
            self._default = default_algorithm(self._public)
        return self._default

    def sign_raw(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        if algorithm not in self._allowed:
            check_new_signature_algorithm(algorithm, self._public)
            self._allowed = self._allowed | {algorithm}
        return sign_with_key(self._key, data, algorithm)
