"""Shared fixtures: public vectors, the CI rule for missing tools, an injected clock."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def vectors_dir() -> Path | None:
    """The public vectors: ``$PAKN_VECTORS`` or ``../shared/vectors`` next to the checkout."""
    env = os.environ.get("PAKN_VECTORS")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "vectors"]:
        if cand.is_dir():
            return cand
    return None


def require_vectors(sub: str) -> Path:
    """Path to a public vector set; skip (or fail under CI) when absent."""
    base = vectors_dir()
    path = base / sub if base else None
    if path is None or not path.exists():
        msg = f"public vectors {sub!r} not found: set PAKN_VECTORS or place ../shared/vectors"
        if UNDER_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def require_tool(executable: str, package: str) -> str:
    """Path to a system tool; skip naming the Debian package, or fail under CI."""
    found = shutil.which(executable)
    if found is None:
        msg = f"{executable} not found: install the Debian package {package!r}"
        if UNDER_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return found


@pytest.fixture
def fixed_now() -> dt.datetime:
    """The injected 'now' of every test that needs one (never the wall clock)."""
    return dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
