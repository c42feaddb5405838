"""The layering of DESIGN.md §2 and STYLE.md §5, read from the imports (AST), lazy ones included.

models <- codec <- signing <- trust <- transport <- cli: no layer imports one to its right,
except that signing's verification uses trust (DESIGN.md §2). Only transport/ and cli/ touch
sockets, HTTP, TLS and databases, with the two exceptions the brief names: the RFC 3161 HTTP
client (signing/timestamps.py) and the test-PKI service (trust/pki_service.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pakn_sign"
FORBIDDEN = {
    "models": {"codec", "signing", "trust", "transport", "cli", "verify", "verify_xades"},
    "codec": {"signing", "trust", "transport", "cli", "verify", "verify_xades"},
    "signing": {"transport", "cli"},
    "trust": {"transport", "cli"},
    "transport": {"cli"},
}
IO_MODULES = {"socket", "ssl", "sqlite3", "httpx", "http", "urllib.request", "aiohttp", "psycopg"}
IO_ALLOWED = {"signing/timestamps.py", "trust/pki_service.py"}


def _imports(path: Path) -> list[str]:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1])
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            out.append(module)
            if not node.module:  # from . import x: x may be a module
                out += [f"{module}.{a.name}" for a in node.names]
    return out


def _files(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_a_layer_above(layer: str) -> None:
    bad = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _files(layer)
        for name in _imports(path)
        if name.startswith("pakn_sign.") and name.split(".")[1] in FORBIDDEN[layer]
    ]
    assert not bad, bad


def test_only_transport_and_cli_do_io() -> None:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("transport/", "cli/")) or rel in IO_ALLOWED:
            continue
        for name in _imports(path):
            if name in IO_MODULES or name.split(".")[0] in IO_MODULES - {"urllib.request"}:
                bad.append(f"{rel} imports {name}")
    assert not bad, bad


def test_the_checks_see_imports() -> None:
    # The test can fail: it finds the imports it is about in files that have them.
    names = _imports(PACKAGE / "signing" / "timestamps.py")
    assert "httpx" in names
    assert any(n.startswith("pakn_sign.") for n in names)
