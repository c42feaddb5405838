"""pakn_sign: signed document exchange for Vietnam's PAKN system (phản ánh, kiến nghị).

The curated public API: import from here; submodules are implementation detail.
The transport (nodes, envelopes, receipts, edXML) lives in ``pakn_sign.transport``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .clock import (
    Clock,
    FixedClock,
    SystemClock,
)
from .codec.detect import (
    load_document,
)
from .codec.jsoncodec import (
    JsonLimits,
    from_json,
    to_json,
)
from .codec.xmlcodec import (
    from_xml,
    to_xml,
    to_xml_element,
)
from .codec.xmlparse import (
    XmlLimits,
)
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
from .models import (
    DOCUMENT_TYPES,
    Answer,
    AnswerReturn,
    Case,
    CaseState,
    Channel,
    CitizenFeedback,
    Classification,
    ClassificationCode,
    Document,
    DocumentRef,
    EdxmlStatus,
    FixedHolidays,
    Forwarding,
    HolidayProvider,
    InformationRequest,
    InformationSupplement,
    OrganIdMode,
    Petition,
    Publication,
    SectorRegistry,
    StatusNotice,
    ValidationSettings,
    VietnamHolidays,
    WorkingCalendar,
    parse_document,
    use_settings,
)
from .models.statistics import (
    QuarterlyReport,
    quarterly_report,
)
from .signing.algorithms import (
    DigestAlgorithm,
    SignatureAlgorithm,
)
from .signing.jades import (
    sign_json,
)
from .signing.pkcs11_signer import (
    PKCS11Signer,
)
from .signing.remote_signer import (
    RemoteSigner,
)
from .signing.sign_xml import (
    sign_xml,
)
from .signing.signer_loader import (
    load_signer,
)
from .signing.signers import (
    LocalKeySigner,
    Signer,
)
from .signing.timestamps import (
    HttpTimestampAuthority,
    LocalTimestampAuthority,
    TimestampAuthority,
    TimestampInfo,
    verify_timestamp,
)
from .signing.xades import (
    XAdESLevel,
)
from .signing.xades_order import (
    SignerRole,
)
from .trust.identity import (
    IdentityKind,
    SignerIdentity,
)
from .trust.paths import (
    KeyPurpose,
    ValidatedChain,
    validate_chain,
)
from .trust.policy import (
    RevocationMode,
    TrustPolicy,
    UnsafeOptionWarning,
)
from .trust.report import (
    Indication,
    SubIndication,
    ValidationReport,
)
from .trust.requirements import (
    AllOf,
    AnyOf,
    SignerIs,
    SignerIsOfficialOf,
    SignerIsOrganisation,
    SignerIsOrganisationWithMST,
    SignerIsPerson,
)
from .verify import (
    AnswerWithLetter,
    SignatureInfo,
    VerificationResult,
    inspect,
    verify,
    verify_answer_with_letter,
)

if TYPE_CHECKING:
    from .signing.pades import SignatureAppearance, sign_pdf
    from .signing.pades_verify import SignedPdf, check_letter

# PDF support pulls in pyHanko (~0.5 s of imports): loaded on first use only (PEP 562).
_LAZY = {
    "SignatureAppearance": ".signing.pades",
    "SignedPdf": ".signing.pades_verify",
    "check_letter": ".signing.pades_verify",
    "sign_pdf": ".signing.pades",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pakn_sign' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "DOCUMENT_TYPES",
    "AllOf",
    "Answer",
    "AnswerReturn",
    "AnswerWithLetter",
    "AnyOf",
    "Case",
    "CaseState",
    "Channel",
    "CitizenFeedback",
    "Classification",
    "ClassificationCode",
    "Clock",
    "ConfigurationError",
    "DeliveryError",
    "DigestAlgorithm",
    "Document",
    "DocumentRef",
    "EdxmlStatus",
    "FixedClock",
    "FixedHolidays",
    "Forwarding",
    "HolidayProvider",
    "HttpTimestampAuthority",
    "IdentityKind",
    "IndeterminateError",
    "Indication",
    "InformationRequest",
    "InformationSupplement",
    "InvalidInput",
    "InvalidSignature",
    "JsonLimits",
    "KeyPurpose",
    "LifecycleError",
    "LocalKeySigner",
    "LocalTimestampAuthority",
    "OrganIdMode",
    "PKCS11Signer",
    "PaknSignError",
    "Petition",
    "PolicyViolation",
    "Publication",
    "QuarterlyReport",
    "ReceiptError",
    "Rejected",
    "RemoteSigner",
    "RevocationMode",
    "SchemaError",
    "SectorRegistry",
    "SignatureAlgorithm",
    "SignatureAppearance",
    "SignatureInfo",
    "SignedPdf",
    "Signer",
    "SignerIdentity",
    "SignerIs",
    "SignerIsOfficialOf",
    "SignerIsOrganisation",
    "SignerIsOrganisationWithMST",
    "SignerIsPerson",
    "SignerRole",
    "SigningError",
    "StatusNotice",
    "StoreError",
    "SubIndication",
    "SystemClock",
    "TimestampAuthority",
    "TimestampInfo",
    "TransportError",
    "TrustPolicy",
    "UnsafeOptionWarning",
    "UnsupportedFeature",
    "UntrustedSigner",
    "ValidatedChain",
    "ValidationReport",
    "ValidationSettings",
    "VerificationError",
    "VerificationResult",
    "VietnamHolidays",
    "WorkingCalendar",
    "XAdESLevel",
    "XmlLimits",
    "check_letter",
    "from_json",
    "from_xml",
    "inspect",
    "load_document",
    "load_signer",
    "parse_document",
    "quarterly_report",
    "sign_json",
    "sign_pdf",
    "sign_xml",
    "to_json",
    "to_xml",
    "to_xml_element",
    "use_settings",
    "validate_chain",
    "verify",
    "verify_answer_with_letter",
    "verify_timestamp",
]
