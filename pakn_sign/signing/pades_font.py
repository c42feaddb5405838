"""The TrueType font for visible signatures, prepared once per process.

pyHanko (0.38) writes a CID font's ``/W`` widths and ``TJ`` adjustments in the font's own
units, while PDF reads them per 1000 units of text space (ISO 32000-1 §9.7.4.3, §9.4.3).
That only agrees for fonts with 1000 units per em; DejaVu Sans has 2048, so the letters
would drift apart. We therefore rescale the font to 1000 units per em (fontTools), after
cutting it down to the Latin and Vietnamese repertoire, without shaping tables, so that the
per-document subsetting pyHanko does afterwards stays cheap.
"""

from __future__ import annotations

import functools
import threading
from io import BytesIO
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = ["font_factory", "prepared_font"]

# Basic Latin, Latin-1, Latin Extended-A/B, combining marks, Latin Extended Additional
# (all precomposed Vietnamese letters), general punctuation, and the đồng sign.
_REPERTOIRE = [
    *range(0x20, 0x7F),
    *range(0xA0, 0x250),
    *range(0x300, 0x370),
    *range(0x1E00, 0x1F00),
    *range(0x2000, 0x2070),
    0x20AB,
]
_LOCK = threading.Lock()


def _no_fonttools(exc: ImportError) -> ConfigurationError:
    return ConfigurationError(
        "visible PDF signatures need the Python packages 'fonttools' and 'uharfbuzz' "
        "(pip install fonttools uharfbuzz)"
    )


def _missing_font(path: str) -> ConfigurationError:
    return ConfigurationError(
        f"font {path!r} not found: install the Debian package 'fonts-dejavu-core' or pass "
        "SignatureAppearance(font_path=...) with a TrueType font that has Vietnamese glyphs"
    )


@functools.lru_cache(maxsize=4)
def _prepare(path: str) -> bytes:
    try:
        from fontTools import subset, ttLib  # type: ignore[import-untyped]
        from fontTools.ttLib.scaleUpem import scale_upem  # type: ignore[import-untyped]
    except ImportError as exc:
        raise _no_fonttools(exc) from exc
    try:
        font = ttLib.TTFont(path)
    except OSError as exc:
        raise _missing_font(path) from exc
    except Exception as exc:  # fontTools raises assorted errors for non-fonts
        raise ConfigurationError(f"{path!r} is not a TrueType/OpenType font: {exc}") from exc
    cmap = font.getBestCmap() or {}
    missing = [c for c in "ĐđƯưƠơẠạẤấỆệỮữ" if ord(c) not in cmap]
    if missing:
        raise ConfigurationError(f"font {path!r} lacks Vietnamese glyphs ({''.join(missing)})")
    options = subset.Options()
    # Precomposed NFC Vietnamese needs no shaping tables; dropping GSUB/GPOS/GDEF makes the
    # per-document subsetting ~10x cheaper (fontTools decompiles them on every subset).
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["FFTM", "GSUB", "GPOS", "GDEF"]  # FFTM: FontForge timestamps
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=_REPERTOIRE)
    subsetter.subset(font)
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    out = BytesIO()
    font.save(out)
    return out.getvalue()


def prepared_font(path: str) -> bytes:
    """The font at ``path`` cut to Latin + Vietnamese and scaled to 1000 units/em (cached)."""
    if not Path(path).is_file():
        raise _missing_font(path)
    with _LOCK:  # one preparation per font, even under concurrent first use
        return _prepare(str(Path(path).resolve()))


def font_factory(path: str, size: int) -> Any:
    """A pyHanko ``FontEngineFactory`` embedding the prepared font as a subset."""
    try:
        from pyhanko.pdf_utils.font.api import FontEngineFactory
        from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
    except ImportError as exc:
        raise _no_fonttools(exc) from exc
    data = prepared_font(path)

    class _Factory(FontEngineFactory):
        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> Any:
            if obj_stream is None and writer.stream_xrefs:
                obj_stream = writer.prepare_object_stream()
            return GlyphAccumulator(
                writer=writer, font_handle=BytesIO(data), font_size=size, obj_stream=obj_stream
            )

    return _Factory()
