"""NIST PKITS (2011, as packaged by pyhanko-certvalidator): every case of pkits.json.

Each case goes through :func:`validate_chain` with a policy from the documented legacy
constructor ``TrustPolicy.unsafe_legacy`` (PKITS uses 1024-bit RSA and DSA keys; EXPECTED.md:
only MD2/MD5 are weak there), purpose ``ANY`` (PKITS end entities carry no signing usage),
and ``pkix_params`` for the RFC 5280 §6.1.1 policy inputs, which TrustPolicy does not model.
The two cases with a pre-built path use the same ``build_validation_context`` and certvalidator's
``async_validate_path`` on that path (a thin layer, no path building).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from conftest import require_vectors
from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import PKIXValidationParams
from pyhanko_certvalidator.validate import async_validate_path

from pakn_sign.errors import IndeterminateError, UntrustedSigner, VerificationError
from pakn_sign.trust.paths import (
    KeyPurpose,
    build_validation_context,
    map_validation_error,
    validate_chain,
)
from pakn_sign.trust.policy import RevocationMode, TrustPolicy

pytestmark = pytest.mark.filterwarnings("ignore::pakn_sign.trust.policy.UnsafeOptionWarning")

# EXPECTED.md: any time in 2010-01-01..2030-12-31 works; pyHanko freezes 2022-05-01.
AT = dt.datetime(2022, 5, 1, tzinfo=dt.UTC)
_CASES_FILE = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "vectors" / "pkits" / "pkits.json"
)


def _load_cases() -> list[dict[str, Any]]:
    # Parametrisation needs the list at collection time; the test itself calls
    # require_vectors so a missing set skips locally and fails under CI.
    import os

    env = os.environ.get("PAKN_VECTORS")
    path = Path(env) / "pkits" / "pkits.json" if env else _CASES_FILE
    if not path.is_file():
        return [{"id": "missing", "name": "vectors", "cert": ""}]
    return json.loads(path.read_text("utf-8"))


CASES = _load_cases()

# The category of our sub-indications each certvalidator class in EXPECTED.md maps to.
_EXPECTED_SUBS = {
    "RevokedError": {"REVOKED"},
    "InsufficientRevinfoError": {"TRY_LATER"},
    "StaleRevinfoError": {"TRY_LATER"},
    "PathValidationError": {
        "CHAIN_CONSTRAINTS_FAILURE",
        "NOT_YET_VALID",
        "OUT_OF_BOUNDS_NO_POE",
        "CRYPTO_CONSTRAINTS_FAILURE",
        "REVOKED",
        "TRY_LATER",
    },
}


def _cert(base: Path, name: str) -> x509.Certificate:
    with warnings.catch_warnings():
        # 4.4.15 has a negative serial on purpose; cryptography warns while loading it
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return x509.load_der_x509_certificate((base / "certs" / name).read_bytes())


def _policy(base: Path, case: dict[str, Any]) -> TrustPolicy:
    crls = [(base / "crls" / "TrustAnchorRootCRL.crl").read_bytes()]
    crls += [(base / "crls" / n).read_bytes() for n in case.get("crls", [])]
    mode = RevocationMode.REQUIRE if case.get("revocation", True) else RevocationMode.SOFT_FAIL
    return TrustPolicy.unsafe_legacy(
        [_cert(base, "TrustAnchorRootCertificate.crt")],
        intermediates=[_cert(base, n) for n in case.get("other_certs", [])],
        crls=crls,
        revocation=mode,
    )


def _params(case: dict[str, Any]) -> PKIXValidationParams | None:
    p = case.get("params")
    if not p:
        return None
    kw: dict[str, Any] = {k: v for k, v in p.items() if k != "user_initial_policy_set"}
    if "user_initial_policy_set" in p:
        kw["user_initial_policy_set"] = frozenset(p["user_initial_policy_set"])
    return PKIXValidationParams(**kw)


def _validate_prebuilt(base: Path, case: dict[str, Any], policy: TrustPolicy) -> int:
    ctx = build_validation_context(policy, moment=AT)

    def a1(c: x509.Certificate) -> asn1_x509.Certificate:
        from cryptography.hazmat.primitives import serialization

        return asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))

    path = ValidationPath(
        CertTrustAnchor(a1(policy.anchors[0])),
        [a1(_cert(base, n)) for n in case["path_intermediates"]],
        a1(_cert(base, case["cert"])),
    )

    async def go() -> None:
        try:
            await async_validate_path(ctx, path, parameters=_params(case))
        finally:
            await ctx.aclose()

    try:
        asyncio.run(go())
    except (cv_errors.PathError, cv_errors.ValidationError) as exc:
        raise map_validation_error(exc) from exc
    return len(list(path.iter_certs(include_root=True)))


def _run_case(base: Path, case: dict[str, Any]) -> int:
    policy = _policy(base, case)
    if "path_intermediates" in case:
        return _validate_prebuilt(base, case, policy)
    result = validate_chain(
        _cert(base, case["cert"]),
        policy=policy,
        at=AT,
        purpose=KeyPurpose.ANY,
        pkix_params=_params(case),
    )
    return len(result.chain)


# Known limitation: TrustPolicy holds cryptography certificates, and cryptography cannot
# parse a DSA key whose parameters are inherited from the issuer (RFC 3279 §2.3.2).
_UNPARSEABLE = {"40105": "cryptography cannot load DSA certificates with inherited parameters"}


def _param(case: dict[str, Any]) -> Any:
    marks = []
    if case["id"] in _UNPARSEABLE:
        marks.append(
            pytest.mark.xfail(strict=True, raises=ValueError, reason=_UNPARSEABLE[case["id"]])
        )
    return pytest.param(case, id=f"{case['id']}-{case['name']}", marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_pkits(case: dict[str, Any]) -> None:
    base = require_vectors("pkits")
    error = case.get("error")
    if error is None:
        assert _run_case(base, case) == case["path_len"]
        return
    with pytest.raises(VerificationError) as info:
        _run_case(base, case)
    exc = info.value
    assert isinstance(exc, UntrustedSigner | IndeterminateError)
    # our sub-indication is in the category of the class PKITS expects …
    assert exc.sub_indication in _EXPECTED_SUBS[error["class"]], (exc.sub_indication, str(exc))
    # … and it came from exactly that certvalidator check
    expected_cls = getattr(cv_errors, error["class"])
    assert isinstance(exc.__cause__, expected_cls), type(exc.__cause__)
    assert re.search(error["msg_regex"], str(exc)), str(exc)


def test_pkits_case_count() -> None:
    require_vectors("pkits")
    assert len(CASES) == 246
    assert sum("error" not in c for c in CASES) == 110
