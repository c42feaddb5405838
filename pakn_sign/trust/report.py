"""Validation reports for auditors: ETSI EN 319 102-1 indications, per signature and overall.

A report is never the gate (``verify()`` raises); it explains. Overall rule:

1. no signature at all -> TOTAL_FAILED / SIGNED_DATA_NOT_FOUND;
2. any signature TOTAL_FAILED -> TOTAL_FAILED (with that signature's sub-indication);
3. else any INDETERMINATE -> INDETERMINATE (with that signature's sub-indication);
4. else TOTAL_PASSED.

Renderings: ``to_dict``/``to_json`` (shape of DESIGN.md §7 ``verify --json``, schema in
``schemas/report.schema.json``), ``to_text`` and ``to_html`` (one self-contained page).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..clock import VN_TZ
from ..errors import PaknSignError, VerificationError
from .identity import SignerIdentity

__all__ = [
    "INDICATION_OF",
    "Finding",
    "Indication",
    "SignatureReport",
    "SubIndication",
    "ValidationReport",
    "certificate_entry",
]


class Indication(enum.StrEnum):
    """ETSI EN 319 102-1 §5.1.3 main status indications."""

    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"


class SubIndication(enum.StrEnum):
    """ETSI EN 319 102-1 §5.1.3 Table 5 sub-indications (the ones pakn_sign produces)."""

    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    NO_POE = "NO_POE"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    TIMESTAMP_ORDER_FAILURE = "TIMESTAMP_ORDER_FAILURE"
    POLICY_PROCESSING_ERROR = "POLICY_PROCESSING_ERROR"


_F, _I = Indication.TOTAL_FAILED, Indication.INDETERMINATE
INDICATION_OF: dict[SubIndication, Indication] = {
    # EN 319 102-1 Table 5: TOTAL-FAILED sub-indications
    SubIndication.FORMAT_FAILURE: _F,
    SubIndication.HASH_FAILURE: _F,
    SubIndication.SIG_CRYPTO_FAILURE: _F,
    SubIndication.REVOKED: _F,
    SubIndication.NOT_YET_VALID: _F,
    SubIndication.EXPIRED: _F,
    # everything else is INDETERMINATE (more data or a POE could change the outcome)
    **{
        s: _I
        for s in SubIndication
        if s.name
        not in (
            "FORMAT_FAILURE",
            "HASH_FAILURE",
            "SIG_CRYPTO_FAILURE",
            "REVOKED",
            "NOT_YET_VALID",
            "EXPIRED",
        )
    },
}
"""Which main indication each sub-indication belongs to (EN 319 102-1 §5.1.3)."""


@dataclass(frozen=True)
class Finding:
    """One observation, with a stable ``key`` (``chain.revoked``) for translation and tests."""

    key: str
    """Stable message key, e.g. ``signature.hash_mismatch`` or an error ``code``."""
    message: str
    """Human-readable English sentence (expected vs found)."""
    sub_indication: SubIndication | None = None
    """The sub-indication this finding justifies, if any."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "key": self.key,
            "message": self.message,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def certificate_entry(cert: x509.Certificate) -> dict[str, Any]:
    """A certificate as a report shows it: names, serial, validity, SHA-256 fingerprint."""
    der = cert.public_bytes(serialization.Encoding.DER)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "X"),
        "not_before": _iso(cert.not_valid_before_utc),
        "not_after": _iso(cert.not_valid_after_utc),
        "sha256": hashlib.sha256(der).hexdigest(),
    }


def _sub(value: SubIndication | str | None) -> SubIndication | None:
    if value is None:
        return None
    try:
        return SubIndication(value)
    except ValueError:
        return SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE


@dataclass(frozen=True)
class SignatureReport:
    """The outcome for one signature (or one certificate, for ``cert verify``)."""

    id: str
    """Signature Id (``sig-1``) or a label."""
    indication: Indication
    """TOTAL_PASSED, TOTAL_FAILED or INDETERMINATE."""
    sub_indication: SubIndication | None = None
    """Why, when not TOTAL_PASSED."""
    role: str | None = None
    """``personal`` or ``organisation`` (DESIGN.md §4)."""
    identity: SignerIdentity | None = None
    """The signer's typed identity."""
    signing_time: dt.datetime | None = None
    """The claimed signing time (not proof)."""
    timestamp_time: dt.datetime | None = None
    """The RFC 3161 signature timestamp (proof of existence)."""
    level: str | None = None
    """B-B, B-T, B-LT, B-LTA."""
    scope: tuple[str, ...] = ()
    """What the signature covers (``#pakn-doc``, ``#sig-1``)."""
    chain: tuple[x509.Certificate, ...] = ()
    """Leaf first; empty when no chain was built."""
    findings: tuple[Finding, ...] = ()
    """Observations, failures first."""

    @classmethod
    def from_error(cls, id: str, error: PaknSignError, **kw: Any) -> SignatureReport:
        """A failed/indeterminate report from a raised error (its sub-indication decides)."""
        sub = _sub(getattr(error, "sub_indication", None))
        if sub is None:
            sub = (
                SubIndication.SIG_CRYPTO_FAILURE
                if isinstance(error, VerificationError)
                else SubIndication.FORMAT_FAILURE
            )
        finding = Finding(error.code, error.message, sub)
        findings = (finding, *kw.pop("findings", ()))
        return cls(
            id=id, indication=INDICATION_OF[sub], sub_indication=sub, findings=findings, **kw
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``signatures[]`` item of DESIGN.md §7."""
        ident = self.identity
        leaf = self.chain[0] if self.chain else None
        return {
            "id": self.id,
            "role": self.role,
            "indication": self.indication.value,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
            "signer": {
                "subject": ident.subject
                if ident
                else (leaf.subject.rfc4514_string() if leaf else None),
                "issuer": ident.issuer
                if ident and ident.issuer
                else (leaf.issuer.rfc4514_string() if leaf else None),
                "serial": ident.serial
                if ident and ident.serial
                else (format(leaf.serial_number, "X") if leaf else None),
                "kind": ident.kind.value if ident else None,
                "common_name": ident.common_name if ident else None,
                "organization": ident.organization if ident else None,
                "identifiers": ident.identifiers if ident else {},
            },
            "signing_time": _iso(self.signing_time),
            "timestamp_time": _iso(self.timestamp_time),
            "level": self.level,
            "scope": list(self.scope),
            "chain": [certificate_entry(c) for c in self.chain],
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class ValidationReport:
    """The whole document's outcome; build it with :meth:`from_signatures`."""

    indication: Indication
    """Overall indication (module docstring rule)."""
    sub_indication: SubIndication | None
    """Overall sub-indication."""
    validation_time: dt.datetime
    """When the validation was made for."""
    document_kind: str | None = None
    """``petition``, ``answer``… or ``certificate`` for ``cert verify``."""
    document_id: str | None = None
    """The document's id."""
    signatures: tuple[SignatureReport, ...] = ()
    """One entry per signature found."""
    findings: tuple[Finding, ...] = field(default=())
    """Document-level observations (format errors, missing roles)."""

    @classmethod
    def from_signatures(
        cls,
        signatures: Iterable[SignatureReport],
        *,
        validation_time: dt.datetime,
        document_kind: str | None = None,
        document_id: str | None = None,
        findings: Sequence[Finding] = (),
    ) -> ValidationReport:
        """Compute the overall indication by the rule in the module docstring."""
        sigs = tuple(signatures)
        doc_findings = tuple(findings)
        if not sigs and not any(f.sub_indication for f in doc_findings):
            doc_findings += (
                Finding(
                    "document.no_signature",
                    "no signature was found",
                    SubIndication.SIGNED_DATA_NOT_FOUND,
                ),
            )
        outcomes = [
            (INDICATION_OF[f.sub_indication], f.sub_indication)
            for f in doc_findings
            if f.sub_indication is not None
        ] + [(s.indication, s.sub_indication) for s in sigs]
        ind, overall = Indication.TOTAL_PASSED, None
        for wanted in (Indication.TOTAL_FAILED, Indication.INDETERMINATE):
            hit = next((o for o in outcomes if o[0] is wanted), None)
            if hit is not None:
                ind, overall = hit
                break
        if not sigs and ind is not Indication.TOTAL_FAILED:
            # zero signatures is a failure, never a pass or a maybe (DESIGN.md §8)
            ind, overall = Indication.TOTAL_FAILED, SubIndication.SIGNED_DATA_NOT_FOUND
        return cls(ind, overall, validation_time, document_kind, document_id, sigs, doc_findings)

    def to_dict(self) -> dict[str, Any]:
        """The object ``verify --json`` prints (DESIGN.md §7)."""
        return {
            "indication": self.indication.value,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
            "validation_time": _iso(self.validation_time),
            "document": {"kind": self.document_kind, "id": self.document_id},
            "signatures": [s.to_dict() for s in self.signatures],
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, UTF-8 text, no ASCII escaping)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, indent=2)

    def to_text(self) -> str:
        """Plain text for terminals and logs."""
        from .report_text import render_text

        return render_text(self)

    def to_html(self) -> str:
        """One self-contained HTML page (inline CSS, no scripts, everything escaped)."""
        from .report_html import render_html

        return render_html(self)


def vn_time(value: dt.datetime | None) -> str:
    """``2026-11-20 16:30:00 (UTC+07) / 2026-11-20 09:30:00Z``, or ``-``."""
    if value is None:
        return "-"
    local = value.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M:%S")
    utc = value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return f"{local} (Asia/Ho_Chi_Minh) / {utc}"
