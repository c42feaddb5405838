"""Verify JAdES baseline B-B/B-T PAKN documents (see ``jades`` for the layout).

The pipeline, numbered as the checks run (DESIGN.md §4, §8):

1. Strict JWS parse (``jws_parse``): sizes, duplicate keys, base64url, ``crit``, forbidden
   headers; only ``etsiU`` may be unprotected; zero signatures fail.
2. Each signature: the JAdES profile (``typ``, ``cty``, ``x5t#S256``, ``x5c``, ``sigT``,
   ``srAts`` present, the JAdES names critical), ``alg`` on the policy's list and bound to
   ``x5c[0]``'s key, the signature value, ``policy.check_algorithm``.
3. Each signature: every ``sigTst`` over its signature value (B-T), the signer's chain via
   ``validate_chain`` at ``at``, ``policy.check_signer`` for its role.
4. Order: personal before organisation; each organisation ``paknCov`` lists exactly the
   digests of every earlier entry in order (Decree 30/2020 Art. 32); required roles present.
5. The document is parsed strictly from the payload bytes, which are ``signed_bytes``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, NamedTuple

from ..clock import SystemClock, ensure_aware
from ..codec.jsoncodec import from_canonical_json, from_json
from ..errors import (
    InvalidInput,
    InvalidSignature,
    PaknSignError,
    PolicyViolation,
    VerificationError,
)
from ..trust.paths import validate_chain
from ..trust.policy import TrustPolicy
from ..trust.report import Finding, Indication, SignatureReport, SubIndication, ValidationReport
from .b64 import b64_decode_strict, b64url_decode
from .jades import (
    COVERS_HEADER,
    JADES_CRITICAL,
    JADES_CTY,
    JADES_LIMITS,
    JADES_TYP,
    JADES_UNDERSTOOD,
    entry_digest,
    role_of,
)
from .jws import algorithm_from_header, certificates_of, public_key_of, verify_parsed
from .jws_json import loads_strict_json
from .jws_parse import ParsedJWS, ParsedSignature, parse_jws
from .xades_order import SignatureSlot, SignerRole, check_order

__all__ = ["inspect_jades", "verify_jades"]

_FORMAT = "FORMAT_FAILURE"


class _Checked(NamedTuple):  # a tuple: cheaper to build than a frozen dataclass
    id: str
    role: SignerRole
    covers: frozenset[str]
    info: Any  # pakn_sign.verify.SignatureInfo (imported lazily: verify imports signing)


_RESULT_TYPES: list[Any] = []


def _result_types() -> Any:
    """(SignatureInfo, VerificationResult) from ``pakn_sign.verify``, imported on first use
    (verify imports signing); an import statement per call costs a module lookup each time."""
    if not _RESULT_TYPES:
        from ..verify import SignatureInfo, VerificationResult

        _RESULT_TYPES.extend((SignatureInfo, VerificationResult))
    return _RESULT_TYPES


def _fail(message: str, where: str, sub: str = _FORMAT) -> InvalidSignature:
    return InvalidSignature(message, location=where, sub_indication=sub, code="jades.profile")


_REQUIRED = ("x5c", "x5t#S256", "sigT", "srAts")
_REQUIRED_SET = frozenset(_REQUIRED)
_MUST_BE_CRITICAL = frozenset((*JADES_CRITICAL, COVERS_HEADER))


def _profile(sig: ParsedSignature, where: str) -> None:
    """Step 2, profile part: TS 119 182-1 baseline B-B requirements as our profile applies them."""
    p = sig.protected
    if not _REQUIRED_SET.issubset(p):  # set operations in C; the first missing name reported
        name = next(n for n in _REQUIRED if n not in p)
        raise _fail(f"JAdES header {name!r} is missing", f"{where}/protected/{name}")
    if p.get("typ", JADES_TYP) != JADES_TYP or p.get("cty", JADES_CTY) not in (
        JADES_CTY,
        "application/json",
    ):
        raise _fail("JAdES typ/cty must be jose+json / json", f"{where}/protected/typ")
    crit = p.get("crit") or ()
    needed = _MUST_BE_CRITICAL.intersection(p)
    if not needed.issubset(crit):
        raise _fail(
            f"JAdES parameters must be critical: {sorted(needed.difference(crit))}",
            f"{where}/protected/crit",
        )


_SIG_T = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _claimed_time(sig: ParsedSignature, where: str) -> dt.datetime:
    """``sigT`` as RFC 3339 UTC with ``Z`` (TS 119 182-1 §5.2.1); strict, no other offsets."""
    text = sig.protected.get("sigT")
    try:
        if not isinstance(text, str) or not _SIG_T.fullmatch(text):
            raise ValueError(text)
        return dt.datetime.fromisoformat(text)  # "Z" gives tzinfo dt.UTC itself
    except ValueError as exc:
        raise _fail(
            "sigT must be RFC 3339 UTC (YYYY-MM-DDThh:mm:ssZ)", f"{where}/protected/sigT"
        ) from exc


def _timestamp_tokens(sig: ParsedSignature, where: str) -> list[bytes]:
    if "etsiU" not in sig.header:  # B-B
        return []
    items = sig.header["etsiU"]
    if not isinstance(items, list):
        raise _fail("etsiU must be an array", f"{where}/header/etsiU")
    tokens: list[bytes] = []
    for i, item in enumerate(items):
        loc = f"{where}/header/etsiU/{i}"
        obj = (
            loads_strict_json(b64url_decode(item, where=loc), max_bytes=64 * 1024)
            if isinstance(item, str)
            else item
        )
        if not isinstance(obj, dict) or set(obj) != {"sigTst"}:
            raise _fail("only sigTst is supported in etsiU (B-T)", loc)
        tst = obj["sigTst"]
        vals = tst.get("tstTokens") if isinstance(tst, dict) else None
        if not isinstance(vals, list) or not vals or set(tst) - {"tstTokens", "canonAlg"}:
            raise _fail("sigTst needs a non-empty tstTokens array", loc)
        for t in vals:
            if (
                not isinstance(t, dict)
                or not isinstance(t.get("val"), str)
                or set(t) - {"val", "encoding"}
            ):
                raise _fail("tstTokens items are {val: base64 DER}", loc)
            tokens.append(b64_decode_strict(t["val"], where=f"{loc}/val"))
    return tokens


def _check_one(
    parsed: ParsedJWS, index: int, policy: TrustPolicy, at: dt.datetime
) -> tuple[SignerRole, Any]:
    """Steps 2-3 for one signature; returns (role, SignatureInfo)."""
    sig = parsed.signatures[index]
    where = f"/signatures/{index}"
    _profile(sig, where)
    role = role_of(sig.protected)
    alg = algorithm_from_header(sig.protected, policy.allowed_algorithms)
    certs = certificates_of(sig.protected, f"{where}/protected")
    key = public_key_of(certs[0])
    verify_parsed(parsed, index, key, alg, where)
    policy.check_algorithm(alg, key)
    ts_time: dt.datetime | None = None
    tokens = _timestamp_tokens(sig, where)
    if tokens:  # imported lazily: timestamps pulls in httpx, which B-B never needs
        from .timestamps import verify_timestamp
    for token in tokens:
        info = verify_timestamp(token, sig.signature_b64.encode("ascii"), policy=policy, at=at)
        ts_time = info.time if ts_time is None else min(ts_time, info.time)
    claimed = _claimed_time(sig, where)
    chain = validate_chain(certs[0], policy=policy, candidates=certs[1:], at=at)
    role_name = str(role)  # a StrEnum: its value, without Enum's Python-level .value lookup
    policy.check_signer(chain.identity, role=role_name)
    return role, (_RESULT_TYPES or _result_types())[0](
        id=f"sig-{index + 1}",
        role=role_name,
        identity=chain.identity,
        chain=chain.chain,
        algorithm=alg,
        claimed_signing_time=claimed,
        timestamp_time=ts_time,
        level="B-T" if ts_time is not None else "B-B",
    )


def _covers(parsed: ParsedJWS, index: int, role: SignerRole) -> frozenset[str]:
    """Step 4 input: the ids an entry's ``paknCov`` names, in exactly the earlier order."""
    sig = parsed.signatures[index]
    listed = sig.protected.get(COVERS_HEADER)
    if listed is None:
        if role is SignerRole.ORGANISATION:
            raise _fail(
                "an organisation signature must carry paknCov", f"/signatures/{index}/protected"
            )
        return frozenset()
    earlier = [entry_digest(s.protected_b64, s.signature_b64) for s in parsed.signatures[:index]]
    if (
        not isinstance(listed, list)
        or listed != earlier[: len(listed)]
        or len(listed) > len(earlier)
    ):
        # A digest of an entry that is not there (removed, replaced) or out of order.
        raise _fail(
            "paknCov does not match the earlier signatures (removed, replaced or reordered)",
            f"/signatures/{index}/protected/{COVERS_HEADER}",
        )
    return frozenset(f"sig-{i + 1}" for i in range(len(listed)))


def _document_rules(checked: list[_Checked], policy: TrustPolicy) -> None:
    check_order([SignatureSlot(c.id, c.role, c.covers) for c in checked])
    if not policy.required_roles:
        return
    present = {c.info.role for c in checked}  # the role's value, as SignatureInfo holds it
    missing = sorted(policy.required_roles - present)
    if missing:
        raise PolicyViolation(
            f"the policy requires {missing} signature(s); the document carries {sorted(present)}",
            code="verify.missing_role",
            sub_indication="SIG_CONSTRAINTS_FAILURE",
        )


def _parse(data: bytes) -> ParsedJWS:
    return parse_jws(
        data, limits=JADES_LIMITS, understood=JADES_UNDERSTOOD, unprotected_allowed={"etsiU"}
    )


def _when(at: dt.datetime | None) -> dt.datetime:
    return SystemClock().now() if at is None else ensure_aware(at, name="at")


def verify_jades(
    data: bytes,
    *,
    policy: TrustPolicy,
    expect: type[Any] | None = None,
    at: dt.datetime | None = None,
) -> Any:
    """Verify every JAdES signature and return a ``VerificationResult`` (format ``jades``).

    Raises like :func:`pakn_sign.verify.verify`: ``InvalidInput`` for unreadable input,
    ``InvalidSignature`` / ``UntrustedSigner`` / ``IndeterminateError`` / ``PolicyViolation``.
    """
    when = _when(at)
    parsed = _parse(bytes(data))
    checked = []
    for i in range(len(parsed.signatures)):
        role, info = _check_one(parsed, i, policy, when)
        checked.append(_Checked(info.id, role, _covers(parsed, i, role), info))
    _document_rules(checked, policy)
    document = from_canonical_json(parsed.payload)
    if expect is not None and not isinstance(document, expect):
        raise PolicyViolation(
            f"expected a {expect.__name__}, the signed document is a {type(document).__name__}",
            code="verify.unexpected_kind",
            sub_indication="SIG_CONSTRAINTS_FAILURE",
        )
    return (_RESULT_TYPES or _result_types())[1](
        format="jades",
        signed_bytes=parsed.payload,
        document=document,
        signatures=tuple(c.info for c in checked),
    )


def _sub(exc: PaknSignError) -> SubIndication:
    raw = getattr(exc, "sub_indication", None)
    try:
        return SubIndication(raw) if raw else SubIndication.FORMAT_FAILURE
    except ValueError:
        return SubIndication.FORMAT_FAILURE


def inspect_jades(
    data: bytes, *, policy: TrustPolicy, at: dt.datetime | None = None
) -> ValidationReport:
    """An ETSI EN 319 102-1 style report; never raises for a bad signature.

    Raises:
        InvalidInput: only when the bytes are not a readable JWS JSON serialisation.
    """
    when = _when(at)
    raw = bytes(data)
    loads_strict_json(raw, max_bytes=JADES_LIMITS.max_bytes, max_depth=64)  # unreadable: raise
    try:
        parsed = _parse(raw)
    except InvalidInput as exc:  # readable JSON, but not a JWS we accept: a format failure
        finding = Finding(exc.code, exc.message, SubIndication.FORMAT_FAILURE)
        return ValidationReport.from_signatures([], validation_time=when, findings=[finding])
    reports: list[SignatureReport] = []
    checked: list[_Checked] = []
    for i, sig in enumerate(parsed.signatures):
        sid = f"sig-{i + 1}"
        try:
            role, info = _check_one(parsed, i, policy, when)
            checked.append(_Checked(sid, role, _covers(parsed, i, role), info))
            reports.append(
                SignatureReport(
                    id=sid,
                    indication=Indication.TOTAL_PASSED,
                    role=info.role,
                    identity=info.identity,
                    signing_time=info.claimed_signing_time,
                    timestamp_time=info.timestamp_time,
                    level=info.level,
                    scope=("payload", *sorted(checked[-1].covers)),
                    chain=info.chain,
                )
            )
        except (VerificationError, InvalidInput) as exc:
            reports.append(
                SignatureReport.from_error(
                    sid, exc, role=sig.protected.get("srAts") and _safe_role(sig)
                )
            )
    findings: list[Finding] = []
    kind = doc_id = None
    try:
        doc = from_json(parsed.payload)
        kind, doc_id = doc.kind, str(doc.document_id)
        if len(checked) == len(parsed.signatures):
            _document_rules(checked, policy)
    except (VerificationError, InvalidInput) as exc:
        findings.append(Finding(exc.code, exc.message, _sub(exc)))
    return ValidationReport.from_signatures(
        reports, validation_time=when, document_kind=kind, document_id=doc_id, findings=findings
    )


def _safe_role(sig: ParsedSignature) -> str | None:
    try:
        return role_of(sig.protected).value
    except InvalidInput:
        return None
