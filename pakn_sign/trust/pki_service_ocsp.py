"""OCSP answers of the test PKI's responder (RFC 6960), built with cryptography.

The responder is *delegated* (RFC 6960 §4.2.2.2): its certificate is issued by the
government CA with EKU id-kp-OCSPSigning and id-pkix-ocsp-nocheck, and it answers only
for certificates that CA issued; anything else gets ``unauthorized``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509 import ocsp

from ..signing.algorithms import PrivateKey
from .testpki_files import Revocation

__all__ = ["MAX_OCSP_REQUEST_BYTES", "OcspResponder", "unsuccessful"]

MAX_OCSP_REQUEST_BYTES = 16 * 1024
_HASHES = {"SHA1": ("sha1", hashes.SHA1), "SHA256": ("sha256", hashes.SHA256)}


def unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    """An unsigned error response (malformedRequest, unauthorized, internalError…)."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )


@dataclass(frozen=True)
class OcspResponder:
    """Answers for one issuing CA.

    Args:
        issuer: the CA whose certificates this responder covers.
        responder_cert / responder_key: the delegated responder's certificate and key.
        issued: serial numbers the CA issued (others are ``unknown``).
        validity: how long a ``good``/``revoked`` answer is fresh (nextUpdate − thisUpdate).
    """

    issuer: x509.Certificate
    responder_cert: x509.Certificate
    responder_key: PrivateKey
    issued: Collection[int]
    validity: dt.timedelta = dt.timedelta(days=1)

    def _issuer_hashes(self, name: str) -> tuple[bytes, bytes]:
        cert = asn1_x509.Certificate.load(self.issuer.public_bytes(serialization.Encoding.DER))
        # RFC 6960 §4.1.1: hash of the issuer's DN and of its public key BIT STRING value.
        return getattr(cert.subject, name), getattr(cert.public_key, name)

    def respond(
        self, request_der: bytes, *, now: dt.datetime, revocations: Mapping[int, Revocation]
    ) -> tuple[bool, bytes]:
        """(well-formed?, DER OCSPResponse) for one DER OCSPRequest."""
        if len(request_der) > MAX_OCSP_REQUEST_BYTES:
            return False, unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        try:
            req = ocsp.load_der_ocsp_request(request_der)
            hash_alg = req.hash_algorithm
            name_hash, key_hash, serial = (
                req.issuer_name_hash,
                req.issuer_key_hash,
                req.serial_number,
            )
            try:
                nonce: bytes | None = req.extensions.get_extension_for_class(
                    x509.OCSPNonce
                ).value.nonce
            except x509.ExtensionNotFound:
                nonce = None
        except (ValueError, TypeError) as exc:
            del exc  # the body is hostile or broken; answer per RFC 6960 §2.3
            return False, unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        known = _HASHES.get(hash_alg.name.upper())
        if known is None:
            return True, unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        want_name, want_key = self._issuer_hashes(known[0])
        if (name_hash, key_hash) != (want_name, want_key):
            return True, unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        rev = revocations.get(serial)
        if rev is not None:
            status = ocsp.OCSPCertStatus.REVOKED
        elif serial in self.issued:
            status = ocsp.OCSPCertStatus.GOOD
        else:
            status = ocsp.OCSPCertStatus.UNKNOWN
        this_update = now.astimezone(dt.UTC).replace(microsecond=0)
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=name_hash,
            issuer_key_hash=key_hash,
            serial_number=serial,
            algorithm=known[1](),
            cert_status=status,
            this_update=this_update,
            next_update=this_update + self.validity,
            revocation_time=rev.time if rev is not None else None,
            revocation_reason=rev.reason if rev is not None else None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, self.responder_cert)
        builder = builder.certificates([self.responder_cert])
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)  # §4.4.1
        algorithm = (
            None if isinstance(self.responder_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
        )
        response = builder.sign(self.responder_key, algorithm)
        return True, response.public_bytes(serialization.Encoding.DER)
