"""How long a validated chain stays validated: the end of its cache window.

A success computed at ``start`` is reused for an instant ``t`` only if ``start <= t < end``,
where ``end`` is the first instant after ``start`` at which any time-dependent input of
certvalidator could change its answer. Each such input is a threshold that flips once:

* a certificate's notBefore and notAfter (RFC 5280 §4.1.2.5), for every certificate the
  path builder could see (anchors, intermediates, candidates, the path, certificates inside
  OCSP responses), since a path that failed at ``start`` may pass later and be chosen first;
* a CRL's thisUpdate and nextUpdate (RFC 5280 §5.1.2.4-5) and an OCSP single response's
  thisUpdate and nextUpdate (RFC 6960 §2.4): certvalidator's DEFAULT freshness rule
  refuses revinfo issued after the validation time and revinfo past its nextUpdate (absent:
  thisUpdate + ``FRESHNESS_FALLBACK_VALIDITY_DEFAULT``);
* a revocation date (CRL entry) or revocationTime (OCSP) of any of those certificates:
  point-in-time validation ignores revocations dated after the validation time.

``end`` is the earliest threshold at or after ``start``; thresholds before ``start`` have
already flipped and stay flipped. A threshold equal to ``start`` gives an empty window: not
cached. Anything that cannot be parsed or bounded gives ``None``: not cached (a miss is
always safe). Parsing uses cryptography, which refuses fractional seconds, so every time read
here is the whole-second value certvalidator (asn1crypto) reads from the same bytes.

``key_complete`` says whether the policy fingerprint in the cache key stands for everything
``validate_chain`` does with the policy: not for a subclass (its own methods) nor for a signer
requirement of a class outside ``requirements.py`` (its repr may omit state, or be the
object's address, which a later object reuses).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from cryptography import x509
from cryptography.x509 import ocsp
from pyhanko_certvalidator.policy_decl import FRESHNESS_FALLBACK_VALIDITY_DEFAULT

from .cache import LRUCache
from .policy import RevocationMode, TrustPolicy
from .requirements import (
    AllOf,
    AnyOf,
    SignerIs,
    SignerIsOfficialOf,
    SignerIsOrganisation,
    SignerIsOrganisationWithMST,
    SignerIsPerson,
)

__all__ = ["key_complete", "window_end"]

T = TypeVar("T")

# DER of the OID of the certificateIssuer CRL entry extension (RFC 5280 §5.3.3). An entry
# carrying it changes which issuer later entries belong to; certvalidator then matches
# serial *and* issuer, which a lookup by serial cannot mirror: such CRLs are not bounded.
_CERTIFICATE_ISSUER_OID = b"\x06\x03\x55\x1d\x1d"
_MAX_SERIALS = 4096
_MAX_KEPT = 256 * 1024  # revocation data that came with a signature: kept up to this size


@dataclass
class _CrlTimes:
    crl: x509.CertificateRevocationList
    this_update: dt.datetime
    next_update: dt.datetime
    revoked: dict[int, dt.datetime | None] = field(default_factory=dict)
    """Revocation date by serial, memoised (a lookup scans the list: ~9 ms at 100k entries)."""

    def revoked_at(self, serial: int) -> dt.datetime | None:
        try:
            return self.revoked[serial]
        except KeyError:
            pass
        # The first entry with this serial, as certvalidator's scan takes the first match.
        entry = self.crl.get_revoked_certificate_by_serial_number(serial)
        when = entry.revocation_date_utc if entry is not None else None
        if len(self.revoked) >= _MAX_SERIALS:
            self.revoked.clear()
        self.revoked[serial] = when
        return when


@dataclass(frozen=True)
class _OcspTimes:
    times: tuple[dt.datetime, ...]
    certs: tuple[x509.Certificate, ...]


# Parsed once per DER (keyed by the full bytes), only on the miss path.
_CRL_TIMES: LRUCache[_CrlTimes] = LRUCache(maxsize=128)
_OCSP_TIMES: LRUCache[_OcspTimes] = LRUCache(maxsize=256)


def _load_crl(der: bytes) -> _CrlTimes:
    if _CERTIFICATE_ISSUER_OID in der:
        raise ValueError("CRL entries may name another certificate issuer")
    crl = x509.load_der_x509_crl(der)
    this_update = crl.last_update_utc
    next_update = crl.next_update_utc or this_update + FRESHNESS_FALLBACK_VALIDITY_DEFAULT
    return _CrlTimes(crl, this_update, next_update)


def _load_ocsp(der: bytes) -> _OcspTimes:
    resp = ocsp.load_der_ocsp_response(der)
    # An unsuccessful response carries no status and no time: certvalidator ignores it.
    if resp.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return _OcspTimes((), ())
    times: list[dt.datetime] = []
    for single in resp.responses:
        this_update = single.this_update_utc
        next_update = single.next_update_utc
        times += (this_update, next_update or this_update + FRESHNESS_FALLBACK_VALIDITY_DEFAULT)
        if single.revocation_time_utc is not None:
            times.append(single.revocation_time_utc)
    return _OcspTimes(tuple(times), tuple(resp.certificates))


def _parsed(
    cache: LRUCache[T], der: bytes, load: Callable[[bytes], T], *, keep: bool = True
) -> T | None:
    try:
        if not keep:  # large data that came with a signature: parsed, never kept
            return load(bytes(der))
        return cache.get_or_load(bytes(der), load)  # bytes(b) is b itself for bytes
    except (ValueError, OverflowError):  # unreadable, or a time + 30 min past year 9999
        return None


def window_end(
    start: dt.datetime,
    chain: Sequence[x509.Certificate],
    policy: TrustPolicy,
    candidates: Sequence[x509.Certificate],
    extra_crls: Sequence[bytes],
    extra_ocsps: Sequence[bytes],
) -> dt.datetime | None:
    """The exclusive end of the instants at which a success computed at ``start`` holds.

    Args:
        start: the instant the success was computed at (aware).
        chain: the validated path; with ``candidates`` and the policy's anchors and
            intermediates, every certificate the path builder could see (certificates
            inside OCSP responses are added here).
        policy, extra_crls, extra_ocsps: the revocation data the validation was given
            (none when the revocation mode is OFF: certvalidator then gets none).

    Returns:
        The earliest threshold after ``start`` (UTC), or ``None`` when the result must not be
        cached: unreadable data, a threshold equal to ``start``, or no threshold at all.
    """
    pool = [*chain, *candidates, *policy.intermediates, *policy.anchors]
    off = policy.revocation is RevocationMode.OFF
    events: list[dt.datetime] = []
    ocsps = [(d, True) for d in policy.ocsps] + [(d, len(d) <= _MAX_KEPT) for d in extra_ocsps]
    for der, keep in () if off else ocsps:
        parsed = _parsed(_OCSP_TIMES, der, _load_ocsp, keep=keep)
        if parsed is None:
            return None
        events += parsed.times
        pool += parsed.certs
    for cert in pool:
        events += (cert.not_valid_before_utc, cert.not_valid_after_utc)
    crls = [(d, True) for d in policy.crls] + [(d, len(d) <= _MAX_KEPT) for d in extra_crls]
    for der, keep in () if off else crls:
        crl = _parsed(_CRL_TIMES, der, _load_crl, keep=keep)
        if crl is None:
            return None
        events += (crl.this_update, crl.next_update)
        for cert in pool:
            try:
                when = crl.revoked_at(cert.serial_number)
            except ValueError:  # a negative serial: cryptography cannot look it up
                return None
            if when is not None:
                events.append(when)
    end = min((e for e in events if e >= start), default=None)
    return end if end is not None and end > start else None


# Frozen dataclasses whose repr shows every field: their repr in the fingerprint is their value.
_VALUE_REQUIREMENTS: frozenset[type] = frozenset(
    {
        SignerIs,
        SignerIsPerson,
        SignerIsOrganisation,
        SignerIsOrganisationWithMST,
        SignerIsOfficialOf,
    }
)


def _by_value(req: object) -> bool:
    kind = type(req)  # exact types: a subclass may override check()
    if kind is AllOf or kind is AnyOf:
        return all(map(_by_value, req.requirements))  # type: ignore[attr-defined]
    return kind in _VALUE_REQUIREMENTS


def key_complete(policy: TrustPolicy) -> bool:
    """True if ``policy.fingerprint`` stands for all that ``validate_chain`` does with it.

    ``validate_chain`` applies ``policy.check_signer`` (``policy.signer``); a miss is always
    safe, so anything the fingerprint may not capture is not cached.
    """
    return type(policy) is TrustPolicy and (policy.signer is None or _by_value(policy.signer))
