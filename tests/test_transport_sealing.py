"""seal() with the protected header cached per (chain, algorithm, typ): the same JWS as
signing.jws.sign_flattened, verifiable by open_sealed against the pin."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pakn_sign.signing.b64 import b64url_decode
from pakn_sign.signing.jws import sign_flattened
from pakn_sign.transport.receiver import RECEIPT_TYP
from pakn_sign.transport.sealing import cert_sha256, open_sealed, seal
from pakn_sign.transport.wire import Receipt, canonical_json
from pakn_sign.trust.testpki import TestPKI

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
CODE = "000.00.00.G10"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"), algorithm="p256", now=NOW)


def _receipt(n: int) -> Receipt:
    return Receipt(
        message_id=f"01a1f84a-95c0-7454-9da9-4384e6ac47{n:02d}",
        envelope_digest="a" * 64,
        part_digests=["b" * 64],
        received_at=NOW,
        receiver=CODE,
        sender="000.00.00.G22",
        status="accepted",
    )


def test_seal_matches_sign_flattened_and_verifies(pki: TestPKI) -> None:
    signer = pki.agencies[CODE].signer()
    pin = [cert_sha256(pki.agencies[CODE].cert)]
    for n in range(3):  # the second and third use the cached header
        model = _receipt(n)
        ours = json.loads(seal(model, signer, typ=RECEIPT_TYP))
        ref = json.loads(
            sign_flattened(canonical_json(model), signer, protected={"typ": RECEIPT_TYP})
        )
        assert list(ours) == list(ref) == ["payload", "protected", "signature"]
        assert (ours["payload"], ours["protected"]) == (ref["payload"], ref["protected"])
        header = json.loads(b64url_decode(ours["protected"]))
        assert header["typ"] == RECEIPT_TYP
        assert header["alg"] == "ES256"
        opened = open_sealed(
            seal(model, signer, typ=RECEIPT_TYP), Receipt, typ=RECEIPT_TYP, pinned=pin
        )
        assert opened.model == model


def test_typ_is_part_of_the_cache_key(pki: TestPKI) -> None:
    signer = pki.agencies[CODE].signer()
    a = json.loads(seal(_receipt(0), signer, typ="pakn-a+json"))
    b = json.loads(seal(_receipt(0), signer, typ="pakn-b+json"))
    assert json.loads(b64url_decode(a["protected"]))["typ"] == "pakn-a+json"
    assert json.loads(b64url_decode(b["protected"]))["typ"] == "pakn-b+json"
