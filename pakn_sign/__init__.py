"""pakn_sign: signed document exchange for Vietnam's PAKN system (phản ánh, kiến nghị).

The curated public API. Import from here; submodules are implementation detail.
"""

from __future__ import annotations

from .clock import Clock, FixedClock, SystemClock
from .errors import (
    ConfigurationError,
    DeliveryError,
    IndeterminateError,
    InvalidInput,
    InvalidSignature,
    LifecycleError,
    PaknSignError,
    PolicyViolation,
    ReceiptError,
    Rejected,
    SchemaError,
    SigningError,
    StoreError,
    TransportError,
    UnsupportedFeature,
    UntrustedSigner,
    VerificationError,
)
from .signing.algorithms import DigestAlgorithm, SignatureAlgorithm
from .signing.signers import LocalKeySigner, Signer

__version__ = "0.1.0"

__all__ = [
    "Clock",
    "ConfigurationError",
    "DeliveryError",
    "DigestAlgorithm",
    "FixedClock",
    "IndeterminateError",
    "InvalidInput",
    "InvalidSignature",
    "LifecycleError",
    "LocalKeySigner",
    "PaknSignError",
    "PolicyViolation",
    "ReceiptError",
    "Rejected",
    "SchemaError",
    "SignatureAlgorithm",
    "Signer",
    "SigningError",
    "StoreError",
    "SystemClock",
    "TransportError",
    "UnsupportedFeature",
    "UntrustedSigner",
    "VerificationError",
]
