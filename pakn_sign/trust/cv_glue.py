"""pyhanko-certvalidator glue for ``paths.py``: running its async API from sync code, and
mapping its errors to ours with ETSI EN 319 102-1 sub-indications."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pyhanko_certvalidator import errors as cv_errors

from ..errors import IndeterminateError, PolicyViolation, UntrustedSigner, VerificationError

__all__ = ["map_validation_error", "run_async"]

T = TypeVar("T")


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    """Run certvalidator's async API from sync code, without leaking loops or warnings."""

    async def main() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    # Called from inside an event loop (e.g. an ASGI handler): use a private thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


_CRYPTO = "CRYPTO_CONSTRAINTS_FAILURE"
_ERRORS: tuple[tuple[type[Exception], type[VerificationError], str, str], ...] = (
    (cv_errors.RevokedError, UntrustedSigner, "REVOKED", "revoked"),
    (cv_errors.InsufficientRevinfoError, IndeterminateError, "TRY_LATER", "revocation_unknown"),
    (cv_errors.InsufficientPOEError, IndeterminateError, "NO_POE", "no_poe"),
    (cv_errors.ExpiredError, IndeterminateError, "OUT_OF_BOUNDS_NO_POE", "certificate_expired"),
    (cv_errors.NotYetValidError, UntrustedSigner, "NOT_YET_VALID", "certificate_not_yet_valid"),
    (cv_errors.DisallowedAlgorithmError, PolicyViolation, _CRYPTO, "algorithm_not_allowed"),
    (cv_errors.PathBuildingError, UntrustedSigner, "NO_CERTIFICATE_CHAIN_FOUND", "no_chain"),
)


def map_validation_error(exc: Exception) -> VerificationError:
    """Map certvalidator errors to ours with ETSI EN 319 102-1 sub-indications."""
    msg = str(exc) or type(exc).__name__
    for kind, error, sub_indication, code in _ERRORS:  # the first match wins
        if isinstance(exc, kind):
            return error(msg, sub_indication=sub_indication, code=f"verify.{code}")
    return UntrustedSigner(
        msg, sub_indication="CHAIN_CONSTRAINTS_FAILURE", code="verify.chain_invalid"
    )
