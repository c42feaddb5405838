"""Agency codes (OrganId), edXML DocumentIds and sector codes as validated str types.

Sources: DOMAIN.md §2 "Agency identifier" and "Formats" (QCVN 102:2016 SDK samples).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo

from .sectors import SECTOR_CODE_PATTERN
from .settings import OrganIdMode, current_settings

__all__ = [
    "DOCUMENT_ID_PATTERN",
    "ORGAN_ID_LENIENT_PATTERN",
    "ORGAN_ID_STRICT_PATTERN",
    "ORGAN_LETTER_GROUPS",
    "DocumentId",
    "DocumentIdParts",
    "OrganId",
    "SectorCode",
    "check_organ_id",
    "make_document_id",
    "parse_document_id",
]

ORGAN_ID_STRICT_PATTERN = r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-K][0-9]{2}$"
ORGAN_ID_LENIENT_PATTERN = r"^(?:[0-9]{1,3}\.){1,3}[A-Z][0-9]{2}$"
_STRICT = re.compile(ORGAN_ID_STRICT_PATTERN, re.ASCII)
_LENIENT = re.compile(ORGAN_ID_LENIENT_PATTERN, re.ASCII)

# [2nd] level-1 letter groups of QCVN 102:2016 codes (DOMAIN.md §2); data, not logic, so
# a post-2025 change is an edit here.
ORGAN_LETTER_GROUPS: dict[str, str] = {
    "A": "Cơ quan Đảng",
    "B": "Văn phòng Chủ tịch nước",
    "C": "Cơ quan của Quốc hội",
    "D": "Tòa án nhân dân tối cao",
    "E": "Viện kiểm sát nhân dân tối cao",
    "F": "Kiểm toán nhà nước",
    "G": "Bộ, cơ quan ngang Bộ, cơ quan thuộc Chính phủ",
    "H": "Ủy ban nhân dân tỉnh, thành phố trực thuộc trung ương",
    "I": "Tổ chức chính trị - xã hội",
    "J": "Tổ chức xã hội, xã hội - nghề nghiệp",
    "K": "Hội đồng nhân dân tỉnh, thành phố trực thuộc trung ương",
}


def check_organ_id(value: str, mode: OrganIdMode = OrganIdMode.STRICT) -> str:
    """Return ``value`` if it is an agency code in ``mode``; raise ``ValueError`` otherwise."""
    pattern = _STRICT if mode is OrganIdMode.STRICT else _LENIENT
    if not pattern.fullmatch(value):
        raise ValueError(
            f"expected an agency code like 000.00.00.G22 ({mode.value} mode), got {value!r}"
        )
    return value


def _organ_id(value: str, info: ValidationInfo) -> str:
    return check_organ_id(value, current_settings(info).organ_ids)


OrganId = Annotated[
    str,
    Field(
        pattern=ORGAN_ID_LENIENT_PATTERN,
        max_length=32,
        description=(
            "Mã định danh cơ quan (QCVN 102:2016), e.g. 000.00.00.G22. Strict mode (default) "
            f"requires {ORGAN_ID_STRICT_PATTERN}; the schema states the lenient form."
        ),
    ),
    AfterValidator(_organ_id),
]
"""An agency code; strict or lenient per the validation settings in effect."""

DOCUMENT_ID_PATTERN = r"^[0-9A-Z.]{5,32},[0-9]{4}/[0-9]{2}/[0-9]{2},[0-9]{1,12}/[^\s,]{1,64}$"
_DOC_ID = re.compile(
    r"(?P<organ>[^,]+),(?P<date>(?P<y>[0-9]{4})/(?P<m>[0-9]{2})/(?P<d>[0-9]{2})),"
    r"(?P<number>[0-9]{1,12})/(?P<notation>[^\s,]{1,64})"
)
_NOTATION_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f<>\"'&\\]")


@dataclass(frozen=True, slots=True)
class DocumentIdParts:
    """The four parts of an edXML DocumentId."""

    organ_id: str
    date: dt.date
    number: str
    notation: str

    def __str__(self) -> str:
        return f"{self.organ_id},{self.date:%Y/%m/%d},{self.number}/{self.notation}"


def parse_document_id(value: str, mode: OrganIdMode = OrganIdMode.STRICT) -> DocumentIdParts:
    """Split and check ``"{OrganId},{yyyy/MM/dd},{number}/{notation}"``; ``ValueError`` if bad."""
    m, date = _checked(unicodedata.normalize("NFC", value), mode)
    return DocumentIdParts(m["organ"], date, m["number"], m["notation"])


def _checked(value: str, mode: OrganIdMode) -> tuple[re.Match[str], dt.date]:
    m = _DOC_ID.fullmatch(value)
    if m is None:
        raise ValueError(
            "expected a DocumentId '{OrganId},{yyyy/MM/dd},{number}/{notation}', "
            f"e.g. '000.00.00.G22,2015/09/30,7816/VPCP-TTĐT', got {value!r}"
        )
    check_organ_id(m["organ"], mode)
    try:  # the regex fixed the digits; date() checks the calendar (strptime costs 8x more)
        date = dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        raise ValueError(f"DocumentId date {m['date']!r} is not a calendar date") from None
    notation = m["notation"]
    if _NOTATION_BAD.search(notation) or notation.startswith("/") or notation.endswith("/"):
        raise ValueError(f"DocumentId notation {notation!r} has a forbidden character")
    return m, date


def make_document_id(organ_id: str, date: dt.date, number: int | str, notation: str) -> str:
    """Build a DocumentId string from its parts (checked in strict mode)."""
    return str(parse_document_id(f"{organ_id},{date:%Y/%m/%d},{number}/{notation}"))


# One regex per mode for the common case, accepting a subset of what ``_checked`` accepts:
# the mode's agency code, a year 0001-9999, a month 01-12 and a day 01-28 (a date in every
# month of every year ``datetime.date`` takes),
# and a notation without the forbidden characters or an edge '/'. Anything it does not match
# (days 29-31, odd notations, errors) goes to ``_checked``, which decides and words errors.
_NOTATION_OK = r"(?!/)[^\s,\x00-\x1f\x7f-\x9f<>\"'&\\]{1,64}(?<!/)"
_DATE_EASY = r"(?!0000)[0-9]{4}/(?:0[1-9]|1[0-2])/(?:0[1-9]|1[0-9]|2[0-8])"
_FAST_DOC_ID = {
    mode: re.compile(f"(?:{organ[1:-1]}),{_DATE_EASY},[0-9]{{1,12}}/{_NOTATION_OK}")
    for mode, organ in (
        (OrganIdMode.STRICT, ORGAN_ID_STRICT_PATTERN),
        (OrganIdMode.LENIENT, ORGAN_ID_LENIENT_PATTERN),
    )
}


_FAST_STRICT = _FAST_DOC_ID[OrganIdMode.STRICT]


def _document_id(value: str, info: ValidationInfo) -> str:
    # The parts re-joined are the NFC value itself (the regex fixes every separator and the
    # date's digits), so return that rather than formatting the date again.
    value = unicodedata.normalize("NFC", value)
    mode = current_settings(info).organ_ids
    # `is` first: indexing by the enum runs Enum.__hash__, a Python function.
    fast = _FAST_STRICT if mode is OrganIdMode.STRICT else _FAST_DOC_ID[mode]
    if fast.fullmatch(value) is None:
        _checked(value, mode)
    return value


DocumentId = Annotated[
    str,
    Field(
        pattern=DOCUMENT_ID_PATTERN,
        max_length=128,
        description=(
            "edXML DocumentId (QCVN 102:2016 samples): {OrganId},{yyyy/MM/dd},{number}/{notation}"
        ),
    ),
    AfterValidator(_document_id),
]
"""An edXML-style document id, NFC, checked part by part."""


def _sector(value: str, info: ValidationInfo) -> str:
    registry = current_settings(info).sectors
    if value not in registry:
        known = ", ".join(registry)
        raise ValueError(f"unknown sector code {value!r}; expected one of: {known}")
    return value


SectorCode = Annotated[
    str,
    Field(
        pattern=SECTOR_CODE_PATTERN,
        description="Lĩnh vực: a code of the sector registry in effect (our own list)",
    ),
    AfterValidator(_sector),
]
"""A sector code, checked against the sector registry in effect."""
