"""The whole exception tree of pakn_sign.

Every error raised through the public API is a :class:`PaknSignError`. Each class
has a stable ``code`` string (used in CLI output and on the wire in negative
receipts); messages say what was expected and what was found, never key material
or whole documents::

    PaknSignError                                   root
    ├── InvalidInput(ValueError)                    malformed bytes, wrong media type, limits
    │   ├── SchemaError                             XSD / JSON Schema / model validation
    │   └── UnsupportedFeature                      outside our strict profile (never a pass)
    ├── ConfigurationError(ValueError)              bad arguments, policy or key configuration
    ├── SigningError                                signer or HSM failure, key/cert mismatch
    ├── VerificationError                           any reason not to trust a signature
    │   ├── InvalidSignature                        digest or signature value does not match
    │   ├── UntrustedSigner                         no path to an anchor, expired, revoked
    │   ├── IndeterminateError                      cannot decide now (revocation unknown…)
    │   └── PolicyViolation                         trusted, but the policy refuses it
    ├── LifecycleError                              illegal case transition
    ├── TransportError
    │   ├── DeliveryError                           network or timeout; retryable
    │   ├── ReceiptError                            receipt missing, unsigned, mismatched
    │   └── Rejected                                peer sent a signed negative receipt
    └── StoreError                                  outbox / inbox persistence
"""

from __future__ import annotations

from typing import Any, ClassVar

import cryptography.exceptions

__all__ = [
    "ConfigurationError",
    "DeliveryError",
    "IndeterminateError",
    "InvalidInput",
    "InvalidSignature",
    "LifecycleError",
    "PaknSignError",
    "PolicyViolation",
    "ReceiptError",
    "Rejected",
    "SchemaError",
    "SigningError",
    "StoreError",
    "TransportError",
    "UnsupportedFeature",
    "UntrustedSigner",
    "VerificationError",
]


class PaknSignError(Exception):
    """Root of every error pakn_sign raises.

    Args:
        message: what was wrong, with expected vs found.
        location: where (``line 12``, an XPath, a JSON pointer), when known.
        code: overrides the class's stable code for a more specific one.
    """

    code: ClassVar[str] = "pakn_sign.error"

    def __init__(self, message: str, *, location: str | None = None, code: str | None = None):
        self.message = message
        self.location = location
        if code is not None:
            self.code = code  # type: ignore[misc]
        super().__init__(f"{message} (at {location})" if location else message)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: ``code``, ``message`` and ``location``."""
        return {"code": self.code, "message": self.message, "location": self.location}


class InvalidInput(PaknSignError, ValueError):
    """Input that cannot be read: malformed bytes, wrong media type, a limit exceeded."""

    code = "input.invalid"


class SchemaError(InvalidInput):
    """Well-formed input that does not match its schema or model."""

    code = "input.schema"


class UnsupportedFeature(InvalidInput):
    """A construct outside the strict profile (XSLT, external URIs, HMAC…); never a pass."""

    code = "input.unsupported"


class ConfigurationError(PaknSignError, ValueError):
    """Bad arguments, policy, key or signer configuration."""

    code = "config.invalid"


class SigningError(PaknSignError):
    """The signer or token failed, or the key does not match the certificate."""

    code = "sign.failed"


class VerificationError(PaknSignError):
    """Any reason not to trust a signed document.

    ``sub_indication`` is the ETSI EN 319 102-1 sub-indication name (``HASH_FAILURE``…)
    when one applies; ``report`` holds the full findings, if any.
    """

    code = "verify.failed"

    def __init__(
        self,
        message: str,
        *,
        location: str | None = None,
        code: str | None = None,
        sub_indication: str | None = None,
        report: Any = None,
    ):
        super().__init__(message, location=location, code=code)
        self.sub_indication = sub_indication
        self.report = report


class InvalidSignature(VerificationError, cryptography.exceptions.InvalidSignature):
    """A digest or signature value does not match what was signed."""

    code = "verify.invalid_signature"


class UntrustedSigner(VerificationError):
    """No valid path to a trust anchor: unknown issuer, expired, revoked, wrong usage."""

    code = "verify.untrusted_signer"


class IndeterminateError(VerificationError):
    """Validity cannot be decided now (e.g. revocation status unavailable); try later."""

    code = "verify.indeterminate"


class PolicyViolation(VerificationError):
    """The signature is valid and trusted, but the policy refuses it (algorithm, role, signer)."""

    code = "verify.policy_violation"


class LifecycleError(PaknSignError):
    """A document that would make an illegal transition in a case's lifecycle."""

    code = "lifecycle.illegal_transition"


class TransportError(PaknSignError):
    """Root of exchange failures."""

    code = "transport.failed"


class DeliveryError(TransportError):
    """Network failure or timeout; the message may be retried with the same id and bytes."""

    code = "transport.delivery"


class ReceiptError(TransportError):
    """The receipt is missing, unsigned, wrongly signed or not for our envelope."""

    code = "transport.receipt"


class Rejected(TransportError):
    """The peer refused the message with a signed negative receipt (``receipt``)."""

    code = "transport.rejected"

    def __init__(
        self,
        message: str,
        *,
        location: str | None = None,
        code: str | None = None,
        receipt: Any = None,
    ):
        super().__init__(message, location=location, code=code)
        self.receipt = receipt


class StoreError(PaknSignError):
    """The outbox or inbox could not be read or written."""

    code = "store.failed"
