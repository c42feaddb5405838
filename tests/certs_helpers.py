"""Small in-memory PKIs for the trust tests (root -> intermediate -> leaf), CRLs and OCSP.

Deterministic names and fixed times; keys are generated per call (EC P-256 by default, fast).
The PKI helper's ``test_pki``/``pki_service`` fixtures are used for live OCSP/CRL service tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UID = x509.ObjectIdentifier("0.9.2342.19200300.100.1.1")
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2028, 1, 1, tzinfo=dt.UTC)

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def new_key(kind: str = "ec") -> Key:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind.startswith("rsa"):
        return rsa.generate_private_key(65537, int(kind[3:] or 2048))
    if kind == "ec-k256":
        return ec.generate_private_key(ec.SECP256K1())
    raise ValueError(kind)


def name(*pairs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, v) for oid, v in pairs])


def _hash_for(key: Key) -> hashes.HashAlgorithm | None:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    return hashes.SHA256()


@dataclass
class Issued:
    cert: x509.Certificate
    key: Key

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def issue(
    subject: x509.Name,
    *,
    issuer: Issued | None = None,
    key: Key | None = None,
    ca: bool = False,
    not_before: dt.datetime = T0,
    not_after: dt.datetime = NOT_AFTER,
    key_usage: Sequence[str] | None = None,
    eku: Sequence[x509.ObjectIdentifier] = (),
    crl_url: str | None = None,
    ocsp_url: str | None = None,
    serial: int | None = None,
    sha1: bool = False,
    path_len: int | None = None,
) -> Issued:
    """Issue a certificate (self-signed when ``issuer`` is None)."""
    key = key or new_key()
    signer_key = issuer.key if issuer else key
    issuer_name = issuer.cert.subject if issuer else subject
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len if ca else None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if issuer is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
    ku = set(key_usage or (["key_cert_sign", "crl_sign"] if ca else ["digital_signature"]))
    b = b.add_extension(
        x509.KeyUsage(
            digital_signature="digital_signature" in ku,
            content_commitment="non_repudiation" in ku,
            key_encipherment="key_encipherment" in ku,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign="key_cert_sign" in ku,
            crl_sign="crl_sign" in ku,
            encipher_only=False,
            decipher_only=False,
        ),
        True,
    )
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(list(eku)), False)
    if crl_url:
        b = b.add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(crl_url)], None, None, None
                    )
                ]
            ),
            False,
        )
    if ocsp_url:
        b = b.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(ocsp_url),
                    )
                ]
            ),
            False,
        )
    cert = b.sign(signer_key, _hash_for(signer_key))
    if sha1:
        cert = _resign_sha1(cert, signer_key)
    return Issued(cert, key)


def _resign_sha1(cert: x509.Certificate, key: Key) -> x509.Certificate:
    """Re-sign with sha1WithRSAEncryption (cryptography 50 no longer issues SHA-1 certs)."""
    from asn1crypto import x509 as ax
    from cryptography.hazmat.primitives.asymmetric import padding

    assert isinstance(key, rsa.RSAPrivateKey)
    c = ax.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    tbs = c["tbs_certificate"]
    tbs["signature"] = {"algorithm": "sha1_rsa"}
    tbs_der = tbs.dump(force=True)
    sig = key.sign(tbs_der, padding.PKCS1v15(), hashes.SHA1())
    out = ax.Certificate(
        {
            "tbs_certificate": ax.TbsCertificate.load(tbs_der),
            "signature_algorithm": {"algorithm": "sha1_rsa"},
            "signature_value": sig,
        }
    )
    return x509.load_der_x509_certificate(out.dump())


@dataclass
class Chain:
    root: Issued
    intermediate: Issued
    leaf: Issued
    extra: dict[str, Issued] = field(default_factory=dict)


def make_chain(
    *,
    leaf_subject: x509.Name | None = None,
    leaf_kwargs: dict[str, object] | None = None,
    key_kind: str = "ec",
    crl_url: str | None = None,
    ocsp_url: str | None = None,
) -> Chain:
    """Root CA -> intermediate CA -> document-signing leaf (digitalSignature+nonRepudiation)."""
    root = issue(
        name((NameOID.COMMON_NAME, "Test Root CA"), (NameOID.COUNTRY_NAME, "VN")),
        ca=True,
        key=new_key(key_kind),
    )
    inter = issue(
        name((NameOID.COMMON_NAME, "Test Sub CA"), (NameOID.COUNTRY_NAME, "VN")),
        issuer=root,
        ca=True,
        key=new_key(key_kind),
        crl_url=crl_url,
    )
    subject = leaf_subject or name(
        (NameOID.COUNTRY_NAME, "VN"),
        (NameOID.ORGANIZATION_NAME, "Văn phòng Chính phủ"),
        (NameOID.COMMON_NAME, "Nguyễn Văn A"),
        (UID, "CCCD:001089020747"),
    )
    kw: dict[str, object] = {"key_usage": ["digital_signature", "non_repudiation"]}
    kw.update(leaf_kwargs or {})
    leaf = issue(
        subject, issuer=inter, key=new_key(key_kind), crl_url=crl_url, ocsp_url=ocsp_url, **kw
    )  # type: ignore[arg-type]
    return Chain(root, inter, leaf)


def make_crl(
    issuer: Issued,
    *,
    revoked: Sequence[tuple[x509.Certificate, dt.datetime]] = (),
    this_update: dt.datetime = T0,
    next_update: dt.datetime = NOT_AFTER,
) -> bytes:
    """A DER CRL from ``issuer`` revoking ``revoked`` at the given dates."""
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(1), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
    )
    for cert, when in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(when)
            .build()
        )
    return b.sign(issuer.key, _hash_for(issuer.key)).public_bytes(serialization.Encoding.DER)


def make_ocsp(
    cert: x509.Certificate,
    issuer: Issued,
    *,
    status: str = "good",
    revoked_at: dt.datetime | None = None,
    this_update: dt.datetime = T0,
    next_update: dt.datetime = NOT_AFTER,
) -> bytes:
    """A DER OCSP response about ``cert`` signed directly by its issuer."""
    cs = {
        "good": ocsp.OCSPCertStatus.GOOD,
        "revoked": ocsp.OCSPCertStatus.REVOKED,
        "unknown": ocsp.OCSPCertStatus.UNKNOWN,
    }[status]
    b = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=cert,
            issuer=issuer.cert,
            algorithm=hashes.SHA256(),
            cert_status=cs,
            this_update=this_update,
            next_update=next_update,
            revocation_time=revoked_at if status == "revoked" else None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.cert)
    )
    resp = b.sign(issuer.key, _hash_for(issuer.key))
    return resp.public_bytes(serialization.Encoding.DER)


TSA_EKU = ExtendedKeyUsageOID.TIME_STAMPING
