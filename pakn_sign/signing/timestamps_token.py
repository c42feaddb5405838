"""The TSA side of RFC 3161: answer a TimeStampReq with a signed TimeStampToken.

Shared by :class:`~pakn_sign.signing.timestamps.LocalTimestampAuthority` and the test
service (``pakn-sign pki serve``), so both produce the same tokens. The token is CMS
SignedData (RFC 5652) over TSTInfo (RFC 3161 §2.4.2), with signed attributes
contentType, messageDigest and signingCertificateV2 (ESSCertIDv2, RFC 5816 / RFC 5035).
The TSA signs through the :class:`~pakn_sign.signing.signers.Signer` protocol.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import ClassVar

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization

from ..errors import PaknSignError
from .algorithms import KeyType, SignatureAlgorithm, key_type_of, raw_ecdsa_to_der
from .signers import Signer, check_new_signature_algorithm

__all__ = [
    "ALLOWED_REQUEST_DIGESTS",
    "DEFAULT_POLICY_OID",
    "MAX_REQUEST_BYTES",
    "TimeStampResp",
    "respond_to_request",
    "sign_tst_info",
]

DEFAULT_POLICY_OID = "2.999.3161.1"  # under the ITU-T "example" arc: test TSA only
MAX_REQUEST_BYTES = 16 * 1024
# RFC 3161 imprint algorithms a TSA accepts; SHA-1 is refused for new timestamps.
ALLOWED_REQUEST_DIGESTS = {"sha256": 32, "sha384": 48, "sha512": 64}


class TimeStampResp(core.Sequence):  # type: ignore[misc]
    """RFC 3161 §2.4.2 TimeStampResp. asn1crypto's own makes ``timeStampToken`` mandatory,
    so it can neither build nor read a rejection; the RFC has it OPTIONAL."""

    _fields: ClassVar[list[tuple[str, type, dict[str, bool]] | tuple[str, type]]] = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def _asn1_cert(cert_der: bytes) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert_der)


def _signature_choice(signer: Signer) -> tuple[SignatureAlgorithm, str, str]:
    """(algorithm, CMS digest name, CMS signature algorithm name) for the TSA key."""
    public = signer.certificate_chain[0].public_key()
    kind = key_type_of(public)  # type: ignore[arg-type]
    if kind is KeyType.RSA:
        choice = SignatureAlgorithm.RSA_SHA256, "sha256", "sha256_rsa"
    elif kind is KeyType.EC:
        choice = SignatureAlgorithm.ECDSA_SHA256, "sha256", "sha256_ecdsa"
    else:
        # RFC 8419 §3: Ed25519 in CMS uses SHA-512 for the message digest attribute.
        choice = SignatureAlgorithm.ED25519, "sha512", "ed25519"
    # Any Signer implementation, not only LocalKeySigner: no RSA < 2048 for new tokens.
    check_new_signature_algorithm(choice[0], public)  # type: ignore[arg-type]
    return choice


def sign_tst_info(tst_info: tsp.TSTInfo, signer: Signer, *, include_certs: bool = True) -> bytes:
    """Wrap ``tst_info`` in a signed ContentInfo (the TimeStampToken, DER)."""
    chain = list(signer.certificate_chain)
    tsa_der = chain[0].public_bytes(serialization.Encoding.DER)
    tsa_cert = _asn1_cert(tsa_der)
    alg, digest_name, sig_name = _signature_choice(signer)
    econtent = tst_info.dump()
    message_digest = hashlib.new(digest_name, econtent).digest()
    ess = tsp.ESSCertIDv2(
        {
            # hashAlgorithm left at its DEFAULT, SHA-256 (RFC 5035 §5.4.1.1).
            "cert_hash": hashlib.sha256(tsa_der).digest(),
            "issuer_serial": {
                "issuer": [asn1_x509.GeneralName({"directory_name": tsa_cert.issuer})],
                "serial_number": tsa_cert.serial_number,
            },
        }
    )
    signed_attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [message_digest]}),
            cms.CMSAttribute(
                {
                    "type": "signing_certificate_v2",
                    "values": [tsp.SigningCertificateV2({"certs": [ess]})],
                }
            ),
        ]
    )
    # RFC 5652 §5.4: the signature covers the DER of the SET OF attributes (tag 0x31).
    signature = signer.sign_raw(signed_attrs.dump(), alg)
    if alg.key_type is KeyType.EC:
        signature = raw_ecdsa_to_der(signature)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": tsa_cert.issuer,
                        "serial_number": tsa_cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": digest_name},
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_name}),
            "signature": signature,
        }
    )
    signed_data: dict[str, object] = {
        "version": "v3",
        "digest_algorithms": [{"algorithm": digest_name}],
        "encap_content_info": {
            "content_type": "tst_info",
            "content": core.ParsableOctetString(econtent),
        },
        "signer_infos": [signer_info],
    }
    if include_certs:
        signed_data["certificates"] = [
            _asn1_cert(c.public_bytes(serialization.Encoding.DER)) for c in chain
        ]
    content_info = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return bytes(content_info.dump())


def _rejection(fail: str, text: str) -> bytes:
    status = tsp.PKIStatusInfo(
        {"status": "rejection", "status_string": [text], "fail_info": tsp.PKIFailureInfo({fail})}
    )
    return bytes(TimeStampResp({"status": status}).dump())


def respond_to_request(
    request_der: bytes,
    signer: Signer,
    *,
    gen_time: dt.datetime,
    serial: int,
    policy_oid: str = DEFAULT_POLICY_OID,
    accuracy_seconds: int = 1,
) -> bytes:
    """Answer one DER TimeStampReq with a DER TimeStampResp (RFC 3161 §2.4.2).

    Malformed or unacceptable requests get a ``rejection`` response with the matching
    PKIFailureInfo bit (badDataFormat, badAlg, unacceptedPolicy, unacceptedExtension);
    this function never raises on request content.
    """
    if len(request_der) > MAX_REQUEST_BYTES:
        return _rejection("bad_data_format", "request too large")
    try:
        req = tsp.TimeStampReq.load(request_der, strict=True)
        version = req["version"].native
        imprint = req["message_imprint"]
        hash_name = imprint["hash_algorithm"]["algorithm"].native
        hashed = imprint["hashed_message"].native
        req_policy = req["req_policy"].native
        nonce = req["nonce"].native
        cert_req = bool(req["cert_req"].native)
        has_extensions = req["extensions"].native is not None
    except (ValueError, TypeError, KeyError) as exc:
        return _rejection("bad_data_format", f"malformed TimeStampReq: {exc}")
    if version != "v1":
        return _rejection("bad_request", "TimeStampReq version must be 1")
    if hash_name not in ALLOWED_REQUEST_DIGESTS:
        return _rejection("bad_alg", f"imprint algorithm {hash_name} not accepted")
    if not isinstance(hashed, bytes) or len(hashed) != ALLOWED_REQUEST_DIGESTS[hash_name]:
        return _rejection("bad_data_format", "imprint length does not match its algorithm")
    if req_policy is not None and req_policy != policy_oid:
        return _rejection("unaccepted_policy", f"policy {req_policy} not offered")
    if has_extensions:
        return _rejection("unaccepted_extension", "no request extensions are supported")
    tsa_cert = _asn1_cert(signer.certificate_chain[0].public_bytes(serialization.Encoding.DER))
    info: dict[str, object] = {
        "version": "v1",
        "policy": policy_oid,
        "message_imprint": {"hash_algorithm": {"algorithm": hash_name}, "hashed_message": hashed},
        "serial_number": serial,
        "gen_time": gen_time.astimezone(dt.UTC),
        "accuracy": {"seconds": accuracy_seconds},
        "ordering": False,
        "tsa": asn1_x509.GeneralName({"directory_name": tsa_cert.subject}),
    }
    if nonce is not None:
        info["nonce"] = nonce  # RFC 3161 §2.4.2: echo the requester's nonce
    try:
        token = sign_tst_info(tsp.TSTInfo(info), signer, include_certs=cert_req)
    except PaknSignError as exc:
        return _rejection("system_failure", f"TSA signing failed: {exc.code}")
    status = tsp.PKIStatusInfo({"status": "granted"})
    resp = TimeStampResp({"status": status, "time_stamp_token": cms.ContentInfo.load(token)})
    return bytes(resp.dump())
