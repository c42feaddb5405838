"""Signer roles and their order (Decree 30/2020/NĐ-CP Art. 32; DESIGN.md §4).

The records clerk "only signs with the organisation's signature documents that already
carry the competent person's signature": personal signatures come first, each over the
document; an organisation signature covers the document **and every earlier signature**.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import ConfigurationError, InvalidSignature, PolicyViolation

__all__ = ["SignatureSlot", "SignerRole", "check_can_add", "check_order", "next_signature_id"]


class SignerRole(enum.StrEnum):
    """The role a signature claims (XAdES SignerRoleV2/ClaimedRoles)."""

    PERSONAL = "personal"
    """The competent official's own signature (Circular 41/2017 Art. 4)."""
    ORGANISATION = "organisation"
    """The agency seal, applied by the records clerk (Decree 30/2020 Art. 32-33)."""

    @classmethod
    def parse(cls, value: str) -> SignerRole:
        """Look up a role by name; unknown names raise ``ConfigurationError``."""
        try:
            return cls(value)
        except ValueError:
            raise ConfigurationError(
                f"role must be 'personal' or 'organisation', got {value!r}"
            ) from None


@dataclass(frozen=True, slots=True)
class SignatureSlot:
    """One signature's place in the container, as far as ordering is concerned."""

    id: str
    role: SignerRole
    covers: frozenset[str]
    """Ids of the other ``ds:Signature`` elements its verified References resolved to."""


_ORDER = "verify.signature_order"


def check_order(slots: Sequence[SignatureSlot]) -> None:
    """Enforce Art. 32 on signatures in document order.

    1. No personal signature after an organisation signature.
    2. A personal signature covers no other signature.
    3. An organisation signature covers exactly every earlier signature (so removing,
       replacing or reordering one breaks a digest or this rule).

    Raises:
        PolicyViolation: rule 1 (sub-indication SIG_CONSTRAINTS_FAILURE).
        InvalidSignature: rules 2-3 (FORMAT_FAILURE): references do not match the order.
    """
    earlier: list[str] = []
    seen_org = False
    for slot in slots:
        if slot.role is SignerRole.PERSONAL:
            if seen_org:
                raise PolicyViolation(
                    f"personal signature {slot.id!r} follows an organisation signature "
                    "(Decree 30/2020 Art. 32: personal first, then organisation)",
                    location=slot.id,
                    code=_ORDER,
                    sub_indication="SIG_CONSTRAINTS_FAILURE",
                )
            if slot.covers:
                raise InvalidSignature(
                    f"personal signature {slot.id!r} covers other signatures "
                    f"{sorted(slot.covers)}; expected the document only",
                    location=slot.id,
                    code=_ORDER,
                    sub_indication="FORMAT_FAILURE",
                )
        else:
            seen_org = True
            missing = [s for s in earlier if s not in slot.covers]
            later = sorted(slot.covers - set(earlier))
            if missing or later:
                raise InvalidSignature(
                    f"organisation signature {slot.id!r} must cover every earlier signature "
                    f"{earlier}; missing {missing}, not earlier {later}",
                    location=slot.id,
                    code=_ORDER,
                    sub_indication="FORMAT_FAILURE",
                )
        earlier.append(slot.id)


def check_can_add(existing: Iterable[SignerRole], new: SignerRole) -> None:
    """Refuse a personal signature over an organisation signature (Art. 32), when signing."""
    if new is SignerRole.PERSONAL and any(r is SignerRole.ORGANISATION for r in existing):
        raise ConfigurationError(
            "cannot add a personal signature to a document that already carries an "
            "organisation signature (Decree 30/2020 Art. 32: personal first)"
        )


def next_signature_id(existing_ids: Iterable[str]) -> str:
    """``sig-N`` with N one more than the highest ``sig-<n>`` already present."""
    highest = 0
    for sid in existing_ids:
        head, _, num = sid.partition("-")
        if head == "sig" and num.isascii() and num.isdigit():
            highest = max(highest, int(num))
    return f"sig-{highest + 1}"
