"""``pakn-sign validate FILE...``: schema and model check of XML or JSON documents.

Exit 0 when every file is valid, 4 when any is not (``FILE: location: message`` on
stderr), 2 on usage errors. ``OK: FILE (kind, id)`` lines go to stderr; stdout stays
empty unless ``--json`` asks for one result object per file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..codec.detect import load_document
from ..codec.xmlparse import DEFAULT_LIMITS
from ..errors import PaknSignError
from .main import EXIT_INPUT, EXIT_OK

__all__ = ["command", "validate_file"]


def _read_cap() -> int:
    from ..codec.jsoncodec import JsonLimits

    json_max = int(getattr(JsonLimits(), "max_bytes", 0))
    return max(DEFAULT_LIMITS.max_bytes, json_max) + 1


def validate_file(path: Path) -> dict[str, Any]:
    """Validate one file; a JSON-ready result with ``valid`` and either the kind and id
    or the error's ``code``, ``message`` and ``location``."""
    result: dict[str, Any] = {"file": str(path)}
    try:
        with path.open("rb") as fh:
            # Never read more than the parsers accept; they refuse the extra byte.
            data = fh.read(_read_cap())
        doc = load_document(data)
    except OSError as exc:
        err = {"code": "input.unreadable", "message": exc.strerror or str(exc), "location": "file"}
        return result | {"valid": False, "error": err}
    except PaknSignError as exc:
        return result | {"valid": False, "error": exc.to_dict()}
    return result | {"valid": True, "kind": doc.kind, "document_id": str(doc.document_id)}


@click.command("validate")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON result per file on stdout.")
def command(files: tuple[Path, ...], as_json: bool) -> int:
    """Check PAKN documents (XML or JSON, signed or not) against the schemas and models."""
    results = [validate_file(path) for path in files]
    for res in results:
        if res["valid"]:
            click.echo(f"OK: {res['file']} ({res['kind']}, {res['document_id']})", err=True)
        else:
            err = res["error"]
            click.echo(
                f"{res['file']}: {err['location'] or 'document'}: {err['message']}", err=True
            )
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    return EXIT_OK if all(r["valid"] for r in results) else EXIT_INPUT
