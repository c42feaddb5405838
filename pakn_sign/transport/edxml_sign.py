"""The enveloped package signature of edXML packages: make it and check it.

Profile (DOMAIN.md §2 "Signature inside edXML", §6 "Signatures"): one W3C XMLDSig
``ds:Signature`` as the last child of ``edXMLHeader``, one Reference ``URI=""`` with the
enveloped-signature and Exclusive C14N transforms, RSA-SHA256 / SHA-256 by default, and
``KeyInfo/X509Data`` holding ``X509SubjectName`` (``C=VN,…,CN=…,UID=…``, the certificate's
encoded RDN order) and the ``X509Certificate`` chain. ``URI=""`` covers the whole document
except the Signature, so the attachments outside the envelope are signed too.

Legacy VPCP SDK packages use ``rsa-sha1`` / ``sha1`` and C14N 1.0 for SignedInfo; they are
accepted only with ``unsafe_allow_sha1=True`` (warns :class:`UnsafeOptionWarning`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from lxml import etree

from ..errors import InvalidInput, InvalidSignature, UntrustedSigner
from ..signing.algorithms import DigestAlgorithm, SignatureAlgorithm
from ..signing.signers import Signer
from ..signing.xmldsig import (
    DEFAULT_DIGESTS,
    DS,
    ReferenceSpec,
    build_signature,
    verify_signature,
)
from ..trust.identity import SignerIdentity
from ..trust.paths import validate_chain
from ..trust.policy import SHA1_ALGORITHMS, TrustPolicy, UnsafeOptionWarning

__all__ = ["PackageSignature", "sign_package", "subject_name", "verify_package"]

_NAME_KEYS = {NameOID.USER_ID: "UID", NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier"}


@dataclass(frozen=True, slots=True)
class PackageSignature:
    """The package signature that verified: transport evidence of who sent the package."""

    identity: SignerIdentity
    """The package signer (normally the sending agency's seal)."""
    chain: tuple[x509.Certificate, ...]
    """The validated path, signer first, ending at a trust anchor."""
    algorithm: SignatureAlgorithm
    """The SignatureMethod (SHA-1 only under ``unsafe_allow_sha1``)."""
    certificate_sha256: str
    """Lower-case hex SHA-256 of the signer certificate (what pins compare)."""


def subject_name(cert: x509.Certificate) -> str:
    """``X509SubjectName`` in the certificate's encoded order: ``C=VN,…,CN=…,UID=…``
    (one portal accepts only that order, DOMAIN.md §3; RFC 4514 would reverse it)."""
    return ",".join(rdn.rfc4514_string(_NAME_KEYS) for rdn in cert.subject.rdns)


def sign_package(
    header: etree._Element,
    signer: Signer,
    *,
    algorithm: SignatureAlgorithm | None = None,
    signature_id: str = "edxml-sig",
) -> etree._Element:
    """Append the enveloped signature to ``edXMLHeader`` (the tree must be complete).

    Raises:
        ConfigurationError: SHA-1, RSA < 2048 (our signer refuses them for new signatures).
        SigningError: the signer failed.
    """
    sig = build_signature(
        header,
        signer,
        references=[ReferenceSpec("", transforms=("enveloped-signature", "exc-c14n"))],
        algorithm=algorithm,
        signature_id=signature_id,
    )
    # KeyInfo is outside SignedInfo: adding the subject name after signing changes nothing
    # that was signed (and the enveloped transform drops the whole Signature anyway).
    x509_data = sig.find(f"{DS}KeyInfo/{DS}X509Data")
    assert x509_data is not None
    name = etree.Element(DS + "X509SubjectName")
    name.text = subject_name(signer.certificate_chain[0])
    x509_data.insert(0, name)
    return sig


def _certificate_sha256(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _only_signature(root: etree._Element, header: etree._Element) -> etree._Element | None:
    sigs = list(root.iter(DS + "Signature"))
    if not sigs:
        return None
    if len(sigs) != 1 or sigs[0].getparent() is not header:
        # One package signature, in edXMLHeader: nothing else may claim to sign the package.
        raise InvalidInput(
            "an edXML package must hold exactly one ds:Signature, in edXMLHeader",
            code="edxml.signature_position",
        )
    return sigs[0]


def verify_package(
    root: etree._Element,
    header: etree._Element,
    *,
    policy: TrustPolicy,
    at: dt.datetime | None,
    allow_unsigned: bool,
    unsafe_allow_sha1: bool,
    pins: Mapping[str, Collection[str]] | None,
    sender: str,
) -> PackageSignature | None:
    """Verify the package signature and the signer's path; ``None`` for an allowed unsigned one.

    Raises:
        InvalidInput: no signature (unless ``allow_unsigned``), several, or misplaced.
        InvalidSignature: the digest (HASH_FAILURE) or the value (SIG_CRYPTO_FAILURE), or a
            reference other than one enveloped ``URI=""``.
        PolicyViolation: algorithm or key refused (SHA-1 without ``unsafe_allow_sha1``).
        UntrustedSigner / IndeterminateError: the path; an unpinned signer for ``sender``.
    """
    if unsafe_allow_sha1:
        warnings.warn(
            "unsafe_allow_sha1: legacy rsa-sha1 edXML packages are accepted",
            UnsafeOptionWarning,
            stacklevel=3,
        )
    sig = _only_signature(root, header)
    if sig is None:
        if not allow_unsigned:
            raise InvalidInput("the edXML package is not signed", code="edxml.unsigned")
        warnings.warn(
            "allow_unsigned: an unsigned edXML package was accepted",
            UnsafeOptionWarning,
            stacklevel=3,
        )
        return None
    algorithms = policy.allowed_algorithms | (SHA1_ALGORITHMS if unsafe_allow_sha1 else set())
    digests = DEFAULT_DIGESTS | ({DigestAlgorithm.SHA1} if unsafe_allow_sha1 else set())
    verified = verify_signature(
        sig,
        allowed_algorithms=frozenset(algorithms),
        allowed_digests=frozenset(digests),
        expected_references=1,
        min_rsa_bits=policy.min_rsa_bits,
    )
    ref = verified.references[0]
    if ref.uri != "" or not ref.enveloped or ref.element is not root:
        raise InvalidSignature(
            'the package signature must cover the whole package (enveloped, URI="")',
            sub_indication="FORMAT_FAILURE",
        )
    cert = verified.certificate
    if cert is None:  # pragma: no cover - no resolver is passed, so KeyInfo gave the key
        raise InvalidInput("the package signature names no certificate")
    if verified.algorithm in SHA1_ALGORITHMS:
        policy.check_key(verified.public_key)  # the SHA-1 opt-in was warned about above
    else:
        policy.check_algorithm(verified.algorithm, verified.public_key)
    # at=None: validate_chain uses policy.validation_time, else now (public boundary).
    chain = validate_chain(cert, policy=policy, candidates=verified.other_certificates, at=at)
    policy.check_signer(chain.identity, role="organisation")
    fingerprint = _certificate_sha256(cert)
    if pins is not None and fingerprint not in pins.get(sender, ()):
        raise UntrustedSigner(
            f"the package signer is not pinned for the sender {sender}",
            sub_indication="CHAIN_CONSTRAINTS_FAILURE",
            code="edxml.unpinned_signer",
        )
    return PackageSignature(chain.identity, chain.chain, verified.algorithm, fingerprint)
