"""``pakn-sign verify FILE --trust PEM … [--json] [--html FILE] [--extract FILE]`` (DESIGN.md §7).

The gate is :func:`pakn_sign.verify.verify`: exit 0 only when every signature passed.
``--extract`` writes exactly the verified signed document bytes (and nothing, when the
verification fails). ``--json``/``--html`` render the ``inspect`` report for the same
input and time. Exit codes: 0 TOTAL_PASSED, 1 TOTAL_FAILED, 2 usage, 3 INDETERMINATE,
4 unreadable input.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..clock import SystemClock, ensure_aware
from ..errors import ConfigurationError, InvalidInput, VerificationError
from ..trust.policy import RevocationMode, TrustPolicy
from .main import EXIT_OK, exit_code_for

__all__ = ["build_policy", "command", "read_input", "trust_options"]

F = TypeVar("F", bound=Callable[..., Any])
_MAX_INPUT = 64 * 1024 * 1024
_MODES = {
    "off": RevocationMode.OFF,
    "soft": RevocationMode.SOFT_FAIL,
    "hard": RevocationMode.HARD_FAIL,
    "require": RevocationMode.REQUIRE,
}
_TRUST_OPTS = ("trust", "untrusted", "crl", "revocation", "require_role", "at_text")


def read_input(path: Path) -> bytes:
    """The file's bytes, refusing anything over the largest input any parser accepts."""
    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX_INPUT + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > _MAX_INPUT:
        raise InvalidInput(f"{path} is larger than {_MAX_INPUT} bytes", code="input.too_large")
    return data


def build_policy(
    trust: tuple[Path, ...],
    untrusted: tuple[Path, ...],
    crl: tuple[Path, ...],
    revocation: str,
    require_role: tuple[str, ...],
) -> TrustPolicy:
    """A :class:`TrustPolicy` from the command-line trust options (no network)."""
    if not trust:
        raise click.UsageError("give at least one trust anchor: --trust PEM")
    return TrustPolicy.from_pem_files(
        list(trust),
        intermediates=list(untrusted),
        crls=list(crl),
        revocation=_MODES[revocation],
        required_roles=frozenset(require_role),
    )


def parse_at(text: str | None) -> dt.datetime:
    """``--at`` as an aware datetime (default: now)."""
    if text is None:
        return SystemClock().now()
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigurationError(f"--at is not ISO-8601: {text!r}") from exc
    return ensure_aware(value, name="--at")


def trust_options(func: F) -> F:
    """Add the trust options and pass ``policy`` and ``at`` to the command."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        o = {k: kwargs.pop(k) for k in _TRUST_OPTS}
        kwargs["policy"] = build_policy(
            o["trust"], o["untrusted"], o["crl"], o["revocation"], o["require_role"]
        )
        kwargs["at"] = parse_at(o["at_text"])
        return func(*args, **kwargs)

    pem = click.Path(exists=True, dir_okay=False, path_type=Path)
    options = [
        click.option("--trust", multiple=True, type=pem, help="Trust anchor PEM (repeatable)."),
        click.option("--untrusted", multiple=True, type=pem, help="Intermediate CA PEM bundle."),
        click.option("--crl", multiple=True, type=pem, help="CRL file, PEM or DER (repeatable)."),
        click.option(
            "--revocation",
            type=click.Choice(list(_MODES)),
            default="hard",
            show_default=True,
            help="What missing revocation data means.",
        ),
        click.option(
            "--require-role",
            multiple=True,
            type=click.Choice(["personal", "organisation"]),
            help="A role the document must carry (repeatable).",
        ),
        click.option("--at", "at_text", metavar="ISO-8601", help="Validation time (default now)."),
    ]
    decorated: Callable[..., Any] = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[return-value]


def write_report(report: Any, *, as_json: bool, html: Path | None) -> None:
    """Report as JSON (stdout) or text (stdout), and as a self-contained HTML file."""
    click.echo(report.to_json() if as_json else report.to_text())
    if html is not None:
        html.write_text(report.to_html(), encoding="utf-8")


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@trust_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option(
    "--html", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML report."
)
@click.option(
    "--extract",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write exactly the verified signed document bytes here.",
)
@click.option(
    "--letter",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The PDF letter an Answer names: verify it and the SHA-256 binding too.",
)
def command(
    file: Path,
    policy: TrustPolicy,
    at: dt.datetime,
    as_json: bool,
    html: Path | None,
    extract: Path | None,
    letter: Path | None,
) -> int:
    """Verify every signature of a signed document; exit 0 only if all pass."""
    from ..signing.pades_verify import SignedPdf
    from ..verify import inspect, verify, verify_answer_with_letter

    data = read_input(file)
    error: VerificationError | None = None
    letter_result = None
    try:
        if letter is None:
            result = verify(data, policy=policy, at=at)
        else:
            both = verify_answer_with_letter(data, read_input(letter), policy=policy, at=at)
            result, letter_result = both.answer, both.letter
    except VerificationError as exc:
        error = exc
    if as_json or html is not None:
        write_report(inspect(data, policy=policy, at=at), as_json=as_json, html=html)
    if error is not None:
        where = f" at {error.location}" if error.location else ""
        sub = f" ({error.sub_indication})" if error.sub_indication else ""
        click.echo(f"FAIL: [{error.code}] {error.message}{where}{sub}", err=True)
        return exit_code_for(error)
    if extract is not None:
        extract.write_bytes(result.signed_bytes)
    doc = result.document
    roles = ", ".join(f"{s.id} {s.role} {s.level} {s.identity.subject}" for s in result.signatures)
    what = (
        f"PDF ({doc.pages} pages, sha256 {doc.sha256})"
        if isinstance(doc, SignedPdf)
        else f"{doc.kind} {doc.document_id}"
    )
    click.echo(f"OK: {what}; {roles}", err=True)
    if letter_result is not None:
        signers = ", ".join(f"{s.role} {s.identity.subject}" for s in letter_result.signatures)
        click.echo(f"OK: letter {letter} bound by SHA-256 and verified; {signers}", err=True)
    return EXIT_OK
