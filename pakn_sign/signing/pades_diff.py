"""The difference policy applied to revisions added after a PDF signature.

pyHanko's default policy (``DEFAULT_DIFF_POLICY``) explains new signatures, DSS updates
and document timestamps, but not a comment added by a viewer: a new markup annotation
on a page comes out as an unexplained, suspicious change. We add one rule so that such a
change is reported at its true level, ``ANNOTATIONS`` (ISO 32000-1 §12.8.2.2, DocMDP P=3),
while still refusing anything else: the page dictionary may differ only in ``/Annots``,
the old annotations must all stay, and every added one must be a fresh, non-widget
annotation object.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    ModificationLevel,
    QualifiedWhitelistRule,
    ReferenceUpdate,
    StandardDiffPolicy,
)

__all__ = ["PAKN_DIFF_POLICY", "AnnotationAdditionRule"]

_MAX_PAGES = 10_000


def _page_refs(resolver: Any) -> Iterator[generic.Reference]:
    stack = [resolver.root.raw_get("/Pages")]
    seen = 0
    while stack and seen < _MAX_PAGES:
        node_ref = stack.pop()
        if not isinstance(node_ref, generic.IndirectObject):
            continue
        node = node_ref.get_object()  # type: ignore[no-untyped-call]
        seen += 1
        kids = node.get("/Kids")
        if kids is None:
            yield node_ref.reference
        else:
            stack.extend(reversed(list(kids)))


def _annot_refs(page: Any) -> list[generic.Reference] | None:
    annots = page.get("/Annots")
    if annots is None:
        return []
    refs = []
    for a in annots:
        if not isinstance(a, generic.IndirectObject):
            return None  # direct annotations cannot be told apart: not explained
        refs.append(a.reference)
    return refs


def _exists_in(resolver: Any, ref: generic.Reference) -> bool:
    return resolver.reader.xrefs.get_historical_ref(ref, resolver.revision) is not None


def _appearance_refs(annot: Any) -> Iterator[generic.Reference]:
    ap = annot.get("/AP")
    if not isinstance(ap, generic.DictionaryObject):
        return
    for key in ("/N", "/R", "/D"):
        value = ap.raw_get(key) if key in ap else None
        if isinstance(value, generic.IndirectObject):
            yield value.reference
        elif isinstance(value, generic.DictionaryObject):
            for sub in value.values():
                if isinstance(sub, generic.IndirectObject):
                    yield sub.reference


class AnnotationAdditionRule(QualifiedWhitelistRule):
    """Explain pages whose only change is new, non-widget annotations (level ANNOTATIONS)."""

    def apply_qualified(
        self, old: Any, new: Any
    ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        for page_ref in _page_refs(new):
            if not _exists_in(old, page_ref):
                continue
            old_page, new_page = old(page_ref), new(page_ref)
            keys = (set(old_page.keys()) | set(new_page.keys())) - {"/Annots"}
            if any(
                old_page.raw_get(k) != new_page.raw_get(k)
                for k in keys
                if k in old_page and k in new_page
            ):
                continue
            if any((k in old_page) != (k in new_page) for k in keys):
                continue
            before, after = _annot_refs(old_page), _annot_refs(new_page)
            if before is None or after is None or before == after:
                continue
            if not set(before) <= set(after):
                continue  # an annotation was removed: not a mere addition
            added = [r for r in after if r not in set(before)]
            updates: list[generic.Reference] = []
            ok = True
            for ref in added:
                annot = new(ref)
                if _exists_in(old, ref) or annot.get("/Subtype") == "/Widget":
                    ok = False
                    break
                updates.append(ref)
                updates.extend(r for r in _appearance_refs(annot) if not _exists_in(old, r))
            if not ok:
                continue
            yield ModificationLevel.ANNOTATIONS, ReferenceUpdate(page_ref)
            for ref in updates:
                yield ModificationLevel.ANNOTATIONS, ReferenceUpdate(ref)


PAKN_DIFF_POLICY = StandardDiffPolicy(
    global_rules=[*DEFAULT_DIFF_POLICY.global_rules, AnnotationAdditionRule()],
    form_rule=DEFAULT_DIFF_POLICY.form_rule,
)
"""pyHanko's default policy plus :class:`AnnotationAdditionRule`."""
