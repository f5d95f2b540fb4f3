"""Opinion groups and common ground, computed as Pol.is's math component does.

Pure: votes in, a frozen :class:`Analysis` out. No chat, no database. The steps follow
``compdemocracy/polis`` ``math/src/polismath/math/{conversation,pca,clusters,repness}.clj``:

1. the participant x statement matrix: agree 1, disagree -1, pass 0, unseen missing;
   moderated-out statements are left out;
2. PCA to two dimensions on the matrix with missing votes set to the statement's mean
   (so the centred matrix is 0 where a person did not vote), then the *sparsity-aware*
   projection: a person's point is scaled by sqrt(statements / statements they voted on);
3. people "in the conversation": at least min(7, statements) votes (and the 15 most active
   while fewer than 15 qualify);
4. up to 100 *base clusters* (k-means on their points), then k-means on the base-cluster
   centres weighted by their size, for k = 2..min(5, 2 + bases // 12), k chosen by
   silhouette; *k-smoothing*: the number of groups only changes after a new k has won
   4 recomputes in a row (pass the previous :class:`Analysis` in);
5. group-informed consensus: the product over groups of (agree + 1) / (seen + 2);
6. representative statements per group (``repness.clj``: agree/disagree ratio against the
   rest, with its two-proportion test and the one-proportion test, 90 % one-sided);
7. per statement its extremity (the length of its projection), and
   :func:`next_statement`, Pol.is's ``priority-metric``.

Differences from Pol.is, on purpose: k-means uses scikit-learn (k-means++, fixed seeds)
instead of "the first k distinct points", and PCA is an exact-enough randomized SVD with
a fixed seed instead of power iteration from random start vectors: the same input always
gives the same groups.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Id = int | str
Vote = tuple[Id, Id, int]

MIN_VOTES = 7  # Pol.is: a person takes part in the map after min(7, statements) votes
GREEDY_N = 15  # ... and the 15 most active while fewer than 15 qualify
BASE_K = 100
MAX_K = 5
K_BUFFER = 4  # Pol.is's group-k-buffer
Z_90 = 1.2816  # one-sided 90 %
SEED = 0
META_PRIORITY = 7


@dataclass(frozen=True)
class Consensus:
    statement: Id
    score: float  # product over groups of P(agree), with a +1/+2 prior
    agree_pct: int  # of everyone who saw it (placed or not), rounded


@dataclass(frozen=True)
class Representative:
    statement: Id
    repful_for: str  # "agree" or "disagree"
    pct: int  # share of the group that agreed (or disagreed), rounded
    ratio: float  # how much more likely than the rest of the people
    ratio_test: float  # z of the two-proportion test
    prob_test: float  # z of the one-proportion test


@dataclass(frozen=True)
class StatementStats:
    agree: int = 0
    disagree: int = 0
    passed: int = 0

    @property
    def seen(self) -> int:
        return self.agree + self.disagree + self.passed


@dataclass(frozen=True)
class KSmoother:
    last_k: int | None = None
    last_k_count: int = 0
    smoothed_k: int | None = None

    def step(self, this_k: int) -> KSmoother:
        count = self.last_k_count + 1 if self.last_k == this_k else 1
        smoothed = this_k if count >= K_BUFFER or self.smoothed_k is None else self.smoothed_k
        return KSmoother(this_k, count, smoothed)


@dataclass(frozen=True)
class Analysis:
    groups: Mapping[Id, int]  # placed participants only
    n_groups: int
    group_sizes: tuple[int, ...]  # index = group
    consensus: tuple[Consensus, ...]  # best first
    repness: Mapping[int, tuple[Representative, ...]]
    projection: Mapping[Id, tuple[float, float]]  # every participant with a vote
    extremity: Mapping[Id, float]  # per statement still in the conversation
    stats: Mapping[Id, StatementStats]  # per statement still in the conversation
    smoother: KSmoother = field(default_factory=KSmoother)
    in_conv: frozenset[Id] = frozenset()
    base_centres: tuple[tuple[float, float], ...] = ()


EMPTY = Analysis({}, 0, (), (), {}, {}, {}, {})


@dataclass
class _Matrix:
    """The votes as a sparse matrix: one entry per person and statement, the last vote."""

    people: list[Id]
    statements: list[Id]  # still in the conversation; ``cols`` index these
    rows: np.ndarray[Any, np.dtype[np.int64]]
    cols: np.ndarray[Any, np.dtype[np.int64]]
    vals: np.ndarray[Any, np.dtype[np.float64]]
    n_columns: int  # for the sparsity scaling: with the zeroed-out columns
    extra_seen: int  # zeroed-out columns: "seen" (a pass) by everyone
    raw_counts: np.ndarray[Any, np.dtype[np.int64]]  # votes per person, moderated-out included


def _matrix(votes: Iterable[Vote], moderated_out: Set[Id], zero_out: bool) -> _Matrix:
    """The vote matrix. Like Pol.is (``zero-out-columns``), a moderated-out statement stays
    as a column of passes for everyone (``zero_out``): it no longer moves anyone on the map,
    but it still counts in the sparsity scaling, as in the groups Pol.is publishes. Without
    ``zero_out`` (red-dwarf's way) such columns are dropped."""
    votes = list(votes)
    # Rows and columns in id order, so that the order of the votes does not matter.
    people = {p: i for i, p in enumerate(sorted({v[0] for v in votes}, key=_id_key))}
    all_sids = sorted({v[1] for v in votes}, key=_id_key)
    statements = {s: j for j, s in enumerate(all_sids)}
    n = len(votes)
    r = np.fromiter((people[v[0]] for v in votes), np.int64, n)
    c = np.fromiter((statements[v[1]] for v in votes), np.int64, n)
    x = np.fromiter((v[2] for v in votes), np.float64, n)
    _, first_from_end = np.unique((r * max(len(all_sids), 1) + c)[::-1], return_index=True)
    last = n - 1 - first_from_end  # the last vote of each person on each statement wins
    r, c, x = r[last], c[last], x[last]
    raw_counts = np.bincount(r, minlength=len(people)).astype(np.int64)
    active = np.fromiter((s not in moderated_out for s in all_sids), bool, len(all_sids))
    n_out = int((~active).sum())
    new_col = np.cumsum(active) - 1
    keep = active[c]
    return _Matrix(
        people=list(people),
        statements=[s for s, a in zip(all_sids, active, strict=True) if a],
        rows=r[keep],
        cols=new_col[c[keep]].astype(np.int64),
        vals=x[keep],
        n_columns=len(all_sids) if zero_out else len(all_sids) - n_out,
        extra_seen=n_out if zero_out else 0,
        raw_counts=raw_counts,
    )


def _id_key(value: Id) -> tuple[int, int, str]:
    return (0, value, "") if isinstance(value, int) else (1, 0, value)


def _in_conv(m: _Matrix, previous: frozenset[Id]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    n_cmts = m.n_columns
    keep = m.raw_counts >= min(MIN_VOTES, n_cmts)
    keep |= np.fromiter((p in previous for p in m.people), bool, len(m.people))
    if keep.sum() < GREEDY_N:
        order = np.argsort(-m.raw_counts, kind="stable")
        for i in order:
            if keep.sum() >= GREEDY_N:
                break
            keep[i] = True
    return keep


def _pca(
    m: _Matrix,
) -> tuple[
    np.ndarray[Any, np.dtype[np.float64]],
    np.ndarray[Any, np.dtype[np.float64]],
    np.ndarray[Any, np.dtype[np.float64]],
]:
    """Centre, two components (2 x statements) and the sparsity-aware projection."""
    from scipy.sparse import csr_matrix
    from sklearn.utils.extmath import randomized_svd

    n_people, n = len(m.people), len(m.statements)
    n_seen = np.bincount(m.cols, minlength=n)
    sums = np.bincount(m.cols, weights=m.vals, minlength=n)
    center = np.divide(sums, n_seen, out=np.zeros(n), where=n_seen > 0)
    # Missing votes take the statement's mean (Pol.is), so they are 0 once centred.
    centred = csr_matrix((m.vals - center[m.cols], (m.rows, m.cols)), shape=(n_people, n))
    n_comps = min(2, n_people, n)
    comps = np.zeros((2, n))
    if n_comps > 0 and np.any(centred.data):
        _, _, vt = randomized_svd(centred, n_comps, n_iter=20, random_state=SEED)
        comps[:n_comps] = vt
    votes_per_person = np.maximum(np.bincount(m.rows, minlength=n_people) + m.extra_seen, 1)
    scale = np.sqrt(m.n_columns / votes_per_person)
    proj = np.asarray(centred @ comps.T) * scale[:, None]
    return center, comps, proj


def _base_clusters(
    points: np.ndarray[Any, np.dtype[np.float64]], previous: tuple[tuple[float, float], ...]
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """Labels per point and the centres of up to 100 base clusters."""
    from sklearn.cluster import KMeans

    distinct = np.unique(points.round(12), axis=0)
    k = min(BASE_K, len(distinct))
    if k <= 1:
        return np.zeros(len(points), dtype=np.int64), points.mean(axis=0, keepdims=True)
    init: Any = "k-means++"
    n_init = 1
    if len(previous) == k:
        init, n_init = np.asarray(previous), 1  # warm start, as Pol.is's last-clusters
    km = KMeans(k, init=init, n_init=n_init, random_state=SEED, max_iter=100).fit(points)
    labels = km.labels_.astype(np.int64)
    used = np.unique(labels)  # drop empty clusters, renumber
    remap = np.full(k, -1)
    remap[used] = np.arange(len(used))
    return remap[labels], km.cluster_centers_[used]


def _group_clusters(
    centres: np.ndarray[Any, np.dtype[np.float64]],
    weights: np.ndarray[Any, np.dtype[np.float64]],
    smoother: KSmoother,
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], KSmoother]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    max_k = min(MAX_K, 2 + len(centres) // 12, len(centres))
    if max_k < 2:
        return np.zeros(len(centres), dtype=np.int64), smoother
    clusterings: dict[int, np.ndarray[Any, np.dtype[np.int64]]] = {}
    scores: dict[int, float] = {}
    for k in range(2, max_k + 1):
        km = KMeans(k, n_init=10, random_state=SEED).fit(centres, sample_weight=weights)
        labels = km.labels_.astype(np.int64)
        clusterings[k] = labels
        n_labels = len(np.unique(labels))
        scores[k] = (
            float(silhouette_score(centres, labels)) if 1 < n_labels < len(centres) else -1.0
        )
    this_k = max(scores, key=lambda k: scores[k])
    smoother = smoother.step(this_k)
    chosen = smoother.smoothed_k if smoother.smoothed_k in clusterings else this_k
    return clusterings[chosen], smoother


def _prop_test(succ: np.ndarray[Any, Any], n: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    succ, n = succ + 1.0, n + 1.0
    return 2.0 * np.sqrt(n) * (succ / n - 0.5)


def _two_prop_test(
    s1: np.ndarray[Any, Any],
    s2: np.ndarray[Any, Any],
    n1: np.ndarray[Any, Any],
    n2: np.ndarray[Any, Any],
) -> np.ndarray[Any, Any]:
    s1, s2, n1, n2 = s1 + 1.0, s2 + 1.0, n1 + 1.0, n2 + 1.0
    p1, p2 = s1 / n1, s2 / n2
    pi = (s1 + s2) / (n1 + n2)
    denom = np.sqrt(pi * (1 - pi) * (1 / n1 + 1 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(pi >= 1.0, 0.0, (p1 - p2) / np.where(denom > 0, denom, 1.0))
    return np.asarray(z)


def _repness_for_group(
    statements: list[Id],
    na: np.ndarray[Any, Any],
    nd: np.ndarray[Any, Any],
    ns: np.ndarray[Any, Any],
    rest: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]],
) -> tuple[Representative, ...]:
    """Pol.is's select-rep-comments for one group."""
    ra_n, rd_n, rs_n = rest
    pa, pd = (na + 1) / (ns + 2), (nd + 1) / (ns + 2)
    pat, pdt = _prop_test(na, ns), _prop_test(nd, ns)
    ra, rd = pa / ((ra_n + 1) / (rs_n + 2)), pd / ((rd_n + 1) / (rs_n + 2))
    rat, rdt = _two_prop_test(na, ra_n, ns, rs_n), _two_prop_test(nd, rd_n, ns, rs_n)

    def final(i: int) -> tuple[float, Representative]:
        if rat[i] > rdt[i]:
            rep = Representative(statements[i], "agree", _pct(na[i], ns[i]), ra[i], rat[i], pat[i])
            return ra[i] * rat[i] * pa[i] * pat[i], rep
        rep = Representative(statements[i], "disagree", _pct(nd[i], ns[i]), rd[i], rdt[i], pdt[i])
        return rd[i] * rdt[i] * pd[i] * pdt[i], rep

    sufficient = np.flatnonzero(
        ((rat > Z_90) & (pat > Z_90)) | ((rdt > Z_90) & (pdt > Z_90))
    ).tolist()
    best_agree: int | None = None
    for i in range(len(statements)):
        if na[i] == 0 and nd[i] == 0:
            continue
        if best_agree is None:
            ok = pat[i] > Z_90 or (ra[i] > 1.0 and pa[i] > 0.5)
        elif ra[best_agree] > 1.0:
            b = best_agree
            ok = ra[i] * rat[i] * pa[i] * pat[i] > ra[b] * rat[b] * pa[b] * pat[b]
        else:
            ok = pa[i] * pat[i] > pa[best_agree] * pat[best_agree]
        if ok:
            best_agree = i
    head: list[Representative] = []
    if best_agree is not None:
        b = best_agree
        head = [Representative(statements[b], "agree", _pct(na[b], ns[b]), ra[b], rat[b], pat[b])]
    if not sufficient:
        if head:
            return tuple(head)
        if not statements:
            return ()
        best = int(np.argmax(np.maximum(rat, rdt)))
        return (final(best)[1],)
    ranked = sorted((final(i) for i in sufficient if i != best_agree), key=lambda t: -t[0])
    chosen = (head + [rep for _, rep in ranked])[:5]
    return tuple(
        [r for r in chosen if r.repful_for == "agree"]
        + [r for r in chosen if r.repful_for == "disagree"]
    )


def _pct(part: float, whole: float) -> int:
    return round(100 * part / whole) if whole else 0


def analyse(
    votes: Iterable[Vote],
    moderated_out: Set[Id] = frozenset(),
    previous: Analysis | None = None,
    *,
    top_consensus: int = 5,
    zero_out: bool = True,
) -> Analysis:
    """Groups, consensus and representative statements for these votes.

    ``votes`` are (participant, statement, vote) with vote 1 agree, -1 disagree, 0 pass; a
    later vote by the same person on the same statement replaces the earlier one. Pass the
    previous result of the same conversation as ``previous`` so the number of groups is
    smoothed and people once placed stay placed, as in Pol.is. ``zero_out=False`` drops
    moderated-out statements instead of keeping them as passes (see :func:`_matrix`).
    """
    prev = previous or EMPTY
    m = _matrix(votes, moderated_out, zero_out)
    if not m.people or not m.statements:
        return EMPTY
    center, comps, proj = _pca(m)
    sids, n = m.statements, len(m.statements)
    is_agree, is_disagree = (m.vals > 0).astype(np.float64), (m.vals < 0).astype(np.float64)
    a_n = np.bincount(m.cols, weights=is_agree, minlength=n).astype(np.int64)
    d_n = np.bincount(m.cols, weights=is_disagree, minlength=n).astype(np.int64)
    s_n = np.bincount(m.cols, minlength=n)
    stats = {
        sid: StatementStats(int(a_n[j]), int(d_n[j]), int(s_n[j] - a_n[j] - d_n[j]))
        for j, sid in enumerate(sids)
    }
    extremity_arr = np.sqrt(m.n_columns) * np.abs(1.0 - center) * np.hypot(*comps)
    extremity = {sid: float(extremity_arr[j]) for j, sid in enumerate(sids)}
    projection = {p: (x, y) for p, (x, y) in zip(m.people, proj.tolist(), strict=True)}

    keep = _in_conv(m, prev.in_conv)
    idx = np.flatnonzero(keep)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # k-means on 2-D points: threads cost more than they save
        base_labels, base_centres = _base_clusters(proj[idx], prev.base_centres)
        weights = np.bincount(base_labels, minlength=len(base_centres)).astype(np.float64)
        group_of_base, smoother = _group_clusters(base_centres, weights, prev.smoother)
    # Number groups by size, biggest first (ties: the group of the lowest id first).
    raw_groups = group_of_base[base_labels]
    present = np.unique(raw_groups)
    order = sorted(
        present, key=lambda g: (-int((raw_groups == g).sum()), int(np.argmax(raw_groups == g)))
    )
    rank = np.zeros(int(present.max()) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    person_group = rank[raw_groups]
    n_groups = int(person_group.max()) + 1
    groups = {m.people[i]: int(g) for i, g in zip(idx, person_group, strict=True)}

    group_of = np.full(len(m.people), -1)
    group_of[idx] = person_group
    placed = group_of[m.rows] >= 0
    key = group_of[m.rows][placed] * n + m.cols[placed]

    def per_group(weights: np.ndarray[Any, Any] | None) -> np.ndarray[Any, Any]:
        w = None if weights is None else weights[placed]
        return np.bincount(key, weights=w, minlength=n_groups * n).reshape(n_groups, n)

    ga, gd, gs = per_group(is_agree), per_group(is_disagree), per_group(None)
    cons = np.prod((ga + 1.0) / (gs + 2.0), axis=0)
    order_c = np.argsort(-cons, kind="stable")[:top_consensus]
    consensus = tuple(Consensus(sids[j], float(cons[j]), _pct(a_n[j], s_n[j])) for j in order_c)
    repness: dict[int, tuple[Representative, ...]] = {}
    for g in range(n_groups):
        rest = (ga.sum(axis=0) - ga[g], gd.sum(axis=0) - gd[g], gs.sum(axis=0) - gs[g])
        repness[g] = _repness_for_group(sids, ga[g], gd[g], gs[g], rest)
    return Analysis(
        groups=groups,
        n_groups=n_groups,
        group_sizes=tuple(int(s) for s in np.bincount(person_group, minlength=n_groups)),
        consensus=consensus,
        repness=repness,
        projection=projection,
        extremity=extremity,
        stats=stats,
        smoother=smoother,
        in_conv=frozenset(m.people[i] for i in idx),
        base_centres=tuple((float(x), float(y)) for x, y in base_centres),
    )


def priority(stats: StatementStats, extremity: float, is_meta: bool = False) -> float:
    """Pol.is's ``priority-metric``: new statements and divisive ones come first."""
    if is_meta:
        return float(META_PRIORITY**2)
    s = stats.seen
    p = (stats.passed + 1) / (s + 2)
    a = (stats.agree + 1) / (s + 2)
    importance = (1 - p) * (extremity + 1) * a
    return (importance * (1 + 8 * 2 ** (s / -5))) ** 2


def next_statement(
    votes_of_person: Mapping[Id, int] | Set[Id],
    stats: Mapping[Id, StatementStats],
    analysis: Analysis | None = None,
    rng: random.Random | None = None,
) -> Id | None:
    """The statement to show this person next, or None when they have seen them all.

    Only statements they have not voted on; among those, the highest Pol.is priority (or,
    with ``rng``, a draw weighted by priority, as Pol.is's server does). ``stats`` holds
    the statements still in the conversation (moderated-out ones left out).
    """
    extremity = analysis.extremity if analysis else {}
    best: Id | None = None
    best_p = -math.inf
    candidates: list[Id] = []
    weights: list[float] = []
    for sid, st in stats.items():
        if sid in votes_of_person:
            continue
        pr = priority(st, extremity.get(sid, 0.0))
        if rng is not None:
            candidates.append(sid)
            weights.append(pr)
        elif pr > best_p:
            best, best_p = sid, pr
    if rng is not None:
        return rng.choices(candidates, weights)[0] if candidates else None
    return best
