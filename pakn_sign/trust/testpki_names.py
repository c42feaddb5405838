"""Who is who in the test PKI: agencies, officials and their subject names (DOMAIN.md §3).

Vietnamese certificates carry typed identifiers in ``UID`` (0.9.2342.19200300.100.1.1):
``CCCD:<12 digits>`` for citizens, ``MST:<tax code>`` and ``MNS:<budget-unit code>`` for
organisations; some CAs add ``organizationIdentifier`` (2.5.4.97) ``VATVN-<MST>``. The
names, codes and numbers below are invented for tests; they identify nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

__all__ = [
    "AGENCIES",
    "CITIZEN",
    "OFFICIALS",
    "Agency",
    "Person",
    "agency_name",
    "person_name",
    "simple_name",
]


@dataclass(frozen=True, slots=True)
class Agency:
    """An agency with its edXML code and (invented) tax / budget-unit codes."""

    code: str
    name: str
    locality: str
    mst: str
    mns: str | None
    vat_identifier: bool  # also carry organizationIdentifier VATVN-<MST>


@dataclass(frozen=True, slots=True)
class Person:
    """An individual: an official signing for ``agency`` or a citizen (``agency=None``)."""

    key: str
    name: str
    locality: str
    cccd: str
    agency: str | None
    with_mst: bool = False  # a person signing for an organisation may carry both UIDs


AGENCIES: dict[str, Agency] = {
    a.code: a
    for a in (
        Agency("000.00.00.G22", "VĂN PHÒNG CHÍNH PHỦ", "Hà Nội", "0100000022", "1000022", True),
        # G10 is said to be the Ministry of Agriculture and Environment (DOMAIN.md §2, unverified).
        Agency("000.00.00.G10", "BỘ NÔNG NGHIỆP VÀ MÔI TRƯỜNG", "Hà Nội", "0100000010", None, True),
        Agency("000.00.00.G12", "BỘ THỬ NGHIỆM G12", "Hà Nội", "0100000012", "1000012", False),
        Agency(
            "000.00.00.H41",
            "ỦY BAN NHÂN DÂN TỈNH NGHỆ AN",
            "Nghệ An",
            "2900000041",
            "1000041",
            False,
        ),
        # The national public service portal (DVCQG), run by a unit of VPCP: a level-3 sub-unit
        # code under G22 (our choice; DOMAIN.md §2 shows sub-units such as 000.00.04.G14).
        # Its MST has a dependent-unit suffix "-001", as branch tax codes do.
        Agency(
            "000.00.01.G22", "CỔNG DỊCH VỤ CÔNG QUỐC GIA", "Hà Nội", "0100000022-001", None, False
        ),
    )
}

OFFICIALS: dict[str, Person] = {
    p.key: p
    for p in (
        Person("official-g22", "Nguyễn Văn An", "Hà Nội", "001085000022", "000.00.00.G22"),
        Person("official-g10", "Trần Thị Bình", "Hà Nội", "001190000010", "000.00.00.G10"),
        Person("official-g12", "Lê Minh Châu", "Hà Nội", "001088000012", "000.00.00.G12"),
        Person("official-h41", "Phạm Quốc Dũng", "Nghệ An", "040082000041", "000.00.00.H41", True),
        Person("official-portal", "Đặng Thu Hà", "Hà Nội", "001094000122", "000.00.01.G22"),
        # The sender of petitions: a citizen with no organisation.
        Person("citizen", "Hoàng Thị Én", "Đà Nẵng", "048195000001", None),
    )
}
CITIZEN = "citizen"

_UID = NameOID.USER_ID  # 0.9.2342.19200300.100.1.1


def _attr(oid: x509.ObjectIdentifier, value: str) -> x509.RelativeDistinguishedName:
    return x509.RelativeDistinguishedName([x509.NameAttribute(oid, value)])


def person_name(person: Person) -> x509.Name:
    """``C=VN, L=…, [O=agency,] CN=<name>, [UID=MST:…,] UID=CCCD:…`` (encoded order)."""
    rdns = [_attr(NameOID.COUNTRY_NAME, "VN"), _attr(NameOID.LOCALITY_NAME, person.locality)]
    if person.agency is not None:
        agency = AGENCIES[person.agency]
        rdns.append(_attr(NameOID.ORGANIZATION_NAME, agency.name))
    rdns.append(_attr(NameOID.COMMON_NAME, person.name))
    if person.agency is not None and person.with_mst:
        rdns.append(_attr(_UID, f"MST:{AGENCIES[person.agency].mst}"))
    rdns.append(_attr(_UID, f"CCCD:{person.cccd}"))
    return x509.Name(rdns)


def agency_name(agency: Agency) -> x509.Name:
    """``C=VN, L=…, O=…, CN=…, [UID=MNS:…,] UID=MST:…, [organizationIdentifier=VATVN-…]``."""
    rdns = [
        _attr(NameOID.COUNTRY_NAME, "VN"),
        _attr(NameOID.LOCALITY_NAME, agency.locality),
        _attr(NameOID.ORGANIZATION_NAME, agency.name),
        _attr(NameOID.COMMON_NAME, agency.name),
    ]
    if agency.mns is not None:
        rdns.append(_attr(_UID, f"MNS:{agency.mns}"))
    rdns.append(_attr(_UID, f"MST:{agency.mst}"))
    if agency.vat_identifier:
        rdns.append(_attr(NameOID.ORGANIZATION_IDENTIFIER, f"VATVN-{agency.mst}"))
    return x509.Name(rdns)


def simple_name(common_name: str, organization: str = "PAKN-SIGN TEST PKI") -> x509.Name:
    """A plain ``C=VN, O=…, CN=…`` name for CAs and service certificates."""
    return x509.Name(
        [
            _attr(NameOID.COUNTRY_NAME, "VN"),
            _attr(NameOID.ORGANIZATION_NAME, organization),
            _attr(NameOID.COMMON_NAME, common_name),
        ]
    )
