"""Cached vs cold chain validation over random thresholds (hypothesis) and under threads.

Every example validates at t0, then at t >= t0, and the answer at t must be the cold answer
at t (empty cache). Times come from three base instants per example, each taken as is, one
second before or after, or half an hour after (certvalidator's freshness when nextUpdate is
absent), so thresholds often coincide with each other and with t0 and t. Three families:

* certificates: validity of root, intermediate, an alternative intermediate (same name and
  key, offered before or after the intermediate) and leaf, revocation off;
* CRLs: one to three CRLs of the intermediate (thisUpdate, nextUpdate or none, a revocation
  date of the leaf), in the policy or with the signature, any revocation mode;
* OCSP: one to three responses (good, revoked at a date, unknown), signed by the CA or by a
  delegated responder with its own validity, which the CA's CRL may revoke at a date.

Each family counts its examples that hit the cache and those whose answer changed after t0,
and requires enough of both: a family that never crosses a threshold proves nothing.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import random
from collections import Counter
from collections.abc import Callable

import pytest
from cache_window_helpers import crl, ocsp_response, outcome, warm_and_cold
from certs_helpers import Issued, issue, name, new_key
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pakn_sign.trust.paths import chain_cache_info, clear_chain_cache, validate_chain
from pakn_sign.trust.policy import RevocationMode, TrustPolicy

AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SEC = dt.timedelta(seconds=1)
LONG_AGO = AT - 300 * DAY
FAR = AT + 600 * DAY
CRL_URL = "http://127.0.0.1:9/ca.crl"
OCSP_URL = "http://127.0.0.1:9/ocsp"
KEYS = {k: new_key() for k in ("root", "inter", "leaf", "responder")}
MODES = [RevocationMode.SOFT_FAIL, RevocationMode.HARD_FAIL, RevocationMode.REQUIRE]
_OFFSETS = (dt.timedelta(0), -SEC, SEC, dt.timedelta(minutes=30), dt.timedelta(minutes=30) + SEC)
Window = tuple[dt.datetime | None, dt.datetime | None]
SETTINGS = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class Times:
    """The strategies of one example, all drawn from its three base instants."""

    def __init__(self, draw: st.DrawFn) -> None:
        bases = draw(st.lists(st.integers(-2, 6), min_size=3, max_size=3))
        self.at = st.builds(
            lambda k, off: AT + k * DAY + off, st.sampled_from(bases), st.sampled_from(_OFFSETS)
        )
        self.maybe = st.one_of(st.none(), self.at)
        self.next = st.one_of(st.none(), self.at, st.just(FAR))  # nextUpdate
        self.window = st.one_of(st.just((None, None)), st.tuples(self.maybe, self.maybe))
        # t: another instant of the example, or just after t0 (inside most windows)
        t0, t = sorted((draw(self.at), draw(self.at)))
        if draw(st.booleans()):  # off the thresholds (t0 on one: empty window, not cached)
            t0 += dt.timedelta(minutes=7)
            t = max(t, t0)
        if draw(st.integers(0, 2)) == 0:
            t = t0 + draw(st.sampled_from([dt.timedelta(0), SEC, dt.timedelta(minutes=1)]))
        self.t0, self.t = t0, t


def _ordered(a: dt.datetime, b: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    # notAfter/nextUpdate after notBefore/thisUpdate (cryptography's builders insist)
    a, b = sorted((a, b))
    return a, max(b, a + SEC)


def _times(this: dt.datetime, next_: dt.datetime | None) -> tuple[dt.datetime, dt.datetime | None]:
    return (this, None) if next_ is None else _ordered(this, next_)


def _cert(cn: str, issuer: Issued | None, key: str, window: Window, **kw: object) -> Issued:
    not_before, not_after = _ordered(window[0] or LONG_AGO, window[1] or FAR)
    subject = name((NameOID.COMMON_NAME, cn))
    return issue(
        subject, issuer=issuer, key=KEYS[key], not_before=not_before, not_after=not_after, **kw
    )


def _chain(
    root: Window = (None, None),
    inter: Window = (None, None),
    leaf: Window = (None, None),
    **leaf_kw: object,
):
    r = _cert("Diff Root", None, "root", root, ca=True)
    i = _cert("Diff Sub CA", r, "inter", inter, ca=True)
    return r, i, _cert("Diff Leaf", i, "leaf", leaf, **leaf_kw)


STATS: dict[str, Counter[str]] = {f: Counter() for f in ("certificates", "crls", "ocsp")}


Case = tuple[Callable[[dt.datetime], object], dt.datetime, dt.datetime]


def _check(family: str, case: Case) -> None:
    run, t0, t = case
    first, warm, cold, hit = warm_and_cold(run, t0, t)
    assert warm == cold, (first, t0, t)
    STATS[family][first[0]] += 1
    if first[0] == "ok":
        STATS[family]["hit"] += hit
        STATS[family]["changed"] += cold[0] != "ok" or cold[1:5] != first[1:5]


@st.composite
def certificate_cases(draw: st.DrawFn) -> Case:
    tm = Times(draw)
    root, inter, leaf = _chain(draw(tm.window), draw(tm.window), draw(tm.window))
    alt = _cert("Diff Sub CA", root, "inter", draw(tm.window), ca=True)
    # the alternative first or last; the intermediate in the policy or among the candidates
    order = draw(st.sampled_from(["alt_first", "alt_last", "policy"]))
    cands = {"alt_first": [alt, inter], "alt_last": [inter, alt], "policy": [alt]}[order]
    policy = TrustPolicy.from_anchors(
        [root.cert],
        intermediates=[inter.cert] if order == "policy" else [],
        revocation=RevocationMode.OFF,
    )
    candidates = [c.cert for c in cands]
    return (
        lambda at: validate_chain(leaf.cert, policy=policy, at=at, candidates=candidates),
        tm.t0,
        tm.t,
    )


@st.composite
def crl_cases(draw: st.DrawFn) -> Case:
    tm = Times(draw)
    root, inter, leaf = _chain(leaf=draw(tm.window), crl_url=CRL_URL)
    crls = draw(
        st.lists(st.tuples(tm.at, tm.next, tm.maybe, st.booleans()), min_size=1, max_size=3)
    )
    policy_crls, extra = [crl(root, this=LONG_AGO, next_=FAR)], []
    for n, (this, next_, revoked_at, with_signature) in enumerate(crls):
        this, next_ = _times(this, next_)
        revoked = [(leaf.cert.serial_number, revoked_at)] if revoked_at else []
        made = crl(inter, this=this, next_=next_, revoked=revoked, number=n + 1)
        (extra if with_signature else policy_crls).append(made)
    if draw(st.booleans()):  # a good CRL valid throughout: revocations still decide
        policy_crls.append(crl(inter, this=LONG_AGO, next_=FAR, number=9))
    mode = draw(st.sampled_from(MODES))
    policy = TrustPolicy.from_anchors(
        [root.cert], intermediates=[inter.cert], crls=policy_crls, revocation=mode
    )
    return (
        lambda at: validate_chain(leaf.cert, policy=policy, at=at, extra_crls=extra),
        tm.t0,
        tm.t,
    )


@st.composite
def ocsp_cases(draw: st.DrawFn) -> Case:
    tm = Times(draw)
    root, inter, leaf = _chain(leaf=draw(tm.window), ocsp_url=OCSP_URL)
    # The delegated responder (RFC 6960 §4.2.2.2) declares the CA's CRL, which may revoke it.
    responder = _cert(
        "Diff OCSP",
        inter,
        "responder",
        draw(tm.window),
        eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
        crl_url=CRL_URL,
    )
    responder_revoked = draw(tm.maybe)
    revoked = [(responder.cert.serial_number, responder_revoked)] if responder_revoked else []
    crls = [
        crl(root, this=LONG_AGO, next_=FAR),
        crl(inter, this=LONG_AGO, next_=FAR, revoked=revoked),
    ]
    status = st.sampled_from(["good", "revoked", "unknown"])
    responses = []
    for this, next_, state, revoked_at, delegated in draw(
        st.lists(st.tuples(tm.at, tm.next, status, tm.at, st.booleans()), min_size=1, max_size=3)
    ):
        this, next_ = _times(this, next_)
        signer = responder if delegated else inter
        responses.append(
            ocsp_response(
                leaf.cert,
                inter.cert,
                signer,
                this=this,
                next_=next_,
                revoked_at=revoked_at if state == "revoked" else None,
                unknown=state == "unknown",
                embed=[responder.cert] if delegated else [],
            )
        )
    if draw(st.booleans()):  # a good response valid throughout, tried last
        responses.append(ocsp_response(leaf.cert, inter.cert, inter, this=LONG_AGO, next_=FAR))
    mode = draw(st.sampled_from(MODES))
    policy = TrustPolicy.from_anchors(
        [root.cert], intermediates=[inter.cert], crls=crls, ocsps=responses, revocation=mode
    )
    return (lambda at: validate_chain(leaf.cert, policy=policy, at=at), tm.t0, tm.t)


@pytest.mark.parametrize(
    ("family", "cases"),
    [("certificates", certificate_cases), ("crls", crl_cases), ("ocsp", ocsp_cases)],
)
def test_cached_equals_cold_over_random_thresholds(family, cases):
    STATS[family].clear()
    SETTINGS(given(cases())(lambda case: _check(family, case)))()
    assert STATS[family]["hit"] >= 15, STATS[family]
    assert STATS[family]["changed"] >= 15, STATS[family]


def test_threads_replacing_windows_never_answer_outside_their_own():
    # Thresholds at AT+2d (a revoking CRL becomes usable: it lists the leaf from AT-1d),
    # AT+5d (the good CRL goes stale) and the leaf's notAfter at AT+8d. Threads validate at
    # shuffled instants, so windows computed at other t0 replace each other all the time.
    root, inter, leaf = _chain(leaf=(None, AT + 8 * DAY), crl_url=CRL_URL)
    serial = leaf.cert.serial_number
    crls = [
        crl(inter, this=LONG_AGO, next_=AT + 5 * DAY),
        crl(inter, this=AT + 2 * DAY, next_=FAR, revoked=[(serial, AT - DAY)], number=2),
        crl(root, this=LONG_AGO, next_=FAR),
    ]
    policy = TrustPolicy.from_anchors([root.cert], intermediates=[inter.cert], crls=crls)
    moments = [AT + k * DAY / 4 + off for k in range(-8, 40) for off in (-SEC, dt.timedelta(0))]

    def run(at: dt.datetime):
        return outcome(lambda: validate_chain(leaf.cert, policy=policy, at=at))

    expected = {}
    for at in moments:
        clear_chain_cache()
        expected[at] = run(at)
    assert {o[0] for o in expected.values()} >= {"ok", "UntrustedSigner", "IndeterminateError"}
    clear_chain_cache()
    order = [at for at in moments for _ in range(4)]
    random.Random(7).shuffle(order)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(run, order))
    assert got == [expected[at] for at in order]
    assert chain_cache_info().hits > 0
