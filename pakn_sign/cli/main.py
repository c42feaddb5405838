"""``pakn-sign``: the command line, thin over the public API (DESIGN.md §7).

Exit codes: 0 TOTAL_PASSED / OK; 1 TOTAL_FAILED; 2 usage error; 3 INDETERMINATE;
4 input that cannot be read or does not match its schema; 5 transport failure.
Data goes to stdout, messages to stderr.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence

import click

from ..errors import (
    ConfigurationError,
    IndeterminateError,
    InvalidInput,
    PaknSignError,
    TransportError,
    VerificationError,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_INDETERMINATE",
    "EXIT_INPUT",
    "EXIT_OK",
    "EXIT_TRANSPORT",
    "EXIT_USAGE",
    "cli",
    "exit_code_for",
    "main",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INDETERMINATE = 3
EXIT_INPUT = 4
EXIT_TRANSPORT = 5

# Each module exposes ``command`` (a click command or group) or ``commands`` (several).
_SUBCOMMANDS: tuple[str, ...] = (
    "pakn_sign.cli.cmd_cert",
    "pakn_sign.cli.cmd_sign",
    "pakn_sign.cli.cmd_verify",
    "pakn_sign.cli.cmd_inspect",
    "pakn_sign.cli.cmd_pki",
    "pakn_sign.cli.cmd_validate",
    "pakn_sign.cli.cmd_schema",
    "pakn_sign.cli.cmd_node",
    "pakn_sign.cli.cmd_redrive",
    "pakn_sign.cli.cmd_directory",
    "pakn_sign.cli.cmd_demo",
    "pakn_sign.cli.cmd_report",
)


def exit_code_for(exc: PaknSignError) -> int:
    """Map an error to the exit code of DESIGN.md §7 (one place, as pyHanko's manager)."""
    if isinstance(exc, InvalidInput):
        return EXIT_INPUT
    if isinstance(exc, IndeterminateError):
        return EXIT_INDETERMINATE
    if isinstance(exc, VerificationError):
        # The ETSI sub-indication decides: NO_CERTIFICATE_CHAIN_FOUND, TRY_LATER… are
        # INDETERMINATE (EN 319 102-1 Table 5), whatever exception class carried them.
        from ..trust.report import INDICATION_OF, Indication, SubIndication

        try:
            sub = SubIndication(exc.sub_indication) if exc.sub_indication else None
        except ValueError:
            sub = None
        if sub is not None and INDICATION_OF.get(sub) is Indication.INDETERMINATE:
            return EXIT_INDETERMINATE
        return EXIT_FAILED
    if isinstance(exc, TransportError):
        return EXIT_TRANSPORT
    if isinstance(exc, ConfigurationError):
        return EXIT_USAGE
    return EXIT_FAILED


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Sign, verify and exchange PAKN documents (phản ánh, kiến nghị)."""
    ctx.obj = {"verbose": verbose}


def _register() -> None:
    for name in _SUBCOMMANDS:
        module = importlib.import_module(name)
        for command in getattr(module, "commands", None) or (module.command,):
            cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    if not cli.commands:
        _register()
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in args or "-v" in args
    if not verbose:
        # pyHanko logs expected validation failures with tracebacks; our report says it.
        for name in ("pyhanko", "pyhanko_certvalidator"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        rv = cli.main(args=args, prog_name="pakn-sign", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except PaknSignError as exc:
        if verbose:
            import traceback

            traceback.print_exc()
        where = f" at {exc.location}" if exc.location else ""
        click.echo(f"FAIL: [{exc.code}] {exc.message}{where}", err=True)
        return exit_code_for(exc)
    return int(rv) if isinstance(rv, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
