"""Write ``<kind>.xml`` next to this script: the example case of ``make_examples.py`` in XML.

Run ``.venv/bin/python examples/documents/make_xml_examples.py``. The documents come from
:func:`make_examples.build_examples`, the same models the JSON examples are made from, so the
two formats always say the same thing; tests/test_xsd.py checks the files have not drifted.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_examples import build_examples  # noqa: E402

from pakn_sign.codec.xmlcodec import to_xml  # noqa: E402


def xml_examples() -> dict[str, bytes]:
    """File name -> bytes for every example document."""
    return {f"{doc.kind}.xml": to_xml(doc) for doc in build_examples()}


def write_xml_examples(directory: Path = HERE) -> list[Path]:
    """Write :func:`xml_examples` into ``directory``; return the paths written."""
    paths = []
    for name, data in xml_examples().items():
        path = directory / name
        path.write_bytes(data)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_xml_examples():
        print(written)
