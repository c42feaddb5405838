"""ds:KeyInfo: write X509Data when signing; read it (and inline key values) when verifying.

Reading never dereferences anything: RetrievalMethod and dsig11:KeyInfoReference raise
``UnsupportedFeature`` (XMLDSig 1.1 §4.5.3 lets a RetrievalMethod point at any URI).
Certificates are decoded as DER straight from base64 (no PEM round trip, BASELINE.md).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from ..errors import InvalidInput, UnsupportedFeature
from .algorithms import PublicKey
from .certload import load_der_certificate
from .xmldsig_types import DS, DSIG11_NS, KeyInfoData, b64decode_strict

__all__ = ["append_key_info", "parse_key_info"]

D11 = f"{{{DSIG11_NS}}}"
_MAX_CERTS = 32
_MAX_RSA_BITS = 16384

_CURVES: dict[str, ec.EllipticCurve] = {
    "urn:oid:1.2.840.10045.3.1.7": ec.SECP256R1(),
    "urn:oid:1.3.132.0.34": ec.SECP384R1(),
    "urn:oid:1.3.132.0.35": ec.SECP521R1(),
}


def append_key_info(signature: etree._Element, chain: Sequence[x509.Certificate]) -> None:
    """Append ``ds:KeyInfo/ds:X509Data`` with every certificate of ``chain`` (leaf first)."""
    key_info = etree.SubElement(signature, DS + "KeyInfo")
    data = etree.SubElement(key_info, DS + "X509Data")
    for cert in chain:
        etree.SubElement(data, DS + "X509Certificate").text = _b64(
            cert.public_bytes(serialization.Encoding.DER)
        )


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _text_child(el: etree._Element, tag: str, what: str) -> str:
    child = el.find(tag)
    if child is None or len(child):
        raise InvalidInput(f"{what}: missing or has child nodes", code="xmldsig.keyinfo")
    return child.text or ""


def _rsa_key_value(el: etree._Element) -> PublicKey:
    n = int.from_bytes(
        b64decode_strict(_text_child(el, DS + "Modulus", "RSA Modulus"), what="Modulus"), "big"
    )
    e = int.from_bytes(
        b64decode_strict(_text_child(el, DS + "Exponent", "RSA Exponent"), what="Exponent"), "big"
    )
    if n.bit_length() > _MAX_RSA_BITS or e.bit_length() > 64:
        raise InvalidInput("RSAKeyValue is out of range", code="xmldsig.keyinfo")
    try:
        return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError as exc:
        raise InvalidInput(
            f"RSAKeyValue is not a valid key: {exc}", code="xmldsig.keyinfo"
        ) from exc


def _ec_key_value(el: etree._Element) -> PublicKey:
    curve_el = el.find(D11 + "NamedCurve")
    if curve_el is None:
        raise UnsupportedFeature("ECKeyValue without NamedCurve (explicit ECParameters)")
    curve = _CURVES.get(curve_el.get("URI") or "")
    if curve is None:
        raise UnsupportedFeature(f"ECKeyValue curve {curve_el.get('URI')!r} is not supported")
    point = b64decode_strict(_text_child(el, D11 + "PublicKey", "EC PublicKey"), what="PublicKey")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    except ValueError as exc:
        raise InvalidInput(
            f"ECKeyValue is not a valid point: {exc}", code="xmldsig.keyinfo"
        ) from exc


def _der_key(text: str | None) -> PublicKey | None:
    try:
        key = serialization.load_der_public_key(b64decode_strict(text, what="DEREncodedKeyValue"))
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"DEREncodedKeyValue: {exc}", code="xmldsig.keyinfo") from exc
    return key if isinstance(key, PublicKey) else None  # DSA & co.: no key for us


def _key_values(kv: etree._Element) -> list[PublicKey]:
    keys: list[PublicKey] = []
    for child in kv:
        if child.tag == DS + "RSAKeyValue":
            keys.append(_rsa_key_value(child))
        elif child.tag == D11 + "ECKeyValue":
            keys.append(_ec_key_value(child))
        # DSAKeyValue and unknown key values give no key we can use.
    return keys


_DER_OF_TEXT: dict[str, bytes] = {}
"""X509Certificate text -> its strictly decoded DER. Signers send the same chain with every
document; the same text always decodes to the same bytes (a refusal raises, never stored),
and handing back the same ``bytes`` object keeps its hash for the DER-keyed caches below."""
MEMO_MAX_DER = 12 * 1024
"""Certificates up to this size are remembered between verifications (real ones are 1-3 KB);
larger KeyInfo input, all attacker-chosen, is decoded and parsed each time, never kept."""
_MEMO_MAX_TEXT = MEMO_MAX_DER * 4 // 3 + 4


def _cert_der(text: str | None) -> bytes:
    der = _DER_OF_TEXT.get(text) if text else None
    if der is None:
        der = b64decode_strict(text, what="X509Certificate")
        if text is not None and len(text) <= _MEMO_MAX_TEXT:
            if len(_DER_OF_TEXT) >= 512:
                _DER_OF_TEXT.clear()
            _DER_OF_TEXT[text] = der
    return der


def _x509_data(data: etree._Element, certs: list[bytes], crls: list[bytes]) -> None:
    for child in data:
        if child.tag == DS + "X509Certificate":
            if len(child):
                raise InvalidInput("X509Certificate has child nodes", code="xmldsig.keyinfo")
            certs.append(_cert_der(child.text))
        elif child.tag == DS + "X509CRL":
            crls.append(b64decode_strict(child.text, what="X509CRL"))
        # X509IssuerSerial, X509SKI, X509SubjectName, dsig11:X509Digest only *name* a
        # certificate; looking one up is the resolver's business, never a fetch.


def _load(der: bytes) -> x509.Certificate:
    return load_der_certificate(der, what="X509Certificate", code="xmldsig.keyinfo")


# Signers send the same chain with every document: parse (and decode the names of) each
# certificate once. Keyed by the whole DER; certificates are immutable; a refusal is raised,
# never cached; an oversized one is not kept (MEMO_MAX_DER).
_certificate_memo = functools.lru_cache(maxsize=512)(_load)


def _certificate(der: bytes) -> x509.Certificate:
    return _certificate_memo(der) if len(der) <= MEMO_MAX_DER else _load(der)


def parse_key_info(key_info: etree._Element | None) -> KeyInfoData:
    """Decode a ds:KeyInfo (or ``None``) into :class:`KeyInfoData`.

    Raises:
        UnsupportedFeature: RetrievalMethod, KeyInfoReference, unsupported curves.
        InvalidInput: bad base64, undecodable certificates or keys.
    """
    if key_info is None:
        return KeyInfoData()
    certs: list[bytes] = []
    crls: list[bytes] = []
    keys: list[PublicKey] = []
    names: list[str] = []
    for child in key_info:
        tag = child.tag
        if tag == DS + "X509Data":
            _x509_data(child, certs, crls)
        elif tag == DS + "KeyValue":
            keys.extend(_key_values(child))
        elif tag == D11 + "DEREncodedKeyValue":
            key = _der_key(child.text)
            if key is not None:
                keys.append(key)
        elif tag == DS + "KeyName":
            names.append((child.text or "").strip())
        elif tag in (DS + "RetrievalMethod", D11 + "KeyInfoReference"):
            # XMLDSig 1.1 §4.5.3 / §4.5.10: both dereference a URI; we never do.
            raise UnsupportedFeature(
                f"{etree.QName(tag).localname} in KeyInfo is not supported (never dereferenced)",
                code="xmldsig.keyinfo",
            )
    if len(certs) > _MAX_CERTS:
        raise InvalidInput(f"KeyInfo holds {len(certs)} certificates; limit {_MAX_CERTS}")
    parsed = tuple(_certificate(der) for der in certs)
    return KeyInfoData(
        certificates=parsed,
        certificates_der=tuple(certs),
        key_values=tuple(keys),
        key_names=tuple(names),
        crls_der=tuple(crls),
        element=key_info,
    )
