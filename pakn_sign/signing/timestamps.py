"""RFC 3161 timestamps: request tokens from a TSA, verify them against a trust policy.

- :class:`TimestampAuthority` protocol: ``request(data, digest=...)`` returns the DER
  TimeStampToken over the digest of ``data``.
- :class:`HttpTimestampAuthority`: RFC 3161 §3.4 over HTTP with httpx (size-limited,
  time-limited; network trouble is a retryable ``DeliveryError``).
- :class:`LocalTimestampAuthority`: the same tokens in-process, for tests and benchmarks.
- :func:`verify_timestamp` (in ``timestamps_verify``): the token's signature by the TSA
  certificate it binds (ESSCertIDv2), the imprint over exactly the given bytes, the TSA's
  EKU and chain.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from typing import Protocol, runtime_checkable

import httpx
from asn1crypto import tsp

from ..clock import Clock, SystemClock
from ..errors import ConfigurationError, DeliveryError, InvalidInput, PaknSignError
from .algorithms import DigestAlgorithm
from .signers import Signer
from .timestamps_token import DEFAULT_POLICY_OID, TimeStampResp, respond_to_request
from .timestamps_verify import MAX_TOKEN_BYTES, TimestampInfo, verify_timestamp

__all__ = [
    "DEFAULT_POLICY_OID",
    "MAX_TOKEN_BYTES",
    "HttpTimestampAuthority",
    "LocalTimestampAuthority",
    "TimestampAuthority",
    "TimestampInfo",
    "build_timestamp_request",
    "token_from_response",
    "verify_timestamp",
]

TIMESTAMP_QUERY = "application/timestamp-query"
TIMESTAMP_REPLY = "application/timestamp-reply"


@runtime_checkable
class TimestampAuthority(Protocol):
    """Anything that returns an RFC 3161 TimeStampToken over the digest of ``data``."""

    def request(self, data: bytes, *, digest: DigestAlgorithm = DigestAlgorithm.SHA256) -> bytes:
        """The DER TimeStampToken (CMS ContentInfo) over ``digest(data)``."""
        ...


def _imprint(data: bytes, digest: DigestAlgorithm) -> bytes:
    if digest is DigestAlgorithm.SHA1:
        raise ConfigurationError("SHA-1 is never used for new timestamps")
    return hashlib.new(digest.hashlib_name, data).digest()


def build_timestamp_request(imprint: bytes, digest: DigestAlgorithm, nonce: int) -> bytes:
    """A DER TimeStampReq (RFC 3161 §2.4.1) with a nonce and ``certReq`` true."""
    req = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": digest.hashlib_name},
                "hashed_message": imprint,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )
    return bytes(req.dump())


def token_from_response(
    response: bytes, *, imprint: bytes, digest: DigestAlgorithm, nonce: int
) -> bytes:
    """Check a TimeStampResp answers *our* request and return its token (DER).

    Checks status granted, nonce echo and imprint echo (RFC 3161 §2.4.2). Trust in the
    token is :func:`verify_timestamp`'s job.
    """
    if len(response) > MAX_TOKEN_BYTES:
        raise InvalidInput(f"timestamp response larger than {MAX_TOKEN_BYTES} bytes")
    try:
        resp = TimeStampResp.load(response, strict=True)
        status = resp["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = resp["status"]["status_string"].native or []
            fail = resp["status"]["fail_info"].native
            raise DeliveryError(
                f"TSA refused the request: {status} {sorted(fail or [])} {' '.join(text)}",
                code="transport.tsa_rejected",
            )
        token = resp["time_stamp_token"]
        if token.native is None:
            raise InvalidInput("TSA granted the request but sent no token")
        info = token["content"]["encap_content_info"]["content"].parsed
        got_nonce = info["nonce"].native
        got_imprint = info["message_imprint"]["hashed_message"].native
        got_alg = info["message_imprint"]["hash_algorithm"]["algorithm"].native
        token_der = bytes(token.dump())
    except PaknSignError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidInput(f"malformed timestamp response: {exc}") from exc
    if got_nonce != nonce:
        raise InvalidInput(f"TSA nonce mismatch: sent {nonce}, got {got_nonce}")
    if got_alg != digest.hashlib_name or got_imprint != imprint:
        raise InvalidInput("TSA token is not over the requested imprint")
    return token_der


class HttpTimestampAuthority:
    """An RFC 3161 TSA reached over HTTP POST (RFC 3161 §3.4).

    Args:
        url: the TSA endpoint.
        timeout: seconds for connect and read.
        max_response_bytes: larger answers are refused before they are buffered.
        transport: an httpx transport (tests, proxies); the default opens sockets.
    """

    def __init__(
        self,
        url: str,
        timeout: float = 10.0,
        *,
        max_response_bytes: int = MAX_TOKEN_BYTES,
        transport: httpx.BaseTransport | None = None,
    ):
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"TSA URL must be http(s)://…, got {url!r}")
        self.url = url
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self._transport = transport

    def request(self, data: bytes, *, digest: DigestAlgorithm = DigestAlgorithm.SHA256) -> bytes:
        imprint = _imprint(data, digest)
        nonce = secrets.randbits(63)
        body = build_timestamp_request(imprint, digest, nonce)
        response = self._post(body)
        return token_from_response(response, imprint=imprint, digest=digest, nonce=nonce)

    def _post(self, body: bytes) -> bytes:
        headers = {"Content-Type": TIMESTAMP_QUERY, "Accept": TIMESTAMP_REPLY}
        try:
            with (
                httpx.Client(timeout=self.timeout, transport=self._transport) as client,
                client.stream("POST", self.url, content=body, headers=headers) as resp,
            ):
                if resp.status_code != 200:
                    raise DeliveryError(f"TSA answered HTTP {resp.status_code}", location=self.url)
                ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                if ctype not in (TIMESTAMP_REPLY, "application/timestamp-response"):
                    raise InvalidInput(
                        f"TSA answered {ctype or 'no content type'}, expected {TIMESTAMP_REPLY}",
                        location=self.url,
                    )
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > self.max_response_bytes:
                        raise InvalidInput(
                            f"TSA response larger than {self.max_response_bytes} bytes",
                            location=self.url,
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise DeliveryError(
                f"TSA unreachable: {type(exc).__name__}", location=self.url
            ) from exc


class LocalTimestampAuthority:
    """An in-process TSA: the same request/response path as ``pakn-sign pki serve``.

    Args:
        signer: the TSA's signer (its certificate must carry EKU timeStamping, critical).
        clock: where genTime comes from; default the system clock.
        policy_oid: the TSA policy in TSTInfo.
    """

    def __init__(
        self,
        signer: Signer,
        *,
        clock: Clock | None = None,
        policy_oid: str = DEFAULT_POLICY_OID,
    ):
        self._signer = signer
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._policy = policy_oid
        # Serials unique per authority instance; the random high bits keep two instances apart.
        self._serials = itertools.count((secrets.randbits(40) << 20) + 1)

    def request(self, data: bytes, *, digest: DigestAlgorithm = DigestAlgorithm.SHA256) -> bytes:
        imprint = _imprint(data, digest)
        nonce = secrets.randbits(63)
        response = respond_to_request(
            build_timestamp_request(imprint, digest, nonce),
            self._signer,
            gen_time=self._clock.now(),
            serial=next(self._serials),
            policy_oid=self._policy,
        )
        return token_from_response(response, imprint=imprint, digest=digest, nonce=nonce)
