"""``pakn-sign schema export DIR``: write the shipped XSD and the JSON Schemas to a directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from ..codec._xmlschema import XSD_NAME, xsd_path
from .main import EXIT_OK

__all__ = ["command", "export_schemas"]


def export_schemas(directory: Path) -> list[Path]:
    """Write ``pakn-1.xsd`` and the JSON Schemas into ``directory``; return the paths."""
    from ..codec.jsonschema_export import write_json_schemas

    directory.mkdir(parents=True, exist_ok=True)
    xsd = directory / XSD_NAME
    shutil.copyfile(xsd_path(), xsd)
    return [xsd, *write_json_schemas(directory)]


@click.group("schema")
def command() -> None:
    """Schemas for integrators in other languages (XSD for XML, JSON Schema for JSON)."""


@command.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export(directory: Path) -> int:
    """Write the XSD and JSON Schemas into DIRECTORY (created if missing)."""
    for path in export_schemas(directory):
        click.echo(f"wrote {path}", err=True)
    return EXIT_OK
