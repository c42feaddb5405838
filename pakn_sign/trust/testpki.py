"""A test PKI shaped like Vietnam's: for tests and demos, never for production.

``TestPKI.create(dir, now=...)`` writes a root CA, a government intermediate CA (pathLen 0),
personal certificates for officials and a citizen (``UID=CCCD:…``), organisation seals
(``UID=MST:…``, ``UID=MNS:…``, ``organizationIdentifier VATVN-…``) for VPCP, two ministries
and a province, a TSA, an OCSP responder, mutual-TLS certificates per agency node, one
revoked and one expired signing certificate, and CRLs. Validity is derived from the
injected ``now``; URLs in the certificates (CRL distribution points, AIA OCSP) point at
``base_url``, which must be where ``pakn-sign pki serve`` listens. Layout: docs/pki.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..clock import Clock, ensure_aware
from ..errors import ConfigurationError
from ..signing.signers import LocalKeySigner
from .testpki_build import Issuer, build_crl
from .testpki_create import generate
from .testpki_files import IssuedCert, Revocation, load_entry, read_manifest, write_manifest
from .testpki_names import OFFICIALS

if TYPE_CHECKING:
    from ..signing.timestamps import LocalTimestampAuthority
    from .policy import TrustPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_PASSWORD",
    "IssuedCert",
    "Revocation",
    "TestPKI",
    "revocations_of",
]

DEFAULT_BASE_URL = "http://127.0.0.1:8790"
DEFAULT_PASSWORD = "pakn-test"  # noqa: S105 - a documented test-only password
_FORMAT = "pakn-sign-test-pki/1"
CRL_VALIDITY = dt.timedelta(days=90)


@dataclass(eq=False)
class TestPKI:
    """A test PKI in ``directory``: build with :meth:`create`, reopen with :meth:`load`."""

    __test__ = False  # not a pytest test class, despite the name

    directory: Path
    algorithm: str
    base_url: str
    password: str
    now: dt.datetime
    root: IssuedCert
    intermediate: IssuedCert
    officials: dict[str, IssuedCert]
    agencies: dict[str, IssuedCert]
    tsa: IssuedCert
    ocsp: IssuedCert
    tls: dict[str, IssuedCert]
    revoked: IssuedCert
    expired: IssuedCert
    revocations: tuple[Revocation, ...] = field(default=())

    # --- building ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: Path | str,
        *,
        algorithm: str = "rsa2048",
        now: dt.datetime,
        base_url: str = DEFAULT_BASE_URL,
        password: str = DEFAULT_PASSWORD,
    ) -> TestPKI:
        """Generate every key and certificate, write the files and ``pki.json``."""
        pki = cls(*generate(Path(directory), algorithm, now, base_url, password))
        pki._write(crl_number=1)
        return pki

    # --- files ------------------------------------------------------------------------

    @property
    def crl_this_update(self) -> dt.datetime:
        """CRLs are dated an hour before ``now`` so validation at ``now`` finds them current."""
        return self.now - dt.timedelta(hours=1)

    def _entries(self) -> list[dict[str, Any]]:
        groups: list[tuple[str, dict[str, IssuedCert]]] = [
            ("root", {"root": self.root}),
            ("intermediate", {"intermediate": self.intermediate}),
            ("official", self.officials),
            ("agency", self.agencies),
            ("tsa", {"tsa": self.tsa}),
            ("ocsp", {"ocsp": self.ocsp}),
            ("tls", self.tls),
            ("revoked", {"revoked": self.revoked}),
            ("expired", {"expired": self.expired}),
        ]
        return [
            {
                "name": item.name,
                "group": group,
                "key": key,
                "role": item.role,
                "ca": group in ("root", "intermediate"),
                "subject": item.cert.subject.rfc4514_string(),
                "serial": format(item.serial, "x"),
                "not_before": item.cert.not_valid_before_utc.isoformat(),
                "not_after": item.cert.not_valid_after_utc.isoformat(),
            }
            for group, table in groups
            for key, item in table.items()
        ]

    def _write(self, *, crl_number: int) -> None:
        crl_dir = self.directory / "crl"
        crl_dir.mkdir(exist_ok=True)
        times = {"this_update": self.crl_this_update, "next_update": self.now + CRL_VALIDITY}
        root_crl = build_crl(Issuer(self.root.cert, self.root.key), [], number=crl_number, **times)
        int_crl = build_crl(
            Issuer(self.intermediate.cert, self.intermediate.key),
            [(r.serial, r.time, r.reason) for r in self.revocations],
            number=crl_number,
            **times,
        )
        (crl_dir / "root.crl").write_bytes(root_crl.public_bytes(serialization.Encoding.DER))
        (crl_dir / "intermediate.crl").write_bytes(int_crl.public_bytes(serialization.Encoding.DER))
        write_manifest(
            self.directory,
            {
                "format": _FORMAT,
                "warning": "TEST PKI: for tests and demos only, never for production",
                "algorithm": self.algorithm,
                "base_url": self.base_url,
                "password": self.password,
                "now": self.now.isoformat(),
                "crl_number": crl_number,
                "entries": self._entries(),
                "revocations": [r.to_json() for r in self.revocations],
            },
        )

    @classmethod
    def load(cls, directory: Path | str) -> TestPKI:
        """Reopen a PKI written by :meth:`create` (keys, certificates, revocations)."""
        root_dir = Path(directory)
        data = read_manifest(root_dir)
        try:
            by_group: dict[str, dict[str, IssuedCert]] = {}
            chain: tuple[x509.Certificate, ...] = ()
            for e in data["entries"]:  # root, then intermediate, then end entities
                item = load_entry(root_dir, e["name"], e["role"], chain, ca=bool(e["ca"]))
                by_group.setdefault(e["group"], {})[e["key"]] = item
                if e["group"] in ("root", "intermediate"):
                    chain = (item.cert, *chain)
            revocations = tuple(Revocation.from_json(r) for r in data["revocations"])
            return cls(
                root_dir,
                str(data["algorithm"]),
                str(data["base_url"]),
                str(data["password"]),
                dt.datetime.fromisoformat(data["now"]),
                by_group["root"]["root"],
                by_group["intermediate"]["intermediate"],
                by_group["official"],
                by_group["agency"],
                by_group["tsa"]["tsa"],
                by_group["ocsp"]["ocsp"],
                by_group["tls"],
                by_group["revoked"]["revoked"],
                by_group["expired"]["expired"],
                revocations,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"malformed test-PKI manifest in {root_dir}: {exc}") from exc

    def revoke(
        self,
        name: str,
        *,
        at: dt.datetime,
        reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise,
    ) -> Revocation:
        """Revoke ``name`` as of ``at``: re-issue the intermediate CRL, update ``pki.json``.

        A running ``pki serve`` re-reads the manifest, so OCSP answers change at once.
        """
        item = self.get(name)
        if item.name in ("root", "intermediate"):
            raise ConfigurationError("only end-entity certificates can be revoked here")
        if any(r.serial == item.serial for r in self.revocations):
            raise ConfigurationError(f"{name!r} is already revoked")
        rev = Revocation(item.name, item.serial, ensure_aware(at).astimezone(dt.UTC), reason)
        self.revocations = (*self.revocations, rev)
        data = read_manifest(self.directory)
        self._write(crl_number=int(data["crl_number"]) + 1)
        return rev

    # --- access -----------------------------------------------------------------------

    def all(self) -> dict[str, IssuedCert]:
        """Every entry by file name (``official-g22``, ``seal-000.00.00.G22``, ``tsa``…)."""
        items = [self.root, self.intermediate, self.tsa, self.ocsp, self.revoked, self.expired]
        items += [*self.officials.values(), *self.agencies.values(), *self.tls.values()]
        return {i.name: i for i in items}

    def get(self, name: str) -> IssuedCert:
        """Look up by file name, official key, agency code or TLS key (``<code>-server``)."""
        for table in (self.officials, self.agencies, self.tls, self.all()):
            if name in table:
                return table[name]
        raise ConfigurationError(f"no certificate named {name!r} in the test PKI")

    def signer(self, name: str) -> LocalKeySigner:
        """A :class:`LocalKeySigner` for ``name`` (official key, agency code, ``revoked``…)."""
        return self.get(name).signer()

    def official_for(self, agency_code: str) -> IssuedCert:
        """The official who signs for ``agency_code``."""
        for key, person in OFFICIALS.items():
            if person.agency == agency_code:
                return self.officials[key]
        raise ConfigurationError(f"no official for agency {agency_code!r}")

    @property
    def root_crl(self) -> bytes:
        """The root CA's CRL (DER)."""
        return (self.directory / "crl" / "root.crl").read_bytes()

    @property
    def intermediate_crl(self) -> bytes:
        """The government CA's CRL (DER), listing the revoked certificates."""
        return (self.directory / "crl" / "intermediate.crl").read_bytes()

    @property
    def crls(self) -> tuple[bytes, ...]:
        """Both CRLs, root first."""
        return (self.root_crl, self.intermediate_crl)

    @property
    def tsa_url(self) -> str:
        """Where ``pki serve`` answers RFC 3161 requests."""
        return f"{self.base_url}/tsa"

    @property
    def ocsp_url(self) -> str:
        """Where ``pki serve`` answers OCSP requests (the AIA URL of end entities)."""
        return f"{self.base_url}/ocsp"

    def policy(self, **kw: Any) -> TrustPolicy:
        """``TrustPolicy.from_anchors([root], intermediates=[government CA], crls=both)``."""
        from .policy import TrustPolicy

        kw.setdefault("intermediates", [self.intermediate.cert])
        kw.setdefault("crls", self.crls)
        return TrustPolicy.from_anchors([self.root.cert], **kw)

    def timestamp_authority(self, *, clock: Clock | None = None) -> LocalTimestampAuthority:
        """An in-process TSA with this PKI's TSA key (same tokens as ``pki serve``)."""
        from ..signing.timestamps import LocalTimestampAuthority

        return LocalTimestampAuthority(self.tsa.signer(), clock=clock)


def revocations_of(directory: Path) -> tuple[Revocation, ...]:
    """The current revocations from ``pki.json`` (the service calls this per request)."""
    return tuple(Revocation.from_json(r) for r in read_manifest(directory)["revocations"])
