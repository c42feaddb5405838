"""Where the shipped schemas live: inside the wheel, or at the repository root in a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["schemas_dir"]


def schemas_dir() -> Path:
    """The ``schemas/`` directory (``pakn_sign/_schemas`` once installed from a wheel)."""
    packaged = Path(str(resources.files("pakn_sign"))) / "_schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"
