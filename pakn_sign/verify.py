"""``verify`` and ``inspect``: one entry point for every signed format (DESIGN.md §4).

``verify(data, policy=...)`` raises a :class:`~pakn_sign.errors.VerificationError` subclass
on any failure and, on success, returns a frozen :class:`VerificationResult` holding exactly
the signed bytes and the document parsed from them. Callers never read the input again.
``inspect`` returns an auditor's :class:`~pakn_sign.trust.report.ValidationReport` and
never raises for a bad signature (only for input that cannot be read at all).

The format follows the first bytes: ``<`` XML (XAdES, :mod:`pakn_sign.verify_xades`),
``{`` JSON (JAdES, :mod:`pakn_sign.signing.jades_verify`), ``%PDF`` PDF (PAdES,
:mod:`pakn_sign.signing.pades_verify`); one ``_verify_<format>`` function each.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cryptography import x509

from .clock import SystemClock, ensure_aware
from .errors import InvalidInput
from .signing.algorithms import SignatureAlgorithm

if TYPE_CHECKING:
    from .models import Document
    from .trust.identity import SignerIdentity
    from .trust.policy import TrustPolicy
    from .trust.report import ValidationReport

__all__ = [
    "AnswerWithLetter",
    "SignatureInfo",
    "VerificationResult",
    "detect_format",
    "inspect",
    "verify",
    "verify_answer_with_letter",
]

SignatureFormat = Literal["xades", "jades", "pades"]
SignatureRoleName = Literal["personal", "organisation"]
SignatureLevel = Literal["B-B", "B-T", "B-LT", "B-LTA"]


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """One signature that passed every check (a failed one raises instead)."""

    id: str
    """The signature's ``Id`` (``sig-1``…), unique in the document."""
    role: SignatureRoleName
    """The claimed role (XAdES SignerRoleV2), checked against the order rule and the policy."""
    identity: SignerIdentity
    """Who signed, from the validated signing certificate."""
    chain: tuple[x509.Certificate, ...]
    """The validated path, signing certificate first, ending at a trust anchor."""
    algorithm: SignatureAlgorithm
    """The signature algorithm, on the policy's allow-list."""
    claimed_signing_time: dt.datetime | None
    """XAdES SigningTime: the signer's claim, not proof."""
    timestamp_time: dt.datetime | None
    """genTime of the verified RFC 3161 signature timestamp (B-T and above): proof of existence."""
    level: SignatureLevel
    """The baseline level the signature reached (ETSI EN 319 132-1 §6)."""


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """What a successful ``verify`` returns: only what was signed.

    There is no ``valid`` flag: a result exists only for a document whose every signature
    passed (cryptography: "if it is incorrect to ignore the result, raise").
    """

    format: SignatureFormat
    """``xades``, ``jades`` or ``pades``."""
    signed_bytes: bytes
    """Exactly the bytes the signatures cover (for XML: the canonical document element)."""
    document: Document
    """The model parsed (strictly) from ``signed_bytes``, never from the input."""
    signatures: tuple[SignatureInfo, ...]
    """Every signature, in document order (personal before organisation)."""

    @property
    def signer(self) -> SignerIdentity:
        """The last (outermost) signer: the organisation seal when there is one."""
        return self.signatures[-1].identity


@dataclass(frozen=True, slots=True)
class AnswerWithLetter:
    """An Answer and the PAdES letter it binds, both verified."""

    answer: VerificationResult
    """The verified Answer (XML or JSON)."""
    letter: VerificationResult
    """The verified PDF letter whose SHA-256 and size the Answer names."""


def verify_answer_with_letter(
    answer: bytes,
    letter: bytes,
    *,
    policy: TrustPolicy,
    at: dt.datetime | None = None,
) -> AnswerWithLetter:
    """Verify a signed Answer, the PDF letter it names, and the binding between them.

    The Answer's signatures cover ``letter.sha256`` and ``letter.size``; the PDF's own
    PAdES signatures are verified with the same policy.

    Raises:
        VerificationError: either fails, or the PDF is not the one the Answer binds
            (``InvalidSignature``, ``HASH_FAILURE``); ``InvalidInput`` if the Answer
            names no letter.
    """
    from .models import Answer
    from .signing.pades_verify import check_letter

    when = _at(at, policy)
    answer_result = verify(answer, policy=policy, expect=Answer, at=when)
    check_letter(answer_result.document, letter)
    if detect_format(letter) != "pades":
        raise InvalidInput("the letter is not a PDF")
    return AnswerWithLetter(answer_result, verify(letter, policy=policy, at=when))


def detect_format(data: bytes) -> SignatureFormat:
    """Name the signed format from the first bytes; ``InvalidInput`` if none fits."""
    head = bytes(data[:1024]).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF"):
        return "pades"
    if head.startswith(b"{"):
        return "jades"
    if head.startswith(b"<"):
        return "xades"
    raise InvalidInput("input is neither XML, JSON nor PDF (unknown first bytes)")


def _at(at: dt.datetime | None, policy: TrustPolicy) -> dt.datetime:
    # The public boundary is the one place "now" is read (brief: time is injected);
    # an explicit ``at`` wins over the policy's fixed validation time.
    if at is not None:
        return ensure_aware(at, name="at")
    if policy.validation_time is not None:
        return policy.validation_time
    return SystemClock().now()


def verify(
    data: bytes,
    *,
    policy: TrustPolicy,
    expect: type[Any] | None = None,
    at: dt.datetime | None = None,
) -> VerificationResult:
    """Verify every signature of a signed document and return what was signed.

    Args:
        data: the signed document, exactly as received (XML, JSON or PDF).
        policy: the trust policy (no default: trust is always explicit).
        expect: the document class the caller expects (``Answer``…); another kind raises
            ``PolicyViolation``.
        at: the validation time; ``None`` means ``policy.validation_time``, else now.

    Raises:
        InvalidInput: unreadable input (not XML/JSON/PDF, malformed, over the limits).
        InvalidSignature: a digest or signature value does not match, a signature is
            missing, moved or replaced, or there is no signature at all.
        UntrustedSigner: no valid path to an anchor (expired, revoked, unknown issuer).
        IndeterminateError: validity cannot be decided now (revocation unknown…).
        PolicyViolation: trusted, but the policy refuses it (algorithm, role, order, kind).
    """
    when = _at(at, policy)
    fmt = detect_format(data)
    if fmt == "xades":
        return _verify_xml(bytes(data), policy=policy, expect=expect, at=when)
    if fmt == "jades":
        return _verify_json(bytes(data), policy=policy, expect=expect, at=when)
    return _verify_pdf(bytes(data), policy=policy, expect=expect, at=when)


def inspect(data: bytes, *, policy: TrustPolicy, at: dt.datetime | None = None) -> ValidationReport:
    """Validate and report (ETSI EN 319 102-1 indications) without raising on a bad signature.

    Raises:
        InvalidInput: only when the input cannot be read at all.
    """
    when = _at(at, policy)
    fmt = detect_format(data)
    if fmt == "xades":
        return _inspect_xml(bytes(data), policy=policy, at=when)
    if fmt == "jades":
        from .signing.jades_verify import inspect_jades

        json_report: ValidationReport = inspect_jades(bytes(data), policy=policy, at=when)
        return json_report
    from .signing.pades_verify import inspect_pdf

    return inspect_pdf(bytes(data), policy=policy, at=when)


def _verify_xml(
    data: bytes, *, policy: TrustPolicy, expect: type[Any] | None, at: dt.datetime
) -> VerificationResult:
    return _xml_verifier()(data, policy=policy, expect=expect, at=at)


@functools.cache
def _xml_verifier() -> Callable[..., VerificationResult]:
    # Imported on first use (verify_xades imports this module); a function-level import
    # statement costs ~12K instructions on every call.
    from .verify_xades import verify_xades

    return verify_xades


def _inspect_xml(data: bytes, *, policy: TrustPolicy, at: dt.datetime) -> ValidationReport:
    from .verify_xades import inspect_xades

    report: ValidationReport = inspect_xades(data, policy=policy, at=at)
    return report


def _verify_json(
    data: bytes, *, policy: TrustPolicy, expect: type[Any] | None, at: dt.datetime
) -> VerificationResult:
    from .signing.jades_verify import verify_jades

    result: VerificationResult = verify_jades(data, policy=policy, expect=expect, at=at)
    return result


def _verify_pdf(
    data: bytes, *, policy: TrustPolicy, expect: type[Any] | None, at: dt.datetime
) -> VerificationResult:
    from .errors import PolicyViolation
    from .signing.pades_verify import verify_pdf

    result = verify_pdf(data, policy=policy, at=at)
    if expect is not None and not isinstance(result.document, expect):
        raise PolicyViolation(
            f"expected a {expect.__name__}, the signed PDF is not one",
            code="verify.unexpected_kind",
            sub_indication="SIG_CONSTRAINTS_FAILURE",
        )
    return result
