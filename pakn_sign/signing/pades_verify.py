"""Verify and inspect PAdES signatures; bind an Answer to its signed PDF letter.

``verify_pdf`` raises on the first failure and returns the shared
:class:`~pakn_sign.verify.VerificationResult` (format ``pades``) whose ``signed_bytes`` are
the revision the last signature covers; ``inspect_pdf`` reports every signature with ETSI
indications and never raises for a bad signature.

Rules (docs/pdf-signatures.md): every signature intact, valid and trusted; its coverage
the whole revision; later revisions only our later signatures, DSS updates and document
timestamps (pyHanko's difference analysis); personal signatures before the organisation
signature, at most one organisation signature; the policy's required roles and signers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import InvalidInput, InvalidSignature, PaknSignError, PolicyViolation
from .certload import load_der_certificate
from .pades import check_pdf_input, field_role
from .pades_checks import (
    CheckedSignature,
    DocumentData,
    check_document_timestamp,
    check_signature,
)

if TYPE_CHECKING:
    from ..trust.policy import TrustPolicy
    from ..trust.report import SignatureReport, ValidationReport
    from ..verify import VerificationResult

__all__ = ["SignedPdf", "check_letter", "inspect_pdf", "verify_pdf"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SignedPdf:
    """The ``document`` of a PAdES ``VerificationResult``: the signed revision, described."""

    sha256: str
    """SHA-256 (lowercase hex) of the *whole* verified file, as an Answer's ``letter`` binds it."""
    size: int
    """Size of the whole verified file in bytes."""
    signed_size: int
    """Bytes covered by the last signature (``signed_bytes``); the rest is DSS/timestamps."""
    pages: int
    """Pages in the signed revision."""


def _reader(data: bytes) -> Any:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    check_pdf_input(data)
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        encrypted = reader.encrypted
    except (PdfError, ArithmeticError, ValueError, LookupError, TypeError, AttributeError) as exc:
        # ArithmeticError: OverflowError (a huge startxref), decimal.InvalidOperation.
        raise InvalidInput(f"cannot read the PDF: {exc}") from exc
    if encrypted:
        raise InvalidInput("encrypted PDFs are not accepted")
    return reader


def _signatures(reader: Any) -> list[Any]:
    """The embedded signatures in signing order; unparsable ones are a FORMAT_FAILURE."""
    try:
        sigs = list(reader.embedded_signatures)
    except Exception as exc:  # asn1crypto/pyHanko on a mangled /Contents or field
        raise InvalidSignature(
            f"a signature in the PDF cannot be parsed: {exc}", sub_indication="FORMAT_FAILURE"
        ) from exc
    return sorted(sigs, key=lambda s: s.signed_revision)


def _document_data(reader: Any, at: dt.datetime) -> DocumentData:
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError

    try:
        dss = DocumentSecurityStore.read_dss(reader)
        # The DSS sits in an unsigned revision: everything read from it is hostile input
        # (pyHanko only reads issuer and serial; cryptography parses the whole certificate).
        certs = tuple(
            load_der_certificate(ref.get_object().data, what="DSS certificate")
            for ref in dss.certs.values()
        )
        crls = tuple(bytes(ref.get_object().data) for ref in dss.crls)
        ocsps = tuple(bytes(ref.get_object().data) for ref in dss.ocsps)
        dss_ref = reader.root.raw_get("/DSS")
        revision = (
            reader.xrefs.get_last_change(dss_ref.reference)
            if hasattr(dss_ref, "reference")
            else None
        )
    except NoDSSFoundError:
        return DocumentData(at, (), (), (), None)
    except Exception as exc:  # a malformed DSS is a format failure, not a crash
        raise InvalidSignature(
            f"the PDF's DSS cannot be read: {exc}", sub_indication="FORMAT_FAILURE"
        ) from exc
    return DocumentData(at, certs, crls, ocsps, revision)


def _role(checked: CheckedSignature) -> str:
    role = field_role(checked.field_name)
    if role is not None:
        return role
    # A foreign signer's field: an organisation certificate (UID=MST/MNS) means the seal.
    return "organisation" if checked.validated.identity.kind.value == "organisation" else "personal"


def _level(checked: CheckedSignature, doc: DocumentData, doc_ts_revisions: list[int]) -> str:
    if checked.timestamp_time is None:
        return "B-B"
    if doc.dss_revision is None or doc.dss_revision <= checked.revision:
        return "B-T"
    if any(r > checked.revision for r in doc_ts_revisions):
        return "B-LTA"
    return "B-LT"


def _check_order(roles: list[str], policy: TrustPolicy) -> None:
    # Decree 30/2020/NĐ-CP Art. 32: the clerk seals only what the official already signed.
    if roles.count("organisation") > 1:
        raise PolicyViolation(
            "more than one organisation signature", sub_indication="SIG_CONSTRAINTS_FAILURE"
        )
    if "organisation" in roles and roles.index("organisation") != len(roles) - 1:
        raise PolicyViolation(
            "a personal signature follows the organisation signature (Decree 30/2020 Art. 32)",
            sub_indication="SIG_CONSTRAINTS_FAILURE",
            code="verify.signature_order",
        )
    missing = set(policy.required_roles) - set(roles)
    if missing:
        raise PolicyViolation(
            f"required signature roles missing: {sorted(missing)}",
            sub_indication="SIG_CONSTRAINTS_FAILURE",
            code="verify.role_missing",
        )


def _guarded(check: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a pyHanko-backed check; its own errors on hostile input are a FORMAT_FAILURE."""
    try:
        return check(*args, **kwargs)
    except PaknSignError:
        raise
    except Exception as exc:  # pyHanko/asn1crypto/cryptography internals (as inspect_pdf does)
        raise InvalidSignature(
            f"{type(exc).__name__}: {exc}", sub_indication="FORMAT_FAILURE"
        ) from exc


def _when(at: dt.datetime | None, policy: TrustPolicy) -> dt.datetime:
    from ..clock import SystemClock, ensure_aware

    if at is not None:
        return ensure_aware(at, name="at")
    return policy.validation_time or SystemClock().now()


def verify_pdf(
    data: bytes, *, policy: TrustPolicy, at: dt.datetime | None = None
) -> VerificationResult:
    """Verify every signature of a signed PDF; raise on any failure.

    Raises:
        InvalidInput: not a PDF, too large, encrypted, unreadable.
        InvalidSignature: no signature, digest/signature mismatch, ByteRange not covering the
            revision, content changed after signing (FORMAT_FAILURE).
        UntrustedSigner / IndeterminateError: chain or timestamp authority not trusted.
        PolicyViolation: algorithm, annotations or form filling after signing, order, roles.
    """
    from ..verify import SignatureInfo, VerificationResult

    data = bytes(data)
    when = _when(at, policy)
    reader = _reader(data)
    sigs = _signatures(reader)
    regular = [s for s in sigs if s.sig_object_type == "/Sig"]
    if not regular:
        raise InvalidSignature(
            "the PDF carries no signature", sub_indication="SIGNED_DATA_NOT_FOUND"
        )
    doc = _document_data(reader, when)
    checked = [_guarded(check_signature, s, sigs, policy=policy, doc=doc) for s in regular]
    ts_revisions = []
    for s in sigs:
        if s.sig_object_type == "/DocTimeStamp":
            _guarded(check_document_timestamp, s, sigs, policy=policy, doc=doc)
            ts_revisions.append(s.signed_revision)
    roles = [_role(c) for c in checked]
    _check_order(roles, policy)
    infos = []
    for c, role in zip(checked, roles, strict=True):
        policy.check_signer(c.validated.identity, role=role)
        infos.append(
            SignatureInfo(
                id=c.field_name,
                role=role,  # type: ignore[arg-type]
                identity=c.validated.identity,
                chain=tuple(c.validated.chain),
                algorithm=c.algorithm,
                claimed_signing_time=c.claimed_time,
                timestamp_time=c.timestamp_time,
                level=_level(c, doc, ts_revisions),  # type: ignore[arg-type]
            )
        )
    signed = data[: checked[-1].signed_end]
    document = SignedPdf(
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        signed_size=len(signed),
        pages=_pages(reader, checked[-1].revision),
    )
    return VerificationResult(
        format="pades",
        signed_bytes=signed,
        document=document,  # type: ignore[arg-type]  # verify.Document does not name PDFs yet
        signatures=tuple(infos),
    )


def _pages(reader: Any, revision: int) -> int:
    try:
        hist = reader.get_historical_root(revision)
        return int(hist["/Pages"]["/Count"])
    except Exception:  # an unreadable historical root cannot hide pages: count the current
        return int(reader.root["/Pages"]["/Count"])


def inspect_pdf(
    data: bytes, *, policy: TrustPolicy, at: dt.datetime | None = None
) -> ValidationReport:
    """A report with ETSI indications per signature; raises only for unreadable input."""
    from ..trust.report import Finding, SubIndication, ValidationReport

    data = bytes(data)
    when = _when(at, policy)
    reader = _reader(data)
    reports: list[SignatureReport] = []
    findings: list[Finding] = []
    try:
        sigs = _signatures(reader)
    except InvalidSignature as exc:
        findings.append(Finding(exc.code, exc.message, SubIndication.FORMAT_FAILURE))
        sigs = []
    try:
        doc = _document_data(reader, when)
    except PaknSignError as exc:
        findings.append(Finding(exc.code, exc.message, SubIndication.FORMAT_FAILURE))
        doc = DocumentData(when, (), (), (), None)
    ts_revisions = [s.signed_revision for s in sigs if s.sig_object_type == "/DocTimeStamp"]
    roles: list[str] = []
    for s in sigs:
        if s.sig_object_type == "/DocTimeStamp":
            reports.append(_inspect_doc_ts(s, sigs, policy, doc))
            continue
        reports.append(_inspect_one(s, sigs, policy, doc, ts_revisions))
        if reports[-1].role:
            roles.append(reports[-1].role)
    try:
        _check_order(roles, policy)
    except PolicyViolation as exc:
        findings.append(Finding(exc.code, exc.message, SubIndication.SIG_CONSTRAINTS_FAILURE))
    return ValidationReport.from_signatures(
        reports, validation_time=when, document_kind="pdf", findings=findings
    )


def _inspect_one(
    s: Any, sigs: list[Any], policy: TrustPolicy, doc: DocumentData, ts_revisions: list[int]
) -> SignatureReport:
    from ..trust.report import Finding, Indication, SignatureReport

    scope = (f"ByteRange {list(s.byte_range)}", f"revision {s.signed_revision + 1}")
    role = field_role(s.field_name)
    try:
        c = check_signature(s, sigs, policy=policy, doc=doc)
        role = _role(c)
        policy.check_signer(c.validated.identity, role=role)
    except PaknSignError as exc:
        return SignatureReport.from_error(s.field_name, exc, role=role, scope=scope)
    except Exception as exc:  # pyHanko internals on hostile input: a format failure
        err = InvalidSignature(f"{type(exc).__name__}: {exc}", sub_indication="FORMAT_FAILURE")
        return SignatureReport.from_error(s.field_name, err, role=role, scope=scope)
    notes = (
        Finding("pdf.coverage", f"signature covers {c.coverage}"),
        Finding("pdf.modification", f"later changes: {c.modification}"),
    )
    return SignatureReport(
        id=c.field_name,
        indication=Indication.TOTAL_PASSED,
        role=role,
        identity=c.validated.identity,
        signing_time=c.claimed_time,
        timestamp_time=c.timestamp_time,
        level=_level(c, doc, ts_revisions),
        scope=(*scope, c.coverage, c.modification),
        chain=tuple(c.validated.chain),
        findings=notes,
    )


def _inspect_doc_ts(
    s: Any, sigs: list[Any], policy: TrustPolicy, doc: DocumentData
) -> SignatureReport:
    from ..trust.report import Indication, SignatureReport

    scope = (f"ByteRange {list(s.byte_range)}", "document timestamp")
    try:
        when = _guarded(check_document_timestamp, s, sigs, policy=policy, doc=doc)
    except PaknSignError as exc:
        return SignatureReport.from_error(s.field_name, exc, scope=scope)
    return SignatureReport(
        id=s.field_name, indication=Indication.TOTAL_PASSED, timestamp_time=when, scope=scope
    )


def check_letter(answer: Any, pdf_bytes: bytes) -> None:
    """Check that ``pdf_bytes`` is the letter ``answer.letter`` binds (SHA-256 and size).

    Verify the Answer (``verify``) and the PDF (``verify_pdf``) separately; this binds them.

    Raises:
        InvalidInput: the Answer names no letter.
        InvalidSignature: size or digest differ (HASH_FAILURE).
    """
    letter = getattr(answer, "letter", None)
    if letter is None:
        raise InvalidInput("the answer carries no PDF letter")
    data = bytes(pdf_bytes)
    if len(data) != letter.size:
        raise InvalidSignature(
            f"letter size mismatch: the answer binds {letter.size} bytes, got {len(data)}",
            sub_indication="HASH_FAILURE",
            code="verify.letter_mismatch",
        )
    if hashlib.sha256(data).hexdigest() != letter.sha256:
        raise InvalidSignature(
            "letter digest mismatch: the PDF is not the one the answer binds",
            sub_indication="HASH_FAILURE",
            code="verify.letter_mismatch",
        )
