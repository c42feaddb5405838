"""Caches never keep large attacker-supplied data: certificates from signed data are refused
over MAX_CERTIFICATE_BYTES, and CRLs that came with a signature are parsed but not kept
over 256 KiB (anyone may add CRLs to a B-LT signature's unsigned properties)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from certs_helpers import T0, make_chain, make_crl
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier
from lxml import etree

from pakn_sign.errors import InvalidInput
from pakn_sign.signing import xmldsig_keyinfo
from pakn_sign.signing.certload import MAX_CERTIFICATE_BYTES, load_der_certificate
from pakn_sign.signing.jws import certificates_of
from pakn_sign.trust import cache_window, paths
from pakn_sign.trust.paths import clear_chain_cache, validate_chain
from pakn_sign.trust.policy import TrustPolicy

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DS = "http://www.w3.org/2000/09/xmldsig#"
_PAD = ObjectIdentifier("1.3.6.1.4.1.99999.1")


def _padded_certificate(extra: int) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "padded")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(9)
        .not_valid_before(T0)
        .not_valid_after(T0 + dt.timedelta(days=1))
        .add_extension(x509.UnrecognizedExtension(_PAD, bytes(extra)), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_certificate_at_the_limit_loads() -> None:
    der = _padded_certificate(MAX_CERTIFICATE_BYTES - 600)
    assert len(der) <= MAX_CERTIFICATE_BYTES
    assert load_der_certificate(der).serial_number == 9


def test_attack_oversized_certificate_in_keyinfo_refused() -> None:
    der = _padded_certificate(MAX_CERTIFICATE_BYTES)
    key_info = etree.fromstring(
        f'<ds:KeyInfo xmlns:ds="{DS}"><ds:X509Data><ds:X509Certificate>'
        f"{base64.b64encode(der).decode()}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
    )
    with pytest.raises(InvalidInput, match="certificates over 16384 are refused") as info:
        xmldsig_keyinfo.parse_key_info(key_info)
    assert info.value.code == "xmldsig.keyinfo"


def test_attack_oversized_certificate_in_x5c_refused() -> None:
    der = _padded_certificate(MAX_CERTIFICATE_BYTES)
    with pytest.raises(InvalidInput, match="certificates over 16384 are refused"):
        certificates_of({"x5c": [base64.b64encode(der).decode()]}, "/protected")


def _padded_crl(chain, size: int) -> bytes:  # type: ignore[no-untyped-def]
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(chain.intermediate.cert.subject)
        .last_update(T0)
        .next_update(T0 + dt.timedelta(days=365))
        .add_extension(x509.CRLNumber(2), False)
        .add_extension(x509.UnrecognizedExtension(_PAD, bytes(size)), False)
    )
    return b.sign(chain.intermediate.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(("size", "kept"), [(1024, True), (300 * 1024, False)])
def test_attack_large_crl_added_to_a_signature_is_not_kept(size: int, kept: bool) -> None:
    """The chain validates with the extra CRL either way; only a small one is remembered."""
    chain = make_chain(crl_url="http://127.0.0.1:9/ca.crl")
    policy = TrustPolicy.from_anchors(
        [chain.root.cert],
        intermediates=[chain.intermediate.cert],
        crls=[make_crl(chain.intermediate), make_crl(chain.root)],
    )
    extra = _padded_crl(chain, size)
    clear_chain_cache()
    result = validate_chain(chain.leaf.cert, policy=policy, at=AT, extra_crls=[extra])
    assert result.leaf == chain.leaf.cert
    assert (paths._CRLS.get(extra) is not None) is kept
    assert (cache_window._CRL_TIMES.get(extra) is not None) is kept
