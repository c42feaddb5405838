"""Vietnamese subject attributes parsed into a typed :class:`SignerIdentity` (DOMAIN.md §3).

Vietnamese CAs put national identifiers in ``UID`` (OID 0.9.2342.19200300.100.1.1) as
``PREFIX:value``: ``CMND:`` (old ID card), ``CCCD:`` (citizen ID), ``HC:`` (passport) for
people; ``MST:`` (tax code) and ``MNS:`` (budget-unit code) for organisations. Some CAs use
``organizationIdentifier`` (2.5.4.97) with ``VATVN-`` or ``MST:``. A person signing for an
organisation carries both (``UID=CCCD:…`` and ``UID=MST:…``/``O=``). RDN order, the number of
UIDs and the spelling of the UID attribute in a DN string (``UID``,
``OID.0.9.2342.19200300.100.1.1``, dotted OID) all vary, so none of them matters here.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from ..errors import InvalidInput

__all__ = ["UID_OID", "IdentityKind", "SignerIdentity", "parse_dn"]

UID_OID = x509.ObjectIdentifier("0.9.2342.19200300.100.1.1")
"""RFC 4519 ``uid`` (userid): where Vietnamese CAs put ``CCCD:…``/``MST:…``."""

_AGENCY_CODE = re.compile(r"\b\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}\b")
"""edXML agency code (QCVN 102:2016), e.g. ``000.00.00.G22`` for VPCP."""

# DN-string attribute names (RFC 4514 §3, OpenSSL and Windows spellings) -> our keys.
_NAME_KEYS = {
    "CN": "cn",
    "O": "o",
    "OU": "ou",
    "L": "l",
    "ST": "st",
    "S": "st",
    "C": "c",
    "UID": "uid",
    "USERID": "uid",
    "0.9.2342.19200300.100.1.1": "uid",
    "E": "email",
    "EMAIL": "email",
    "EMAILADDRESS": "email",
    "1.2.840.113549.1.9.1": "email",
    "ORGANIZATIONIDENTIFIER": "orgid",
    "2.5.4.97": "orgid",
    "SERIALNUMBER": "serialnumber",
    "2.5.4.5": "serialnumber",
    "T": "title",
    "TITLE": "title",
}
_OID_KEYS = {
    NameOID.COMMON_NAME: "cn",
    NameOID.ORGANIZATION_NAME: "o",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "ou",
    NameOID.LOCALITY_NAME: "l",
    NameOID.STATE_OR_PROVINCE_NAME: "st",
    NameOID.COUNTRY_NAME: "c",
    UID_OID: "uid",
    NameOID.EMAIL_ADDRESS: "email",
    NameOID.ORGANIZATION_IDENTIFIER: "orgid",
    NameOID.SERIAL_NUMBER: "serialnumber",
    NameOID.TITLE: "title",
}
_UID_PREFIXES = {"CMND": "cmnd", "CCCD": "cccd", "HC": "passport", "MST": "mst", "MNS": "mns"}
_MAX_DN = 8192


class IdentityKind(enum.StrEnum):
    """Who the certificate names: a person, an organisation (a seal), or neither is evident."""

    PERSON = "person"
    ORGANISATION = "organisation"
    UNKNOWN = "unknown"


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


@dataclass(frozen=True)
class SignerIdentity:
    """The typed identity of a certificate subject.

    ``kind`` is PERSON when a personal number (CMND/CCCD/passport) is present, else
    ORGANISATION when an organisation number (MST/MNS/organizationIdentifier) is present,
    else UNKNOWN. A person acting for an organisation keeps ``mst``/``organization`` too.
    """

    kind: IdentityKind
    """Person, organisation or unknown (no Vietnamese identifier)."""
    subject: str = ""
    """The subject DN as an RFC 4514 string."""
    common_name: str | None = None
    """CN: the person's or the unit's name."""
    organization: str | None = None
    """O: the organisation (for a person: the one they act for)."""
    organizational_unit: str | None = None
    """OU, when present."""
    cmnd: str | None = None
    """Old 9/12-digit ID card number (``UID=CMND:``)."""
    cccd: str | None = None
    """Citizen identity card number (``UID=CCCD:``)."""
    passport: str | None = None
    """Passport number (``UID=HC:``)."""
    mst: str | None = None
    """Tax code (``UID=MST:``, ``organizationIdentifier=VATVN-``/``MST:``)."""
    mns: str | None = None
    """Budget-unit code of a public-sector unit (``UID=MNS:``)."""
    organization_identifier: str | None = None
    """The raw organizationIdentifier (2.5.4.97) value."""
    agency_code: str | None = None
    """An edXML agency code (``000.00.00.G22``) found in O, OU, CN or a UID."""
    email: str | None = None
    """emailAddress, when present."""
    locality: str | None = None
    """L."""
    province: str | None = None
    """ST."""
    country: str | None = None
    """C."""
    other_uids: tuple[str, ...] = ()
    """UID values without a known prefix, verbatim."""
    issuer: str | None = None
    """The issuing CA's DN (RFC 4514), when parsed from a certificate."""
    serial: str | None = None
    """The certificate serial number, upper-case hex, when parsed from a certificate."""

    @property
    def acts_for_organisation(self) -> bool:
        """True for a person whose certificate also names an organisation (MST or O)."""
        return self.kind is IdentityKind.PERSON and bool(self.mst or self.organization)

    @property
    def identifiers(self) -> dict[str, str]:
        """The national identifiers present, e.g. ``{"cccd": "0010…", "mst": "0100…"}``."""
        names = ("cmnd", "cccd", "passport", "mst", "mns", "organization_identifier")
        out = {n: getattr(self, n) for n in names if getattr(self, n)}
        if self.agency_code:
            out["agency_code"] = self.agency_code
        return out

    @classmethod
    def from_certificate(cls, cert: x509.Certificate) -> SignerIdentity:
        """Parse the subject of ``cert``; ``issuer`` and ``serial`` come from the certificate."""
        pairs = [(_OID_KEYS.get(a.oid, a.oid.dotted_string), _attr_text(a)) for a in cert.subject]
        return cls._from_pairs(
            pairs,
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            serial=format(cert.serial_number, "X"),
        )

    @classmethod
    def from_name(cls, name: x509.Name) -> SignerIdentity:
        """Parse a cryptography ``Name`` (any RDN order, multi-valued RDNs)."""
        pairs = [(_OID_KEYS.get(a.oid, a.oid.dotted_string), _attr_text(a)) for a in name]
        return cls._from_pairs(pairs, subject=name.rfc4514_string())

    @classmethod
    def from_dn_string(cls, dn: str) -> SignerIdentity:
        """Parse a DN string (``X509SubjectName``, RFC 4514 or OpenSSL ``a=b, c=d`` form).

        Raises:
            InvalidInput: the string is too long or not a sequence of ``attr=value``.
        """
        return cls._from_pairs(parse_dn(dn), subject=_nfc(dn))

    @classmethod
    def _from_pairs(
        cls,
        pairs: Iterable[tuple[str, str]],
        *,
        subject: str,
        issuer: str | None = None,
        serial: str | None = None,
    ) -> SignerIdentity:
        found: dict[str, str] = {}
        others: list[str] = []
        codes: list[str] = []
        for key, raw in pairs:
            value = _nfc(raw)
            if key == "uid":
                prefix, sep, number = value.partition(":")
                slot = _UID_PREFIXES.get(prefix.strip().upper()) if sep else None
                if slot is None:
                    others.append(value)
                else:
                    found.setdefault(slot, number.strip())
            elif key == "orgid":
                found.setdefault("orgid", value)
                mst = _mst_from_org_identifier(value)
                if mst:
                    found.setdefault("mst", mst)
            elif key in ("cn", "o", "ou", "l", "st", "c", "email"):
                found.setdefault(key, value)
            if key in ("o", "ou", "cn", "uid", "orgid"):
                codes.extend(_AGENCY_CODE.findall(value))
        if any(k in found for k in ("cmnd", "cccd", "passport")):
            kind = IdentityKind.PERSON
        elif any(k in found for k in ("mst", "mns", "orgid")):
            kind = IdentityKind.ORGANISATION
        else:
            kind = IdentityKind.UNKNOWN
        return cls(
            kind=kind,
            subject=subject,
            common_name=found.get("cn"),
            organization=found.get("o"),
            organizational_unit=found.get("ou"),
            cmnd=found.get("cmnd"),
            cccd=found.get("cccd"),
            passport=found.get("passport"),
            mst=found.get("mst"),
            mns=found.get("mns"),
            organization_identifier=found.get("orgid"),
            agency_code=codes[0] if codes else None,
            email=found.get("email"),
            locality=found.get("l"),
            province=found.get("st"),
            country=found.get("c"),
            other_uids=tuple(others),
            issuer=issuer,
            serial=serial,
        )


def _attr_text(attr: x509.NameAttribute[str | bytes]) -> str:
    value = attr.value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _mst_from_org_identifier(value: str) -> str | None:
    # ETSI EN 319 412-1 §5.1.4: "VAT" + country code + "-" + number; some VN CAs use "MST:".
    upper = value.upper()
    if upper.startswith("VATVN-"):
        return value[6:].strip() or None
    if upper.startswith("MST:"):
        return value[4:].strip() or None
    return None


def parse_dn(dn: str) -> list[tuple[str, str]]:
    """Split a DN string into ``(key, value)`` pairs, honouring ``\\`` escapes and quotes.

    Keys are normalised (``uid``, ``cn``, ``o``…; unknown attributes keep their upper-case
    name). Separators are ``,`` ``;`` and ``+`` (multi-valued RDN), as RFC 4514 §3 and
    OpenSSL's one-line form write them.

    Raises:
        InvalidInput: longer than 8 KiB, or a component without ``=``.
    """
    if len(dn) > _MAX_DN:
        raise InvalidInput(f"DN string of {len(dn)} characters exceeds {_MAX_DN}")
    out: list[tuple[str, str]] = []
    for part in _split_unescaped(dn):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise InvalidInput(f"DN component {part.strip()[:40]!r} has no '='")
        key = name.strip().upper()
        if key.startswith("OID."):
            key = key[4:]
        out.append((_NAME_KEYS.get(key, key), _unescape(value.strip())))
    return out


def _split_unescaped(dn: str) -> Sequence[str]:
    parts: list[str] = []
    buf: list[str] = []
    quoted = escaped = False
    for ch in dn:
        if escaped:
            buf.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
            buf.append(ch)
        elif ch in ",;+" and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _unescape(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    out: list[str] = []
    raw = bytearray()
    i = 0
    while i < len(value):
        ch = value[i]
        if (
            ch == "\\"
            and i + 2 < len(value) + 1
            and re.fullmatch(r"[0-9A-Fa-f]{2}", value[i + 1 : i + 3])
        ):
            # RFC 4514 §2.4: \XX is a UTF-8 byte
            raw.append(int(value[i + 1 : i + 3], 16))
            i += 3
            continue
        if raw:
            out.append(raw.decode("utf-8", "replace"))
            raw.clear()
        if ch == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    if raw:
        out.append(raw.decode("utf-8", "replace"))
    return "".join(out)
