"""XAdES baseline signatures in the ``<pakn:Signed>`` layout (ETSI EN 319 132-1; DESIGN.md §4).

Layout (``docs/xml-signatures.md``)::

    <pakn:Signed xmlns:pakn="urn:pakn-sign:pakn:1">
      <pakn:Answer Id="pakn-doc"> ... </pakn:Answer>
      <ds:Signature Id="sig-1">  personal: #pakn-doc + its SignedProperties
      <ds:Signature Id="sig-2">  organisation: #pakn-doc, #sig-1 + its SignedProperties
    </pakn:Signed>

Each signature is a sibling of the document (a detached signature within the same
document), so no enveloped-signature transform is needed and adding a signature never
changes what an earlier one covers. Every Reference uses exclusive C14N 1.0 (no comments)
and SHA-256 unless the signer's algorithm implies a larger digest.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence

from cryptography import x509
from lxml import etree

from ..errors import ConfigurationError, InvalidInput, SigningError
from .signers import Signer
from .timestamps import TimestampAuthority
from .xades_levels import (
    add_signature_timestamp,
    add_validation_data,
    complete_chain,
    covering_revocation_data,
    fetch_revocation_data,
    token_certificates,
)
from .xades_order import SignerRole, check_can_add, next_signature_id
from .xades_props import (
    DS_NS,
    SIGNED_PROPERTIES_TYPE,
    XADES_NS,
    build_qualifying_properties,
)
from .xmldsig import ReferenceSpec, build_signature

__all__ = ["DOCUMENT_ID", "PAKN_NS", "RevocationSource", "XAdESLevel", "add_xades_signature"]

PAKN_NS = "urn:pakn-sign:pakn:1"
DOCUMENT_ID = "pakn-doc"
"""The ``Id`` of the signed document element (the target of ``#pakn-doc``)."""
_SIGNED = "{" + PAKN_NS + "}Signed"
_DS_SIG = "{" + DS_NS + "}Signature"
_X = "{" + XADES_NS + "}"


class XAdESLevel(enum.StrEnum):
    """Baseline levels of EN 319 132-1 §6 that pakn_sign produces."""

    B_B = "B-B"
    """Basic: signed properties only."""
    B_T = "B-T"
    """+ a SignatureTimeStamp from a TSA (proof of existence)."""
    B_LT = "B-LT"
    """+ CertificateValues and RevocationValues (verifiable later, offline)."""

    @classmethod
    def parse(cls, value: str) -> XAdESLevel:
        """Look up a level by name; ``B-LTA`` and unknown names raise ``ConfigurationError``."""
        try:
            return cls(value)
        except ValueError:
            raise ConfigurationError(
                f"level must be one of B-B, B-T, B-LT for XML; got {value!r}"
            ) from None


class RevocationSource:
    """Where B-LT validation data comes from: local data and, if allowed, the network.

    Args:
        crls, ocsps: DER revocation data at hand (e.g. ``TrustPolicy.crls``/``ocsps``).
        intermediates, anchors: certificates to complete the signer's and TSA's chains.
        allow_fetching: fetch missing data from each certificate's AIA / CRL DP.
    """

    def __init__(
        self,
        *,
        crls: Sequence[bytes] = (),
        ocsps: Sequence[bytes] = (),
        intermediates: Sequence[x509.Certificate] = (),
        anchors: Sequence[x509.Certificate] = (),
        allow_fetching: bool = False,
    ):
        self.crls = tuple(crls)
        self.ocsps = tuple(ocsps)
        self.pool = tuple(intermediates) + tuple(anchors)
        self.allow_fetching = allow_fetching


def _existing_roles(signatures: Sequence[etree._Element]) -> list[SignerRole]:
    # The claimed roles of signatures already present (unverified: the organisation
    # signature added now covers them, so tampering with them breaks it at verify time).
    roles = []
    for sig in signatures:
        texts = sig.xpath(
            ".//x:SignedSignatureProperties/x:SignerRoleV2/x:ClaimedRoles/x:ClaimedRole/text()",
            namespaces={"x": XADES_NS},
        )
        assert isinstance(texts, list)
        if len(texts) != 1 or str(texts[0]).strip() not in {r.value for r in SignerRole}:
            raise InvalidInput(
                f"existing signature {sig.get('Id')!r} has no pakn_sign role",
                location=sig.get("Id"),
            )
        roles.append(SignerRole(str(texts[0]).strip()))
    return roles


def add_xades_signature(
    container: etree._Element,
    signer: Signer,
    *,
    role: SignerRole,
    level: XAdESLevel,
    signing_time: dt.datetime,
    tsa: TimestampAuthority | None = None,
    revocation: RevocationSource | None = None,
) -> etree._Element:
    """Append one XAdES signature to a ``pakn:Signed`` container and return it.

    A personal signature covers the document; an organisation signature covers the
    document and every signature already present (Decree 30/2020 Art. 32).

    Raises:
        ConfigurationError: personal over organisation; B-T/B-LT without a TSA; B-LT
            without revocation data for some certificate.
        SigningError: the signer failed.
    """
    if container.tag != _SIGNED:
        raise InvalidInput("expected a pakn:Signed container")
    document = container[0]
    if document.get("Id") != DOCUMENT_ID:
        raise InvalidInput(f"the document element must carry Id={DOCUMENT_ID!r}")
    existing = [el for el in container if el.tag == _DS_SIG]
    check_can_add(_existing_roles(existing), role)
    if level is not XAdESLevel.B_B and tsa is None:
        raise ConfigurationError(f"level {level} needs a timestamp authority (tsa=...)")
    chain = list(signer.certificate_chain)
    sig_id = next_signature_id(el.get("Id", "") for el in existing)
    doc_ref_id = f"{sig_id}-ref-doc"
    sp_id = f"{sig_id}-signedprops"
    references = [ReferenceSpec("#" + DOCUMENT_ID, id=doc_ref_id)]
    if role is SignerRole.ORGANISATION:
        references += [ReferenceSpec("#" + el.get("Id", "")) for el in existing]
    references.append(ReferenceSpec("#" + sp_id, type=SIGNED_PROPERTIES_TYPE))
    qp, _ = build_qualifying_properties(
        signature_id=sig_id,
        signed_properties_id=sp_id,
        signing_time=signing_time,
        signing_certificate=chain[0],
        role=role.value,
        document_reference_id=doc_ref_id,
    )
    sig_el = build_signature(
        container, signer, references=references, objects=[qp], signature_id=sig_id
    )
    placed = sig_el.find(f"{{{DS_NS}}}Object/{_X}QualifyingProperties")
    if placed is None:  # pragma: no cover - build_signature places the objects
        raise SigningError("the QualifyingProperties were not placed in the signature")
    qp = placed
    if level is XAdESLevel.B_B:
        return sig_el
    assert tsa is not None
    token = add_signature_timestamp(sig_el, qp, tsa)
    if level is XAdESLevel.B_LT:
        _add_long_term_data(qp, chain, token, revocation or RevocationSource(), signing_time)
    return sig_el


def _add_long_term_data(
    qp: etree._Element,
    chain: Sequence[x509.Certificate],
    token: bytes,
    source: RevocationSource,
    at: dt.datetime,
) -> None:
    pool = list(source.pool)
    signer_chain = complete_chain(chain, pool)
    tsa_certs = token_certificates(token)
    # The TSA's own certificate is the one that issued none of the others.
    leaves = [c for c in tsa_certs if not any(o.issuer == c.subject for o in tsa_certs)]
    tsa_chain = complete_chain(leaves[:1], tsa_certs + pool) if leaves else []
    every = signer_chain + [c for c in tsa_chain if c not in signer_chain]
    crls, ocsps, uncovered = covering_revocation_data(every, source.crls, source.ocsps)
    if uncovered and source.allow_fetching:
        got_crls, got_ocsps = fetch_revocation_data(uncovered, every, at)
        crls, ocsps, uncovered = covering_revocation_data(
            every, list(source.crls) + got_crls, list(source.ocsps) + got_ocsps
        )
    if uncovered:
        names = ", ".join(c.subject.rfc4514_string() for c in uncovered)
        raise ConfigurationError(
            f"B-LT needs revocation data for every certificate; none for: {names} "
            "(give CRLs/OCSP responses in the policy or allow fetching)"
        )
    add_validation_data(qp, certificates=every, crls=crls, ocsps=ocsps)
