"""The partner directory: signed by VPCP, versioned, expiring.

An expired, badly signed or older (rollback) directory is refused and the last good one
is kept; sending to a partner needs a directory that is valid now. Key rotation works by
listing the old and the new fingerprint side by side until the old one is retired.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection, Sequence

from ..errors import ConfigurationError, PaknSignError, VerificationError
from ..signing.signers import Signer
from .sealing import Opened, open_sealed, seal
from .wire import DirectoryDocument, PartnerEntry

__all__ = ["DIRECTORY_TYP", "Directory", "DirectoryError", "sign_directory"]

DIRECTORY_TYP = "pakn-directory+json"


class DirectoryError(VerificationError):
    """The directory is missing, expired, rolled back or badly signed."""

    code = "transport.directory"


def sign_directory(doc: DirectoryDocument, signer: Signer) -> bytes:
    """Seal a directory document with VPCP's organisation key."""
    if doc.expires_at <= doc.issued_at:
        raise ConfigurationError("a directory must expire after it is issued")
    return seal(doc, signer, typ=DIRECTORY_TYP)


class Directory:
    """Holds the last good directory, verified against pinned VPCP certificates.

    Args:
        issuer_pins: SHA-256 fingerprints of the certificates allowed to sign directories.
    """

    def __init__(self, issuer_pins: Collection[str]):
        if not issuer_pins:
            raise ConfigurationError("a directory needs at least one pinned issuer certificate")
        self._pins = frozenset(issuer_pins)
        self._current: Opened[DirectoryDocument] | None = None
        self._raw: bytes | None = None
        self._lock = threading.Lock()

    @property
    def document(self) -> DirectoryDocument | None:
        """The current (last good) directory, if any."""
        return None if self._current is None else self._current.model

    @property
    def raw(self) -> bytes | None:
        """The signed bytes of the current directory (to pass on to others)."""
        return self._raw

    def update(self, data: bytes, *, now: dt.datetime) -> DirectoryDocument:
        """Verify and adopt ``data``; on any failure keep the last good one and raise."""
        try:
            opened = open_sealed(data, DirectoryDocument, typ=DIRECTORY_TYP, pinned=self._pins)
        except PaknSignError as exc:
            raise DirectoryError(f"directory refused: {exc}") from exc
        doc = opened.model
        if not doc.issued_at <= now < doc.expires_at:
            raise DirectoryError(
                f"directory v{doc.version} is not valid at {now.isoformat()}"
                f" ({doc.issued_at.isoformat()} .. {doc.expires_at.isoformat()})",
                code="transport.directory_expired",
            )
        with self._lock:
            if self._current is not None and doc.version < self._current.model.version:
                raise DirectoryError(
                    f"directory v{doc.version} is older than v{self._current.model.version}",
                    code="transport.directory_rollback",
                )
            self._current = opened
            self._raw = data
        return doc

    def entry(self, agency_code: str, *, now: dt.datetime) -> PartnerEntry:
        """The partner entry to send to or accept from, from a directory valid at ``now``."""
        doc = self.document
        if doc is None:
            raise DirectoryError("no directory loaded")
        if not doc.issued_at <= now < doc.expires_at:
            raise DirectoryError(
                f"directory v{doc.version} expired at {doc.expires_at.isoformat()}; refusing",
                code="transport.directory_expired",
            )
        for partner in doc.partners:
            if partner.agency_code == agency_code:
                return partner
        raise DirectoryError(
            f"{agency_code} is not in directory v{doc.version}", code="transport.unknown_partner"
        )

    def partners(self) -> Sequence[PartnerEntry]:
        doc = self.document
        return () if doc is None else tuple(doc.partners)
