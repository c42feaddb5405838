"""Composable requirements on the signer's identity (sigstore-style ``AllOf``/``AnyOf``).

A requirement is a frozen value with ``check(identity) -> str | None``: ``None`` when the
identity satisfies it, else a sentence saying what was expected and what was found. Names
are compared after NFC and case-folding (the same Vietnamese words can arrive in NFD).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..errors import ConfigurationError
from .identity import IdentityKind, SignerIdentity

__all__ = [
    "AllOf",
    "AnyOf",
    "SignerIs",
    "SignerIsOfficialOf",
    "SignerIsOrganisation",
    "SignerIsOrganisationWithMST",
    "SignerIsPerson",
    "SignerRequirement",
]


@runtime_checkable
class SignerRequirement(Protocol):
    """Anything that can judge a :class:`SignerIdentity`."""

    def check(self, identity: SignerIdentity) -> str | None:
        """``None`` if satisfied, else why not (expected vs found)."""
        ...


def _fold(value: str | None) -> str | None:
    return None if value is None else unicodedata.normalize("NFC", value).strip().casefold()


@dataclass(frozen=True)
class SignerIs:
    """The signer has every attribute given (attributes left ``None`` are not checked).

    Raises:
        ConfigurationError: no attribute given (a requirement that checks nothing).
    """

    kind: IdentityKind | None = None
    """PERSON or ORGANISATION."""
    mst: str | None = None
    """Tax code."""
    mns: str | None = None
    """Budget-unit code."""
    cccd: str | None = None
    """Citizen ID number."""
    cmnd: str | None = None
    """Old ID card number."""
    passport: str | None = None
    """Passport number."""
    organization: str | None = None
    """O, compared NFC + case-folded."""
    agency_code: str | None = None
    """edXML agency code found in the subject."""
    common_name: str | None = None
    """CN, compared NFC + case-folded."""

    def __post_init__(self) -> None:
        if all(getattr(self, f) is None for f in self.__dataclass_fields__):
            raise ConfigurationError("SignerIs() needs at least one attribute to check")

    def check(self, identity: SignerIdentity) -> str | None:
        """``None`` if every given attribute matches ``identity``."""
        if self.kind is not None and identity.kind is not self.kind:
            return f"expected a {self.kind.value} signer, found {identity.kind.value}"
        for name in ("mst", "mns", "cccd", "cmnd", "passport", "agency_code"):
            want = getattr(self, name)
            if want is not None and getattr(identity, name) != want:
                return f"expected {name} {want!r}, found {getattr(identity, name)!r}"
        for name in ("organization", "common_name"):
            want = getattr(self, name)
            if want is not None and _fold(getattr(identity, name)) != _fold(want):
                return f"expected {name} {want!r}, found {getattr(identity, name)!r}"
        return None


@dataclass(frozen=True)
class SignerIsPerson:
    """The signer is a natural person (CMND/CCCD/passport in the subject)."""

    def check(self, identity: SignerIdentity) -> str | None:
        """``None`` for a person."""
        if identity.kind is IdentityKind.PERSON:
            return None
        return f"expected a personal certificate, found {identity.kind.value}"


@dataclass(frozen=True)
class SignerIsOrganisation:
    """The signer is an organisation (a seal certificate: MST/MNS, no personal number)."""

    def check(self, identity: SignerIdentity) -> str | None:
        """``None`` for an organisation."""
        if identity.kind is IdentityKind.ORGANISATION:
            return None
        return f"expected an organisation certificate, found {identity.kind.value}"


@dataclass(frozen=True)
class SignerIsOrganisationWithMST:
    """The signer is the organisation with tax code ``mst``."""

    mst: str
    """The tax code (``UID=MST:`` or organizationIdentifier)."""

    def __post_init__(self) -> None:
        if not self.mst.strip():
            raise ConfigurationError("SignerIsOrganisationWithMST needs a non-empty MST")

    def check(self, identity: SignerIdentity) -> str | None:
        """``None`` for an organisation certificate carrying exactly this MST."""
        if identity.kind is not IdentityKind.ORGANISATION:
            return f"expected organisation MST {self.mst}, found a {identity.kind.value}"
        if identity.mst != self.mst.strip():
            return f"expected MST {self.mst}, found {identity.mst!r}"
        return None


@dataclass(frozen=True)
class SignerIsOfficialOf:
    """The signer is a person acting for an agency, named by O and/or agency code.

    Raises:
        ConfigurationError: neither ``organization`` nor ``agency_code`` given.
    """

    organization: str | None = None
    """The agency's name as in O (NFC + case-folded comparison)."""
    agency_code: str | None = None
    """The edXML agency code (``000.00.00.G10``) found in the subject."""

    def __post_init__(self) -> None:
        if self.organization is None and self.agency_code is None:
            raise ConfigurationError("SignerIsOfficialOf needs organization or agency_code")

    def check(self, identity: SignerIdentity) -> str | None:
        """``None`` for a person of this agency."""
        if identity.kind is not IdentityKind.PERSON:
            return f"expected an official (person), found {identity.kind.value}"
        if self.organization is not None and _fold(identity.organization) != _fold(
            self.organization
        ):
            return f"expected O={self.organization!r}, found {identity.organization!r}"
        if self.agency_code is not None and identity.agency_code != self.agency_code:
            return f"expected agency {self.agency_code}, found {identity.agency_code!r}"
        return None


@dataclass(frozen=True)
class AllOf:
    """Every requirement holds. An empty ``AllOf`` raises (it would accept anyone)."""

    requirements: tuple[SignerRequirement, ...]
    """The requirements, all of which must hold."""

    def __init__(self, requirements: tuple[SignerRequirement, ...] | list[SignerRequirement]):
        if not requirements:
            raise ConfigurationError("AllOf needs at least one requirement")
        object.__setattr__(self, "requirements", tuple(requirements))

    def check(self, identity: SignerIdentity) -> str | None:
        """The first failure, or ``None``."""
        for req in self.requirements:
            why = req.check(identity)
            if why is not None:
                return why
        return None


@dataclass(frozen=True)
class AnyOf:
    """At least one requirement holds. An empty ``AnyOf`` raises (it would accept no one)."""

    requirements: tuple[SignerRequirement, ...]
    """The alternatives."""

    def __init__(self, requirements: tuple[SignerRequirement, ...] | list[SignerRequirement]):
        if not requirements:
            raise ConfigurationError("AnyOf needs at least one requirement")
        object.__setattr__(self, "requirements", tuple(requirements))

    def check(self, identity: SignerIdentity) -> str | None:
        """``None`` if any alternative holds, else all the reasons joined."""
        reasons = []
        for req in self.requirements:
            why = req.check(identity)
            if why is None:
                return None
            reasons.append(why)
        return "none of: " + "; ".join(reasons)
