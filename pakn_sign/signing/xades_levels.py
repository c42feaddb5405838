"""XAdES baseline levels above B-B: B-T (signature timestamp) and B-LT (validation data).

- B-T, ETSI EN 319 132-1 §5.3 and §6.3: a ``SignatureTimeStamp`` whose RFC 3161 imprint is
  the digest of the exclusive-canonical ``ds:SignatureValue`` element.
- B-LT, §5.5.1-5.5.2 and §6.3: ``CertificateValues`` (the chains of the signer and of the
  TSA) and ``RevocationValues`` (a CRL or OCSP response for every certificate of those
  chains but the anchors), so the signature verifies later from the file alone.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Iterable, Sequence

from asn1crypto import cms as a_cms
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from lxml import etree

from ..errors import InvalidInput, SigningError
from .certload import load_der_certificate
from .timestamps import TimestampAuthority
from .xades_props import C14N_EXC, DS_NS, XADES_NS, unsigned_signature_properties

__all__ = [
    "add_signature_timestamp",
    "add_validation_data",
    "complete_chain",
    "covering_revocation_data",
    "fetch_revocation_data",
    "signature_value_c14n",
    "token_certificates",
]

_X = "{" + XADES_NS + "}"
_DS = "{" + DS_NS + "}"


def signature_value_c14n(sig_el: etree._Element) -> bytes:
    """The bytes a SignatureTimeStamp covers: exc-C14N of ``ds:SignatureValue`` (§5.3)."""
    found = sig_el.findall(_DS + "SignatureValue")
    if len(found) != 1:
        raise InvalidInput("ds:Signature needs exactly one ds:SignatureValue")
    return etree.tostring(found[0], method="c14n", exclusive=True)


def add_signature_timestamp(
    sig_el: etree._Element, qp: etree._Element, tsa: TimestampAuthority
) -> bytes:
    """Request a timestamp over the SignatureValue and add it as SignatureTimeStamp (B-T)."""
    token = tsa.request(signature_value_c14n(sig_el))
    usp = unsigned_signature_properties(qp)
    ts = etree.SubElement(usp, _X + "SignatureTimeStamp", Id=f"{sig_el.get('Id')}-ts")
    etree.SubElement(ts, _DS + "CanonicalizationMethod", Algorithm=C14N_EXC)
    etree.SubElement(ts, _X + "EncapsulatedTimeStamp").text = base64.b64encode(token).decode()
    return token


def token_certificates(token: bytes) -> list[x509.Certificate]:
    """The certificates carried in a TimeStampToken's SignedData (the TSA's chain)."""
    try:
        info = a_cms.ContentInfo.load(token)
        certs = info["content"]["certificates"]
        out = []
        for choice in certs or ():
            if choice.name == "certificate":
                out.append(load_der_certificate(choice.chosen.dump(), what="TSA certificate"))
        return out
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput("malformed TimeStampToken") from exc


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def complete_chain(
    chain: Sequence[x509.Certificate], pool: Iterable[x509.Certificate]
) -> list[x509.Certificate]:
    """Extend ``chain`` (leaf first) by issuer name from ``pool`` up to a self-issued cert."""
    out = list(chain)
    by_subject: dict[bytes, x509.Certificate] = {}
    for cert in pool:
        by_subject.setdefault(cert.subject.public_bytes(), cert)
    while out and out[-1].issuer != out[-1].subject and len(out) < 10:
        nxt = by_subject.get(out[-1].issuer.public_bytes())
        if nxt is None or any(_der(nxt) == _der(c) for c in out):
            break
        out.append(nxt)
    return out


def _issuer_of(cert: x509.Certificate, chain: Sequence[x509.Certificate]) -> x509.Certificate:
    for cand in chain:
        if cand.subject == cert.issuer:
            return cand
    raise SigningError(f"B-LT: the issuer of {cert.subject.rfc4514_string()} is not known")


def _ocsp_matches(der: bytes, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        resp = ocsp.load_der_ocsp_response(der)
        if resp.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            return False
        key_hash = _key_hash(issuer, resp.hash_algorithm)
        return any(
            single.serial_number == cert.serial_number and single.issuer_key_hash == key_hash
            for single in resp.responses
        )
    except ValueError:
        return False


def _key_hash(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    # RFC 6960 §4.1.1: issuerKeyHash is the hash of the issuer's subjectPublicKey BIT STRING.
    spki = a_x509.Certificate.load(_der(issuer))["tbs_certificate"]["subject_public_key_info"]
    h = hashes.Hash(algorithm)
    h.update(bytes(spki["public_key"].contents[1:]))
    return h.finalize()


def _crl_matches(der: bytes, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        crl = x509.load_der_x509_crl(der)
    except ValueError:
        return False
    return crl.issuer == cert.issuer and crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]


def covering_revocation_data(
    chain: Sequence[x509.Certificate], crls: Iterable[bytes], ocsps: Iterable[bytes]
) -> tuple[list[bytes], list[bytes], list[x509.Certificate]]:
    """Pick, for each non-self-issued certificate of ``chain``, the CRLs/OCSPs that cover it.

    Returns (crls, ocsps, uncovered certificates). A response for another certificate is
    never counted (it is simply not picked).
    """
    crl_list, ocsp_list = list(crls), list(ocsps)
    got_crls: list[bytes] = []
    got_ocsps: list[bytes] = []
    uncovered: list[x509.Certificate] = []
    for cert in chain:
        if cert.issuer == cert.subject:
            continue  # a trust anchor: its status is not established by revocation data
        issuer = _issuer_of(cert, chain)
        o = [d for d in ocsp_list if _ocsp_matches(d, cert, issuer)]
        c = [d for d in crl_list if _crl_matches(d, cert, issuer)]
        got_ocsps += [d for d in o if d not in got_ocsps]
        got_crls += [d for d in c if d not in got_crls]
        if not o and not c:
            uncovered.append(cert)
    return got_crls, got_ocsps, uncovered


def fetch_revocation_data(
    certs: Sequence[x509.Certificate], chain: Sequence[x509.Certificate], at: dt.datetime
) -> tuple[list[bytes], list[bytes]]:
    """Fetch OCSP (else CRL) data for ``certs`` from their AIA / CRL distribution points.

    The fetching is pyhanko-certvalidator's (DESIGN.md §5); called only when the caller's
    policy allows fetching.
    """
    from pyhanko_certvalidator import ValidationContext

    def a(cert: x509.Certificate) -> a_x509.Certificate:
        return a_x509.Certificate.load(_der(cert))

    async def run() -> tuple[list[bytes], list[bytes]]:
        vc = ValidationContext(
            trust_roots=[a(c) for c in chain if c.issuer == c.subject],
            other_certs=[a(c) for c in chain],
            moment=at,
            allow_fetching=True,
        )
        try:
            return await collect(vc)
        finally:
            await vc.aclose()  # type: ignore[no-untyped-call]  # close the HTTP sessions

    async def collect(vc: ValidationContext) -> tuple[list[bytes], list[bytes]]:
        crls: list[bytes] = []
        ocsps: list[bytes] = []
        for cert in certs:
            issuer = _issuer_of(cert, chain)
            try:
                found = await vc.async_retrieve_ocsps(a(cert), a(issuer))  # type: ignore[no-untyped-call]
                ocsps += [bytes(r.dump()) for r in found]
                if not found:
                    crls += [bytes(c.dump()) for c in await vc.async_retrieve_crls(a(cert))]  # type: ignore[no-untyped-call]
            except Exception as exc:  # the fetchers raise many network/ASN.1 types
                raise SigningError(
                    f"B-LT: cannot fetch revocation data for {cert.subject.rfc4514_string()}: {exc}"
                ) from exc
        return crls, ocsps

    return asyncio.run(run())


def add_validation_data(
    qp: etree._Element,
    *,
    certificates: Sequence[x509.Certificate],
    crls: Sequence[bytes],
    ocsps: Sequence[bytes],
) -> None:
    """Append CertificateValues and RevocationValues (B-LT, EN 319 132-1 §5.5.1-5.5.2)."""
    usp = unsigned_signature_properties(qp)
    cv = etree.SubElement(usp, _X + "CertificateValues")
    seen: set[bytes] = set()
    for cert in certificates:
        der = _der(cert)
        if der not in seen:
            seen.add(der)
            enc = etree.SubElement(cv, _X + "EncapsulatedX509Certificate")
            enc.text = base64.b64encode(der).decode()
    rv = etree.SubElement(usp, _X + "RevocationValues")
    if crls:
        cl = etree.SubElement(rv, _X + "CRLValues")
        for der in crls:
            etree.SubElement(cl, _X + "EncapsulatedCRLValue").text = base64.b64encode(der).decode()
    if ocsps:
        ol = etree.SubElement(rv, _X + "OCSPValues")
        for der in ocsps:
            enc = etree.SubElement(ol, _X + "EncapsulatedOCSPValue")
            enc.text = base64.b64encode(der).decode()
