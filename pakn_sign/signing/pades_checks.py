"""One PDF signature, checked: integrity, coverage, later changes, chain, timestamp, level.

pyHanko answers the PDF questions (ByteRange digest, CMS signature, coverage, and the
difference analysis of every later revision); our ``validate_chain`` answers trust, so
PDF signatures get the same identities, caches and sub-indications as XAdES and JAdES.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from ..errors import (
    IndeterminateError,
    InvalidSignature,
    PaknSignError,
    PolicyViolation,
    UnsupportedFeature,
)
from .algorithms import SignatureAlgorithm
from .certload import load_der_certificate
from .pades_diff import PAKN_DIFF_POLICY

__all__ = ["CheckedSignature", "DocumentData", "check_signature", "check_timestamp"]

_ALGS = {
    ("rsassa_pkcs1v15", "sha1"): SignatureAlgorithm.RSA_SHA1,
    ("rsassa_pkcs1v15", "sha256"): SignatureAlgorithm.RSA_SHA256,
    ("rsassa_pkcs1v15", "sha384"): SignatureAlgorithm.RSA_SHA384,
    ("rsassa_pkcs1v15", "sha512"): SignatureAlgorithm.RSA_SHA512,
    ("rsassa_pss", "sha256"): SignatureAlgorithm.RSA_PSS_SHA256,
    ("rsassa_pss", "sha384"): SignatureAlgorithm.RSA_PSS_SHA384,
    ("rsassa_pss", "sha512"): SignatureAlgorithm.RSA_PSS_SHA512,
    ("ecdsa", "sha1"): SignatureAlgorithm.ECDSA_SHA1,
    ("ecdsa", "sha256"): SignatureAlgorithm.ECDSA_SHA256,
    ("ecdsa", "sha384"): SignatureAlgorithm.ECDSA_SHA384,
    ("ecdsa", "sha512"): SignatureAlgorithm.ECDSA_SHA512,
    ("ed25519", "sha512"): SignatureAlgorithm.ED25519,
}


@dataclass(frozen=True)
class DocumentData:
    """What every signature of one PDF shares: DSS contents and the validation time."""

    at: dt.datetime
    dss_certs: tuple[x509.Certificate, ...]
    dss_crls: tuple[bytes, ...]
    dss_ocsps: tuple[bytes, ...]
    dss_revision: int | None
    """The revision that last changed the DSS (None: no DSS)."""


@dataclass(frozen=True)
class CheckedSignature:
    """A signature that passed: everything ``SignatureInfo`` and the report need."""

    field_name: str
    validated: Any  # trust.paths.ValidatedChain
    algorithm: SignatureAlgorithm
    claimed_time: dt.datetime | None
    timestamp_time: dt.datetime | None
    coverage: str
    modification: str
    signed_end: int
    """Offset just after the signed revision: ``data[:signed_end]`` is what was signed."""
    revision: int


def _crypto(cert: Any) -> x509.Certificate:
    return load_der_certificate(cert.dump(), what="PDF signature certificate")


def signature_algorithm(emb: Any) -> SignatureAlgorithm:
    """Our algorithm enum for an embedded CMS signature (unknown ones are unsupported)."""
    mech = emb.signer_info["signature_algorithm"]
    try:
        name = mech.signature_algo
    except ValueError:
        name = mech["algorithm"].native
    md = emb.md_algorithm
    alg = _ALGS.get((name, "sha512" if name == "ed25519" else md))
    if alg is None:
        raise UnsupportedFeature(f"PDF signature algorithm {name}/{md} is not supported")
    return alg


def _validation_context(policy: Any, doc: DocumentData, emb: Any) -> Any:
    from ..trust.paths import build_validation_context

    embedded = [_crypto(c) for c in emb.other_embedded_certs]
    return build_validation_context(
        policy,
        moment=doc.at,
        candidates=[*embedded, *doc.dss_certs],
        extra_crls=doc.dss_crls,
        extra_ocsps=doc.dss_ocsps,
    )


def _later_fields(emb: Any, all_sigs: list[Any]) -> set[str]:
    return {s.field_name for s in all_sigs if s.signed_revision > emb.signed_revision}


def _check_modifications(status: Any, emb: Any, later: set[str]) -> tuple[str, str]:
    from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    coverage = status.coverage
    if coverage is None or coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        raise InvalidSignature(
            f"signature {emb.field_name!r} does not cover its whole revision "
            f"(ByteRange coverage {getattr(coverage, 'name', coverage)})",
            sub_indication="FORMAT_FAILURE",
            code="verify.pdf_coverage",
        )
    diff = status.diff_result
    if isinstance(diff, SuspiciousModification) or status.docmdp_ok is False:
        raise InvalidSignature(
            f"the PDF was changed after signature {emb.field_name!r} in a way its "
            f"permissions forbid: {diff}",
            sub_indication="FORMAT_FAILURE",
            code="verify.pdf_modified",
        )
    level = diff.modification_level if diff is not None else ModificationLevel.NONE
    if level is ModificationLevel.OTHER:
        raise InvalidSignature(
            f"the page content was changed after signature {emb.field_name!r} "
            "(incremental update beyond form filling and annotations)",
            sub_indication="FORMAT_FAILURE",
            code="verify.pdf_modified",
        )
    if level is ModificationLevel.ANNOTATIONS:
        raise PolicyViolation(
            f"annotations were added after signature {emb.field_name!r}",
            sub_indication="SIG_CONSTRAINTS_FAILURE",
            code="verify.pdf_annotated",
        )
    if level is ModificationLevel.FORM_FILLING:
        # Only our own later signatures may fill fields (Decree 30: the seal after the official).
        extra = set(diff.changed_form_fields) - later
        if extra:
            raise PolicyViolation(
                f"form fields {sorted(extra)} were filled after signature {emb.field_name!r}",
                sub_indication="SIG_CONSTRAINTS_FAILURE",
                code="verify.pdf_form_filled",
            )
    return coverage.name, level.name


def _signed_end(emb: Any) -> int:
    _, _, start2, len2 = (int(v) for v in emb.byte_range)
    return int(start2 + len2)


def check_signature(
    emb: Any, all_sigs: list[Any], *, policy: Any, doc: DocumentData
) -> CheckedSignature:
    """Check one ``/Sig`` signature; raise our error with its sub-indication on failure."""
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    from ..trust.paths import KeyPurpose
    from .pades import _run

    alg = signature_algorithm(emb)
    leaf = _crypto(emb.signer_cert)
    policy.check_algorithm(alg, leaf.public_key())
    vc = _validation_context(policy, doc, emb)
    usage = KeyUsageConstraints(key_usage=set(policy.key_usage), match_all_key_usages=False)
    status = _run(
        async_validate_pdf_signature(
            emb,
            signer_validation_context=vc,
            ts_validation_context=vc,
            key_usage_settings=usage,
            diff_policy=PAKN_DIFF_POLICY,
        )
    )
    if not status.intact:
        raise InvalidSignature(
            f"signature {emb.field_name!r}: the signed bytes were changed (digest mismatch)",
            sub_indication="HASH_FAILURE",
        )
    if not status.valid:
        raise InvalidSignature(
            f"signature {emb.field_name!r}: the signature value does not verify",
            sub_indication="SIG_CRYPTO_FAILURE",
        )
    coverage, modification = _check_modifications(status, emb, _later_fields(emb, all_sigs))
    ts_time = None
    if status.timestamp_validity is not None:
        ts_time = check_timestamp(
            status.timestamp_validity, policy=policy, doc=doc, what="signature"
        )
    embedded = [_crypto(c) for c in emb.other_embedded_certs]
    try:
        validated = _chain(leaf, embedded, policy, doc, KeyPurpose.DOCUMENT_SIGNING)
    except IndeterminateError as exc:
        if ts_time is None or exc.sub_indication != "OUT_OF_BOUNDS_NO_POE":
            raise
        # ETSI EN 319 102-1 §5.6.2.4 (past signature validation), simplified: the trusted
        # signature timestamp proves the signature existed at ts_time; validate the chain then.
        past = dataclasses.replace(doc, at=ts_time)
        validated = _chain(leaf, embedded, policy, past, KeyPurpose.DOCUMENT_SIGNING)
    return CheckedSignature(
        field_name=emb.field_name,
        validated=validated,
        algorithm=alg,
        claimed_time=emb.self_reported_timestamp,
        timestamp_time=ts_time,
        coverage=coverage,
        modification=modification,
        signed_end=_signed_end(emb),
        revision=emb.signed_revision,
    )


def _chain(
    cert: x509.Certificate,
    found: list[x509.Certificate],
    policy: Any,
    doc: DocumentData,
    purpose: Any,
) -> Any:
    """``validate_chain`` with what the PDF carries: CMS certificates and the DSS."""
    from ..trust.paths import validate_chain

    return validate_chain(
        cert,
        policy=policy,
        candidates=[*found, *doc.dss_certs],
        at=doc.at,
        purpose=purpose,
        extra_crls=doc.dss_crls,
        extra_ocsps=doc.dss_ocsps,
    )


def check_timestamp(ts_status: Any, *, policy: Any, doc: DocumentData, what: str) -> dt.datetime:
    """A signature or document timestamp: intact, valid, TSA trusted for timeStamping."""
    from ..trust.paths import KeyPurpose

    if not ts_status.intact or not ts_status.valid:
        raise InvalidSignature(
            f"the {what} timestamp does not match what it stamps or its signature is invalid",
            sub_indication="HASH_FAILURE" if not ts_status.intact else "SIG_CRYPTO_FAILURE",
            code="verify.timestamp_invalid",
        )
    tsa = _crypto(ts_status.signing_cert)
    path = getattr(ts_status, "validation_path", None)
    candidates = [_crypto(c) for c in path] if path is not None else []
    try:
        _chain(tsa, candidates, policy, doc, KeyPurpose.TIMESTAMPING)
    except PaknSignError as exc:
        raise IndeterminateError(
            f"the {what} timestamp's authority is not trusted: {exc}",
            sub_indication="NO_POE",
            code="verify.timestamp_untrusted",
        ) from exc
    when = ts_status.timestamp
    return when if isinstance(when, dt.datetime) else doc.at


def check_document_timestamp(
    emb: Any, all_sigs: list[Any], *, policy: Any, doc: DocumentData
) -> dt.datetime:
    """A B-LTA document timestamp (``/DocTimeStamp``): its status and its TSA."""
    from pyhanko.sign.validation import async_validate_pdf_timestamp

    from .pades import _run

    vc = _validation_context(policy, doc, emb)
    status = _run(
        async_validate_pdf_timestamp(emb, validation_context=vc, diff_policy=PAKN_DIFF_POLICY)
    )
    _check_modifications(status, emb, _later_fields(emb, all_sigs))
    return check_timestamp(status, policy=policy, doc=doc, what="document")
