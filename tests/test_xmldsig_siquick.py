"""The SignedInfo fast path (xmldsig_siquick) gives exactly the answers of the re-parse.

``verify_signature`` reads the References from the canonical SignedInfo octets either with
one regular expression (the usual shape) or by re-parsing them. Every case here runs both
ways (the quick reader switched off by monkeypatching) and compares the outcome: the same
VerifiedSignature fields, or the same error class, code, message and sub-indication.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import pytest
from conftest import xmldsig_signer
from lxml import etree

from pakn_sign.codec.xmlparse import parse_xml
from pakn_sign.errors import PaknSignError
from pakn_sign.signing import xmldsig_verify
from pakn_sign.signing.algorithms import SignatureAlgorithm, sign_with_key
from pakn_sign.signing.c14n import EXC_C14N, C14NMethod, canonicalize
from pakn_sign.signing.xmldsig import (
    DEFAULT_DIGESTS,
    DEFAULT_SIGNATURE_ALGORITHMS,
    DS,
    ReferenceSpec,
    build_signature,
    verify_signature,
)
from pakn_sign.signing.xmldsig_siquick import read_signed_info

P = "urn:pakn-sign:pakn:1"
DOC = (
    f'<p:Signed xmlns:p="{P}"><p:Answer Id="pakn-doc"><p:Text>Chấp thuận &amp; ký</p:Text>'
    '<p:Note Id="n&quot;1">x</p:Note></p:Answer><p:Extra Id="extra">e</p:Extra></p:Signed>'
)
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
ENV = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
XSLT = "http://www.w3.org/TR/1999/REC-xslt-19991116"
C14N10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


def _signed() -> bytes:
    root = etree.fromstring(DOC.encode())
    refs = [ReferenceSpec("#pakn-doc"), ReferenceSpec("#extra", type="urn:t")]
    build_signature(root, xmldsig_signer("rsa2048"), signature_id="sig-1", references=refs)
    return etree.tostring(root)


def _resign(root: etree._Element) -> None:
    sig = root.find(DS + "Signature")
    assert sig is not None
    si = canonicalize(sig[0], C14NMethod.from_uri(EXC_C14N))
    value = sign_with_key(xmldsig_signer("rsa2048")._key, si, SignatureAlgorithm.RSA_SHA256)
    sig[1].text = base64.b64encode(value).decode()


def _outcome(data: bytes) -> tuple[object, ...]:
    root = parse_xml(data).getroot()
    sig = root.find(DS + "Signature")
    assert sig is not None
    try:
        v = verify_signature(
            sig, allowed_algorithms=DEFAULT_SIGNATURE_ALGORITHMS, allowed_digests=DEFAULT_DIGESTS
        )
    except PaknSignError as exc:
        return ("error", type(exc), exc.code, exc.message, getattr(exc, "sub_indication", None))
    refs = tuple(
        (r.uri, r.type, r.id, root.getroottree().getpath(r.element), r.canonical, r.enveloped)
        for r in v.references
    )
    return ("ok", v.algorithm, refs, v.signed_info)


def _both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object, bool]:
    canonical = canonicalize(
        parse_xml(data).getroot().find(DS + "Signature")[0],  # type: ignore[index]
        C14NMethod.from_uri(EXC_C14N),
    )
    quick = read_signed_info(canonical) is not None
    fast = _outcome(data)
    with monkeypatch.context() as m:
        m.setattr(xmldsig_verify, "read_signed_info", lambda _b: None)
        slow = _outcome(data)
    return fast, slow, quick


def _edit_si(pattern: str, repl: str, *, resign: bool = True) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        root = etree.fromstring(data)
        sig = root.find(DS + "Signature")
        assert sig is not None
        text = etree.tostring(sig[0]).decode()
        new, n = re.subn(pattern, repl, text, count=1)
        assert n == 1, pattern
        sig.replace(sig[0], etree.fromstring(new))
        if resign:
            _resign(root)
        return etree.tostring(root)

    return edit


CASES: dict[str, tuple[Callable[[bytes], bytes], bool]] = {
    # name: (edit, whether the quick reader takes the result)
    "as-signed": (lambda d: d, True),
    "sha512-digest-method": (_edit_si(r'(DigestMethod Algorithm=")[^"]*', r"\g<1>" + SHA512), True),
    "sha1-digest-refused": (_edit_si(r'(DigestMethod Algorithm=")[^"]*', r"\g<1>" + SHA1), True),
    "unknown-digest": (_edit_si(r'(DigestMethod Algorithm=")[^"]*', r"\g<1>urn:x"), True),
    "bad-digest-base64": (_edit_si(r"(<ds:DigestValue>)[^<]*", r"\g<1>***"), True),
    "digest-whitespace": (_edit_si(r"(<ds:DigestValue>)", "\\g<1>\n "), True),
    "wrong-digest": (_edit_si(r"(<ds:DigestValue>)[^<]{4}", r"\g<1>AAAA"), True),
    "xslt-transform": (
        _edit_si(r"(<ds:Transforms>)", rf'\g<1><ds:Transform Algorithm="{XSLT}"/>'),
        True,
    ),
    "c14n-then-enveloped": (
        _edit_si(r"(</ds:Transforms>)", rf'<ds:Transform Algorithm="{ENV}"/>\g<1>'),
        True,
    ),
    "enveloped-twice": (
        _edit_si(
            r"(<ds:Transforms>)",
            rf'\g<1><ds:Transform Algorithm="{ENV}"/><ds:Transform Algorithm="{ENV}"/>',
        ),
        True,
    ),
    "empty-transform-uri": (
        _edit_si(r'(<ds:Transform Algorithm=")[^"]*', r"\g<1>"),
        True,
    ),
    "inclusive-c14n-transform": (
        _edit_si(r'(<ds:Transform Algorithm=")[^"]*', r"\g<1>" + C14N10),
        True,
    ),
    "no-transforms": (_edit_si(r"<ds:Transforms>.*?</ds:Transforms>", ""), True),
    "empty-transforms": (_edit_si(r"(<ds:Transforms>).*?(</ds:Transforms>)", r"\1\2"), True),
    "no-uri": (_edit_si(r' URI="#pakn-doc"', ""), True),
    "external-uri": (_edit_si(r'URI="#pakn-doc"', 'URI="http://x/y"'), True),
    "missing-target": (_edit_si(r'URI="#pakn-doc"', 'URI="#nope"'), True),
    "xpointer": (_edit_si(r'URI="#pakn-doc"', 'URI="#xpointer(/)"'), True),
    "escaped-uri": (_edit_si(r'URI="#pakn-doc"', 'URI="#n&amp;quot;1"'), False),
    "quote-id-target": (_edit_si(r'URI="#pakn-doc"', 'URI="#n&quot;1"'), False),
    "ref-id-attribute": (_edit_si(r"<ds:Reference ", '<ds:Reference Id="r1" '), True),
    "foreign-ref-attribute": (_edit_si(r"<ds:Reference ", '<ds:Reference Zz="1" '), False),
    "whitespace-between": (_edit_si(r"(<ds:SignatureMethod [^>]*/>)", "\\g<1>\n  "), False),
    "comment-inside": (_edit_si(r"(<ds:SignatureMethod [^>]*/>)", r"\g<1><!--c-->"), True),
    "hmac-method": (
        _edit_si(r'(SignatureMethod Algorithm=")[^"]*', r"\g<1>" + DS[1:-1] + "hmac-sha1"),
        False,
    ),
    "pss-generic-method": (
        _edit_si(
            r'(SignatureMethod Algorithm=")[^"]*',
            r"\g<1>http://www.w3.org/2007/05/xmldsig-more#rsa-pss",
        ),
        False,
    ),
    "ecdsa-method-with-rsa-key": (
        _edit_si(
            r'(SignatureMethod Algorithm=")[^"]*', r"\g<1>" + SignatureAlgorithm.ECDSA_SHA256.value
        ),
        True,
    ),
    "c14n-method-with-comments": (
        _edit_si(
            r'(CanonicalizationMethod Algorithm=")[^"]*', r"\g<1>" + EXC_C14N + "WithComments"
        ),
        True,
    ),
    "no-references": (_edit_si(r"<ds:Reference .*</ds:Reference>", ""), False),
    "signed-info-changed-not-resigned": (
        _edit_si(r"<ds:Reference ", '<ds:Reference Id="r9" ', resign=False),
        True,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_quick_signed_info_matches_reparse(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    edit, takes = CASES[name]
    data = edit(_signed())
    fast, slow, quick = _both(data, monkeypatch)
    assert fast == slow
    assert quick is takes


def test_quick_reader_used_on_the_usual_shape() -> None:
    root = parse_xml(_signed()).getroot()
    canonical = canonicalize(root[-1][0], C14NMethod.from_uri(EXC_C14N))
    quick = read_signed_info(canonical)
    assert quick is not None
    assert [r.uri for r in quick.references] == ["#pakn-doc", "#extra"]
    assert [r.type for r in quick.references] == [None, "urn:t"]
    assert quick.references[0].transforms == (EXC_C14N,)
    assert quick.c14n_uri == EXC_C14N
    assert read_signed_info(canonical.replace(b"<ds:Reference", b"<ds:Reference ", 1)) is None
    assert read_signed_info(canonical[:-1]) is None
