"""``@signer_options``: the key options shared by ``sign``, ``send`` and other commands.

``--p12 FILE [--password-env VAR]`` | ``--key PEM --cert PEM [--chain PEM]`` |
``--pkcs11 URI [--pin-env VAR] [--chain PEM]`` (DESIGN.md §7). The wrapped command receives
one ``signer`` argument (``None`` when no key option was given and ``required=False``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..errors import ConfigurationError
from ..signing.signer_loader import load_signer

__all__ = ["signer_options"]

F = TypeVar("F", bound=Callable[..., Any])

_OPTS = ("p12", "password_env", "key", "cert", "chain", "pkcs11", "pin_env")


def _env(var: str | None, what: str) -> str | None:
    if var is None:
        return None
    value = os.environ.get(var)
    if value is None:
        raise ConfigurationError(f"the environment variable {var} ({what}) is not set")
    return value


def signer_options(*, required: bool = True) -> Callable[[F], F]:
    """Add the key options to a click command and pass it a loaded ``signer``."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            opts = {name: kwargs.pop(name) for name in _OPTS}
            if not (opts["p12"] or opts["key"] or opts["pkcs11"]):
                if required:
                    raise click.UsageError("give a key: --p12, --key/--cert or --pkcs11")
                kwargs["signer"] = None
                return func(*args, **kwargs)
            password = _env(opts["password_env"], "key password")
            if opts["p12"] and password is None:
                # No env var: ask on the terminal (never echo; DESIGN.md §7).
                password = click.prompt(
                    "PKCS#12 password", hide_input=True, default="", show_default=False
                )
            kwargs["signer"] = load_signer(
                p12=opts["p12"],
                password=password or None,
                key=opts["key"],
                cert=opts["cert"],
                chain=opts["chain"],
                pkcs11=opts["pkcs11"],
                pin=_env(opts["pin_env"], "token PIN"),
            )
            return func(*args, **kwargs)

        path = click.Path(exists=True, dir_okay=False)
        options = [
            click.option("--p12", type=path, help="PKCS#12 (.p12/.pfx) key file."),
            click.option(
                "--password-env",
                metavar="VAR",
                help="Environment variable holding the key password (else a prompt).",
            ),
            click.option("--key", type=path, help="PEM private key (with --cert)."),
            click.option("--cert", type=path, help="PEM signing certificate."),
            click.option("--chain", type=path, help="PEM intermediate certificates."),
            click.option(
                "--pkcs11",
                metavar="URI",
                help="RFC 7512 URI, e.g. pkcs11:token=T;object=O?module-path=…&pin-value=…",
            ),
            click.option("--pin-env", metavar="VAR", help="Environment variable holding the PIN."),
        ]
        decorated: Callable[..., Any] = wrapper
        for option in reversed(options):
            decorated = option(decorated)
        return decorated  # type: ignore[return-value]

    return decorate
