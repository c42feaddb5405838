"""``pakn-sign inspect FILE --trust PEM … [--json] [--html FILE]``: the auditor's report.

Never the gate (use ``verify`` for that): the report goes to stdout as text or JSON and
the exit code follows its indication: 0 TOTAL_PASSED, 1 TOTAL_FAILED, 3 INDETERMINATE,
4 unreadable input.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..trust.policy import TrustPolicy
from ..trust.report import Indication
from .cmd_verify import read_input, trust_options, write_report
from .main import EXIT_FAILED, EXIT_INDETERMINATE, EXIT_OK

__all__ = ["command"]

_EXIT = {
    Indication.TOTAL_PASSED: EXIT_OK,
    Indication.TOTAL_FAILED: EXIT_FAILED,
    Indication.INDETERMINATE: EXIT_INDETERMINATE,
}


@click.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@trust_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--html", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML report."
)
def command(
    file: Path, policy: TrustPolicy, at: dt.datetime, as_json: bool, html: Path | None
) -> int:
    """Report on every signature (ETSI EN 319 102-1 indications) without judging."""
    from ..verify import inspect

    report = inspect(read_input(file), policy=policy, at=at)
    write_report(report, as_json=as_json, html=html)
    return _EXIT[report.indication]
