"""Check one XAdES signature: core XMLDSig, SignedProperties, signing certificate, layout.

Cryptography and structure only; trust (paths, revocation, timestamps' TSA chains,
signer requirements) is applied by :mod:`pakn_sign.verify_xades` above this layer.

ETSI EN 319 102-1 §5.2.3 (identification of the signing certificate) and EN 319 132-1
§5.2.2: the ``SigningCertificateV2`` of the *signed* properties must name the certificate
whose key verified the SignatureValue; otherwise an attacker could swap the KeyInfo
certificate for another with the same key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from lxml import etree

from ..codec.xmlparse import parse_xml
from ..errors import IndeterminateError, InvalidInput, InvalidSignature, PolicyViolation
from .algorithms import DigestAlgorithm, SignatureAlgorithm
from .certload import load_der_certificate
from .xades_order import SignerRole
from .xades_props import (
    SIGNED_PROPERTIES_TYPE,
    XADES_NS,
    SignedProps,
    UnsignedProps,
    cert_ref_matches,
    parse_signed_properties,
    parse_unsigned_properties,
)
from .xmldsig import KeyResolver, VerifiedReference, VerifiedSignature, verify_signature

if TYPE_CHECKING:
    from ..trust.policy import TrustPolicy

__all__ = [
    "CheckedXAdES",
    "CoreXAdES",
    "allowed_digests",
    "check_pakn_signature",
    "verify_xades_core",
    "verify_xades_pinned",
]

_X = "{" + XADES_NS + "}"
_FORMAT = "FORMAT_FAILURE"
_DS_OBJECT = "{http://www.w3.org/2000/09/xmldsig#}Object"
_QP = _X + "QualifyingProperties"
_SP = _X + "SignedProperties"


@dataclass(frozen=True, slots=True)
class CoreXAdES:
    """A signature whose XMLDSig core, SignedProperties reference and signing cert verified."""

    verified: VerifiedSignature
    qualifying_properties: etree._Element
    signed_properties: SignedProps
    signed_properties_reference: VerifiedReference
    unsigned: UnsignedProps
    certificate: x509.Certificate | None
    """The certificate named by SigningCertificate(V2) that holds the verifying key."""


@dataclass(frozen=True, slots=True)
class CheckedXAdES:
    """A pakn_sign-profile signature that passed every structural and crypto check."""

    id: str
    core: CoreXAdES
    role: SignerRole
    document_reference: VerifiedReference
    covers: frozenset[str]
    """Ids of earlier ``ds:Signature`` siblings this signature covers."""
    certificate: x509.Certificate
    candidates: tuple[x509.Certificate, ...]
    """KeyInfo and CertificateValues certificates, offered for path building."""

    @property
    def algorithm(self) -> SignatureAlgorithm:
        """The SignatureMethod as signed."""
        return self.core.verified.algorithm


def _qualifying_properties(sig_el: etree._Element) -> etree._Element:
    sig_id = sig_el.get("Id")
    # Plain child loops: an iterchildren(tag) matcher costs more than these few children.
    found = [qp for obj in sig_el if obj.tag == _DS_OBJECT for qp in obj if qp.tag == _QP]
    if len(found) != 1:
        raise InvalidSignature(
            f"expected one xades:QualifyingProperties in the signature, found {len(found)}",
            location=sig_id,
            sub_indication=_FORMAT,
        )
    qp = found[0]
    if sig_id is None or qp.get("Target") != "#" + sig_id:
        raise InvalidSignature(
            f"QualifyingProperties Target {qp.get('Target')!r} does not name this signature",
            location=sig_id,
            sub_indication=_FORMAT,
        )
    return qp


def verify_xades_core(
    sig_el: etree._Element,
    *,
    allowed_algorithms: frozenset[SignatureAlgorithm],
    allowed_digests: frozenset[DigestAlgorithm],
    key_resolver: KeyResolver | None = None,
    min_rsa_bits: int = 2048,
) -> CoreXAdES:
    """Verify the XMLDSig core and the XAdES signed-properties binding of one signature.

    1. XMLDSig core (every Reference digest, then SignatureValue) by the engine.
    2. Exactly one verified Reference covers this signature's SignedProperties
       (EN 319 132-1 §6.3 (8)): an unsigned "signed" property is no property.
    3. SigningCertificate(V2) names the certificate holding the verifying key (§5.2.2).

    Raises:
        InvalidSignature: digest or value mismatch, SignedProperties not covered.
        IndeterminateError: NO_SIGNING_CERTIFICATE_FOUND.
        InvalidInput / UnsupportedFeature: malformed or outside the profile.
    """
    verified = verify_signature(
        sig_el,
        key_resolver=key_resolver,
        allowed_algorithms=allowed_algorithms,
        allowed_digests=allowed_digests,
        min_rsa_bits=min_rsa_bits,
    )
    qp = _qualifying_properties(sig_el)
    sp_elements = [child for child in qp if child.tag == _SP]
    refs = [r for r in verified.references if len(sp_elements) == 1 and r.element is sp_elements[0]]
    if len(refs) != 1:
        raise InvalidSignature(
            "the SignedProperties are not covered by exactly one signed Reference",
            location=sig_el.get("Id"),
            sub_indication=_FORMAT,
        )
    if refs[0].type not in (None, SIGNED_PROPERTIES_TYPE):
        raise InvalidSignature(
            f"SignedProperties Reference has Type {refs[0].type!r}",
            location=sig_el.get("Id"),
            sub_indication=_FORMAT,
        )
    props = parse_signed_properties(sp_elements[0])
    cert = _signing_certificate(verified, props)
    return CoreXAdES(
        verified=verified,
        qualifying_properties=qp,
        signed_properties=props,
        signed_properties_reference=refs[0],
        unsigned=parse_unsigned_properties(qp),
        certificate=cert,
    )


def _signing_certificate(verified: VerifiedSignature, props: SignedProps) -> x509.Certificate:
    where = verified.signature.get("Id")
    if not props.cert_refs:
        raise IndeterminateError(
            "no SigningCertificate(V2) among the signed properties",
            location=where,
            sub_indication="NO_SIGNING_CERTIFICATE_FOUND",
        )
    cert = verified.certificate
    if cert is None:
        # A resolver-supplied key: find the KeyInfo certificate holding it.
        for cand in verified.key_info.certificates:
            if _key_of(cand) == verified.public_key:
                cert = cand
                break
    if cert is None or _key_of(cert) != verified.public_key:
        raise IndeterminateError(
            "no certificate holds the key that verified the signature",
            location=where,
            sub_indication="NO_SIGNING_CERTIFICATE_FOUND",
        )
    if not any(cert_ref_matches(ref, cert) for ref in props.cert_refs):
        raise IndeterminateError(
            "SigningCertificate(V2) does not name the certificate that verified the signature",
            location=where,
            sub_indication="NO_SIGNING_CERTIFICATE_FOUND",
        )
    return cert


def check_pakn_signature(
    sig_el: etree._Element,
    *,
    document: etree._Element,
    earlier: Mapping[str, etree._Element],
    allowed_algorithms: frozenset[SignatureAlgorithm],
    allowed_digests: frozenset[DigestAlgorithm],
) -> CheckedXAdES:
    """Check a signature of the pakn_sign layout (``pakn:Signed``, DESIGN.md §4).

    Every verified Reference must be one of: the document element (exactly once), this
    signature's SignedProperties (exactly once), or an *earlier* sibling ``ds:Signature``.
    Anything else (a second document, a later signature, KeyInfo, an Object) is refused:
    nothing outside that scope is ever returned as signed.

    Raises:
        InvalidSignature, IndeterminateError, PolicyViolation, InvalidInput.
    """
    sig_id = sig_el.get("Id")
    if not sig_id:
        raise InvalidSignature("ds:Signature has no Id", sub_indication=_FORMAT)
    core = verify_xades_core(
        sig_el, allowed_algorithms=allowed_algorithms, allowed_digests=allowed_digests
    )
    doc_refs: list[VerifiedReference] = []
    covered: list[str] = []
    for ref in core.verified.references:
        if ref is core.signed_properties_reference:
            continue
        if ref.element is document and not ref.enveloped:
            doc_refs.append(ref)
            continue
        hit = [sid for sid, el in earlier.items() if el is ref.element and not ref.enveloped]
        if not hit:
            raise InvalidSignature(
                f"Reference {ref.uri!r} points outside the signed scope (document, own "
                "SignedProperties, earlier signatures)",
                location=sig_id,
                sub_indication=_FORMAT,
            )
        covered.append(hit[0])
    if len(doc_refs) != 1:
        raise InvalidSignature(
            f"expected exactly one Reference to the document, found {len(doc_refs)}",
            location=sig_id,
            sub_indication=_FORMAT,
        )
    if len(set(covered)) != len(covered):
        raise InvalidSignature(
            "an earlier signature is referenced twice", location=sig_id, sub_indication=_FORMAT
        )
    ref_ids = {"#" + r.id for r in core.verified.references if r.id}
    for object_ref, _mime in core.signed_properties.data_object_formats:
        # EN 319 132-1 §5.2.4: DataObjectFormat qualifies one of this signature's References.
        if object_ref not in ref_ids:
            raise InvalidSignature(
                f"DataObjectFormat names {object_ref!r}, not a Reference of this signature",
                location=sig_id,
                sub_indication=_FORMAT,
            )
    roles = core.signed_properties.claimed_roles
    if len(roles) != 1 or roles[0] not in {r.value for r in SignerRole}:
        raise PolicyViolation(
            f"expected one claimed role 'personal' or 'organisation', found {list(roles)}",
            location=sig_id,
            sub_indication="SIG_CONSTRAINTS_FAILURE",
            code="verify.signature_role",
        )
    assert core.certificate is not None
    candidates = tuple(core.verified.key_info.certificates) + tuple(
        _load_certs(core.unsigned.certificate_values, sig_id)
    )
    return CheckedXAdES(
        id=sig_id,
        core=core,
        role=SignerRole(roles[0]),
        document_reference=doc_refs[0],
        covers=frozenset(covered),
        certificate=core.certificate,
        candidates=candidates,
    )


def _load_certs(ders: tuple[bytes, ...], where: str) -> list[x509.Certificate]:
    out = []
    for der in ders:
        try:
            out.append(load_der_certificate(der, what="EncapsulatedX509Certificate"))
        except InvalidInput as exc:
            raise InvalidInput(exc.message, location=where) from exc
    return out


def _key_of(cert: x509.Certificate) -> object:
    """The certificate's public key, or None when cryptography cannot load it (hostile SPKI)."""
    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None


_STRONG_DIGESTS = frozenset(
    {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
)
_DS_SIG = "{http://www.w3.org/2000/09/xmldsig#}Signature"


def allowed_digests(policy: TrustPolicy) -> frozenset[DigestAlgorithm]:
    """Reference digests a policy accepts: SHA-2; SHA-1 only under ``unsafe_sha1``."""
    return _STRONG_DIGESTS | ({DigestAlgorithm.SHA1} if policy.unsafe_sha1 else set())


def verify_xades_pinned(
    data: bytes,
    certificate: x509.Certificate,
    *,
    policy: TrustPolicy,
    expected_references: int | None = None,
) -> CoreXAdES:
    """Check the first top-level XAdES signature against one pinned certificate.

    For interoperability vectors: no path validation, no validation time; the XMLDSig
    core, the SignedProperties binding and SigningCertificate(V2) are checked, with the
    policy's algorithm allow-list (SHA-1 only via ``TrustPolicy.unsafe_allow_sha1``).

    Raises:
        InvalidInput, UnsupportedFeature, InvalidSignature, IndeterminateError,
        PolicyViolation.
    """
    root = parse_xml(data).getroot()
    sigs = [s for s in root.iter(_DS_SIG) if not any(a.tag == _DS_SIG for a in s.iterancestors())]
    if not sigs:
        raise InvalidSignature("no ds:Signature found", code="verify.no_signature")
    pinned = certificate.public_key()

    def resolver(_info: Any) -> Any:
        return pinned

    core = verify_xades_core(
        sigs[0],
        allowed_algorithms=policy.allowed_algorithms,
        allowed_digests=allowed_digests(policy),
        key_resolver=resolver,
        min_rsa_bits=policy.min_rsa_bits,
    )
    policy.check_algorithm(core.verified.algorithm, pinned)
    n = len(core.verified.references)
    if expected_references is not None and n != expected_references:
        raise InvalidSignature(
            f"expected {expected_references} signed references, found {n}",
            sub_indication=_FORMAT,
        )
    return core
