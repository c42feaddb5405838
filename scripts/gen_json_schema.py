"""Regenerate schemas/json/*.schema.json from the models (tests/test_json_schema_drift.py
fails when the committed files differ). Usage: .venv/bin/python scripts/gen_json_schema.py"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pakn_sign.codec.jsonschema_export import write_json_schemas  # noqa: E402


def main() -> None:
    target = ROOT / "schemas" / "json"
    for path in write_json_schemas(target):
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
