"""``pakn-sign pki serve``: the test PKI's TSA, OCSP responder and CRLs over HTTP.

For tests and demos on loopback, never for production. Endpoints (docs/pki.md):

- ``POST /tsa``  RFC 3161 §3.4: ``application/timestamp-query`` → ``application/timestamp-reply``
- ``POST /ocsp`` and ``GET /ocsp/<base64 DER>``  RFC 6960 Appendix A
- ``GET /crl/root.crl``, ``GET /crl/intermediate.crl``  DER CRLs (RFC 5280)
- ``GET /ca/root.cer``, ``GET /ca/intermediate.cer``  DER certificates (AIA caIssuers)
- ``GET /health``

Revocations and CRLs are re-read from the PKI directory on every request, so
``pakn-sign pki revoke`` takes effect at once. Undecodable requests get HTTP 400.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import logging
import secrets
import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import tsp
from cryptography.x509 import ocsp

from ..clock import Clock, SystemClock
from ..errors import ConfigurationError
from ..signing.timestamps_token import MAX_REQUEST_BYTES, respond_to_request
from .pki_service_ocsp import OcspResponder, unsuccessful
from .testpki import TestPKI, revocations_of

__all__ = ["PKIService"]

log = logging.getLogger("pakn_sign.pki_service")

_FILES = {
    "/crl/root.crl": ("crl/root.crl", "application/pkix-crl"),
    "/crl/intermediate.crl": ("crl/intermediate.crl", "application/pkix-crl"),
    "/ca/root.cer": ("ca/root.cer", "application/pkix-cert"),
    "/ca/intermediate.cer": ("ca/intermediate.cer", "application/pkix-cert"),
}
_MAX_BODY = 64 * 1024


class PKIService:
    """The HTTP service over a test-PKI directory.

    Args:
        directory: a directory written by ``TestPKI.create`` / ``pakn-sign pki init``.
        host, port: where to listen (port 0 picks a free one; see :attr:`url`).
        clock: genTime of tokens and thisUpdate of OCSP answers; default the system clock.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 8790,
        clock: Clock | None = None,
    ):
        self.pki = TestPKI.load(directory)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._tsa_signer = self.pki.tsa.signer()
        self._serials = itertools.count((secrets.randbits(40) << 20) + 1)
        self._serial_lock = threading.Lock()
        self.ocsp = OcspResponder(
            issuer=self.pki.intermediate.cert,
            responder_cert=self.pki.ocsp.cert,
            responder_key=self.pki.ocsp.key,
            issued=frozenset(i.serial for i in self.pki.all().values()),
        )
        try:
            self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on {host}:{port}: {exc}") from exc
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` actually bound."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def next_serial(self) -> int:
        """A fresh TSTInfo serial number (unique per service run)."""
        with self._serial_lock:
            return next(self._serials)

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` is called from another thread."""
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> None:
        """Serve in a background thread (in-process use)."""
        self._thread = threading.Thread(target=self.serve_forever, name="pki-serve", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _handler_for(service: PKIService) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.service = service
    return Handler


class _Handler(BaseHTTPRequestHandler):
    service: PKIService
    server_version = "pakn-sign-test-pki/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        # ASCII digits only: str.isdigit() also admits "²", which int() refuses.
        if length is None or not (length.isascii() and length.isdigit()):
            self._send(HTTPStatus.LENGTH_REQUIRED, b"Content-Length required\n")
            return None
        if int(length) > _MAX_BODY:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"request too large\n")
            self.close_connection = True
            return None
        return self.rfile.read(int(length))

    def _ctype(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path in _FILES:
            rel, ctype = _FILES[path]
            self._send(HTTPStatus.OK, (self.service.pki.directory / rel).read_bytes(), ctype)
        elif path.startswith("/ocsp/"):
            encoded = urllib.parse.unquote(path[len("/ocsp/") :])
            try:
                der = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                self._ocsp_error()
                return
            self._ocsp(der)
        elif path == "/health":
            self._send(HTTPStatus.OK, b"ok\n")
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n")

    def do_POST(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path not in ("/tsa", "/ocsp"):
            self._send(HTTPStatus.NOT_FOUND, b"not found\n")
            return
        body = self._body()
        if body is None:
            return
        if path == "/tsa":
            self._tsa(body)
        elif self._ctype() != "application/ocsp-request":
            self._ocsp_error()
        else:
            self._ocsp(body)

    def _tsa(self, body: bytes) -> None:
        if self._ctype() != "application/timestamp-query":
            self._send(HTTPStatus.BAD_REQUEST, b"expected application/timestamp-query\n")
            return
        try:
            # Undecodable input is an HTTP error; a decodable but unacceptable request
            # gets a signed-off TimeStampResp rejection (RFC 3161 §2.4.2) with HTTP 200.
            if len(body) > MAX_REQUEST_BYTES:
                raise ValueError("too large")
            tsp.TimeStampReq.load(body, strict=True).native  # noqa: B018 - parse fully
        except (ValueError, TypeError, KeyError):
            self._send(HTTPStatus.BAD_REQUEST, b"malformed TimeStampReq\n")
            return
        service = self.service
        reply = respond_to_request(
            body,
            service._tsa_signer,
            gen_time=service.clock.now(),
            serial=service.next_serial(),
        )
        self._send(HTTPStatus.OK, reply, "application/timestamp-reply")

    def _ocsp_error(self) -> None:
        body = unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        self._send(HTTPStatus.BAD_REQUEST, body, "application/ocsp-response")

    def _ocsp(self, der: bytes) -> None:
        service = self.service
        revocations = {r.serial: r for r in revocations_of(service.pki.directory)}
        ok, reply = service.ocsp.respond(der, now=service.clock.now(), revocations=revocations)
        status = HTTPStatus.OK if ok else HTTPStatus.BAD_REQUEST
        self._send(status, reply, "application/ocsp-response")
