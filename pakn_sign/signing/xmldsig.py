"""Our own XMLDSig engine (lxml + cryptography) in a narrow, strict profile.

Signing: :func:`build_signature` appends a ds:Signature to a parent element, with
same-document references (``#id`` or enveloped ``""``), Exclusive C14N everywhere,
KeyInfo/X509Data holding the signer's chain, and the SignatureValue from
``Signer.sign_raw`` (the engine never sees a private key).

Verifying: :func:`verify_signature` (see :mod:`.xmldsig_verify`) checks one ds:Signature
and returns a :class:`VerifiedSignature` whose references carry the exact elements that
were digested. The profile is documented in ``docs/xmldsig-profile.md``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Literal

from cryptography import x509
from lxml import etree

from ..errors import ConfigurationError, InvalidInput, PaknSignError, SigningError
from .algorithms import DigestAlgorithm, PublicKey, SignatureAlgorithm
from .c14n import (
    C14N10,
    C14N10_COMMENTS,
    C14N11,
    C14N11_COMMENTS,
    EXC_C14N,
    EXC_C14N_COMMENTS,
    C14NMethod,
    canonicalize,
)
from .signers import Signer, check_new_signature_algorithm
from .transforms import EC_NS, ENVELOPED, TransformPlan, transform_uris
from .xmldsig_keyinfo import append_key_info
from .xmldsig_refs import IdIndex, find_by_id, reference_input
from .xmldsig_types import (
    DS,
    DS_NS,
    DSIG11_NS,
    KeyInfoData,
    ReferenceSpec,
    VerifiedReference,
    VerifiedSignature,
)
from .xmldsig_verify import KeyResolver, verify_signature

__all__ = [
    "C14N10",
    "C14N10_COMMENTS",
    "C14N11",
    "C14N11_COMMENTS",
    "DEFAULT_DIGESTS",
    "DEFAULT_SIGNATURE_ALGORITHMS",
    "DS",
    "DSIG11_NS",
    "DS_NS",
    "ENVELOPED",
    "EXC_C14N",
    "EXC_C14N_COMMENTS",
    "KeyInfoData",
    "KeyResolver",
    "ReferenceSpec",
    "VerifiedReference",
    "VerifiedSignature",
    "build_signature",
    "find_by_id",
    "find_signatures",
    "verify_signature",
]

DEFAULT_SIGNATURE_ALGORITHMS: frozenset[SignatureAlgorithm] = frozenset(
    a for a in SignatureAlgorithm if a.digest is not DigestAlgorithm.SHA1
)
"""Every supported SignatureMethod except the SHA-1 ones."""
DEFAULT_DIGESTS: frozenset[DigestAlgorithm] = frozenset(
    {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
)
"""SHA-2 digests; SHA-1 only when a caller opts in for legacy data."""

_EXC = C14NMethod.from_uri(EXC_C14N)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _append_reference(signed_info: etree._Element, spec: ReferenceSpec) -> etree._Element:
    if spec.digest is DigestAlgorithm.SHA1:
        raise ConfigurationError("SHA-1 is never used for new reference digests")
    if spec.uri != "" and not spec.uri.startswith("#"):
        raise ConfigurationError(f"only same-document references ('#id' or ''): {spec.uri!r}")
    ref = etree.SubElement(signed_info, DS + "Reference")
    if spec.id is not None:
        ref.set("Id", spec.id)
    ref.set("URI", spec.uri)
    if spec.type is not None:
        ref.set("Type", spec.type)
    transforms = etree.SubElement(ref, DS + "Transforms")
    for uri in transform_uris(spec.transforms):
        t = etree.SubElement(transforms, DS + "Transform", Algorithm=uri)
        if uri == EXC_C14N and spec.inclusive_prefixes:
            inc = etree.SubElement(t, f"{{{EC_NS}}}InclusiveNamespaces", nsmap={"ec": EC_NS})
            inc.set("PrefixList", " ".join(spec.inclusive_prefixes))
    etree.SubElement(ref, DS + "DigestMethod", Algorithm=spec.digest.value)
    etree.SubElement(ref, DS + "DigestValue")
    return ref


def build_signature(
    parent: etree._Element,
    signer: Signer,
    *,
    references: Sequence[ReferenceSpec],
    algorithm: SignatureAlgorithm | None = None,
    signature_id: str,
    objects: Sequence[etree._Element] = (),
    key_info: Literal["x509"] = "x509",
    c14n: str = EXC_C14N,
    id_attributes: Sequence[str] = ("Id",),
) -> etree._Element:
    """Append a signed ds:Signature as the last child of ``parent`` and return it.

    The Signature is assembled in place (objects included) *before* any digest is
    computed, so a Reference may point into one of ``objects`` (XAdES SignedProperties).
    Digests are taken from the in-memory tree; nothing is serialised and re-parsed.

    Args:
        parent: where the Signature goes (the signed container, or the document root
            for an enveloped signature).
        signer: supplies the certificate chain and ``sign_raw``.
        references: the References, in order.
        algorithm: the SignatureMethod; default ``signer.default_algorithm``.
        signature_id: the Signature's ``Id`` attribute.
        objects: ds:Object elements, or elements to wrap each in a new ds:Object.
        key_info: only ``"x509"`` (X509Data with the whole chain).
        c14n: only Exclusive C14N (``EXC_C14N``).
        id_attributes: attribute names that carry ids for ``#id`` references.

    Raises:
        ConfigurationError: SHA-1, RSA < 2048, external URIs, other transforms or C14N.
        InvalidInput: a reference target missing or not unique.
        SigningError: the signer failed.
    """
    if key_info != "x509" or c14n != EXC_C14N:
        raise ConfigurationError("signing uses KeyInfo x509 and Exclusive C14N only")
    if not references:
        raise ConfigurationError("a signature needs at least one reference")
    chain = list(signer.certificate_chain)
    if not chain:
        raise ConfigurationError("the signer has no certificate")
    alg = algorithm or signer.default_algorithm
    leaf_key = chain[0].public_key()
    if not isinstance(leaf_key, PublicKey):
        raise ConfigurationError(f"unsupported signer key type {type(leaf_key).__name__}")
    check_new_signature_algorithm(alg, leaf_key)

    sig = etree.SubElement(parent, DS + "Signature", nsmap={"ds": DS_NS})
    try:
        _fill(sig, signer, references, alg, signature_id, chain, objects, id_attributes)
    except BaseException:
        parent.remove(sig)  # never leave a half-built Signature behind
        raise
    return sig


def _fill(
    sig: etree._Element,
    signer: Signer,
    references: Sequence[ReferenceSpec],
    alg: SignatureAlgorithm,
    signature_id: str,
    chain: list[x509.Certificate],
    objects: Sequence[etree._Element],
    id_attributes: Sequence[str],
) -> None:
    sig.set("Id", signature_id)
    signed_info = etree.SubElement(sig, DS + "SignedInfo")
    etree.SubElement(signed_info, DS + "CanonicalizationMethod", Algorithm=EXC_C14N)
    etree.SubElement(signed_info, DS + "SignatureMethod", Algorithm=alg.value)
    ref_elements = [_append_reference(signed_info, spec) for spec in references]
    sig_value = etree.SubElement(sig, DS + "SignatureValue")
    append_key_info(sig, chain)
    for obj in objects:
        if obj.tag == DS + "Object":
            sig.append(obj)
        else:
            etree.SubElement(sig, DS + "Object").append(obj)

    # Every target is in place and no Id changes from here on: one scan serves all.
    index = IdIndex(sig.getroottree(), id_attributes)
    for spec, ref in zip(references, ref_elements, strict=True):
        plan = TransformPlan(
            enveloped=ENVELOPED in transform_uris(spec.transforms),
            c14n=_EXC,
            inclusive_prefixes=spec.inclusive_prefixes,
        )
        _, data = reference_input(sig, spec.uri, plan, id_attributes, index)
        ref[-1].text = _b64(hashlib.new(spec.digest.hashlib_name, data).digest())

    signed_bytes = canonicalize(signed_info, _EXC)
    try:
        value = signer.sign_raw(signed_bytes, alg)
    except PaknSignError:
        raise
    except Exception as exc:  # a PKCS#11 or remote backend: wrap at the boundary
        raise SigningError(f"the signer failed: {type(exc).__name__}: {exc}") from exc
    sig_value.text = _b64(value)


def find_signatures(doc: etree._ElementTree | etree._Element) -> tuple[etree._Element, ...]:
    """Every ds:Signature in document order (nested ones included).

    Raises:
        InvalidInput: there is none (``xmldsig.no_signature``): zero signatures is a
            failure, never an unsigned pass (CVE-2025-40934 class).
    """
    sigs = tuple(doc.iter(DS + "Signature"))
    if not sigs:
        raise InvalidInput("no ds:Signature in the document", code="xmldsig.no_signature")
    return sigs
