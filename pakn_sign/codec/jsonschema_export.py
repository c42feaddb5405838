"""JSON Schema (draft 2020-12) of every document kind, generated from the models.

The committed files under ``schemas/json/`` are this module's output; a test fails when they
drift. Output is deterministic: sorted keys, two-space indent, UTF-8, trailing newline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from ..models.document import DOCUMENT_TYPES, Document

__all__ = ["SCHEMA_ID_PREFIX", "json_schema_files", "json_schema_for", "write_json_schemas"]

SCHEMA_ID_PREFIX = "urn:pakn-sign:pakn:1:json:"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema_for(model: Any, name: str) -> dict[str, Any]:
    """The validation-mode JSON Schema of ``model`` (a class or the ``Document`` union)."""
    schema: dict[str, Any] = TypeAdapter(model).json_schema(mode="validation")
    return {"$schema": _DIALECT, "$id": f"{SCHEMA_ID_PREFIX}{name}", **schema}


def _dump(schema: dict[str, Any]) -> bytes:
    return (json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def json_schema_files() -> dict[str, bytes]:
    """File name -> bytes: ``<kind>.schema.json`` per kind and ``document.schema.json``."""
    files = {
        f"{kind}.schema.json": _dump(json_schema_for(cls, kind))
        for kind, cls in DOCUMENT_TYPES.items()
    }
    files["document.schema.json"] = _dump(json_schema_for(Document, "document"))
    return dict(sorted(files.items()))


def write_json_schemas(directory: Path) -> list[Path]:
    """Write :func:`json_schema_files` into ``directory`` (created if needed); return the paths.

    Called by ``pakn-sign schema export`` and ``scripts/gen_json_schema.py``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in json_schema_files().items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written
