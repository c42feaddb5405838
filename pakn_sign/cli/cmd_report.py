"""``pakn-sign report FILES... --from DATE --to DATE``: the quarterly PAKN statistics.

Reads documents (XML or JSON, plain or inside ``<pakn:Signed>``), groups them into cases by
``case_id``, replays each case and prints :class:`~pakn_sign.models.statistics.QuarterlyReport`
as text (default), ``--json`` or ``--csv`` on stdout. Signatures are **not** verified here:
that is ``pakn-sign verify``'s job. Exit 0 on success, 2 on usage errors, 4 when a file
cannot be read, does not match its schema, or the documents of a case do not form a legal
history (``FAIL: [code] message at FILE: location`` on stderr).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import click

from ..clock import VN_TZ, ensure_aware
from ..codec.detect import load_document
from ..codec.jsoncodec import DEFAULT_JSON_LIMITS
from ..codec.xmlparse import DEFAULT_LIMITS
from ..errors import ConfigurationError, InvalidInput, LifecycleError
from ..models import Case, Document, document_digest
from ..models.statistics import QuarterlyReport, quarterly_report
from .main import EXIT_OK

__all__ = ["build_cases", "command", "read_documents"]

# Never read more than the parsers accept; they refuse the extra byte.
_READ_CAP = max(DEFAULT_LIMITS.max_bytes, DEFAULT_JSON_LIMITS.max_bytes) + 1


def read_documents(paths: Iterable[Path]) -> list[tuple[Path, Document]]:
    """Each file's document; ``InvalidInput`` naming the file (and where in it) otherwise."""
    out = []
    for path in paths:
        try:
            with path.open("rb") as fh:
                data = fh.read(_READ_CAP)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise InvalidInput(
                f"cannot read file: {reason}", location=str(path), code="input.unreadable"
            ) from exc
        try:
            out.append((path, load_document(data)))
        except InvalidInput as exc:
            where = f"{path}: {exc.location}" if exc.location else str(path)
            raise InvalidInput(exc.message, location=where, code=exc.code) from exc
    return out


def build_cases(documents: Iterable[tuple[Path, Document]]) -> list[Case]:
    """Group by ``case_id`` and replay each case. The same document given twice (e.g. as JSON
    and as XML, or signed and unsigned) counts once; the same id with other content is refused.
    """
    groups: dict[str, dict[str, tuple[Path, Document]]] = {}
    for path, doc in documents:
        seen = groups.setdefault(doc.case_id, {})
        earlier = seen.get(doc.document_id)
        if earlier is None:
            seen[doc.document_id] = (path, doc)
        elif document_digest(earlier[1]) != document_digest(doc):
            raise InvalidInput(
                f"document {doc.document_id!r} appears twice with different content",
                location=f"{earlier[0]} and {path}",
            )
    cases = []
    for case_id, members in sorted(groups.items()):
        try:
            cases.append(Case.from_documents(doc for _, doc in members.values()))
        except LifecycleError as exc:
            files = ", ".join(sorted({str(p) for p, _ in members.values()}))
            raise InvalidInput(
                f"case {case_id!r}: {exc.message}", location=files, code=exc.code
            ) from exc
    return cases


def _parse_at(text: str | None, period_end: dt.date) -> dt.datetime:
    if text is None:  # the last instant of the period's last day in Vietnam
        next_day = dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time(), VN_TZ)
        return next_day - dt.timedelta(microseconds=1)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigurationError(f"--at is not ISO-8601: {text!r}") from exc
    return ensure_aware(value, name="--at")


_DATE = click.DateTime(["%Y-%m-%d"])


@click.command("report")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--from",
    "period_start",
    required=True,
    type=_DATE,
    metavar="YYYY-MM-DD",
    help="First day of the period (a Vietnam date).",
)
@click.option(
    "--to",
    "period_end",
    required=True,
    type=_DATE,
    metavar="YYYY-MM-DD",
    help="Last day of the period, inclusive (a Vietnam date).",
)
@click.option(
    "--at",
    "at_text",
    metavar="ISO-8601",
    help="State of each case at this instant (default: end of --to in Vietnam).",
)
@click.option("--json", "fmt", flag_value="json", help="Print JSON (deterministic).")
@click.option("--csv", "fmt", flag_value="csv", help="Print CSV.")
def command(
    files: tuple[Path, ...],
    period_start: dt.datetime,
    period_end: dt.datetime,
    at_text: str | None,
    fmt: str | None,
) -> int:
    """Quarterly PAKN statistics from FILES (XML or JSON documents, plain or signed).

    Counts the petitions received from --from to --to, each case as it stood at --at:
    received, within scope, by classification and sector with shares (ROUND_HALF_UP, 2
    places), forwarded, awaiting information, answered / still handled, overdue answers
    and disputed answers. Signatures are NOT verified here; run `pakn-sign verify` first.
    """
    start, end = period_start.date(), period_end.date()
    if end < start:
        raise click.BadParameter(f"--to {end} is before --from {start}", param_hint="--to")
    at = _parse_at(at_text, end)
    cases = build_cases(read_documents(files))
    report: QuarterlyReport = quarterly_report(cases, period_start=start, period_end=end, at=at)
    if fmt == "json":
        click.echo(report.to_json(), nl=False)
    elif fmt == "csv":
        click.echo(report.to_csv(), nl=False)
    else:
        click.echo(report.to_text(), nl=False)
    return EXIT_OK
