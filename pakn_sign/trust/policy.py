"""``TrustPolicy``: the frozen value that says whom and what to trust (DESIGN.md §5).

Trust anchors are always explicit: never the OS or certifi store (pyHanko: TLS roots are "a
nonsensical source of trust for document signature validation"). ``verify()`` and
``validate_chain()`` build their stateful validation context per call from this value and
never mutate it.

Revocation modes (what happens when revocation data is missing or unreachable):

* ``OFF``: revocation is not checked at all, even if CRLs/OCSP responses are supplied.
* ``SOFT_FAIL``: supplied/fetched data is used when the certificate declares a CRL
  distribution point or OCSP responder; a *revoked* answer fails, missing or unreachable
  data is ignored (``revocation_status="soft_fail"``), but data that is present and says
  "unknown", is stale or is badly signed is still INDETERMINATE / TRY_LATER.
* ``HARD_FAIL``: as SOFT_FAIL, but a certificate that declares a CRL DP or OCSP responder
  whose status cannot be established (missing, stale, unreachable) is INDETERMINATE /
  TRY_LATER. A certificate that declares neither is accepted without revocation data.
* ``REQUIRE``: every certificate in the path except the anchor must have fresh CRL or OCSP
  status (supplied or fetched); otherwise INDETERMINATE / TRY_LATER.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from ..clock import ensure_aware
from ..errors import ConfigurationError, PolicyViolation
from ..signing.algorithms import SignatureAlgorithm, key_type_of
from .identity import SignerIdentity
from .loading import load_certificates, load_crl_der
from .requirements import SignerRequirement

__all__ = [
    "DEFAULT_ALGORITHMS",
    "DEFAULT_KEY_USAGE",
    "SHA1_ALGORITHMS",
    "RevocationMode",
    "TrustPolicy",
    "UnsafeOptionWarning",
    "load_certificates",
    "load_crl_der",
]


class UnsafeOptionWarning(UserWarning):
    """An ``unsafe_*`` option is in use (emitted on every use, never silenced by us)."""


class RevocationMode(enum.Enum):
    """What to do about revocation; see the module docstring for the exact semantics."""

    OFF = "off"
    SOFT_FAIL = "soft"
    HARD_FAIL = "hard"
    REQUIRE = "require"


SHA1_ALGORITHMS = frozenset({SignatureAlgorithm.RSA_SHA1, SignatureAlgorithm.ECDSA_SHA1})
DEFAULT_ALGORITHMS = frozenset(a for a in SignatureAlgorithm if a not in SHA1_ALGORITHMS)
"""SHA-256+ RSA PKCS#1 v1.5 and PSS, ECDSA, Ed25519 (curves are checked separately)."""
DEFAULT_KEY_USAGE = frozenset({"digital_signature", "non_repudiation"})
"""Document signing needs at least one of these (RFC 5280 §4.2.1.3)."""
ALLOWED_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
_LEGACY_MIN_BITS = 1024
_SHA1_URIS = frozenset(a.value for a in SHA1_ALGORITHMS)
_KEY_TYPE_BY_URI = {a.value: a.key_type for a in SignatureAlgorithm}

_KINDS: tuple[type, ...] = (
    rsa.RSAPublicKey, ec.EllipticCurvePublicKey, dsa.DSAPublicKey, ed25519.Ed25519PublicKey
)  # fmt: skip
_KIND_BY_CLASS: dict[type, type] = {}


def _public_kind(key: object) -> type | None:
    """The first key ABC in ``_KINDS`` that ``key`` is an instance of, asked once per class
    (ABC isinstance runs Python code; a proxy posing as another class is not memoised)."""
    kind = _KIND_BY_CLASS.get(type(key))
    if kind is None:
        kind = next((k for k in _KINDS if isinstance(key, k)), None)
        if kind is not None and key.__class__ is type(key):
            _KIND_BY_CLASS[type(key)] = kind
    return kind


@dataclass(frozen=True)
class TrustPolicy:
    """Whom and what to trust. Build one up front and share it; it is immutable and hashable.

    Raises:
        ConfigurationError: no anchors, a naive ``validation_time``, SHA-1 or small keys
            without the matching ``unsafe_*`` flag, or an empty algorithm set.
    """

    anchors: tuple[x509.Certificate, ...]
    """Trust anchors (self-signed roots or pinned CAs). Never taken from the OS."""
    intermediates: tuple[x509.Certificate, ...] = ()
    """Untrusted certificates offered for path building."""
    crls: tuple[bytes, ...] = ()
    """DER CRLs available locally."""
    ocsps: tuple[bytes, ...] = ()
    """DER OCSP responses available locally."""
    revocation: RevocationMode = RevocationMode.HARD_FAIL
    """What missing revocation data means (module docstring)."""
    allow_fetching: bool = False
    """Fetch CRLs/OCSP/issuers over the network. Off: verification never touches a socket."""
    validation_time: dt.datetime | None = None
    """Fixed validation time; ``None`` means the ``at`` passed per call (or now)."""
    allowed_algorithms: frozenset[SignatureAlgorithm] = DEFAULT_ALGORITHMS
    """Signature algorithms accepted on documents and on every certificate in the path."""
    min_rsa_bits: int = 2048
    """Smallest RSA modulus accepted anywhere in the path."""
    key_usage: frozenset[str] = DEFAULT_KEY_USAGE
    """Document-signing leaves need at least one of these KeyUsage bits (cryptography names)."""
    signer: SignerRequirement | None = None
    """Requirement on every document signer (``SignerIs…``, ``AllOf``, ``AnyOf``)."""
    personal_signer: SignerRequirement | None = None
    """Extra requirement on signatures in the *personal* role."""
    organisation_signer: SignerRequirement | None = None
    """Extra requirement on signatures in the *organisation* role."""
    required_roles: frozenset[str] = frozenset()
    """Roles a document must carry (``{"personal", "organisation"}``)."""
    unsafe_sha1: bool = False
    """Accept SHA-1 (legacy packages only). Warns on construction and on every SHA-1 accepted."""
    unsafe_legacy_keys: bool = False
    """Accept RSA/DSA keys down to 1024 bits (legacy test suites such as PKITS). Warns."""
    _fingerprint: str = field(init=False, repr=False, compare=False, hash=False)
    _allowed_uris: frozenset[str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.anchors:
            raise ConfigurationError("TrustPolicy needs at least one explicit trust anchor")
        for name in ("anchors", "intermediates", "crls", "ocsps"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "allowed_algorithms", frozenset(self.allowed_algorithms))
        object.__setattr__(self, "key_usage", frozenset(self.key_usage))
        object.__setattr__(self, "required_roles", frozenset(self.required_roles))
        if self.validation_time is not None:
            ensure_aware(self.validation_time, name="validation_time")
        if not self.allowed_algorithms:
            raise ConfigurationError("allowed_algorithms is empty: nothing could verify")
        if self.allowed_algorithms & SHA1_ALGORITHMS and not self.unsafe_sha1:
            raise ConfigurationError("SHA-1 needs TrustPolicy.unsafe_allow_sha1()")
        floor = _LEGACY_MIN_BITS if self.unsafe_legacy_keys else 2048
        if self.min_rsa_bits < floor:
            raise ConfigurationError(
                f"min_rsa_bits={self.min_rsa_bits} is below {floor}"
                + ("" if self.unsafe_legacy_keys else " (see TrustPolicy.unsafe_legacy)")
            )
        if self.unsafe_sha1:
            warnings.warn(
                "TrustPolicy accepts SHA-1 (unsafe_sha1): only for verifying legacy packages",
                UnsafeOptionWarning,
                stacklevel=3,
            )
        if self.unsafe_legacy_keys:
            warnings.warn(
                "TrustPolicy accepts 1024-bit RSA/DSA keys (unsafe_legacy_keys)",
                UnsafeOptionWarning,
                stacklevel=3,
            )
        object.__setattr__(self, "_fingerprint", self._compute_fingerprint())
        # The allow-list by URI: a str hashes in C, an Enum member in Python (per verify).
        uris = frozenset(a.value for a in self.allowed_algorithms)
        object.__setattr__(self, "_allowed_uris", uris)

    # --- named constructors ---------------------------------------------------------

    @classmethod
    def from_anchors(
        cls,
        anchors: Iterable[x509.Certificate],
        *,
        intermediates: Iterable[x509.Certificate] = (),
        crls: Iterable[bytes] = (),
        ocsps: Iterable[bytes] = (),
        revocation: RevocationMode = RevocationMode.HARD_FAIL,
        **kwargs: Any,
    ) -> TrustPolicy:
        """A policy from certificate objects; other fields by keyword."""
        return cls(
            anchors=tuple(anchors),
            intermediates=tuple(intermediates),
            crls=tuple(crls),
            ocsps=tuple(ocsps),
            revocation=revocation,
            **kwargs,
        )

    @classmethod
    def from_pem_files(
        cls,
        anchors: Sequence[str | Path],
        *,
        intermediates: Sequence[str | Path] = (),
        crls: Sequence[str | Path] = (),
        revocation: RevocationMode = RevocationMode.HARD_FAIL,
        **kwargs: Any,
    ) -> TrustPolicy:
        """Read anchors and intermediates (PEM bundles or DER) and CRLs (PEM or DER) from files.

        Raises:
            ConfigurationError: a file holds no certificate / CRL.
        """
        return cls.from_anchors(
            [c for p in anchors for c in load_certificates(Path(p).read_bytes(), str(p))],
            intermediates=[
                c for p in intermediates for c in load_certificates(Path(p).read_bytes(), str(p))
            ],
            crls=[load_crl_der(Path(p).read_bytes(), str(p)) for p in crls],
            revocation=revocation,
            **kwargs,
        )

    @classmethod
    def offline_strict(
        cls,
        anchors: Iterable[x509.Certificate],
        *,
        intermediates: Iterable[x509.Certificate] = (),
        crls: Iterable[bytes] = (),
        ocsps: Iterable[bytes] = (),
        **kwargs: Any,
    ) -> TrustPolicy:
        """No network; every certificate needs revocation data from ``crls``/``ocsps``."""
        return cls.from_anchors(
            anchors,
            intermediates=intermediates,
            crls=crls,
            ocsps=ocsps,
            revocation=RevocationMode.REQUIRE,
            allow_fetching=False,
            **kwargs,
        )

    @classmethod
    def online(cls, anchors: Iterable[x509.Certificate], **kwargs: Any) -> TrustPolicy:
        """Fetch CRL/OCSP as the certificates declare them; unreachable data is TRY_LATER."""
        kwargs.setdefault("revocation", RevocationMode.HARD_FAIL)
        return cls.from_anchors(anchors, allow_fetching=True, **kwargs)

    @classmethod
    def unsafe_legacy(cls, anchors: Iterable[x509.Certificate], **kwargs: Any) -> TrustPolicy:
        """SHA-1 and 1024-bit RSA/DSA allowed: for legacy test suites (NIST PKITS) and archives.

        Warns :class:`UnsafeOptionWarning` (twice: one per unsafe flag).
        """
        return cls.from_anchors(
            anchors,
            allowed_algorithms=frozenset(SignatureAlgorithm),
            min_rsa_bits=_LEGACY_MIN_BITS,
            unsafe_sha1=True,
            unsafe_legacy_keys=True,
            **kwargs,
        )

    def unsafe_allow_sha1(self) -> TrustPolicy:
        """A copy that also accepts SHA-1 (RSA and ECDSA). Warns :class:`UnsafeOptionWarning`."""
        return dataclasses.replace(
            self, allowed_algorithms=self.allowed_algorithms | SHA1_ALGORITHMS, unsafe_sha1=True
        )

    def replace(self, **changes: object) -> TrustPolicy:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    # --- checks -----------------------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        """SHA-256 over every field: equal fingerprints mean equal policies (cache key)."""
        return self._fingerprint

    def check_algorithm(self, alg: SignatureAlgorithm, public_key: object) -> None:
        """Refuse an algorithm or key the policy does not allow.

        Raises:
            PolicyViolation: ``sub_indication="CRYPTO_CONSTRAINTS_FAILURE"``.
        """
        uri = alg._value_  # members by their URI: no Python-level Enum.__hash__ per lookup
        if uri not in self._allowed_uris:
            raise PolicyViolation(
                f"algorithm {alg.name} is not allowed by the policy",
                sub_indication="CRYPTO_CONSTRAINTS_FAILURE",
                code="verify.algorithm_not_allowed",
            )
        try:
            kt = key_type_of(public_key)  # type: ignore[arg-type]
        except Exception as exc:
            raise PolicyViolation(
                f"key type {type(public_key).__name__} is not allowed",
                sub_indication="CRYPTO_CONSTRAINTS_FAILURE",
                code="verify.key_not_allowed",
            ) from exc
        if kt is not _KEY_TYPE_BY_URI[uri]:
            raise PolicyViolation(
                f"{alg.name} needs a {alg.key_type.value} key, found {kt.value}",
                sub_indication="CRYPTO_CONSTRAINTS_FAILURE",
                code="verify.key_not_allowed",
            )
        self.check_key(public_key)
        if uri in _SHA1_URIS:
            warnings.warn(
                f"accepting {alg.name} under unsafe_sha1", UnsafeOptionWarning, stacklevel=2
            )

    def check_key(self, public_key: object) -> None:
        """Refuse small RSA/DSA keys, unlisted curves and other key types.

        Raises:
            PolicyViolation: ``sub_indication="CRYPTO_CONSTRAINTS_FAILURE"``.
        """
        why: str | None = None
        kind = _public_kind(public_key)
        if kind is rsa.RSAPublicKey:
            key_size = cast(rsa.RSAPublicKey, public_key).key_size
            if key_size < self.min_rsa_bits:
                why = f"RSA-{key_size} is below the minimum {self.min_rsa_bits}"
        elif kind is ec.EllipticCurvePublicKey:
            curve = cast(ec.EllipticCurvePublicKey, public_key).curve.name
            if curve not in ALLOWED_CURVES:
                why = f"curve {curve} is not allowed (P-256/384/521)"
        elif kind is dsa.DSAPublicKey:
            key_size = cast(dsa.DSAPublicKey, public_key).key_size
            if not self.unsafe_legacy_keys:
                why = "DSA keys are not allowed"
            elif key_size < _LEGACY_MIN_BITS:
                why = f"DSA-{key_size} is below {_LEGACY_MIN_BITS}"
        elif kind is not ed25519.Ed25519PublicKey:
            why = f"key type {type(public_key).__name__} is not allowed"
        if why is not None:
            raise PolicyViolation(
                why, sub_indication="CRYPTO_CONSTRAINTS_FAILURE", code="verify.key_not_allowed"
            )

    def check_signer(self, identity: SignerIdentity, *, role: str | None = None) -> None:
        """Apply ``signer`` and, for ``role`` "personal"/"organisation", the role requirement.

        Raises:
            PolicyViolation: ``sub_indication="SIG_CONSTRAINTS_FAILURE"``.
        """
        reqs = [self.signer]
        if role == "personal":
            reqs.append(self.personal_signer)
        elif role == "organisation":
            reqs.append(self.organisation_signer)
        for req in reqs:
            why = req.check(identity) if req is not None else None
            if why is not None:
                raise PolicyViolation(
                    f"signer {identity.subject!r} refused: {why}",
                    sub_indication="SIG_CONSTRAINTS_FAILURE",
                    code="verify.signer_not_allowed",
                )

    def _compute_fingerprint(self) -> str:
        h = hashlib.sha256()

        def put(tag: str, data: bytes) -> None:
            h.update(tag.encode() + len(data).to_bytes(8, "big") + data)

        for c in self.anchors:
            put("A", c.public_bytes(serialization.Encoding.DER))
        for c in self.intermediates:
            put("I", c.public_bytes(serialization.Encoding.DER))
        for b in self.crls:
            put("C", bytes(b))
        for b in self.ocsps:
            put("O", bytes(b))
        vt = self.validation_time.astimezone(dt.UTC).isoformat() if self.validation_time else ""
        scalars = [
            self.revocation.value,
            str(self.allow_fetching),
            vt,
            ",".join(sorted(a.value for a in self.allowed_algorithms)),
            str(self.min_rsa_bits),
            ",".join(sorted(self.key_usage)),
            repr(self.signer),
            repr(self.personal_signer),
            repr(self.organisation_signer),
            ",".join(sorted(self.required_roles)),
            str(self.unsafe_sha1),
            str(self.unsafe_legacy_keys),
        ]
        for s in scalars:
            put("S", s.encode())
        return h.hexdigest()
