"""The sector (lĩnh vực) code list.

No official list of PAKN sectors was found (DOMAIN.md §1.1 [NF]); the 2017 VPCP report
names TN&MT, LĐ-TBXH and Xây dựng. The codes below are **our own choice**, seeded with
those three and a few obvious ministries' fields. Deployments pass their own registry
through :class:`~pakn_sign.models.settings.ValidationSettings`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ..errors import ConfigurationError

__all__ = ["DEFAULT_SECTORS", "SECTOR_CODE_PATTERN", "SectorRegistry"]

SECTOR_CODE_PATTERN = r"^[A-Z][A-Z0-9_]{1,15}$"
_CODE = re.compile(SECTOR_CODE_PATTERN)


@dataclass(frozen=True, slots=True, init=False)
class SectorRegistry:
    """An immutable map from sector code to its Vietnamese label."""

    labels: Mapping[str, str]

    def __init__(self, labels: Mapping[str, str]):
        for code in labels:
            if not _CODE.fullmatch(code):
                raise ConfigurationError(
                    f"sector code {code!r} does not match {SECTOR_CODE_PATTERN}"
                )
        object.__setattr__(self, "labels", MappingProxyType(dict(sorted(labels.items()))))

    def __contains__(self, code: object) -> bool:
        return code in self.labels

    def __iter__(self) -> Iterator[str]:
        return iter(self.labels)

    def label(self, code: str) -> str:
        """The Vietnamese label of ``code``; ``KeyError`` if unknown."""
        return self.labels[code]

    def extended(self, labels: Mapping[str, str]) -> SectorRegistry:
        """A new registry with ``labels`` added (or relabelled)."""
        return SectorRegistry({**self.labels, **labels})


DEFAULT_SECTORS = SectorRegistry(
    {
        "TNMT": "Tài nguyên và Môi trường",
        "LDTBXH": "Lao động - Thương binh và Xã hội",
        "XD": "Xây dựng",
        "GTVT": "Giao thông vận tải",
        "YT": "Y tế",
        "GDDT": "Giáo dục và Đào tạo",
        "TC": "Tài chính",
        "TP": "Tư pháp",
        "NNPTNT": "Nông nghiệp và Phát triển nông thôn",
        "CA": "Công an",
        "KHAC": "Lĩnh vực khác",
    }
)
"""The seed list (our own choice, see the module docstring)."""
