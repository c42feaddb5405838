"""SignerIdentity: the Vietnamese subject forms of DOMAIN.md §3, from certificates and DNs."""

from __future__ import annotations

import unicodedata

import pytest
from certs_helpers import UID, issue, make_chain, name
from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pakn_sign.errors import InvalidInput
from pakn_sign.trust.identity import IdentityKind, SignerIdentity, parse_dn

ORG_ID = NameOID.ORGANIZATION_IDENTIFIER


@pytest.mark.parametrize(
    ("dn", "kind", "field", "value"),
    [
        (
            "UID=CMND:001089020747, CN=Trần Văn B, L=NAM ĐỊNH, C=VN",
            "person",
            "cmnd",
            "001089020747",
        ),
        ("UID=CCCD:001089020747, CN=Nguyễn Văn A, C=VN", "person", "cccd", "001089020747"),
        ("UID=HC:C1234567, CN=Lê Thị C, C=VN", "person", "passport", "C1234567"),
        (
            "EMAILADDRESS=syt@danang.gov.vn, UID=MST:0400260612, UID=MNS:1047665, CN=SỞ Y TẾ, "
            "O=ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG, L=Đà Nẵng, C=VN",
            "organisation",
            "mns",
            "1047665",
        ),
        ("C=VN,ST=Hà Nội,CN=Công ty X,UID=MST:0100686209", "organisation", "mst", "0100686209"),
        (
            "OID.0.9.2342.19200300.100.1.1=MST:0100686209,CN=Công ty X,C=VN",
            "organisation",
            "mst",
            "0100686209",
        ),
        ("0.9.2342.19200300.100.1.1=CCCD:079200001234,CN=A", "person", "cccd", "079200001234"),
        ("userid=cccd:079200001234,CN=A", "person", "cccd", "079200001234"),
        ("2.5.4.97=VATVN-0101234567,CN=Công ty Y", "organisation", "mst", "0101234567"),
        ("organizationIdentifier=MST:0101234567,CN=Công ty Y", "organisation", "mst", "0101234567"),
        ("CN=Test, O=Nobody, C=VN", "unknown", "mst", None),
    ],
    ids=[
        "cmnd",
        "cccd",
        "passport",
        "organisation-mst-mns",
        "portal-order",
        "oid-uid",
        "dotted-uid",
        "userid-lowercase-prefix",
        "orgid-vatvn",
        "orgid-mst",
        "no-vn-identifier",
    ],
)
def test_dn_string_forms(dn, kind, field, value):
    ident = SignerIdentity.from_dn_string(dn)
    assert ident.kind is IdentityKind(kind)
    assert getattr(ident, field) == value


def test_person_signing_for_organisation():
    ident = SignerIdentity.from_dn_string(
        "C=VN, O=MobiFone IT, UID=MST:0100686209-199, UID=CCCD:001089020747, CN=Phạm Văn D"
    )
    assert ident.kind is IdentityKind.PERSON
    assert ident.cccd == "001089020747"
    assert ident.mst == "0100686209-199"
    assert ident.organization == "MobiFone IT"
    assert ident.acts_for_organisation
    assert ident.identifiers == {"cccd": "001089020747", "mst": "0100686209-199"}


def test_plain_person_does_not_act_for_organisation():
    assert not SignerIdentity.from_dn_string("UID=CCCD:1, CN=A").acts_for_organisation


def test_rdn_order_does_not_matter():
    a = SignerIdentity.from_dn_string("UID=MST:1, UID=CCCD:2, CN=X, O=Y")
    b = SignerIdentity.from_dn_string("O=Y, CN=X, UID=CCCD:2, UID=MST:1")
    assert a.identifiers == b.identifiers
    assert (a.kind, a.common_name, a.organization) == (b.kind, b.common_name, b.organization)


def test_from_certificate_matches_its_rfc4514_string():
    subject = name(
        (NameOID.COUNTRY_NAME, "VN"),
        (NameOID.ORGANIZATION_NAME, "ỦY BAN NHÂN DÂN TỈNH A"),
        (NameOID.COMMON_NAME, "SỞ Y TẾ"),
        (UID, "MNS:1047665"),
        (UID, "MST:0400260612"),
    )
    cert = issue(subject).cert
    from_cert = SignerIdentity.from_certificate(cert)
    from_str = SignerIdentity.from_dn_string(cert.subject.rfc4514_string())
    assert from_cert.kind is IdentityKind.ORGANISATION
    assert from_cert.identifiers == from_str.identifiers == {"mst": "0400260612", "mns": "1047665"}
    assert from_cert.common_name == from_str.common_name == "SỞ Y TẾ"
    assert from_cert.serial == format(cert.serial_number, "X")
    assert from_cert.issuer == cert.issuer.rfc4514_string()


def test_oid_spelling_of_uid_in_rfc4514():
    # what cryptography prints when it has no short name for the attribute type
    dn = "OID.0.9.2342.19200300.100.1.1=CCCD:001089020747,CN=Nguyễn Văn A,C=VN"
    assert SignerIdentity.from_dn_string(dn).cccd == "001089020747"


def test_organization_identifier_in_certificate():
    cert = issue(name((ORG_ID, "VATVN-0101234567"), (NameOID.COMMON_NAME, "Công ty Y"))).cert
    ident = SignerIdentity.from_certificate(cert)
    assert ident.kind is IdentityKind.ORGANISATION
    assert ident.mst == "0101234567"
    assert ident.organization_identifier == "VATVN-0101234567"


def test_uid_takes_precedence_over_org_identifier_order_independent():
    ident = SignerIdentity.from_dn_string("UID=MST:111, organizationIdentifier=VATVN-222")
    assert ident.mst == "111"


def test_several_uids_with_unknown_prefix():
    ident = SignerIdentity.from_dn_string("UID=CCCD:1, UID=BHXH:99, UID=plainvalue, CN=A")
    assert ident.other_uids == ("BHXH:99", "plainvalue")


def test_agency_code_found_in_ou_or_o():
    ident = SignerIdentity.from_dn_string(
        "UID=CCCD:1, CN=A, OU=000.00.00.G22, O=Văn phòng Chính phủ"
    )
    assert ident.agency_code == "000.00.00.G22"
    assert ident.identifiers["agency_code"] == "000.00.00.G22"


def test_escapes_quotes_and_multivalued_rdn():
    pairs = parse_dn(r'CN=Công ty A\, B+UID=MST:1, O="Tập đoàn, C", L=\C4\90à Nẵng')
    assert pairs == [
        ("cn", "Công ty A, B"),
        ("uid", "MST:1"),
        ("o", "Tập đoàn, C"),
        ("l", "Đà Nẵng"),
    ]


def test_nfd_input_is_normalised_to_nfc():
    nfd = unicodedata.normalize("NFD", "UID=CCCD:1, CN=Nguyễn Văn A")
    ident = SignerIdentity.from_dn_string(nfd)
    assert ident.common_name == unicodedata.normalize("NFC", "Nguyễn Văn A")


def test_issuer_of_real_chain():
    c = make_chain()
    ident = SignerIdentity.from_certificate(c.leaf.cert)
    assert ident.issuer == "C=VN,CN=Test Sub CA"


def test_name_object_in_any_order():
    n = x509.Name(
        [
            x509.RelativeDistinguishedName([x509.NameAttribute(UID, "CCCD:5")]),
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "A"),
                    x509.NameAttribute(UID, "MST:6"),
                ]
            ),
        ]
    )
    ident = SignerIdentity.from_name(n)
    assert (ident.kind, ident.cccd, ident.mst) == (IdentityKind.PERSON, "5", "6")


@pytest.mark.parametrize("bad", ["CN", "just text", "CN=A, garbage"])
def test_malformed_dn_refused(bad):
    with pytest.raises(InvalidInput):
        SignerIdentity.from_dn_string(bad)


def test_attack_oversized_dn_refused_before_parsing():
    with pytest.raises(InvalidInput, match="exceeds"):
        SignerIdentity.from_dn_string("CN=" + "A" * 10_000)


_TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="\x00"
    ),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s and unicodedata.normalize("NFC", s) == s)


@settings(max_examples=150, deadline=None)
@example(cn="0", org="000.00.00.A00", cccd="000000000000", mst="0000000000", order=[0, 1, 2, 3])
@given(
    cn=_TEXT,
    org=_TEXT,
    cccd=st.from_regex(r"[0-9]{12}", fullmatch=True),
    mst=st.from_regex(r"[0-9]{10}(-[0-9]{3})?", fullmatch=True),
    order=st.permutations(range(4)),
)
def test_rfc4514_round_trip_property(cn, org, cccd, mst, order):
    # whatever cryptography escapes in rfc4514_string, parse_dn must read back
    attrs = [
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(UID, f"CCCD:{cccd}"),
        x509.NameAttribute(UID, f"MST:{mst}"),
    ]
    n = x509.Name([attrs[i] for i in order])
    direct = SignerIdentity.from_name(n)
    parsed = SignerIdentity.from_dn_string(n.rfc4514_string())
    # An O that is itself an agency code (e.g. "000.00.00.A00") adds agency_code: same both ways.
    expected = {"cccd": cccd, "mst": mst}
    if direct.agency_code is not None:
        assert direct.agency_code == org
        expected["agency_code"] = org
    assert parsed.identifiers == direct.identifiers == expected
    assert parsed.common_name == direct.common_name == cn
    assert parsed.organization == direct.organization == org
    assert parsed.kind is IdentityKind.PERSON
