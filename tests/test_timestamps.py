"""RFC 3161 timestamps: tokens from the local TSA, verify_timestamp's checks and attacks."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence

import httpx
import pytest
from asn1crypto import cms, tsp
from conftest import PKI_NOW
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from pakn_sign.clock import FixedClock
from pakn_sign.errors import (
    ConfigurationError,
    DeliveryError,
    InvalidInput,
    InvalidSignature,
    PaknSignError,
    UnsupportedFeature,
    UntrustedSigner,
)
from pakn_sign.signing.algorithms import (
    DigestAlgorithm,
    PrivateKey,
    SignatureAlgorithm,
    default_algorithm,
    sign_with_key,
)
from pakn_sign.signing.signers import LocalKeySigner
from pakn_sign.signing.timestamps import (
    HttpTimestampAuthority,
    LocalTimestampAuthority,
    TimestampAuthority,
    verify_timestamp,
)
from pakn_sign.signing.timestamps_token import TimeStampResp, respond_to_request, sign_tst_info
from pakn_sign.trust.paths import KeyPurpose, validate_chain
from pakn_sign.trust.testpki import TestPKI
from pakn_sign.trust.testpki_build import (
    CertProfile,
    Issuer,
    generate_key,
    issue_certificate,
    self_signed_root,
)
from pakn_sign.trust.testpki_names import simple_name

DATA = "Đơn kiến nghị số 42".encode()
DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def tsa(test_pki: TestPKI) -> LocalTimestampAuthority:
    return test_pki.timestamp_authority(clock=FixedClock(PKI_NOW))


@pytest.fixture(scope="module")
def token(tsa: LocalTimestampAuthority) -> bytes:
    return tsa.request(DATA)


class ForgingSigner:
    """Presents one certificate chain but signs with another key (an attacker's)."""

    def __init__(self, chain: Sequence[x509.Certificate], key: PrivateKey):
        self._chain = tuple(chain)
        self._key = key

    @property
    def certificate_chain(self) -> Sequence[x509.Certificate]:
        return self._chain

    @property
    def default_algorithm(self) -> SignatureAlgorithm:
        return default_algorithm(self._key.public_key())

    def sign_raw(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        return sign_with_key(self._key, data, algorithm)


def tst_info_over(data: bytes, *, serial: int = 7, digest: str = "sha256") -> tsp.TSTInfo:
    return tsp.TSTInfo(
        {
            "version": "v1",
            "policy": "2.999.3161.1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": digest},
                "hashed_message": hashlib.new(digest, data).digest(),
            },
            "serial_number": serial,
            "gen_time": PKI_NOW,
        }
    )


def issuer_of(pki: TestPKI) -> Issuer:
    return Issuer(
        pki.intermediate.cert,
        pki.intermediate.key,
        crl_url=f"{pki.base_url}/crl/intermediate.crl",
    )


def rogue_root() -> Issuer:
    """A CA nobody trusts."""
    key = generate_key("p256")
    root = self_signed_root(
        key, simple_name("ROGUE ROOT"), not_before=PKI_NOW - 30 * DAY, not_after=PKI_NOW + 365 * DAY
    )
    return Issuer(root, key)


def make_tsa(issuer: Issuer, **kw: object) -> LocalKeySigner:
    key = generate_key("p256")
    cert = issue_certificate(
        issuer,
        key.public_key(),
        simple_name("ROGUE TSA"),
        CertProfile.TSA,
        not_before=PKI_NOW - 30 * DAY,
        not_after=PKI_NOW + 365 * DAY,
        **kw,  # type: ignore[arg-type]
    )
    return LocalKeySigner(key, [cert, issuer.cert])


def resign(token: bytes, key: PrivateKey, mutate: Callable[[cms.SignerInfo], None]) -> bytes:
    """Change the SignerInfo, then sign its attributes again with ``key`` (a valid signature)."""
    ci = cms.ContentInfo.load(token)
    si = ci["content"]["signer_infos"][0]
    mutate(si)
    attrs = cms.CMSAttributes(list(si["signed_attrs"])).dump(force=True)
    alg = default_algorithm(key.public_key())
    sig = sign_with_key(key, attrs, alg)
    from pakn_sign.signing.algorithms import raw_ecdsa_to_der

    si["signature"] = raw_ecdsa_to_der(sig) if alg.name.startswith("ECDSA") else sig
    return bytes(ci.dump(force=True))


def test_local_tsa_is_a_timestamp_authority(tsa: LocalTimestampAuthority) -> None:
    assert isinstance(tsa, TimestampAuthority)


def test_valid_token(test_pki: TestPKI, token: bytes) -> None:
    info = verify_timestamp(token, DATA, policy=test_pki.policy(), at=PKI_NOW)
    assert info.time == PKI_NOW
    assert info.tsa_certificate == test_pki.tsa.cert
    assert info.chain == (test_pki.tsa.cert, test_pki.intermediate.cert, test_pki.root.cert)
    assert info.digest is DigestAlgorithm.SHA256
    assert info.token == token
    assert info.policy_oid == "2.999.3161.1"
    assert info.nonce is not None
    # Without ``at`` the TSA chain is validated at genTime (RFC 3161 Appendix B).
    assert verify_timestamp(token, DATA, policy=test_pki.policy()).serial == info.serial


@pytest.mark.parametrize("digest", [DigestAlgorithm.SHA384, DigestAlgorithm.SHA512])
def test_other_imprint_digests(
    test_pki: TestPKI, tsa: LocalTimestampAuthority, digest: DigestAlgorithm
) -> None:
    tok = tsa.request(DATA, digest=digest)
    assert verify_timestamp(tok, DATA, policy=test_pki.policy(), at=PKI_NOW).digest is digest


def test_serials_are_unique(tsa: LocalTimestampAuthority, test_pki: TestPKI) -> None:
    serials = {
        verify_timestamp(tsa.request(DATA), DATA, policy=test_pki.policy(), at=PKI_NOW).serial
        for _ in range(3)
    }
    assert len(serials) == 3


def test_sha1_requests_are_refused(tsa: LocalTimestampAuthority) -> None:
    with pytest.raises(ConfigurationError):
        tsa.request(DATA, digest=DigestAlgorithm.SHA1)


def test_token_over_other_bytes(test_pki: TestPKI, token: bytes) -> None:
    with pytest.raises(InvalidSignature) as err:
        verify_timestamp(token, DATA + b" ", policy=test_pki.policy(), at=PKI_NOW)
    assert err.value.sub_indication == "HASH_FAILURE"


def test_attack_untrusted_tsa(test_pki: TestPKI) -> None:
    rogue = make_tsa(rogue_root())
    tok = LocalTimestampAuthority(rogue, clock=FixedClock(PKI_NOW)).request(DATA)
    with pytest.raises(UntrustedSigner):
        verify_timestamp(tok, DATA, policy=test_pki.policy(), at=PKI_NOW)


@pytest.mark.parametrize(
    ("eku", "critical"),
    [
        ([ExtendedKeyUsageOID.CLIENT_AUTH], True),
        ([ExtendedKeyUsageOID.TIME_STAMPING], False),
        ([ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING], True),
    ],
)
def test_attack_tsa_with_wrong_eku(
    test_pki: TestPKI, eku: list[x509.ObjectIdentifier], critical: bool
) -> None:
    rogue = make_tsa(issuer_of(test_pki), eku_override=eku, eku_critical=critical)
    tok = LocalTimestampAuthority(rogue, clock=FixedClock(PKI_NOW)).request(DATA)
    with pytest.raises(UntrustedSigner) as err:
        verify_timestamp(tok, DATA, policy=test_pki.policy(), at=PKI_NOW)
    assert err.value.code == "verify.tsa_usage"


def test_attack_tampered_tstinfo(test_pki: TestPKI, token: bytes) -> None:
    info = verify_timestamp(token, DATA, policy=test_pki.policy(), at=PKI_NOW)
    serial = info.serial.to_bytes((info.serial.bit_length() + 8) // 8, "big")
    assert token.count(serial) == 1
    i = token.index(serial) + len(serial) - 1
    tampered = token[:i] + bytes([token[i] ^ 1]) + token[i + 1 :]
    with pytest.raises(InvalidSignature) as err:
        verify_timestamp(tampered, DATA, policy=test_pki.policy(), at=PKI_NOW)
    assert err.value.sub_indication == "HASH_FAILURE"  # messageDigest no longer matches


def test_attack_tampered_signature(test_pki: TestPKI, token: bytes) -> None:
    tampered = token[:-1] + bytes([token[-1] ^ 0x55])
    with pytest.raises(InvalidSignature) as err:
        verify_timestamp(tampered, DATA, policy=test_pki.policy(), at=PKI_NOW)
    assert err.value.sub_indication == "SIG_CRYPTO_FAILURE"


def test_attack_cve_2025_52556_signature_not_checked_against_validated_tsa_cert(
    test_pki: TestPKI,
) -> None:
    """rfc3161-client ≤ 1.0.2 validated the embedded TSA chain but never checked the token's
    signature with that certificate: any signature passed if the leaf chained to a root."""
    genuine_chain = [test_pki.tsa.cert, test_pki.intermediate.cert]
    attacker_key = generate_key("rsa2048")
    forged = sign_tst_info(tst_info_over(DATA), ForgingSigner(genuine_chain, attacker_key))
    # The embedded leaf really is a trusted TSA for timestamping...
    validate_chain(
        test_pki.tsa.cert,
        policy=test_pki.policy(),
        at=PKI_NOW,
        purpose=KeyPurpose.TIMESTAMPING,
    )
    # ...yet the token it "vouches" for was signed by someone else.
    with pytest.raises(InvalidSignature) as err:
        verify_timestamp(forged, DATA, policy=test_pki.policy(), at=PKI_NOW)
    assert err.value.sub_indication == "SIG_CRYPTO_FAILURE"


def test_attack_cve_2026_33753_leaf_picked_from_bag(test_pki: TestPKI) -> None:
    """The TSA certificate must be the one ESSCertID binds, not one picked from the bag:
    an attacker signs with their own certificate and appends a genuine TSA certificate."""
    rogue = make_tsa(rogue_root())
    bag = [*rogue.certificate_chain, test_pki.tsa.cert, test_pki.intermediate.cert]
    key = rogue._key  # the attacker's own key, matching the first certificate
    forged = sign_tst_info(tst_info_over(DATA), ForgingSigner(bag, key))
    with pytest.raises(UntrustedSigner):
        verify_timestamp(forged, DATA, policy=test_pki.policy(), at=PKI_NOW)


def test_attack_signer_info_names_another_certificate(test_pki: TestPKI, token: bytes) -> None:
    other = test_pki.officials["official-g22"].cert

    def point_elsewhere(si: cms.SignerInfo) -> None:
        si["sid"] = cms.SignerIdentifier(
            {
                "issuer_and_serial_number": {
                    "issuer": si["sid"].chosen["issuer"],
                    "serial_number": other.serial_number,
                }
            }
        )

    forged = resign(token, test_pki.tsa.key, point_elsewhere)
    with pytest.raises(InvalidSignature, match="different certificate"):
        verify_timestamp(forged, DATA, policy=test_pki.policy(), at=PKI_NOW)


def test_attack_token_without_signing_certificate_attribute(
    test_pki: TestPKI, token: bytes
) -> None:
    def drop_ess(si: cms.SignerInfo) -> None:
        kept = [a for a in si["signed_attrs"] if a["type"].native != "signing_certificate_v2"]
        si["signed_attrs"] = cms.CMSAttributes(kept)

    forged = resign(token, test_pki.tsa.key, drop_ess)
    with pytest.raises(InvalidSignature, match="not bound"):
        verify_timestamp(forged, DATA, policy=test_pki.policy(), at=PKI_NOW)


def test_attack_gen_time_outside_tsa_validity(test_pki: TestPKI) -> None:
    """A (compromised or backdating) TSA key signs a genTime its certificate does not cover."""
    for when in (PKI_NOW + 6 * 365 * DAY, test_pki.tsa.cert.not_valid_before_utc - DAY):
        info = tst_info_over(DATA)
        info["gen_time"] = when
        tok = sign_tst_info(info, test_pki.tsa.signer())
        with pytest.raises(UntrustedSigner) as err:
            verify_timestamp(tok, DATA, policy=test_pki.policy(), at=PKI_NOW)
        assert err.value.code == "verify.timestamp_out_of_validity"


def test_esscertid_issuer_serial_must_match(test_pki: TestPKI, token: bytes) -> None:
    def wrong_serial(si: cms.SignerInfo) -> None:
        for attr in si["signed_attrs"]:
            if attr["type"].native == "signing_certificate_v2":
                ess = attr["values"][0]["certs"][0]
                ess["issuer_serial"]["serial_number"] = test_pki.tsa.serial + 1

    forged = resign(token, test_pki.tsa.key, wrong_serial)
    with pytest.raises(InvalidSignature, match="issuerSerial"):
        verify_timestamp(forged, DATA, policy=test_pki.policy(), at=PKI_NOW)


def test_token_without_certificates(test_pki: TestPKI) -> None:
    tok = sign_tst_info(tst_info_over(DATA), test_pki.tsa.signer(), include_certs=False)
    with pytest.raises(InvalidSignature):
        verify_timestamp(tok, DATA, policy=test_pki.policy(), at=PKI_NOW)
    info = verify_timestamp(
        tok, DATA, policy=test_pki.policy(), at=PKI_NOW, certificates=[test_pki.tsa.cert]
    )
    assert info.tsa_certificate == test_pki.tsa.cert


def test_sha1_imprint_is_refused_by_policy(test_pki: TestPKI) -> None:
    tok = sign_tst_info(tst_info_over(DATA, digest="sha1"), test_pki.tsa.signer())
    with pytest.raises(UnsupportedFeature):
        verify_timestamp(tok, DATA, policy=test_pki.policy(), at=PKI_NOW)


def test_malformed_and_oversized_tokens(test_pki: TestPKI, token: bytes) -> None:
    policy = test_pki.policy()
    for bad in (b"", b"\x30\x03\x02\x01", token[:-10], token + b"\x00", b"\x30" * 50):
        with pytest.raises(InvalidInput):
            verify_timestamp(bad, DATA, policy=policy, at=PKI_NOW)
    with pytest.raises(InvalidInput, match="larger"):
        verify_timestamp(token, DATA, policy=policy, at=PKI_NOW, max_bytes=len(token) - 1)


def test_responder_down_is_a_delivery_error() -> None:
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeliveryError):
        HttpTimestampAuthority(f"http://127.0.0.1:{port}/tsa", timeout=2).request(DATA)


def _mock(handler: Callable[[httpx.Request], httpx.Response]) -> HttpTimestampAuthority:
    return HttpTimestampAuthority("http://tsa.test/tsa", transport=httpx.MockTransport(handler))


REPLY = {"content-type": "application/timestamp-reply"}


def test_http_client_checks_the_answer(test_pki: TestPKI) -> None:
    signer = test_pki.tsa.signer()

    def honest(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/timestamp-query"
        body = respond_to_request(request.content, signer, gen_time=PKI_NOW, serial=1)
        return httpx.Response(200, content=body, headers=REPLY)

    tok = _mock(honest).request(DATA)
    assert verify_timestamp(tok, DATA, policy=test_pki.policy(), at=PKI_NOW).serial == 1

    def replay(request: httpx.Request) -> httpx.Response:  # an answer to someone else's nonce
        other_req = tsp.TimeStampReq.load(request.content)
        other_req["nonce"] = other_req["nonce"].native + 1
        body = respond_to_request(other_req.dump(force=True), signer, gen_time=PKI_NOW, serial=2)
        return httpx.Response(200, content=body, headers=REPLY)

    with pytest.raises(InvalidInput, match="nonce"):
        _mock(replay).request(DATA)
    with pytest.raises(InvalidInput, match="larger"):
        _mock(lambda r: httpx.Response(200, content=b"\x30" * 300_000, headers=REPLY)).request(DATA)
    with pytest.raises(InvalidInput, match="content type"):
        _mock(lambda r: httpx.Response(200, content=b"x", headers={})).request(DATA)
    with pytest.raises(DeliveryError, match="HTTP 503"):
        _mock(lambda r: httpx.Response(503)).request(DATA)
    with pytest.raises(InvalidInput, match="malformed"):
        _mock(lambda r: httpx.Response(200, content=b"\x30\x00", headers=REPLY)).request(DATA)


def test_http_client_reports_tsa_rejection() -> None:
    rejection = TimeStampResp(
        {"status": {"status": "rejection", "fail_info": tsp.PKIFailureInfo({"bad_alg"})}}
    ).dump()
    with pytest.raises(DeliveryError) as err:
        _mock(lambda r: httpx.Response(200, content=rejection, headers=REPLY)).request(DATA)
    assert err.value.code == "transport.tsa_rejected"


def test_http_client_refuses_bad_urls() -> None:
    with pytest.raises(ConfigurationError):
        HttpTimestampAuthority("file:///etc/passwd")


def test_tsa_rejects_unacceptable_requests(test_pki: TestPKI) -> None:
    signer = test_pki.tsa.signer()

    def status(req: tsp.TimeStampReq) -> tuple[str, set[str]]:
        resp = TimeStampResp.load(
            respond_to_request(req.dump(), signer, gen_time=PKI_NOW, serial=3)
        )
        return resp["status"]["status"].native, set(resp["status"]["fail_info"].native or ())

    base = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": "sha1"},
            "hashed_message": hashlib.sha1(DATA).digest(),
        },
    }
    assert status(tsp.TimeStampReq(base)) == ("rejection", {"bad_alg"})
    short = dict(
        base,
        message_imprint={"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"\x00" * 5},
    )
    assert status(tsp.TimeStampReq(short)) == ("rejection", {"bad_data_format"})
    good = dict(
        base,
        message_imprint={
            "hash_algorithm": {"algorithm": "sha256"},
            "hashed_message": hashlib.sha256(DATA).digest(),
        },
    )
    assert status(tsp.TimeStampReq(dict(good, req_policy="1.2.3.4"))) == (
        "rejection",
        {"unaccepted_policy"},
    )
    assert status(tsp.TimeStampReq(good)) == ("granted", set())
    garbage = TimeStampResp.load(
        respond_to_request(b"\x30\x80garbage", signer, gen_time=PKI_NOW, serial=4)
    )
    assert garbage["status"]["status"].native == "rejection"


def _empty_ess_certs(si: cms.SignerInfo) -> None:
    for attr in si["signed_attrs"]:
        if attr["type"].native == "signing_certificate_v2":
            attr["values"][0]["certs"] = []


def _unknown_digest(si: cms.SignerInfo) -> None:
    si["digest_algorithm"] = {"algorithm": "1.2.3.4"}


@pytest.mark.parametrize(
    "mutate", [_empty_ess_certs, _unknown_digest], ids=["empty_esscertid_list", "unknown_digest"]
)
def test_attack_malformed_signed_attributes_are_our_errors(
    test_pki: TestPKI, token: bytes, mutate: Callable[[cms.SignerInfo], None]
) -> None:
    # Parsed lazily by asn1crypto: IndexError/ValueError must not escape the API.
    forged = resign(token, test_pki.tsa.key, mutate)
    with pytest.raises(PaknSignError):
        verify_timestamp(forged, DATA, policy=test_pki.policy(), at=PKI_NOW)


def test_attack_signed_content_type_not_an_oid(test_pki: TestPKI, token: bytes) -> None:
    # The contentType attribute's value (id-ct-TSTInfo) swapped for an INTEGER of the same
    # length: the token still loads, and asn1crypto fails only when the value is read.
    attr = b"\x31\x0d" + bytes.fromhex("060b2a864886f70d0109100104")  # SET { id-ct-TSTInfo }
    assert token.count(attr) == 1
    forged = token.replace(attr, b"\x31\x0d\x02\x0b" + b"\x01" * 11)
    with pytest.raises(InvalidInput, match="malformed"):
        verify_timestamp(forged, DATA, policy=test_pki.policy(), at=PKI_NOW)


def test_attack_embedded_certificate_with_unknown_version(test_pki: TestPKI, token: bytes) -> None:
    # x509.InvalidVersion is not a ValueError: a bag certificate with version 95 is InvalidInput.
    v3 = bytes.fromhex("a003020102")
    assert token.count(v3) >= 1
    forged = token.replace(v3, bytes.fromhex("a00302015e"), 1)
    with pytest.raises(InvalidInput, match="not a DER certificate"):
        verify_timestamp(forged, DATA, policy=test_pki.policy(), at=PKI_NOW)


def test_attack_ed25519_token_with_weak_message_digest(test_pki: TestPKI) -> None:
    # RFC 8419 §3: Ed25519 SignerInfos use SHA-512 for messageDigest; an MD5 messageDigest
    # under a valid Ed25519 signature must not bind the TSTInfo.
    key = generate_key("ed25519")
    cert = issue_certificate(
        issuer_of(test_pki),
        key.public_key(),
        simple_name("ED25519 TSA"),
        CertProfile.TSA,
        not_before=PKI_NOW - 30 * DAY,
        not_after=PKI_NOW + 365 * DAY,
    )
    tok = sign_tst_info(tst_info_over(DATA), LocalKeySigner(key, [cert]))
    policy = test_pki.policy()
    assert verify_timestamp(tok, DATA, policy=policy, at=PKI_NOW).tsa_certificate == cert
    econtent = bytes(cms.ContentInfo.load(tok)["content"]["encap_content_info"]["content"].contents)

    def md5(si: cms.SignerInfo) -> None:
        si["digest_algorithm"] = {"algorithm": "md5"}
        for attr in si["signed_attrs"]:
            if attr["type"].native == "message_digest":
                attr["values"] = [hashlib.md5(econtent).digest()]

    forged = resign(tok, key, md5)
    with pytest.raises(UnsupportedFeature, match="md5"):
        verify_timestamp(forged, DATA, policy=policy, at=PKI_NOW)


def test_attack_rsa1024_tsa_key_through_a_bare_signer(test_pki: TestPKI) -> None:
    # New tokens follow the rule for new signatures whatever Signer implementation signs.
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(65537, 1024)
    cert = issue_certificate(
        issuer_of(test_pki),
        key.public_key(),
        simple_name("WEAK TSA"),
        CertProfile.TSA,
        not_before=PKI_NOW - 30 * DAY,
        not_after=PKI_NOW + 365 * DAY,
    )
    bare = ForgingSigner([cert], key)  # signs with exactly the key it presents, no checks
    with pytest.raises(ConfigurationError, match="RSA-1024"):
        sign_tst_info(tst_info_over(DATA), bare)
