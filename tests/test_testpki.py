"""The test PKI: layout, Vietnamese subject conventions, usages, files, revocation, algorithms."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from conftest import PKI_NOW
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from pakn_sign.cli.main import main
from pakn_sign.errors import ConfigurationError, UntrustedSigner, VerificationError
from pakn_sign.signing.algorithms import verify_with_key
from pakn_sign.signing.signers import LocalKeySigner
from pakn_sign.trust.testpki import DEFAULT_PASSWORD, TestPKI
from pakn_sign.trust.testpki_build import ALGORITHMS

# The contract's four agencies; the PKI may hold more (the national portal, 000.00.01.G22).
AGENCY_CODES = {"000.00.00.G22", "000.00.00.G10", "000.00.00.G12", "000.00.00.H41"}
UID = NameOID.USER_ID


def uids(cert: x509.Certificate) -> list[str]:
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(UID)]


def one(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    values = cert.subject.get_attributes_for_oid(oid)
    assert len(values) == 1, (oid, cert.subject)
    return str(values[0].value)


def test_layout_and_manifest(test_pki: TestPKI) -> None:
    d = test_pki.directory
    for rel in (
        "pki.json",
        "ca/root.pem",
        "ca/root.cer",
        "ca/intermediate.pem",
        "ca/chain.pem",
        "crl/root.crl",
        "crl/intermediate.crl",
        "certs/tsa.p12",
        "certs/ocsp.pem",
    ):
        assert (d / rel).is_file(), rel
    manifest = json.loads((d / "pki.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "pakn-sign-test-pki/1"
    assert "never for production" in manifest["warning"]
    assert set(test_pki.agencies) >= AGENCY_CODES
    names = {e["name"] for e in manifest["entries"]}
    assert names == set(test_pki.all())
    for item in test_pki.all().values():
        assert item.pem_path.is_file()
        assert item.key_path.is_file()
        assert oct(item.key_path.stat().st_mode & 0o777) == "0o600"


def test_load_round_trip(test_pki: TestPKI) -> None:
    again = TestPKI.load(test_pki.directory)
    assert {n: i.cert for n, i in again.all().items()} == {
        n: i.cert for n, i in test_pki.all().items()
    }
    assert again.now == test_pki.now
    assert again.base_url == test_pki.base_url
    assert again.revocations == test_pki.revocations
    assert (
        again.signer("official-g22").certificate_chain[0] == test_pki.officials["official-g22"].cert
    )


def test_officials_subjects_follow_vietnamese_conventions(test_pki: TestPKI) -> None:
    for code in test_pki.agencies:
        official = test_pki.official_for(code).cert
        assert one(official, NameOID.COUNTRY_NAME) == "VN"
        assert one(official, NameOID.LOCALITY_NAME)
        assert one(official, NameOID.ORGANIZATION_NAME) == one(
            test_pki.agencies[code].cert, NameOID.ORGANIZATION_NAME
        )
        cccd = [u for u in uids(official) if u.startswith("CCCD:")]
        assert len(cccd) == 1
        assert re.fullmatch(r"CCCD:\d{12}", cccd[0])
    citizen = test_pki.officials["citizen"].cert
    assert citizen.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) == []
    assert re.fullmatch(r"CCCD:\d{12}", uids(citizen)[0])
    # Vietnamese names survive as UTF-8 NFC.
    assert one(test_pki.officials["official-g22"].cert, NameOID.COMMON_NAME) == "Nguyễn Văn An"
    # One official also carries the agency's MST, as some CAs issue (DOMAIN.md §3).
    assert any(u.startswith("MST:") for u in uids(test_pki.officials["official-h41"].cert))


def test_agency_seals_carry_mst_mns_and_organization_identifier(test_pki: TestPKI) -> None:
    with_vat = 0
    for code, seal in test_pki.agencies.items():
        cert = seal.cert
        values = uids(cert)
        mst = [u for u in values if u.startswith("MST:")]
        assert len(mst) == 1, code
        assert re.fullmatch(r"MST:\d{10}(-\d{3})?", mst[0]), code
        assert not any(u.startswith("CCCD:") for u in values)
        assert one(cert, NameOID.ORGANIZATION_NAME) == one(cert, NameOID.COMMON_NAME)
        org_ids = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
        if org_ids:
            with_vat += 1
            assert org_ids[0].value == "VATVN-" + mst[0][4:]
    assert with_vat >= 1
    assert any(u.startswith("MNS:") for u in uids(test_pki.agencies["000.00.00.G22"].cert))
    # The rfc4514 form prints UID by name and reverses the order (DOMAIN.md §3).
    text = test_pki.agencies["000.00.00.G22"].cert.subject.rfc4514_string()
    assert text.endswith("L=Hà Nội,C=VN")
    assert "UID=MST:" in text


def _ku(cert: x509.Certificate) -> x509.Extension[x509.KeyUsage]:
    return cert.extensions.get_extension_for_class(x509.KeyUsage)


def _eku(cert: x509.Certificate) -> x509.Extension[x509.ExtendedKeyUsage]:
    return cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)


def test_key_usages_and_ekus(test_pki: TestPKI) -> None:
    signing = [*test_pki.officials.values(), *test_pki.agencies.values()]
    for item in [*signing, test_pki.revoked, test_pki.expired]:
        ku = _ku(item.cert)
        assert ku.critical
        assert ku.value.digital_signature
        assert ku.value.content_commitment
        assert not ku.value.key_cert_sign
    tsa = _eku(test_pki.tsa.cert)
    assert tsa.critical
    assert list(tsa.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    assert list(_eku(test_pki.ocsp.cert).value) == [ExtendedKeyUsageOID.OCSP_SIGNING]
    test_pki.ocsp.cert.extensions.get_extension_for_class(x509.OCSPNoCheck)
    for name, item in test_pki.tls.items():
        want = (
            ExtendedKeyUsageOID.SERVER_AUTH
            if name.endswith("server")
            else (ExtendedKeyUsageOID.CLIENT_AUTH)
        )
        assert list(_eku(item.cert).value) == [want]
        san = item.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.DNSName) == ["localhost"]
        assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert {f"{c}-{s}" for c in test_pki.agencies for s in ("server", "client")} == set(
        test_pki.tls
    )


def test_ca_constraints_and_urls(test_pki: TestPKI) -> None:
    bc = test_pki.intermediate.cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical
    assert bc.value.ca
    assert bc.value.path_length == 0
    official = test_pki.officials["official-g10"].cert
    dp = official.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert dp[0].full_name[0].value == f"{test_pki.base_url}/crl/intermediate.crl"
    aia = official.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    ocsp = [
        a.access_location.value
        for a in aia
        if a.access_method == AuthorityInformationAccessOID.OCSP
    ]
    assert ocsp == [test_pki.ocsp_url]
    idp = test_pki.intermediate.cert.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    assert idp.value[0].full_name[0].value == f"{test_pki.base_url}/crl/root.crl"
    assert test_pki.base_url.startswith("http://127.0.0.1:")


def test_p12_needs_the_password(test_pki: TestPKI) -> None:
    data = test_pki.agencies["000.00.00.G22"].p12_path.read_bytes()  # type: ignore[union-attr]
    signer = LocalKeySigner.from_pkcs12(data, password=DEFAULT_PASSWORD.encode())
    assert signer.certificate_chain[0] == test_pki.agencies["000.00.00.G22"].cert
    _key, _cert, extra = pkcs12.load_key_and_certificates(data, DEFAULT_PASSWORD.encode())
    assert extra == [test_pki.intermediate.cert, test_pki.root.cert]
    with pytest.raises(ConfigurationError):
        LocalKeySigner.from_pkcs12(data, password=b"wrong")
    with pytest.raises(ConfigurationError):
        LocalKeySigner.from_pkcs12(data, password=None)


def test_revoked_is_in_the_intermediate_crl(test_pki: TestPKI) -> None:
    crl = x509.load_der_x509_crl(test_pki.intermediate_crl)
    assert crl.is_signature_valid(test_pki.intermediate.cert.public_key())  # type: ignore[arg-type]
    entry = crl.get_revoked_certificate_by_serial_number(test_pki.revoked.serial)
    assert entry is not None
    assert entry.revocation_date_utc == PKI_NOW - dt.timedelta(days=1)
    assert (
        crl.get_revoked_certificate_by_serial_number(test_pki.officials["citizen"].serial) is None
    )
    root_crl = x509.load_der_x509_crl(test_pki.root_crl)
    assert root_crl.is_signature_valid(test_pki.root.cert.public_key())  # type: ignore[arg-type]
    assert len(root_crl) == 0
    assert crl.last_update_utc <= PKI_NOW < crl.next_update_utc  # type: ignore[operator]


def test_expired_dates(test_pki: TestPKI) -> None:
    cert = test_pki.expired.cert
    assert cert.not_valid_after_utc < PKI_NOW
    for item in test_pki.all().values():
        if item.name != "expired":
            assert item.cert.not_valid_before_utc <= PKI_NOW < item.cert.not_valid_after_utc


def test_signer_signs_and_policy_validates(test_pki: TestPKI) -> None:
    from pakn_sign.trust.paths import validate_chain

    signer = test_pki.signer("000.00.00.H41")
    alg = signer.default_algorithm
    sig = signer.sign_raw(b"petition", alg)
    assert verify_with_key(signer.certificate_chain[0].public_key(), sig, b"petition", alg)  # type: ignore[arg-type]
    policy = test_pki.policy()
    chain = validate_chain(test_pki.officials["official-g22"].cert, policy=policy, at=PKI_NOW)
    assert chain.chain[-1] == test_pki.root.cert
    with pytest.raises(UntrustedSigner):
        validate_chain(test_pki.revoked.cert, policy=policy, at=PKI_NOW)
    with pytest.raises(VerificationError) as expired:
        validate_chain(test_pki.expired.cert, policy=policy, at=PKI_NOW)
    assert expired.value.sub_indication == "OUT_OF_BOUNDS_NO_POE"
    with pytest.raises(ConfigurationError):
        test_pki.signer("nobody")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_each_algorithm(tmp_path, algorithm: str) -> None:
    pki = TestPKI.create(tmp_path / algorithm, algorithm=algorithm, now=PKI_NOW)
    key = pki.officials["official-g12"].cert.public_key()
    expected = {
        "rsa2048": (rsa.RSAPublicKey, 2048),
        "rsa3072": (rsa.RSAPublicKey, 3072),
        "p256": (ec.EllipticCurvePublicKey, 256),
        "ed25519": (ed25519.Ed25519PublicKey, None),
    }[algorithm]
    assert isinstance(key, expected[0])
    if expected[1] is not None:
        assert key.key_size == expected[1]  # type: ignore[union-attr]
    signer = TestPKI.load(pki.directory).signer("official-g12")
    data = b"\xe1\xbb\x87 document"
    sig = signer.sign_raw(data, signer.default_algorithm)
    assert verify_with_key(key, sig, data, signer.default_algorithm)  # type: ignore[arg-type]
    p12 = pki.officials["official-g12"].p12_path.read_bytes()  # type: ignore[union-attr]
    assert LocalKeySigner.from_pkcs12(p12, password=b"pakn-test").certificate_chain
    from pakn_sign.clock import FixedClock
    from pakn_sign.signing.timestamps import verify_timestamp
    from pakn_sign.trust.paths import validate_chain

    policy = pki.policy()
    chain = validate_chain(pki.officials["official-g12"].cert, policy=policy, at=PKI_NOW)
    assert chain.revocation_status == "good"
    token = pki.timestamp_authority(clock=FixedClock(PKI_NOW)).request(data)
    assert verify_timestamp(token, data, policy=policy).time == PKI_NOW


def test_create_refuses_bad_arguments(tmp_path) -> None:
    with pytest.raises(ConfigurationError):
        TestPKI.create(tmp_path / "a", algorithm="dsa1024", now=PKI_NOW)
    with pytest.raises(ConfigurationError):
        TestPKI.create(tmp_path / "b", now=dt.datetime(2026, 11, 20, 9, 30))  # naive
    with pytest.raises(ConfigurationError):
        TestPKI.create(tmp_path / "c", now=PKI_NOW, base_url="ftp://x")
    with pytest.raises(ConfigurationError):
        TestPKI.load(tmp_path / "missing")


def test_revoke_reissues_crl_and_manifest(tmp_path) -> None:
    pki = TestPKI.create(tmp_path / "p", algorithm="p256", now=PKI_NOW)
    before = x509.load_der_x509_crl(pki.intermediate_crl)
    later = PKI_NOW + dt.timedelta(days=3)
    rev = pki.revoke("official-g22", at=later)
    crl = x509.load_der_x509_crl(pki.intermediate_crl)
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number == before.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
    entry = crl.get_revoked_certificate_by_serial_number(pki.officials["official-g22"].serial)
    assert entry is not None
    assert entry.revocation_date_utc == later
    assert rev in TestPKI.load(pki.directory).revocations
    with pytest.raises(ConfigurationError):
        pki.revoke("official-g22", at=later)
    with pytest.raises(ConfigurationError):
        pki.revoke("root", at=later)


def test_cli_init_and_revoke(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "cli-pki"
    rc = main(
        [
            "pki",
            "init",
            str(target),
            "--algorithm",
            "p256",
            "--now",
            "2026-11-20T09:30:00Z",
            "--base-url",
            "http://127.0.0.1:18555",
            "--password",
            "s3cret",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "FOR TESTS ONLY" in out
    assert "UID=MST:" in out
    pki = TestPKI.load(target)
    assert pki.base_url == "http://127.0.0.1:18555"
    assert pki.now == PKI_NOW
    data = pki.tsa.p12_path.read_bytes()  # type: ignore[union-attr]
    LocalKeySigner.from_pkcs12(data, password=b"s3cret")
    assert main(["pki", "revoke", str(target), "citizen", "--at", "2026-11-21T00:00:00Z"]) == 0
    assert len(TestPKI.load(target).revocations) == 2
    assert main(["pki", "init", str(target)]) == 2  # not empty: usage error
    assert main(["pki", "revoke", str(target), "citizen"]) == 2  # already revoked
