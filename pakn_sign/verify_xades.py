"""Verify a ``<pakn:Signed>`` XML document: every signature, their order, the policy.

The pipeline (numbered as the checks run; DESIGN.md §4, §8):

1. Parse the untrusted bytes once with the hardened parser.
2. The container is exactly one PAKN document element then one or more ``ds:Signature``
   (nothing else: no second document, no comments or PIs, no text). Zero signatures fail.
3. Each signature: XMLDSig core, SignedProperties binding, SigningCertificateV2, the
   scope of its References (the document, its own SignedProperties, earlier signatures).
4. Each signature: algorithm policy, SignatureTimeStamp(s) (B-T), the signer's chain
   with embedded revocation data (B-LT), the policy's signer requirements.
5. Order: personal before organisation; an organisation signature covers every earlier
   signature (Decree 30/2020 Art. 32). Required roles present.
6. Every signature digested the same canonical document bytes: those are ``signed_bytes``,
   and the model is parsed from them (never from the input).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .codec.xmlcodec import SIGNED_TAG, document_from_signed, from_xml
from .codec.xmlparse import parse_xml
from .errors import (
    IndeterminateError,
    InvalidInput,
    InvalidSignature,
    PolicyViolation,
    VerificationError,
)
from .signing.c14n import C14NMethod, canonicalize
from .signing.xades_order import SignatureSlot, check_order
from .signing.xades_props import DS_NS
from .signing.xades_verify import CheckedXAdES, allowed_digests, check_pakn_signature
from .trust.paths import ValidatedChain, validate_chain
from .trust.policy import TrustPolicy
from .trust.report import Finding, Indication, SignatureReport, SubIndication, ValidationReport
from .verify import SignatureInfo, SignatureLevel, VerificationResult

__all__ = [
    "SignatureOutcome",
    "inspect_xades",
    "verify_signatures",
    "verify_xades",
]

_DS_SIGNATURE = "{" + DS_NS + "}Signature"
_FORMAT = "FORMAT_FAILURE"
_CLOCK_SKEW = dt.timedelta(minutes=5)
"""Tolerated difference between the signer's and the TSA's clocks."""


@dataclass(frozen=True, slots=True)
class SignatureOutcome:
    """One signature's result: ``info`` when it passed, else the ``error`` it raised."""

    id: str
    element: etree._Element
    checked: CheckedXAdES | None
    info: SignatureInfo | None
    error: VerificationError | None


def split_container(root: etree._Element) -> tuple[etree._Element, list[etree._Element]]:
    """The document element and the signatures of a ``pakn:Signed`` container (step 2).

    Raises:
        InvalidSignature: not a container, zero signatures, or anything beyond one document
            followed by signatures (FORMAT_FAILURE: the wrapping defences).
    """
    if root.tag != SIGNED_TAG:
        raise InvalidSignature(
            "the document carries no signature (no pakn:Signed container)",
            code="verify.no_signature",
            sub_indication=_FORMAT,
        )
    if (root.text or "").strip():
        raise InvalidSignature("text inside pakn:Signed", sub_indication=_FORMAT)
    doc: etree._Element | None = None
    sigs: list[etree._Element] = []
    for child in root:
        if not isinstance(child.tag, str):
            raise InvalidSignature(
                "comments and processing instructions are not allowed in pakn:Signed",
                sub_indication=_FORMAT,
            )
        if (child.tail or "").strip():
            raise InvalidSignature("text inside pakn:Signed", sub_indication=_FORMAT)
        if child.tag == _DS_SIGNATURE:
            if doc is None:
                raise InvalidSignature(
                    "a ds:Signature precedes the document", sub_indication=_FORMAT
                )
            sigs.append(child)
        elif (
            doc is None
            and child.tag != SIGNED_TAG
            and etree.QName(child).namespace == etree.QName(root).namespace
        ):
            doc = child
        else:
            raise InvalidSignature(
                f"unexpected element {child.tag} in pakn:Signed (exactly one document, "
                "then signatures)",
                code="verify.wrapping",
                sub_indication=_FORMAT,
            )
    ids = [sig.get("Id") for sig in sigs]
    if None in ids or len(set(ids)) != len(ids):
        raise InvalidSignature(
            f"every ds:Signature needs its own Id; found {ids}",
            code="verify.wrapping",
            sub_indication=_FORMAT,
        )
    if doc is None or not sigs:
        raise InvalidSignature(
            "pakn:Signed holds no document or no signature",
            code="verify.no_signature",
            sub_indication=_FORMAT,
        )
    return doc, sigs


def _timestamp_time(
    checked: CheckedXAdES, policy: TrustPolicy, at: dt.datetime
) -> dt.datetime | None:
    """Verify every SignatureTimeStamp over the canonical SignatureValue (EN 319 132-1 §5.3)."""
    unsigned = checked.core.unsigned
    if not unsigned.signature_timestamps:
        return None
    from .signing.timestamps import verify_timestamp

    sv = checked.core.verified.signature.find("{" + DS_NS + "}SignatureValue")
    assert sv is not None  # the XMLDSig core verified it
    ts_policy = policy
    if unsigned.crls or unsigned.ocsps or unsigned.certificate_values:
        # B-LT: the TSA's chain and revocation data travel with the signature too.
        ts_policy = policy.replace(
            crls=policy.crls + unsigned.crls,
            ocsps=policy.ocsps + unsigned.ocsps,
            intermediates=policy.intermediates + tuple(checked.candidates),
        )
    earliest: dt.datetime | None = None
    for c14n_uri, token in unsigned.signature_timestamps:
        data = canonicalize(sv, C14NMethod.from_uri(c14n_uri), with_comments=False)
        info = verify_timestamp(token, data, policy=ts_policy, at=at)
        earliest = info.time if earliest is None else min(earliest, info.time)
    return earliest


def _level(checked: CheckedXAdES, ts_time: dt.datetime | None) -> SignatureLevel:
    u = checked.core.unsigned
    if ts_time is None:
        return "B-B"
    if u.certificate_values and (u.crls or u.ocsps):
        return "B-LT"
    return "B-T"


def _verify_one(
    sig_el: etree._Element,
    *,
    document: etree._Element,
    earlier: dict[str, etree._Element],
    policy: TrustPolicy,
    at: dt.datetime,
) -> tuple[CheckedXAdES, SignatureInfo]:
    try:
        checked = check_pakn_signature(
            sig_el,
            document=document,
            earlier=earlier,
            allowed_algorithms=policy.allowed_algorithms,
            allowed_digests=allowed_digests(policy),
        )
    except InvalidInput as exc:
        if exc.code == "xmldsig.reference_target":
            # A Reference whose target is gone or duplicated: a signature was removed,
            # or an element was wrapped in; either way the signature does not hold.
            raise InvalidSignature(
                exc.message, location=sig_el.get("Id"), sub_indication=_FORMAT
            ) from exc
        raise
    policy.check_algorithm(checked.algorithm, checked.certificate.public_key())
    ts_time = _timestamp_time(checked, policy, at)
    claimed = checked.core.signed_properties.signing_time
    if ts_time is not None and claimed is not None and claimed > ts_time + _CLOCK_SKEW:
        # EN 319 102-1 §5.5: the claimed signing time must precede the signature timestamp.
        raise IndeterminateError(
            f"SigningTime {claimed.isoformat()} is after the signature timestamp "
            f"{ts_time.isoformat()}",
            location=checked.id,
            code="verify.signing_time_order",
            sub_indication="TIMESTAMP_ORDER_FAILURE",
        )
    unsigned = checked.core.unsigned

    def chain_at(when: dt.datetime) -> ValidatedChain:
        return validate_chain(
            checked.certificate,
            policy=policy,
            candidates=checked.candidates,
            at=when,
            extra_crls=unsigned.crls + checked.core.verified.key_info.crls_der,
            extra_ocsps=unsigned.ocsps,
        )

    try:
        chain = chain_at(at)
    except IndeterminateError as exc:
        if ts_time is None or exc.sub_indication != "OUT_OF_BOUNDS_NO_POE":
            raise
        # EN 319 102-1 §5.6.2.4 (past signature validation), simplified: the verified
        # signature timestamp proves the signature existed at ts_time; validate then.
        chain = chain_at(ts_time)
    policy.check_signer(chain.identity, role=checked.role.value)
    info = SignatureInfo(
        id=checked.id,
        role=checked.role.value,
        identity=chain.identity,
        chain=chain.chain,
        algorithm=checked.algorithm,
        claimed_signing_time=checked.core.signed_properties.signing_time,
        timestamp_time=ts_time,
        level=_level(checked, ts_time),
    )
    return checked, info


def verify_signatures(
    root: etree._Element, *, policy: TrustPolicy, at: dt.datetime
) -> tuple[etree._Element, list[SignatureOutcome]]:
    """Steps 2-4 for every signature; never raises for one bad signature (step 2 may)."""
    document, sigs = split_container(root)
    earlier: dict[str, etree._Element] = {}
    outcomes: list[SignatureOutcome] = []
    for sig_el in sigs:
        sid = sig_el.get("Id") or f"#{len(outcomes) + 1}"
        try:
            checked, info = _verify_one(
                sig_el, document=document, earlier=dict(earlier), policy=policy, at=at
            )
            outcomes.append(SignatureOutcome(sid, sig_el, checked, info, None))
        except VerificationError as exc:
            outcomes.append(SignatureOutcome(sid, sig_el, None, None, exc))
        earlier[sid] = sig_el
    return document, outcomes


def check_document_rules(outcomes: list[SignatureOutcome], policy: TrustPolicy) -> bytes:
    """Steps 5-6 over signatures that all passed; returns the common signed bytes."""
    checked = [o.checked for o in outcomes if o.checked is not None]
    check_order([SignatureSlot(c.id, c.role, c.covers) for c in checked])
    present = {c.role.value for c in checked}
    missing = sorted(set(policy.required_roles) - present)
    if missing:
        raise PolicyViolation(
            f"the policy requires {missing} signature(s); the document carries {sorted(present)}",
            code="verify.missing_role",
            sub_indication="SIG_CONSTRAINTS_FAILURE",
        )
    signed = {c.document_reference.canonical for c in checked}
    if len(signed) != 1:
        raise InvalidSignature(
            "the signatures cover different canonical forms of the document",
            sub_indication=_FORMAT,
        )
    return signed.pop()


def verify_xades(
    data: bytes, *, policy: TrustPolicy, expect: type[Any] | None, at: dt.datetime
) -> VerificationResult:
    """``verify`` for XML (see :func:`pakn_sign.verify.verify` for the contract)."""
    root = parse_xml(data).getroot()
    document_el, outcomes = verify_signatures(root, policy=policy, at=at)
    for o in outcomes:
        if o.error is not None:
            raise o.error
    signed_bytes = check_document_rules(outcomes, policy)
    # Step 6: the model of exactly the signed octets; every document Reference digested
    # them from ``document_el`` (check_pakn_signature), so it is mapped from there when
    # that provably gives the same model (else parsed from the octets).
    document = document_from_signed(document_el, signed_bytes)
    if expect is not None and not isinstance(document, expect):
        raise PolicyViolation(
            f"expected a {expect.__name__}, the signed document is a {type(document).__name__}",
            code="verify.unexpected_kind",
            sub_indication="SIG_CONSTRAINTS_FAILURE",
        )
    infos = tuple(o.info for o in outcomes if o.info is not None)
    return VerificationResult(
        format="xades", signed_bytes=signed_bytes, document=document, signatures=infos
    )


def _sub(exc: VerificationError | InvalidInput) -> SubIndication:
    raw = getattr(exc, "sub_indication", None)
    try:
        return SubIndication(raw) if raw else SubIndication.FORMAT_FAILURE
    except ValueError:
        return SubIndication.FORMAT_FAILURE


def _kind_and_id(document: etree._Element | None) -> tuple[str | None, str | None]:
    # Informative only (the report names what it looked at); never a signed claim.
    if document is None:
        return None, None
    from .models import DOCUMENT_TYPES

    local = etree.QName(document).localname
    kind = next((k for k, cls in DOCUMENT_TYPES.items() if cls.__name__ == local), None)
    doc_id = document.findtext(f"{{{etree.QName(document).namespace}}}DocumentId")
    return kind, doc_id


def _passed(o: SignatureOutcome) -> SignatureReport:
    assert o.info is not None
    assert o.checked is not None
    refs = o.checked.core.verified.references
    return SignatureReport(
        id=o.id,
        indication=Indication.TOTAL_PASSED,
        role=o.info.role,
        identity=o.info.identity,
        signing_time=o.info.claimed_signing_time,
        timestamp_time=o.info.timestamp_time,
        level=o.info.level,
        scope=tuple(r.uri for r in refs),
        chain=o.info.chain,
    )


def inspect_xades(data: bytes, *, policy: TrustPolicy, at: dt.datetime) -> ValidationReport:
    """``inspect`` for XML: an ETSI EN 319 102-1 style report.

    Raises:
        InvalidInput: only when the bytes are not readable XML.
    """
    root = parse_xml(data).getroot()
    try:
        document, outcomes = verify_signatures(root, policy=policy, at=at)
    except VerificationError as exc:
        finding = Finding(exc.code, exc.message, _sub(exc))
        return ValidationReport.from_signatures([], validation_time=at, findings=[finding])
    reports = [
        _passed(o) if o.error is None else SignatureReport.from_error(o.id, o.error)
        for o in outcomes
    ]
    kind, doc_id = _kind_and_id(document)
    findings: list[Finding] = []
    if all(o.error is None for o in outcomes):
        try:
            signed_bytes = check_document_rules(outcomes, policy)
            from_xml(signed_bytes)
        except (VerificationError, InvalidInput) as exc:
            findings.append(Finding(exc.code, exc.message, _sub(exc)))
    return ValidationReport.from_signatures(
        reports,
        validation_time=at,
        document_kind=kind,
        document_id=doc_id,
        findings=findings,
    )
