"""A ``Signer`` that delegates to a remote signing service through a callable.

Remote signing (a CA's cloud HSM, a VGCA-style local signing service) returns bytes we
did not compute, so every signature is checked against the certificate before it is
used: a service that returns garbage, or signs with another key, fails here and not at
the recipient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cryptography import x509

from ..errors import ConfigurationError, PaknSignError, SigningError
from .algorithms import (
    PublicKey,
    SignatureAlgorithm,
    default_algorithm,
    key_type_of,
    verify_with_key,
)
from .signers import check_new_signature_algorithm

__all__ = ["RemoteSignFunction", "RemoteSigner"]

RemoteSignFunction = Callable[[bytes, SignatureAlgorithm], bytes]
"""``(data, algorithm) -> signature``: signs the message (not a digest), same encoding as
``Signer.sign_raw`` (PKCS#1 bytes, raw ``r || s`` for ECDSA, 64 bytes for Ed25519)."""


class RemoteSigner:
    """Wraps a remote signing callable and the signer's certificate chain.

    Args:
        sign: the callable that reaches the remote service.
        chain: the signing certificate first, then intermediates.
        algorithm: the default algorithm (else the SHA-256 family for the key type).

    ``sign_raw`` raises ``SigningError`` if the callable fails or returns a signature
    that does not verify under the certificate's public key.
    """

    def __init__(
        self,
        sign: RemoteSignFunction,
        chain: Sequence[x509.Certificate],
        *,
        algorithm: SignatureAlgorithm | None = None,
    ):
        if not chain:
            raise ConfigurationError("a remote signer needs at least its signing certificate")
        self._sign = sign
        self._chain = tuple(chain)
        key = self._chain[0].public_key()
        key_type_of(key)  # type: ignore[arg-type]  # raises UnsupportedFeature for DSA…
        self._public_key: PublicKey = key  # type: ignore[assignment]
        self._algorithm = algorithm or default_algorithm(self._public_key)
        if self._algorithm.key_type is not key_type_of(self._public_key):
            raise ConfigurationError(f"{self._algorithm.name} does not fit the certificate key")

    @property
    def certificate_chain(self) -> Sequence[x509.Certificate]:
        """Signing certificate first, then intermediates."""
        return self._chain

    @property
    def default_algorithm(self) -> SignatureAlgorithm:
        """The algorithm used when the caller names none."""
        return self._algorithm

    def sign_raw(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Ask the remote service to sign ``data`` and check the answer before returning it."""
        check_new_signature_algorithm(algorithm, self._public_key)
        try:
            signature = self._sign(data, algorithm)
        except PaknSignError:
            raise
        except Exception as exc:  # a foreign client library's error, wrapped at the boundary
            raise SigningError(f"the remote signer failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(signature, bytes):
            raise SigningError(f"the remote signer returned {type(signature).__name__}, not bytes")
        if not verify_with_key(self._public_key, signature, data, algorithm):
            raise SigningError(
                f"the remote signer returned a {algorithm.name} signature that does not verify "
                "under the signing certificate"
            )
        return signature
