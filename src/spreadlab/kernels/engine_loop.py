"""The engine's event loop: one compiled dispatcher over venue events, latencies, reports and timers.

Two clocks read one tape. The venue applies each event at its venue time
(``t_venue``) to the venue books that orders match against; the strategy sees
it at ``t_recv + feed latency`` in its local view. Orders sent at local time
``t`` reach the venue at ``t + entry latency``; each fill, ack, cancel and
reject reaches the strategy ``response latency`` after the venue made it. Each
venue connection is FIFO: an order never overtakes one sent before it, a
report never overtakes an earlier one. At equal times the order is: venue
events, expiries, arrivals at the venue, equity samples (with the maintenance-
margin check), reports, local events, timers.

:func:`run` returns a reason (``R_*``): done; a table needs to grow (the
caller enlarges it and calls again, the loop resumes where it stopped); or a
Python strategy must run (a subscribed instrument's best price changed, a
report for it arrived, its timer fired).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab.kernels.engine_book import bk_apply, bk_best, bk_clear, bk_set, bk_size_at
from spreadlab.kernels.engine_layout import (
    C_EVI,
    C_LC,
    C_NFILL,
    C_NFUND,
    C_NLOG,
    C_NOPEN,
    C_NORD,
    C_NPEND,
    C_NREP,
    C_NREPLOG,
    C_NSAMP,
    C_PAUSE,
    C_PYT,
    C_T,
    C_TSAMP,
    C_VC,
    C_XC,
    F_MMR,
    FILL_SLACK,
    I_SPOT,
    INF_T,
    IP_FEED_NS,
    IP_LIQUIDATE,
    IP_NVENUE,
    IP_PAUSE,
    IP_PY,
    IP_SAMPLE_NS,
    IP_T_END,
    L_ASK,
    L_ASZ,
    L_BID,
    L_BSZ,
    L_INDEX,
    L_LAST,
    L_MARK,
    LOG_SLACK,
    M_INDEX,
    M_LAST,
    M_MARK,
    MAX_LEGS,
    O_INST,
    O_OWNER,
    O_T_ARRIVE,
    ORD_SLACK,
    P_QTY,
    Q_AUX,
    Q_ID,
    Q_KIND,
    Q_N,
    QK_SUBMIT,
    QUEUE_SLACK,
    R_DONE,
    R_GROW,
    R_MARKET,
    R_PROGRESS,
    R_REPORT,
    R_TIMER,
    RJ_END,
    S_B,
    S_CF,
    S_CI,
    S_LGI,
    S_MU,
    S_SD,
    S_SI,
    SF_RATIO,
    SI_LEG,
    SI_NLEG,
    SI_NROWS,
    SI_QUOTE,
    SS_MAKER_OID,
    SS_OPEN,
    SS_ROW,
    SS_T_TIMEOUT,
    TK_CLEAR,
    TK_DELTA,
    TK_FUNDING,
    TK_MARK,
    TK_QUOTE,
    TK_TRADE,
    V_CNT,
    V_FLI,
    V_FUI,
    V_II,
    V_IP,
    V_MK,
    V_OI,
    V_OPEN,
    V_POS,
    V_PQ,
    V_REPLOG,
    V_RQ,
)
from spreadlab.kernels.engine_market import pop_min, queue_min_t
from spreadlab.kernels.engine_risk import risk_sample
from spreadlab.kernels.engine_strategy import decide, next_timer, on_report, spread_value
from spreadlab.kernels.engine_venue import (
    cancel_all,
    cancel_arrive,
    equity_usd,
    execute_order,
    expire,
    fund,
    liquidate_venue,
    margin_usd,
    rest_on_cross,
    rest_on_level,
    rest_on_trade,
    submit,
)

__all__ = ["close_positions", "run", "sample"]

_DEEP = 1e18  # the size of a quote without a size: the impact model prices it


@njit(cache=True, nogil=True)
def _has_open(vs, i):  # type: ignore[no-untyped-def]
    oi = vs[V_OI]
    op = vs[V_OPEN]
    for k in range(vs[V_CNT][C_NOPEN]):  # noqa: SIM110  (numba: no generators)
        if oi[op[k], O_INST] == i:
            return True
    return False


@njit(cache=True, nogil=True)
def sample(vs, bk, lk, ss, samp, t):  # type: ignore[no-untyped-def]
    """Record equity, gross notional and margin per venue, and each spread's mid value, at ``t``."""
    samp_t, samp_v, samp_sp = samp
    cnt = vs[V_CNT]
    r = cnt[C_NSAMP]
    cnt[C_NSAMP] = r + 1
    samp_t[r] = t
    nv = vs[V_IP][IP_NVENUE]
    tot = 0.0
    mm_tot = 0.0
    for v in range(nv):
        e = equity_usd(vs, bk, v)
        mm = margin_usd(vs, bk, v, F_MMR)
        samp_v[r, 2 + v] = e
        samp_v[r, 2 + nv + v] = mm
        tot += e
        mm_tot += mm
    samp_v[r, 0] = tot
    samp_v[r, 1] = mm_tot
    sci = ss[S_CI]
    w = np.empty(MAX_LEGS)
    mids = np.empty(MAX_LEGS)
    for s in range(sci.shape[0]):
        row = ss[S_SI][s, SS_ROW]
        if sci[s, SI_NROWS] == 0 or ss[4][s, row] > t:
            samp_sp[r, s, 0] = np.nan
            samp_sp[r, s, 1] = np.nan
            samp_sp[r, s, 2] = np.nan
            continue
        nleg = sci[s, SI_NLEG]
        for k in range(nleg):
            i = sci[s, SI_LEG + k]
            w[k] = ss[S_CF][s, SF_RATIO + k] * (1.0 if k == 0 else ss[S_B][s, row])
            mids[k] = 0.5 * (lk[i, L_BID] + lk[i, L_ASK])
        samp_sp[r, s, 0] = spread_value(sci[s, SI_QUOTE], nleg, w, mids, mids)
        samp_sp[r, s, 1] = ss[S_MU][s, row]
        samp_sp[r, s, 2] = ss[S_SD][s, row]


@njit(cache=True, nogil=True)
def _check_margin(vs, bk, t):  # type: ignore[no-untyped-def]
    if vs[V_IP][IP_LIQUIDATE] == 0:
        return
    for v in range(vs[V_IP][IP_NVENUE]):
        mm = margin_usd(vs, bk, v, F_MMR)
        if mm > 0.0 and equity_usd(vs, bk, v) < mm:
            liquidate_venue(vs, bk, v, t)


@njit(cache=True, nogil=True)
def _room(vs, ss, samp):  # type: ignore[no-untyped-def]
    cnt = vs[V_CNT]
    return not (
        cnt[C_NORD] + ORD_SLACK > vs[V_OI].shape[0]
        or cnt[C_NFILL] + FILL_SLACK > vs[V_FLI].shape[0]
        or cnt[C_NFUND] + QUEUE_SLACK > vs[V_FUI].shape[0]
        or cnt[C_NSAMP] + 2 > samp[0].shape[0]
        or cnt[C_NLOG] + LOG_SLACK > ss[S_LGI].shape[0]
        or cnt[C_NREP] + FILL_SLACK > vs[V_RQ].shape[0]
        or cnt[C_NPEND] + QUEUE_SLACK > vs[V_PQ].shape[0]
        or cnt[C_NREPLOG] + FILL_SLACK > vs[V_REPLOG].shape[0]
        or cnt[C_NOPEN] + ORD_SLACK > vs[V_OPEN].shape[0]
    )


@njit(cache=True, nogil=True)
def _set_quote(bk, i, bid, bsz, ask, asz):  # type: ignore[no-untyped-def]
    bk_clear(bk, i)
    if not np.isnan(bid):
        bk_set(bk, i, 1, bid, bsz if bsz > 0.0 else _DEEP)
    if not np.isnan(ask):
        bk_set(bk, i, -1, ask, asz if asz > 0.0 else _DEEP)


@njit(cache=True, nogil=True)
def run(tape, vs, bk, lb, lk, ss, pysub, samp, expiries):  # type: ignore[no-untyped-def]
    """Advance the engine until the tape and every queue are exhausted, or until Python must act."""
    t_recv, t_venue, kind, inst, flag, f0, f1, f2, f3, vorder = tape
    x_t, x_i = expiries
    cnt = vs[V_CNT]
    ip = vs[V_IP]
    mk = vs[V_MK]
    n = t_recv.shape[0]
    feed = ip[IP_FEED_NS]
    t_end = ip[IP_T_END]
    samp_ns = ip[IP_SAMPLE_NS]
    py = ip[IP_PY] == 1
    n_sp = ss[S_CI].shape[0]
    sci = ss[S_CI]
    qb = np.zeros(Q_N, dtype=np.int64)
    pause = ip[IP_PAUSE]
    need = True  # the tables' room is checked only after a step that may have appended to them
    while True:
        if need:
            if not _room(vs, ss, samp):
                return R_GROW
            need = False
        if pause > 0 and cnt[C_LC] >= cnt[C_PAUSE]:
            cnt[C_PAUSE] = cnt[C_LC] + pause
            return R_PROGRESS
        vc = cnt[C_VC]
        lc = cnt[C_LC]
        tv = t_venue[vorder[vc]] if vc < n else INF_T
        tl = t_recv[lc] + feed if lc < n else INF_T
        tx = x_t[cnt[C_XC]] if cnt[C_XC] < x_t.shape[0] else INF_T
        tp = queue_min_t(vs, 1)
        tr = queue_min_t(vs, 0)
        ts = cnt[C_TSAMP]
        ttm = next_timer(ss) if n_sp > 0 else INF_T
        tpy = cnt[C_PYT] if cnt[C_PYT] >= 0 else INF_T
        if tx > t_end:
            tx = INF_T
        if ts > t_end:
            ts = INF_T
        if ttm > t_end:
            ttm = INF_T
        if tpy > t_end:
            tpy = INF_T
        t = min(tv, tl, tx, tp, tr, ts, ttm, tpy)
        if t == INF_T:
            return R_DONE
        cnt[C_T] = t
        if tv == t:
            r = vorder[vc]
            i = inst[r]
            k = kind[r]
            j = vc + 1
            while j < n and vorder[j] == vorder[j - 1] + 1 and inst[vorder[j]] == i and kind[vorder[j]] == k:
                if t_venue[vorder[j]] != tv:
                    break
                j += 1
            r1 = vorder[j - 1] + 1
            cnt[C_VC] = j
            ho = _has_open(vs, i)
            if ho or k == TK_FUNDING:
                need = True
            if k == TK_DELTA:
                if ho:
                    for rr in range(r, r1):
                        sd = flag[rr]
                        old = bk_size_at(bk, i, sd, f0[rr])
                        bk_apply(bk, i, flag, f0, f1, rr, rr + 1)
                        if old != f1[rr]:
                            rest_on_level(vs, i, sd, f0[rr], old, f1[rr])
                    rest_on_cross(vs, bk, i, tv)
                else:
                    bk_apply(bk, i, flag, f0, f1, r, r1)
            elif k == TK_QUOTE:
                rr = r1 - 1
                _set_quote(bk, i, f0[rr], f1[rr], f2[rr], f3[rr])
                if ho:
                    rest_on_cross(vs, bk, i, tv)
            elif k == TK_TRADE:
                for rr in range(r, r1):
                    mk[i, M_LAST] = f0[rr]
                    if ho and _has_open(vs, i):
                        rest_on_trade(vs, bk, i, f0[rr], f1[rr], flag[rr], tv)
            elif k == TK_MARK:
                for rr in range(r, r1):
                    if not np.isnan(f0[rr]):
                        mk[i, M_MARK] = f0[rr]
                    if not np.isnan(f1[rr]):
                        mk[i, M_INDEX] = f1[rr]
            elif k == TK_FUNDING:
                for rr in range(r, r1):
                    fund(vs, bk, i, f0[rr], tv)
            elif k == TK_CLEAR:
                bk_clear(bk, i)
            continue
        if tx == t:
            need = True
            expire(vs, bk, x_i[cnt[C_XC]], t)
            cnt[C_XC] += 1
            continue
        if tp == t:
            need = True
            pop_min(vs, 1, qb)
            if qb[Q_KIND] == QK_SUBMIT:
                execute_order(vs, bk, qb[Q_ID], t)
            else:
                cancel_arrive(vs, qb[Q_ID], t)
            continue
        if ts == t:
            need = True
            sample(vs, bk, lk, ss, samp, t)
            risk_sample(vs, samp[1][cnt[C_NSAMP] - 1, 0], t)
            _check_margin(vs, bk, t)
            cnt[C_TSAMP] = t + samp_ns
            continue
        if tr == t:
            need = True
            pop_min(vs, 0, qb)
            rl = vs[V_REPLOG]
            m = cnt[C_NREPLOG]
            rl[m, 0] = t
            rl[m, 1] = qb[Q_KIND]
            rl[m, 2] = qb[Q_ID]
            rl[m, 3] = qb[Q_AUX]
            cnt[C_NREPLOG] = m + 1
            o = qb[Q_ID]
            mine = False
            if n_sp > 0:
                mine = on_report(vs, bk, lk, ss, qb[Q_KIND], o, qb[Q_AUX], t)
            if py and (o < 0 or (not mine and vs[V_OI][o, O_OWNER] == -1)):
                return R_REPORT
            continue
        if tl == t:
            i = inst[lc]
            k = kind[lc]
            j = lc + 1
            while j < n and inst[j] == i and kind[j] == k and t_recv[j] == t_recv[lc]:
                j += 1
            cnt[C_LC] = j
            b0 = lk[i, L_BID]
            a0 = lk[i, L_ASK]
            bs0 = lk[i, L_BSZ]
            as0 = lk[i, L_ASZ]
            if k == TK_DELTA:
                bk_apply(lb, i, flag, f0, f1, lc, j)
                lk[i, L_BID], lk[i, L_BSZ] = bk_best(lb, i, 1)
                lk[i, L_ASK], lk[i, L_ASZ] = bk_best(lb, i, -1)
            elif k == TK_QUOTE:
                rr = j - 1
                lk[i, L_BID] = f0[rr]
                lk[i, L_BSZ] = f1[rr]
                lk[i, L_ASK] = f2[rr]
                lk[i, L_ASZ] = f3[rr]
            elif k == TK_CLEAR:
                bk_clear(lb, i)
                continue
            elif k == TK_TRADE:
                lk[i, L_LAST] = f0[j - 1]
                continue
            elif k == TK_MARK:
                for rr in range(lc, j):
                    if not np.isnan(f0[rr]):
                        lk[i, L_MARK] = f0[rr]
                    if not np.isnan(f1[rr]):
                        lk[i, L_INDEX] = f1[rr]
                continue
            else:
                continue
            same = lk[i, L_BID] == b0 and lk[i, L_ASK] == a0
            if same and lk[i, L_BSZ] == bs0 and lk[i, L_ASZ] == as0:
                continue
            if not same:
                need = True
                for s in range(n_sp):
                    for kk in range(sci[s, SI_NLEG]):
                        if sci[s, SI_LEG + kk] == i:
                            decide(vs, bk, lk, ss, s, t)
                            break
            if py and pysub[i] == 1:
                cnt[C_EVI] = i
                return R_MARKET
            continue
        if ttm == t:
            need = True
            ssi = ss[S_SI]
            for s in range(n_sp):
                if ssi[s, SS_T_TIMEOUT] == t and (ssi[s, SS_OPEN] == 0 or ssi[s, SS_MAKER_OID] >= 0):
                    decide(vs, bk, lk, ss, s, t)
            continue
        if tpy == t:
            cnt[C_PYT] = -1
            return R_TIMER
    return R_DONE


@njit(cache=True, nogil=True)
def close_positions(vs, bk, t):  # type: ignore[no-untyped-def]
    """Cancel every live order and close every position at ``t`` with market orders on the venue books."""
    ii = vs[V_II]
    pos = vs[V_POS]
    for v in range(vs[V_IP][IP_NVENUE]):
        cancel_all(vs, -1, v, t, RJ_END)
    qb = np.zeros(Q_N, dtype=np.int64)
    while pop_min(vs, 1, qb):
        pass
    for i in range(ii.shape[0]):
        q = pos[i, P_QTY]
        if q == 0.0 or vs[V_MK][i, 3] != 0.0:
            continue
        sd = -1 if q > 0.0 else 1
        flags = 0 if ii[i, I_SPOT] == 1 else 2
        o = submit(vs, t, i, sd, abs(q), np.nan, 0, 1, flags, -2, 0, -1, bk)
        vs[V_OI][o, O_T_ARRIVE] = t
        pop_min(vs, 1, qb)
        execute_order(vs, bk, o, t)


@njit(cache=True, nogil=True)
def grid_mids(tape, lb, grid, feed):  # type: ignore[no-untyped-def]
    """Mid of every instrument just before each grid time, from events with ``t_recv + feed < grid[j]``.

    ``lb`` are empty books (one per instrument) used as scratch. Quotes set
    the top, book deltas and snapshots rebuild the book; NaN until both sides
    are known.
    """
    t_recv, _, kind, inst, flag, f0, f1, f2, _, _ = tape
    n_inst = lb[0].shape[0]
    out = np.full((grid.shape[0], n_inst), np.nan)
    bid = np.full(n_inst, np.nan)
    ask = np.full(n_inst, np.nan)
    n = t_recv.shape[0]
    r = 0
    for j in range(grid.shape[0]):
        g = grid[j]
        while r < n and t_recv[r] + feed < g:
            i = inst[r]
            k = kind[r]
            if k == TK_DELTA:
                e = r + 1
                while (
                    e < n
                    and inst[e] == i
                    and kind[e] == k
                    and t_recv[e] == t_recv[r]
                    and t_recv[e] + feed < g
                ):
                    e += 1
                bk_apply(lb, i, flag, f0, f1, r, e)
                bid[i], _ = bk_best(lb, i, 1)
                ask[i], _ = bk_best(lb, i, -1)
                r = e
                continue
            if k == TK_CLEAR:
                bk_clear(lb, i)
                bid[i] = np.nan
                ask[i] = np.nan
            elif k == TK_QUOTE:
                bid[i] = f0[r]
                ask[i] = f2[r]
            r += 1
        for i in range(n_inst):
            out[j, i] = 0.5 * (bid[i] + ask[i])
    return out
