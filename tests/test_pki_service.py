"""``pakn-sign pki serve`` over real HTTP: RFC 3161 TSA, OCSP (RFC 6960), CRLs, bad input."""

from __future__ import annotations

import base64
import signal
import urllib.parse

import httpx
import pytest
from conftest import PKI_NOW, _free_port, start_pki_service
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from pakn_sign.cli.main import main
from pakn_sign.errors import UntrustedSigner
from pakn_sign.signing.timestamps import HttpTimestampAuthority, verify_timestamp
from pakn_sign.trust.paths import validate_chain
from pakn_sign.trust.pki_service import PKIService
from pakn_sign.trust.testpki import TestPKI

DATA = "Trả lời kiến nghị".encode()
OCSP_REQ = {"content-type": "application/ocsp-request"}


def ocsp_request(cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
    builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def ask(url: str, body: bytes) -> ocsp.OCSPResponse:
    resp = httpx.post(url, content=body, headers=OCSP_REQ, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(resp.content)


def check_signed(resp: ocsp.OCSPResponse, pki: TestPKI, nonce: bytes) -> None:
    assert resp.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert resp.certificates == [pki.ocsp.cert]
    assert resp.responder_key_hash is not None
    key = pki.ocsp.cert.public_key()
    key.verify(resp.signature, resp.tbs_response_bytes, *_verify_args(pki.ocsp.cert, resp))  # type: ignore[call-arg]
    got = resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    assert got == nonce
    assert resp.this_update_utc == PKI_NOW  # the service clock is frozen by the fixture


def _verify_args(cert: x509.Certificate, resp: ocsp.OCSPResponse) -> tuple[object, ...]:
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    key = cert.public_key()
    assert resp.signature_hash_algorithm is not None
    if isinstance(key, rsa.RSAPublicKey):
        return (padding.PKCS1v15(), resp.signature_hash_algorithm)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return (ec.ECDSA(resp.signature_hash_algorithm),)


def test_tsa_reply_verifies(pki_service, test_pki: TestPKI) -> None:
    token = HttpTimestampAuthority(pki_service.tsa_url, timeout=10).request(DATA)
    info = verify_timestamp(token, DATA, policy=test_pki.policy(), at=PKI_NOW)
    assert info.time == PKI_NOW
    assert info.tsa_certificate == test_pki.tsa.cert


def test_ocsp_good_revoked_unknown(pki_service, test_pki: TestPKI) -> None:
    issuer = test_pki.intermediate.cert
    good = ask(pki_service.ocsp_url, ocsp_request(test_pki.officials["citizen"].cert, issuer, b"1"))
    check_signed(good, test_pki, b"1")
    assert good.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert good.serial_number == test_pki.officials["citizen"].serial

    revoked = ask(pki_service.ocsp_url, ocsp_request(test_pki.revoked.cert, issuer, b"22"))
    check_signed(revoked, test_pki, b"22")
    assert revoked.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_time_utc == test_pki.revocations[0].time
    assert revoked.revocation_reason is x509.ReasonFlags.key_compromise

    template = ocsp.load_der_ocsp_request(ocsp_request(test_pki.tsa.cert, issuer, b"x"))
    unknown_req = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            template.issuer_name_hash, template.issuer_key_hash, 0xDEADBEEF, hashes.SHA1()
        )
        .add_extension(x509.OCSPNonce(b"333"), critical=False)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    unknown = ask(pki_service.ocsp_url, unknown_req)
    check_signed(unknown, test_pki, b"333")
    assert unknown.certificate_status is ocsp.OCSPCertStatus.UNKNOWN


def test_ocsp_get_and_unauthorized_issuer(pki_service, test_pki: TestPKI) -> None:
    der = ocsp_request(test_pki.agencies["000.00.00.G10"].cert, test_pki.intermediate.cert, b"9")
    path = urllib.parse.quote(base64.b64encode(der).decode(), safe="")
    resp = httpx.get(f"{pki_service.ocsp_url}/{path}", timeout=10)
    assert resp.status_code == 200
    assert ocsp.load_der_ocsp_response(resp.content).certificate_status is ocsp.OCSPCertStatus.GOOD
    # The delegated responder speaks only for the government CA, not for the root.
    other = ocsp_request(test_pki.intermediate.cert, test_pki.root.cert, b"8")
    assert ask(pki_service.ocsp_url, other).response_status is (
        ocsp.OCSPResponseStatus.UNAUTHORIZED
    )


def test_ocsp_answers_satisfy_path_validation(pki_service, test_pki: TestPKI) -> None:
    """The responder's answers work with pyhanko-certvalidator (delegated, ocsp-nocheck)."""
    issuer = test_pki.intermediate.cert
    answers = {}
    for name in ("official-g22", "revoked"):
        cert = test_pki.get(name).cert
        body = ocsp_request(cert, issuer, b"n")
        answers[name] = httpx.post(
            pki_service.ocsp_url, content=body, headers=OCSP_REQ, timeout=10
        ).content
    policy = test_pki.policy(crls=[test_pki.root_crl])  # leaf status from OCSP only
    chain = validate_chain(
        test_pki.officials["official-g22"].cert,
        policy=policy,
        at=PKI_NOW,
        extra_ocsps=[answers["official-g22"]],
    )
    assert chain.revocation_status == "good"
    with pytest.raises(UntrustedSigner) as err:
        validate_chain(
            test_pki.revoked.cert, policy=policy, at=PKI_NOW, extra_ocsps=[answers["revoked"]]
        )
    assert err.value.sub_indication == "REVOKED"


def test_crl_and_ca_downloads(pki_service, test_pki: TestPKI) -> None:
    for url, local, issuer in (
        (pki_service.root_crl_url, test_pki.root_crl, test_pki.root.cert),
        (pki_service.intermediate_crl_url, test_pki.intermediate_crl, test_pki.intermediate.cert),
    ):
        resp = httpx.get(url, timeout=10)
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "application/pkix-crl"
        assert resp.content == local
        crl = x509.load_der_x509_crl(resp.content)
        assert crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    inter = httpx.get(f"{pki_service.url}/ca/intermediate.cer", timeout=10)
    assert x509.load_der_x509_certificate(inter.content) == test_pki.intermediate.cert


def test_bad_requests_give_400_not_a_crash(pki_service) -> None:
    url = pki_service.url
    tsq = {"content-type": "application/timestamp-query"}
    assert httpx.post(f"{url}/tsa", content=b"garbage", headers=tsq).status_code == 400
    assert httpx.post(f"{url}/tsa", content=b"\x30\x80" * 10, headers=tsq).status_code == 400
    wrong_type = httpx.post(f"{url}/tsa", content=b"x", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 400
    bad_ocsp = httpx.post(f"{url}/ocsp", content=b"\x30\x03\x02\x01\x00", headers=OCSP_REQ)
    assert bad_ocsp.status_code == 400
    assert ocsp.load_der_ocsp_response(bad_ocsp.content).response_status is (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )
    assert httpx.get(f"{url}/ocsp/%%%not-base64").status_code == 400
    assert httpx.get(f"{url}/nothing-here").status_code == 404
    assert httpx.post(f"{url}/crl/root.crl", content=b"").status_code == 404
    huge = httpx.post(f"{url}/tsa", content=b"\x00" * 100_000, headers=tsq)
    assert huge.status_code == 413
    assert httpx.get(f"{url}/health").text == "ok\n"
    assert pki_service.process.poll() is None


def test_attack_non_ascii_digit_content_length(pki_service) -> None:
    # "²" (latin-1 0xB2) passes str.isdigit() but not int(): 411, not a dead handler thread.
    import socket

    host, port = urllib.parse.urlsplit(pki_service.url).netloc.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"POST /tsa HTTP/1.1\r\nHost: x\r\nContent-Type: application/timestamp-query\r\n"
            b"Content-Length: \xb2\r\nConnection: close\r\n\r\n"
        )
        reply = b""
        while chunk := conn.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 411 "), reply[:80]
    assert pki_service.process.poll() is None


def test_revoke_takes_effect_without_restart(tmp_path) -> None:
    pki = TestPKI.create(tmp_path / "pki", algorithm="p256", now=PKI_NOW)
    service = PKIService(pki.directory, port=0)
    service.start()
    try:
        cert, issuer = pki.officials["official-h41"].cert, pki.intermediate.cert
        url = f"{service.url}/ocsp"
        before = ask(url, ocsp_request(cert, issuer, b"a"))
        assert before.certificate_status is ocsp.OCSPCertStatus.GOOD
        later = "2026-12-01T00:00:00+00:00"
        assert main(["pki", "revoke", str(pki.directory), "official-h41", "--at", later]) == 0
        after = ask(url, ocsp_request(cert, issuer, b"b"))
        assert after.certificate_status is ocsp.OCSPCertStatus.REVOKED
        assert after.revocation_time_utc.isoformat() == later  # type: ignore[union-attr]
        crl = x509.load_der_x509_crl(httpx.get(f"{service.url}/crl/intermediate.crl").content)
        assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    finally:
        service.shutdown()


def test_serve_stops_cleanly_on_sigterm(tmp_path) -> None:
    port = _free_port()
    pki = TestPKI.create(
        tmp_path / "pki", algorithm="p256", now=PKI_NOW, base_url=f"http://127.0.0.1:{port}"
    )
    log = tmp_path / "serve.log"
    proc, url = start_pki_service(pki.directory, port, log, None)
    try:
        assert url == pki.base_url
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert "pki serve stopped" in log.read_text()
        assert "GET /health" in log.read_text()  # request log on stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
