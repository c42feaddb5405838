"""Names and value types of our XMLDSig engine: namespaces, specs and verified results.

Re-exported by :mod:`pakn_sign.signing.xmldsig`; import from there.
"""

from __future__ import annotations

import re
from dataclasses import KW_ONLY, dataclass, field

from cryptography import x509
from lxml import etree

from ..errors import InvalidInput
from .algorithms import DigestAlgorithm, PublicKey, SignatureAlgorithm
from .b64 import b64_decode_strict

__all__ = [
    "DS",
    "DSIG11_NS",
    "DS_NS",
    "KeyInfoData",
    "ReferenceSpec",
    "VerifiedReference",
    "VerifiedSignature",
    "b64decode_strict",
]

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
"""The XMLDSig namespace."""
DSIG11_NS = "http://www.w3.org/2009/xmldsig11#"
"""The XMLDSig 1.1 namespace (ECKeyValue, DEREncodedKeyValue, X509Digest)."""
DS = f"{{{DS_NS}}}"
"""Clark-notation prefix for XMLDSig tags: ``DS + "Signature"``."""

_B64_WS = re.compile(r"[ \t\r\n]+")


def b64decode_strict(text: str | None, *, what: str) -> bytes:
    """Decode XML base64 (whitespace allowed, nothing else); ``InvalidInput`` otherwise.

    Python's default ``b64decode`` silently drops non-alphabet characters, which lets
    a crafted value read differently in two parsers. After XML whitespace is removed the
    value must be canonical padded base64 (XML Schema base64Binary: unused bits zero).
    """
    text = text or ""
    # Most values carry no whitespace at all: four C scans spare the regex pass.
    ws = " " in text or "\n" in text or "\r" in text or "\t" in text
    compact = _B64_WS.sub("", text) if ws else text
    if not compact:
        raise InvalidInput(f"{what} is empty", code="xmldsig.base64")
    try:
        return b64_decode_strict(compact, where=what)
    except InvalidInput:
        raise InvalidInput(f"{what} is not valid base64", code="xmldsig.base64") from None


@dataclass(frozen=True, slots=True)
class ReferenceSpec:
    """One same-document Reference to create when signing.

    Args:
        uri: ``"#<Id>"`` (an element whose ``Id`` attribute has that value) or ``""``
            (the whole document; use with the enveloped-signature transform).
        type: the Reference ``Type`` attribute (e.g. XAdES SignedProperties), if any.
        digest: the digest algorithm (never SHA-1 for new signatures).
        transforms: short names or URIs: ``("exc-c14n",)`` or
            ``("enveloped-signature", "exc-c14n")``.
        inclusive_prefixes: Exclusive C14N InclusiveNamespaces PrefixList.
        id: the Reference ``Id`` attribute (XAdES DataObjectFormat points at it), if any.
    """

    uri: str
    _: KW_ONLY
    type: str | None = None
    digest: DigestAlgorithm = DigestAlgorithm.SHA256
    transforms: tuple[str, ...] = ("exc-c14n",)
    inclusive_prefixes: tuple[str, ...] = ()
    id: str | None = None

    def __post_init__(self) -> None:
        # Accept lists from callers but keep the value hashable and immutable.
        object.__setattr__(self, "transforms", tuple(self.transforms))
        object.__setattr__(self, "inclusive_prefixes", tuple(self.inclusive_prefixes))


@dataclass(frozen=True, slots=True)
class KeyInfoData:
    """What a Signature's KeyInfo says about the key, decoded once (nothing is fetched)."""

    certificates: tuple[x509.Certificate, ...] = ()
    """Certificates from ``X509Data/X509Certificate``, in document order."""
    certificates_der: tuple[bytes, ...] = ()
    """The same certificates as DER bytes."""
    key_values: tuple[PublicKey, ...] = ()
    """Public keys from ``KeyValue`` (RSA, dsig11 EC) and ``dsig11:DEREncodedKeyValue``."""
    key_names: tuple[str, ...] = ()
    """``KeyName`` strings (only a resolver may give them meaning)."""
    crls_der: tuple[bytes, ...] = ()
    """``X509CRL`` values as DER (revocation data for the trust layer)."""
    element: etree._Element | None = field(default=None, compare=False, repr=False)
    """The ds:KeyInfo element, if any."""


@dataclass(frozen=True, slots=True)
class VerifiedReference:
    """One Reference whose digest matched. Read the document only through ``element``."""

    uri: str
    """The Reference URI as signed (``"#id"`` or ``""``)."""
    type: str | None
    """The Reference ``Type`` attribute as signed."""
    id: str | None
    """The Reference ``Id`` attribute as signed."""
    element: etree._Element
    """The exact node that was digested (for ``""``: the document element)."""
    canonical: bytes
    """The canonical bytes that were digested (after the signed transforms)."""
    digest_algorithm: DigestAlgorithm
    """The digest algorithm as signed."""
    digest_value: bytes
    """The digest as signed (and recomputed)."""
    enveloped: bool
    """True when the enveloped-signature transform removed the Signature itself."""


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A ds:Signature whose references and signature value verified.

    Only the cryptography is checked: trust in ``certificate`` (path, revocation,
    validity time) is the caller's job.
    """

    signature: etree._Element
    """The ds:Signature element."""
    algorithm: SignatureAlgorithm
    """The SignatureMethod as signed."""
    public_key: PublicKey
    """The key the SignatureValue verified with."""
    certificate: x509.Certificate | None
    """The KeyInfo certificate holding ``public_key`` (``None`` for a resolver-only key)."""
    other_certificates: tuple[x509.Certificate, ...]
    """The remaining KeyInfo certificates (candidate intermediates), document order."""
    key_info: KeyInfoData
    """Everything KeyInfo carried."""
    references: tuple[VerifiedReference, ...]
    """The verified references, in SignedInfo order."""
    signed_info: bytes
    """The canonical SignedInfo bytes the SignatureValue covers."""
    signature_value: bytes
    """The raw SignatureValue (ECDSA as r || s)."""
