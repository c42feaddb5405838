"""JAdES baseline B-B and B-T signatures (ETSI TS 119 182-1) over PAKN JSON documents.

Layout: the JWS JSON *general* serialisation (RFC 7515 §7.2.1), one payload and one entry per
signature, personal first, then organisation (Decree 30/2020 Art. 32)::

    {"payload": BASE64URL(to_json(document)),
     "signatures": [
       {"protected": <personal header>, "header": {"etsiU": [...]}, "signature": ...},
       {"protected": <organisation header, paknCov = digests of the entries before it>,
        "signature": ...}]}

Protected header of every signature (TS 119 182-1 §5.1-§5.2): ``alg``, ``typ``
(``jose+json``), ``cty`` (``json``), ``x5t#S256`` and ``x5c`` (signing certificate and chain),
``sigT`` (claimed signing time, UTC), ``srAts`` (claimed role), and ``crit`` listing every
non-RFC 7515 parameter present. The organisation signature also carries ``paknCov``
(our extension, critical so a verifier that does not know it fails closed): the SHA-256 of
ASCII(protected) || "." || ASCII(signature) of *every earlier entry, in order*. Removing,
reordering or replacing the personal signature therefore breaks the organisation's
signature check or the order rule.

B-T adds a signature timestamp in the unprotected ``etsiU`` array (TS 119 182-1 §5.3.4):
``{"sigTst": {"tstTokens": [{"val": BASE64(DER token)}]}}``, base64url-encoded as a whole
(the §5.3.1 encoded form). The imprint covers the ASCII bytes of the entry's base64url
``signature`` value.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
from collections.abc import Sequence
from typing import Any

from cryptography import x509

from ..clock import SystemClock, ensure_aware
from ..codec.jsoncodec import from_json, to_json
from ..errors import ConfigurationError, InvalidInput
from .algorithms import SignatureAlgorithm
from .b64 import b64url_bytes, b64url_decode, b64url_encode
from .jws import ChainOnly, signer_header, x5c_for
from .jws_json import dumps_compact, loads_strict_json
from .jws_parse import JWSLimits, parse_jws
from .signers import Signer
from .timestamps import TimestampAuthority
from .xades_order import SignerRole, check_can_add

__all__ = [
    "COVERS_HEADER",
    "JADES_CRITICAL",
    "JADES_CTY",
    "JADES_TYP",
    "JADES_UNDERSTOOD",
    "entry_digest",
    "role_of",
    "sign_json",
]

JADES_TYP = "jose+json"
JADES_CTY = "json"  # RFC 7515 §4.1.10: the "application/" prefix is omitted
COVERS_HEADER = "paknCov"
JADES_CRITICAL = ("sigT", "srAts")
JADES_UNDERSTOOD = frozenset({"b64", *JADES_CRITICAL, COVERS_HEADER})
JADES_LIMITS = JWSLimits(max_signatures=4)
_LEVELS = ("B-B", "B-T")


def signing_time_text(at: dt.datetime) -> str:
    """``sigT``: RFC 3339 UTC with ``Z`` and whole seconds (TS 119 182-1 §5.2.1)."""
    # An instant already in UTC (the usual ``at``) skips the check and the conversion.
    u = at if at.tzinfo is dt.UTC else ensure_aware(at).astimezone(dt.UTC)
    # isoformat starts with YYYY-MM-DDThh:mm:ss (4-digit year, whatever follows): one C call
    # instead of six formatted fields; fractions of a second are cut as before.
    return u.isoformat()[:19] + "Z"


def entry_digest(protected_b64: str, signature_b64: str) -> str:
    """What ``paknCov`` lists for one earlier entry: SHA-256 over its signed part and value."""
    data = protected_b64.encode("ascii") + b"." + signature_b64.encode("ascii")
    return b64url_encode(hashlib.sha256(data).digest())


def role_of(protected: dict[str, Any]) -> SignerRole:
    """The role claimed in ``srAts`` (``{"claimed": [{"role": ...}]}``); else ``InvalidInput``."""
    ats = protected.get("srAts")
    claimed = ats.get("claimed") if isinstance(ats, dict) else None
    roles = (
        [c.get("role") for c in claimed if isinstance(c, dict)] if isinstance(claimed, list) else []
    )
    role = _ROLES.get(roles[0]) if len(roles) == 1 and type(roles[0]) is str else None
    if role is None:
        raise InvalidInput(
            "srAts must claim exactly one role, personal or organisation", location="/srAts"
        )
    return role


# A dict lookup rather than SignerRole(value), which runs Enum's Python-level __call__.
_ROLES = {"personal": SignerRole.PERSONAL, "organisation": SignerRole.ORGANISATION}


def _payload_of(document_or_bytes: Any) -> tuple[bytes, list[dict[str, Any]]]:
    """(payload segment, existing entries) from a model, document bytes or a signed JAdES."""
    if not isinstance(document_or_bytes, bytes | bytearray):
        return b64url_bytes(to_json(document_or_bytes)), []
    data = bytes(document_or_bytes)
    obj = loads_strict_json(data, max_bytes=JADES_LIMITS.max_bytes, max_depth=64)
    if isinstance(obj, dict) and "signatures" in obj:
        parsed = parse_jws(
            data, limits=JADES_LIMITS, understood=JADES_UNDERSTOOD, unprotected_allowed={"etsiU"}
        )
        from_json(parsed.payload)  # only PAKN documents are signed
        return obj["payload"].encode("ascii"), list(obj["signatures"])
    # An unsigned document: sign its canonical bytes (serialised once, by the codec).
    return b64url_bytes(to_json(from_json(data))), []


def _timestamp_entry(tsa: TimestampAuthority, signature_b64: str) -> str:
    token = tsa.request(signature_b64.encode("ascii"))
    item = {"sigTst": {"tstTokens": [{"val": base64.b64encode(token).decode("ascii")}]}}
    return b64url_encode(dumps_compact(item))


def sign_json(
    document_or_bytes: Any,
    signer: Signer,
    *,
    role: str | SignerRole,
    level: str = "B-B",
    tsa: TimestampAuthority | None = None,
    algorithm: SignatureAlgorithm | None = None,
    at: dt.datetime | None = None,
) -> bytes:
    """Sign a PAKN document as JAdES and return the JWS JSON bytes (UTF-8, compact).

    Args:
        document_or_bytes: a document model, the JSON bytes of an unsigned document, or a
            JAdES document to add a signature to (personal, then organisation).
        signer: the key (format code never sees it) and certificate chain.
        role: ``"personal"`` (the competent official) or ``"organisation"`` (the seal).
        level: ``"B-B"`` or ``"B-T"`` (needs ``tsa``).
        tsa: RFC 3161 authority for the signature timestamp.
        algorithm: defaults to the signer's default (RS256, ES256…).
        at: claimed signing time (``sigT``); ``None`` means now.

    Raises:
        ConfigurationError: bad role or level, B-T without ``tsa``, personal over organisation.
        InvalidInput / SchemaError: not a PAKN document or not a valid JAdES container.
        SigningError: the signer failed.
    """
    # A dict lookup first: SignerRole(value) runs Enum's Python-level __call__.
    the_role = (
        role
        if isinstance(role, SignerRole)
        else (type(role) is str and _ROLES.get(role)) or SignerRole.parse(role)
    )
    if level not in _LEVELS:
        raise ConfigurationError(f"JAdES level must be one of {_LEVELS}, got {level!r}")
    if level == "B-T" and tsa is None:
        raise ConfigurationError("level B-T needs a timestamp authority (tsa=...)")
    when = SystemClock().now() if at is None else ensure_aware(at, name="at")
    seg, entries = _payload_of(document_or_bytes)
    existing = _roles(entries)
    check_can_add(existing, the_role)
    alg = algorithm or signer.default_algorithm
    head_b64, head_rest, tail = _frame(signer.certificate_chain, alg, the_role)
    covers = b""
    if the_role is SignerRole.ORGANISATION:
        digests = [entry_digest(e["protected"], e["signature"]) for e in entries]
        covers = b',"' + COVERS_HEADER.encode() + b'":' + dumps_compact(digests)
    # sigT and the digests are base64url/ASCII: splicing them into the validated frame gives
    # exactly the JSON dumps_compact would (tests compare the decoded header). The frame's
    # first 3k bytes are encoded once: base64 of A || B is base64(A) || base64(B) when
    # len(A) % 3 == 0 (RFC 4648 §4, 3-octet groups).
    rest = head_rest + signing_time_text(when).encode("ascii") + b'"' + covers + tail
    protected = head_b64 + b64url_bytes(rest)
    sig_b64 = b64url_bytes(signer.sign_raw(protected + b"." + seg, alg))
    if not entries and (tsa is None or level != "B-T"):
        return b"".join(
            (b'{"payload":"', seg, b'","signatures":[{"protected":"', protected,
             b'","signature":"', sig_b64, b'"}]}')
        )  # fmt: skip
    protected_b64 = protected.decode("ascii")
    entry: dict[str, Any] = {"protected": protected_b64, "signature": sig_b64.decode("ascii")}
    if tsa is not None and level == "B-T":
        entry = {
            "protected": protected_b64,
            "header": {"etsiU": [_timestamp_entry(tsa, entry["signature"])]},
            "signature": entry["signature"],
        }
    return dumps_compact({"payload": seg.decode("ascii"), "signatures": [*entries, entry]})


_Frame = tuple[bytes, bytes, bytes]
"""(base64url of the header's first 3k bytes, the remaining header bytes before sigT, the
bytes after sigT's closing quote and paknCov)."""
_FRAMES: dict[tuple[int, str, str], tuple[Any, _Frame]] = {}


def _frame(chain: Sequence[x509.Certificate], alg: SignatureAlgorithm, role: SignerRole) -> _Frame:
    """``_header_frame``, memoised on the identity of a signer's (immutable) chain tuple.

    The lru_cache key hashes every certificate (re-encoding it: ~3 us each); a signer hands
    back the same tuple each time. Only tuples are memoised (a list could change under us);
    the entry holds the tuple, so its id is not reused while the entry lives.
    """
    if not isinstance(chain, tuple):
        return _header_frame(tuple(chain), alg, role)
    key = (id(chain), alg._value_, role._value_)  # str values hash in C; Enum.__hash__ does not
    hit = _FRAMES.get(key)
    if hit is not None and hit[0] is chain:
        return hit[1]
    frame = _header_frame(chain, alg, role)
    if len(_FRAMES) >= 256:
        _FRAMES.clear()
    _FRAMES[key] = (chain, frame)
    return frame


@functools.lru_cache(maxsize=256)
def _header_frame(
    chain: tuple[x509.Certificate, ...], alg: SignatureAlgorithm, role: SignerRole
) -> _Frame:
    """The protected-header JSON around ``sigT`` (and ``paknCov``), built and checked once.

    Order: alg, typ, cty, x5t#S256, srAts, crit, x5c, then sigT and paknCov, which change
    per signature. The full header is checked with ``check_header`` as our verifier would.
    """
    crit = (
        [*JADES_CRITICAL, COVERS_HEADER]
        if role is SignerRole.ORGANISATION
        else list(JADES_CRITICAL)
    )
    thumb = x5c_for(chain)[1]
    extras: dict[str, Any] = {
        "typ": JADES_TYP,
        "cty": JADES_CTY,
        "x5t#S256": thumb,
        "srAts": {"claimed": [{"role": role.value}]},
        "crit": crit,
    }
    # Checked in full (with sample per-signature values), then those are cut out of the frame.
    extras["sigT"] = "2000-01-01T00:00:00Z"
    if role is SignerRole.ORGANISATION:
        extras[COVERS_HEADER] = []
    _, fixed = signer_header(ChainOnly(chain, alg), alg, extras, JADES_UNDERSTOOD)
    del fixed["sigT"]
    fixed.pop(COVERS_HEADER, None)
    head = dumps_compact(fixed)[:-1] + b',"sigT":"'
    cut = len(head) - len(head) % 3
    return b64url_bytes(head[:cut]), head[cut:], b"}"


def _roles(entries: Sequence[dict[str, Any]]) -> list[SignerRole]:
    roles = []
    for e in entries:
        prot = loads_strict_json(
            b64url_decode(e["protected"]), max_bytes=JADES_LIMITS.max_header_bytes
        )
        roles.append(role_of(prot))
    return roles
