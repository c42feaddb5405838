"""The times the chain-cache window reads are the times certvalidator reads (review, held).

cache_window parses with cryptography, certvalidator with asn1crypto. asn1crypto accepts
time encodings DER forbids (fractional seconds, offsets, no seconds, no zone) and would read
an instant cryptography could only truncate or shift: cryptography must refuse each of them
(then nothing is cached). Also: OCSP producedAt is not a freshness input (DEFAULT freshness
reads thisUpdate/nextUpdate only), and a policy's own validation_time keys its entries.
"""

from __future__ import annotations

import datetime as dt

import pytest
from asn1crypto import core
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from cache_window_helpers import crl, ocsp_response, warm_and_cold
from certs_helpers import Chain, make_chain
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

from pakn_sign.errors import IndeterminateError
from pakn_sign.trust.cache_window import window_end
from pakn_sign.trust.paths import chain_cache_info, clear_chain_cache, validate_chain
from pakn_sign.trust.policy import TrustPolicy

AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
OLD = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FAR = dt.datetime(2027, 12, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

# DER wants YYYYMMDDHHMMSSZ (GeneralizedTime) / YYMMDDHHMMSSZ (UTCTime), RFC 5280 §4.1.2.5.
NON_DER = [
    b"20260601120000.5Z",
    b"20260601120000,5Z",
    b"20260601120000+0700",
    b"20260601120000-0000",
    b"202606011200Z",
    b"2026060112Z",
]


@pytest.fixture(scope="module")
def chain() -> Chain:
    return make_chain(crl_url="http://127.0.0.1:9/ca.crl", ocsp_url="http://127.0.0.1:9/ocsp")


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    clear_chain_cache()


def _generalized(raw: bytes) -> core.GeneralizedTime:
    return core.GeneralizedTime.load(bytes([0x18, len(raw)]) + raw)


def _policy(c: Chain, **kw: object) -> TrustPolicy:
    return TrustPolicy.from_anchors([c.root.cert], intermediates=[c.intermediate.cert], **kw)


@pytest.mark.parametrize("raw", NON_DER)
def test_crl_time_encodings_cryptography_cannot_read_are_not_bounded(chain, raw):
    parsed = asn1_crl.CertificateList.load(crl(chain.intermediate, this=OLD, next_=FAR))
    parsed["tbs_cert_list"]["this_update"] = asn1_crl.Time({"general_time": _generalized(raw)})
    der = parsed.dump()  # without force: the raw encoding is kept
    assert raw in der
    assert asn1_crl.CertificateList.load(der)["tbs_cert_list"]["this_update"].native is not None
    with pytest.raises(ValueError):
        x509.load_der_x509_crl(der)
    leaf_chain = (chain.leaf.cert, chain.intermediate.cert, chain.root.cert)
    assert window_end(AT, leaf_chain, _policy(chain), (), (der,), ()) is None


@pytest.mark.parametrize("field", ["this_update", "next_update", "revocation_time"])
@pytest.mark.parametrize("raw", NON_DER)
def test_ocsp_time_encodings_cryptography_cannot_read_are_not_bounded(chain, raw, field):
    der = ocsp_response(
        chain.leaf.cert,
        chain.intermediate.cert,
        chain.intermediate,
        this=OLD,
        next_=FAR,
        revoked_at=OLD if field == "revocation_time" else None,
    )
    parsed = asn1_ocsp.OCSPResponse.load(der)
    basic = parsed["response_bytes"]["response"].parsed
    single = basic["tbs_response_data"]["responses"][0]
    if field == "revocation_time":  # a new CHOICE value (edits inside one are not dumped)
        info = asn1_ocsp.RevokedInfo({"revocation_time": _generalized(raw)})
        single["cert_status"] = asn1_ocsp.CertStatus(name="revoked", value=info)
    else:
        single[field] = _generalized(raw)
    parsed["response_bytes"]["response"] = basic
    der = parsed.dump()
    assert raw in der
    with pytest.raises(ValueError):
        ocsp.load_der_ocsp_response(der)
    leaf_chain = (chain.leaf.cert, chain.intermediate.cert, chain.root.cert)
    assert window_end(AT, leaf_chain, _policy(chain), (), (), (der,)) is None


def test_ocsp_produced_at_is_not_a_threshold(chain):
    # producedAt two days after t0: the window does not end there, and cold agrees after it
    # (certvalidator's DEFAULT freshness reads thisUpdate/nextUpdate only).
    der = ocsp_response(
        chain.leaf.cert, chain.intermediate.cert, chain.intermediate, this=OLD, next_=FAR
    )
    parsed = asn1_ocsp.OCSPResponse.load(der)
    basic = parsed["response_bytes"]["response"].parsed
    tbs = basic["tbs_response_data"]
    tbs["produced_at"] = AT + 2 * DAY
    tbs_der = tbs.dump(force=True)
    assert isinstance(chain.intermediate.key, ec.EllipticCurvePrivateKey)
    basic["signature"] = chain.intermediate.key.sign(tbs_der, ec.ECDSA(hashes.SHA256()))
    parsed["response_bytes"]["response"] = basic
    der = parsed.dump(force=True)
    assert ocsp.load_der_ocsp_response(der).produced_at_utc == AT + 2 * DAY
    # the leaf's status from this response alone (no CRL of the intermediate)
    policy = _policy(chain, ocsps=(der,), crls=(crl(chain.root, this=OLD, next_=FAR),))

    def run(at: dt.datetime):
        return validate_chain(chain.leaf.cert, policy=policy, at=at)

    first, warm, cold, hit = warm_and_cold(run, AT, AT + 3 * DAY)
    assert first[0] == "ok"
    assert hit
    assert warm == cold


def test_policy_validation_time_keys_its_entries(chain):
    # at=None: the policy's own moment. Another moment is another policy (fingerprint).
    crls = (crl(chain.intermediate, this=OLD, next_=FAR), crl(chain.root, this=OLD, next_=FAR))
    pinned = _policy(chain, crls=crls, validation_time=AT)
    validate_chain(chain.leaf.cert, policy=pinned)
    assert validate_chain(chain.leaf.cert, policy=pinned).validation_time == AT
    assert chain_cache_info().hits == 1
    late = pinned.replace(validation_time=FAR + 400 * DAY)  # past every notAfter
    with pytest.raises(IndeterminateError):
        validate_chain(chain.leaf.cert, policy=late)
