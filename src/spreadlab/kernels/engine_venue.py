"""Simulated venues: accounts, positions, order matching, queue position, funding, expiry, margin.

All state lives in the venue tuple ``vs`` (see the ``V_*`` indices of
:mod:`spreadlab.kernels.engine_layout`) and the venue books ``bk``
(:mod:`spreadlab.kernels.engine_book`).

Positions (averaging in :func:`spreadlab.kernels.engine_market.apply_position`)
    Signed contracts ``q`` with an average entry ``A``; adding to a position
    averages in price (linear) or in ``1/price`` (inverse), reducing it
    realises ``pnl1(closed, A, price)`` (:mod:`spreadlab.kernels.contracts`).
    Derivative PnL and fees move the cash of the settlement currency at the
    instrument's venue; spot fills move the base and quote balances.

Matching (an order arriving at the venue)
    Market and marketable limit orders walk the opposite side from the best,
    one fill per level, each at the level's price, and consume the book (the
    venue's next update of a level overwrites what we took). FOK fills all or
    nothing; IOC and market remainders are cancelled; a GTC limit rests with
    the size already displayed at its price ahead of it; post-only orders that
    would cross are rejected; reduce-only orders are cut to the position.
    Instruments with quotes but no depth (``I_QONLY``) fill the whole size at
    the touch moved by ``F_IMPACT`` bp against the order.

Queue (a resting order at price ``L``)
    A trade at ``L`` against our side takes from the queue ahead first; a
    trade through ``L`` (or the far side reaching ``L``) fills the rest at
    ``L`` as maker. When the displayed size at ``L`` falls from ``old`` to
    ``new``: conservative model -- ``ahead = min(ahead, new)`` (only the
    volume behind us was cancelled unless the level shrank below us);
    probabilistic model -- the decrease ``d`` is taken from ahead of us with
    probability ``f(ahead) / (f(ahead) + f(behind))``, ``f(x) = x**n``,
    ``behind = old - ahead`` (hftbacktest's power-law queue family).

Margin
    Per venue: equity = sum of balances in USD + unrealised derivative PnL in
    USD; initial and maintenance margin = sum of |notional in USD| times the
    instrument's rates (short options on the underlying's notional, long
    options none, short spot when allowed). An order that adds exposure is
    rejected when the initial margin after it would exceed the equity; a venue
    whose equity falls below maintenance is liquidated at the mark.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab.kernels.contracts import fee1, funding1, notional1, pnl1
from spreadlab.kernels.engine_book import bk_best, bk_clear, bk_levels, bk_set, bk_size_at
from spreadlab.kernels.engine_layout import (
    C_NFILL,
    C_NFUND,
    C_NOPEN,
    C_NORD,
    F_CAP,
    F_IMPACT,
    F_IMR,
    F_LOT,
    F_MAKER,
    F_MULT,
    F_STRIKE,
    F_TAKER,
    FF_FEE,
    FF_FEE_USD,
    FF_FX,
    FF_MID,
    FF_PRICE,
    FF_QTY,
    FF_REAL,
    FI_INST,
    FI_LEVEL,
    FI_LIQ,
    FI_ORDER,
    FI_OWNER,
    FI_SIDE,
    FI_T,
    FP_LIQ_FEE,
    FP_QPOW,
    FU_AMOUNT,
    FU_PRICE,
    FU_QTY,
    FU_RATE,
    FU_USD,
    FUI_INST,
    FUI_SRC,
    FUI_T,
    I_BASE,
    I_KIND,
    I_OPT,
    I_QONLY,
    I_QUOTE,
    I_SETTLE,
    I_SPOT,
    I_VENUE,
    IP_QMODEL,
    IP_SPOT_MARGIN,
    LQ_LIQUIDATION,
    LQ_MAKER,
    LQ_SETTLE,
    LQ_TAKER,
    M_HALT,
    M_INDEX,
    M_MARK,
    O_FLAGS,
    O_INST,
    O_LEG,
    O_NFILL,
    O_OWNER,
    O_REASON,
    O_SIDE,
    O_STATUS,
    O_T_ARRIVE,
    O_T_CANCEL,
    O_T_DONE,
    O_T_SENT,
    O_TAG,
    O_TIF,
    O_TYPE,
    OF_AHEAD,
    OF_AVG,
    OF_FEE,
    OF_FILLED,
    OF_PRICE,
    OF_QTY,
    OS_CANCELLED,
    OS_FILLED,
    OS_INFLIGHT,
    OS_OPEN,
    OS_REJECTED,
    P_AVG,
    P_FEES,
    P_FUND,
    P_QTY,
    P_REAL,
    QK_SUBMIT,
    RJ_EXPIRED_IOC,
    RJ_FOK,
    RJ_HALTED,
    RJ_MARGIN,
    RJ_MIN_QTY,
    RJ_NO_BOOK,
    RJ_POST_ONLY,
    RJ_REDUCE_ONLY,
    RJ_RISK_LEG,
    RP_ACK,
    RP_DONE,
    RP_FILL,
    RP_REJECT,
    RP_SETTLE,
    V_CASH,
    V_CNT,
    V_FI,
    V_FLF,
    V_FLI,
    V_FP,
    V_FUF,
    V_FUI,
    V_II,
    V_IP,
    V_MK,
    V_OF,
    V_OI,
    V_OPEN,
    V_POS,
    V_RCNT,
    V_SPX,
    V_SSZ,
)
from spreadlab.kernels.engine_market import (
    apply_position,
    fifo_time,
    fx_of,
    mid_of,
    push_queue,
    ref_price,
    report,
    und_price,
    usd_rate,
)
from spreadlab.kernels.engine_risk import risk_check

__all__ = [
    "cancel_arrive",
    "equity_usd",
    "execute_order",
    "expire",
    "fund",
    "liquidate_venue",
    "margin_usd",
    "rest_on_cross",
    "rest_on_level",
    "rest_on_trade",
    "submit",
]


# --------------------------------------------------------------------------- orders


@njit(cache=True, nogil=True)
def submit(vs, t, i, sd, qty, price, otype, tif, flags, owner, leg, tag, bk):  # type: ignore[no-untyped-def]
    """Create an order sent at local time ``t`` arriving after the entry latency; return its id.

    The risk layer sees it first (:func:`spreadlab.kernels.engine_risk.risk_check`): a
    refused order is recorded as rejected with its reason and reported to the strategy
    at once.
    """
    cnt = vs[V_CNT]
    oi = vs[V_OI]
    of = vs[V_OF]
    o = cnt[C_NORD]
    cnt[C_NORD] = o + 1
    oi[o, O_INST] = i
    oi[o, O_SIDE] = sd
    oi[o, O_TYPE] = otype
    oi[o, O_TIF] = tif
    oi[o, O_FLAGS] = flags
    oi[o, O_STATUS] = OS_INFLIGHT
    oi[o, O_T_SENT] = t
    v = vs[V_II][i, I_VENUE]
    verdict = risk_check(vs, bk, i, sd, qty) if owner != -2 else 0
    arrive = t if verdict != 0 else fifo_time(vs, v, 0, t)
    oi[o, O_T_ARRIVE] = arrive
    oi[o, O_T_DONE] = -1
    oi[o, O_OWNER] = owner
    oi[o, O_LEG] = leg
    oi[o, O_REASON] = 0
    oi[o, O_T_CANCEL] = -1
    oi[o, O_NFILL] = 0
    oi[o, O_TAG] = tag
    of[o, OF_PRICE] = price
    of[o, OF_QTY] = qty
    of[o, OF_FILLED] = 0.0
    of[o, OF_AVG] = np.nan
    of[o, OF_AHEAD] = 0.0
    of[o, OF_FEE] = 0.0
    if verdict != 0:
        oi[o, O_STATUS] = OS_REJECTED
        oi[o, O_REASON] = verdict
        oi[o, O_T_ARRIVE] = t
        oi[o, O_T_DONE] = t
        vs[V_RCNT][verdict - RJ_RISK_LEG] += 1
        push_queue(vs, 0, t, RP_REJECT, o, verdict)
        return o
    push_queue(vs, 1, arrive, QK_SUBMIT, o, 0)
    op = vs[V_OPEN]
    op[cnt[C_NOPEN]] = o
    cnt[C_NOPEN] += 1
    return o


@njit(cache=True, nogil=True)
def _close_order(vs, o, t, status, reason):  # type: ignore[no-untyped-def]
    oi = vs[V_OI]
    oi[o, O_STATUS] = status
    oi[o, O_T_DONE] = t
    if reason != 0:
        oi[o, O_REASON] = reason
    cnt = vs[V_CNT]
    op = vs[V_OPEN]
    n = cnt[C_NOPEN]
    for k in range(n):
        if op[k] == o:
            for j in range(k, n - 1):
                op[j] = op[j + 1]
            cnt[C_NOPEN] = n - 1
            break
    report(vs, o, t, RP_REJECT if status == OS_REJECTED else RP_DONE, reason)


@njit(cache=True, nogil=True)
def record_fill(vs, bk, o, i, sd, px, q, liq, level, t):  # type: ignore[no-untyped-def]
    """Book a fill of ``q`` contracts of ``i`` at ``px`` (side ``sd``); return its id.

    Fees are charged for maker, taker and liquidation fills (liquidations add
    ``FP_LIQ_FEE``), not for expiry settlement.
    """
    ii = vs[V_II]
    fi = vs[V_FI]
    pos = vs[V_POS]
    cash = vs[V_CASH]
    cnt = vs[V_CNT]
    kind = ii[i, I_KIND]
    m = fi[i, F_MULT]
    v = ii[i, I_VENUE]
    und = und_price(vs, bk, i)
    if liq == LQ_SETTLE:
        fee = 0.0
    else:
        rate = fi[i, F_MAKER] if liq == LQ_MAKER else fi[i, F_TAKER]
        if liq == LQ_LIQUIDATION:
            rate += vs[V_FP][FP_LIQ_FEE]
        fee = fee1(q, px, und, m, kind, rate, fi[i, F_CAP])
    dq = sd * q
    nq, na, closed = apply_position(pos[i, P_QTY], pos[i, P_AVG], dq, px, kind)
    real = 0.0
    if closed != 0.0:
        real = pnl1(closed, pos[i, P_AVG], px, m, kind)
    pos[i, P_QTY] = nq
    pos[i, P_AVG] = na
    pos[i, P_REAL] += real
    pos[i, P_FEES] += fee
    if ii[i, I_SPOT] == 1:
        cash[v, ii[i, I_BASE]] += dq * m
        cash[v, ii[i, I_QUOTE]] -= dq * m * px + fee
    else:
        cash[v, ii[i, I_SETTLE]] += real - fee
    fx = fx_of(vs, bk, i, px)
    f = cnt[C_NFILL]
    cnt[C_NFILL] = f + 1
    fli = vs[V_FLI]
    flf = vs[V_FLF]
    fli[f, FI_ORDER] = o
    fli[f, FI_INST] = i
    fli[f, FI_SIDE] = sd
    fli[f, FI_T] = t
    fli[f, FI_LIQ] = liq
    fli[f, FI_LEVEL] = level
    fli[f, FI_OWNER] = vs[V_OI][o, O_OWNER] if o >= 0 else -2
    flf[f, FF_PRICE] = px
    flf[f, FF_QTY] = q
    flf[f, FF_FEE] = fee
    flf[f, FF_FEE_USD] = fee * fx
    flf[f, FF_MID] = mid_of(bk, i)
    flf[f, FF_FX] = fx
    flf[f, FF_REAL] = real
    if o >= 0:
        oi = vs[V_OI]
        of = vs[V_OF]
        filled = of[o, OF_FILLED]
        if filled == 0.0:
            of[o, OF_AVG] = px
        else:
            of[o, OF_AVG] = (of[o, OF_AVG] * filled + px * q) / (filled + q)
        of[o, OF_FILLED] = filled + q
        of[o, OF_FEE] += fee
        oi[o, O_NFILL] += 1
        report(vs, o, t, RP_FILL, f)
    else:
        push_queue(vs, 0, fifo_time(vs, v, 1, t), RP_SETTLE, -1, f)
    return f


@njit(cache=True, nogil=True)
def _exposure_margin(vs, bk, i, q, p, rate_col):  # type: ignore[no-untyped-def]
    """Margin (USD) of ``q`` contracts of ``i`` valued at ``p`` at the rate in column ``rate_col``."""
    ii = vs[V_II]
    fi = vs[V_FI]
    if q == 0.0:
        return 0.0
    rate = fi[i, rate_col]
    if ii[i, I_SPOT] == 1:
        if q > 0.0 or vs[V_IP][IP_SPOT_MARGIN] == 0:
            return 0.0
        return abs(q) * fi[i, F_MULT] * p * usd_rate(vs, bk, ii[i, I_QUOTE]) * rate
    if ii[i, I_OPT] != 0:
        if q > 0.0:
            return 0.0
        return abs(q) * fi[i, F_MULT] * und_price(vs, bk, i) * rate
    return abs(notional1(q, p, fi[i, F_MULT], ii[i, I_KIND])) * fx_of(vs, bk, i, p) * rate


@njit(cache=True, nogil=True)
def margin_usd(vs, bk, v, rate_col):  # type: ignore[no-untyped-def]
    """Margin (USD) of every position at venue ``v`` (``rate_col`` = ``F_IMR`` or ``F_MMR``)."""
    ii = vs[V_II]
    pos = vs[V_POS]
    tot = 0.0
    for i in range(ii.shape[0]):
        if ii[i, I_VENUE] != v or pos[i, P_QTY] == 0.0:
            continue
        tot += _exposure_margin(vs, bk, i, pos[i, P_QTY], ref_price(vs, bk, i), rate_col)
    return tot


@njit(cache=True, nogil=True)
def equity_usd(vs, bk, v):  # type: ignore[no-untyped-def]
    """Equity of venue ``v`` in USD: balances plus unrealised derivative PnL."""
    ii = vs[V_II]
    fi = vs[V_FI]
    pos = vs[V_POS]
    cash = vs[V_CASH]
    tot = 0.0
    for c in range(cash.shape[1]):
        if cash[v, c] != 0.0:
            tot += cash[v, c] * usd_rate(vs, bk, c)
    for i in range(ii.shape[0]):
        q = pos[i, P_QTY]
        if ii[i, I_VENUE] != v or q == 0.0 or ii[i, I_SPOT] == 1:
            continue
        p = ref_price(vs, bk, i)
        tot += pnl1(q, pos[i, P_AVG], p, fi[i, F_MULT], ii[i, I_KIND]) * fx_of(vs, bk, i, p)
    return tot


@njit(cache=True, nogil=True)
def _margin_ok(vs, bk, o, i, sd, q, p):  # type: ignore[no-untyped-def]
    """Whether the venue can carry order ``o`` of ``q`` at about ``p`` (exposure-reducing orders always)."""
    ii = vs[V_II]
    fi = vs[V_FI]
    cur = vs[V_POS][i, P_QTY]
    new = cur + sd * q
    v = ii[i, I_VENUE]
    if ii[i, I_SPOT] == 1 and vs[V_IP][IP_SPOT_MARGIN] == 0:
        cash = vs[V_CASH]
        if sd > 0:
            cost = q * fi[i, F_MULT] * p * (1.0 + fi[i, F_TAKER])
            return cash[v, ii[i, I_QUOTE]] + 1e-9 * cost >= cost
        return cash[v, ii[i, I_BASE]] * (1.0 + 1e-12) >= q * fi[i, F_MULT]
    if abs(new) <= abs(cur):
        return True
    extra = _exposure_margin(vs, bk, i, new, p, F_IMR) - _exposure_margin(vs, bk, i, cur, p, F_IMR)
    if extra <= 0.0:
        return True
    return margin_usd(vs, bk, v, F_IMR) + extra <= equity_usd(vs, bk, v)


@njit(cache=True, nogil=True)
def execute_order(vs, bk, o, t):  # type: ignore[no-untyped-def]
    """Process order ``o`` arriving at the venue at time ``t`` (see the module doc)."""
    ii = vs[V_II]
    fi = vs[V_FI]
    oi = vs[V_OI]
    of = vs[V_OF]
    i = oi[o, O_INST]
    sd = oi[o, O_SIDE]
    q = of[o, OF_QTY]
    lim = of[o, OF_PRICE]
    is_mkt = oi[o, O_TYPE] == 0
    tif = oi[o, O_TIF]
    post = (oi[o, O_FLAGS] & 1) != 0
    if oi[o, O_T_CANCEL] == -2:  # a cancel overtook the order
        _close_order(vs, o, t, OS_CANCELLED, 0)
        return
    if vs[V_MK][i, M_HALT] != 0.0:
        _close_order(vs, o, t, OS_REJECTED, RJ_HALTED)
        return
    if (oi[o, O_FLAGS] & 2) != 0:
        cur = vs[V_POS][i, P_QTY]
        if cur * sd >= 0.0:
            _close_order(vs, o, t, OS_REJECTED, RJ_REDUCE_ONLY)
            return
        q = min(q, abs(cur))
        of[o, OF_QTY] = q
    if q < fi[i, F_LOT] * (1.0 - 1e-9):
        _close_order(vs, o, t, OS_REJECTED, RJ_MIN_QTY)
        return
    touch, _ = bk_best(bk, i, -sd)
    if np.isnan(touch):
        if is_mkt:
            _close_order(vs, o, t, OS_REJECTED, RJ_NO_BOOK)
            return
        crosses = False
    else:
        crosses = is_mkt or (sd > 0 and touch <= lim) or (sd < 0 and touch >= lim)
    if post and crosses:
        _close_order(vs, o, t, OS_REJECTED, RJ_POST_ONLY)
        return
    p_est = touch if crosses else lim
    if not _margin_ok(vs, bk, o, i, sd, q, p_est):
        _close_order(vs, o, t, OS_REJECTED, RJ_MARGIN)
        return
    rem = q
    if crosses:
        if ii[i, I_QONLY] == 1:
            px = touch * (1.0 + sd * fi[i, F_IMPACT] * 1e-4)
            if not is_mkt:
                px = min(px, lim) if sd > 0 else max(px, lim)
            record_fill(vs, bk, o, i, sd, px, rem, LQ_TAKER, -1, t)
            rem = 0.0
        else:
            spx = vs[V_SPX]
            ssz = vs[V_SSZ]
            n = bk_levels(bk, i, -sd, np.nan if is_mkt else lim, rem, spx, ssz)
            if tif == 2:
                avail = 0.0
                for k in range(n):
                    avail += ssz[k]
                if avail < rem * (1.0 - 1e-12):
                    _close_order(vs, o, t, OS_CANCELLED, RJ_FOK)
                    return
            for k in range(n):
                take = min(rem, ssz[k])
                if take <= 0.0:
                    continue
                record_fill(vs, bk, o, i, sd, spx[k], take, LQ_TAKER, k, t)
                bk_set(bk, i, -sd, spx[k], ssz[k] - take)
                rem -= take
                if rem <= q * 1e-12:
                    rem = 0.0
                    break
    if rem == 0.0:
        _close_order(vs, o, t, OS_FILLED, 0)
        return
    if is_mkt or tif != 0:
        _close_order(vs, o, t, OS_CANCELLED, RJ_EXPIRED_IOC)
        return
    oi[o, O_STATUS] = OS_OPEN
    of[o, OF_AHEAD] = bk_size_at(bk, i, sd, lim)
    report(vs, o, t, RP_ACK, 0)


@njit(cache=True, nogil=True)
def cancel_arrive(vs, o, t):  # type: ignore[no-untyped-def]
    """A cancel of ``o`` reaches the venue at ``t``."""
    st = vs[V_OI][o, O_STATUS]
    if st == OS_OPEN:
        _close_order(vs, o, t, OS_CANCELLED, 0)
    elif st == OS_INFLIGHT:
        vs[V_OI][o, O_T_CANCEL] = -2


@njit(cache=True, nogil=True)
def _fill_rest(vs, bk, o, q, t):  # type: ignore[no-untyped-def]
    oi = vs[V_OI]
    of = vs[V_OF]
    rem = of[o, OF_QTY] - of[o, OF_FILLED]
    q = min(q, rem)
    if q <= 0.0:
        return
    record_fill(vs, bk, o, oi[o, O_INST], oi[o, O_SIDE], of[o, OF_PRICE], q, LQ_MAKER, 0, t)
    if of[o, OF_QTY] - of[o, OF_FILLED] <= of[o, OF_QTY] * 1e-12:
        _close_order(vs, o, t, OS_FILLED, 0)


@njit(cache=True, nogil=True)
def rest_on_trade(vs, bk, i, px, sz, aggr, t):  # type: ignore[no-untyped-def]
    """A trade of ``sz`` at ``px`` (aggressor side ``aggr``) on ``i``: advance queues, fill resting orders."""
    oi = vs[V_OI]
    of = vs[V_OF]
    op = vs[V_OPEN]
    k = 0
    while k < vs[V_CNT][C_NOPEN]:
        o = op[k]
        k += 1
        if oi[o, O_INST] != i or oi[o, O_STATUS] != OS_OPEN:
            continue
        sd = oi[o, O_SIDE]
        if aggr != -sd:
            continue
        lim = of[o, OF_PRICE]
        through = px < lim if sd > 0 else px > lim
        if through:
            n0 = vs[V_CNT][C_NOPEN]
            _fill_rest(vs, bk, o, np.inf, t)
            if vs[V_CNT][C_NOPEN] < n0:
                k -= 1
        elif px == lim:
            ahead = of[o, OF_AHEAD] - sz
            if ahead < 0.0:
                of[o, OF_AHEAD] = 0.0
                n0 = vs[V_CNT][C_NOPEN]
                _fill_rest(vs, bk, o, -ahead, t)
                if vs[V_CNT][C_NOPEN] < n0:
                    k -= 1
            else:
                of[o, OF_AHEAD] = ahead


@njit(cache=True, nogil=True)
def rest_on_level(vs, i, sd, price, old, new):  # type: ignore[no-untyped-def]
    """The displayed size at ``price`` on side ``sd`` of ``i`` went from ``old`` to ``new``: move queues."""
    oi = vs[V_OI]
    of = vs[V_OF]
    op = vs[V_OPEN]
    model = vs[V_IP][IP_QMODEL]
    n = vs[V_FP][FP_QPOW]
    for k in range(vs[V_CNT][C_NOPEN]):
        o = op[k]
        if oi[o, O_INST] != i or oi[o, O_STATUS] != OS_OPEN or oi[o, O_SIDE] != sd:
            continue
        if of[o, OF_PRICE] != price:
            continue
        front = of[o, OF_AHEAD]
        if model == 1 and new < old:
            back = max(old - front, 0.0)
            fa = front**n
            fb = back**n
            share = 1.0 if fa + fb == 0.0 else fa / (fa + fb)
            front = max(front - (old - new) * share, 0.0)
        of[o, OF_AHEAD] = min(front, new)


@njit(cache=True, nogil=True)
def rest_on_cross(vs, bk, i, t):  # type: ignore[no-untyped-def]
    """Fill resting orders of ``i`` whose price the far side of the book has reached."""
    oi = vs[V_OI]
    of = vs[V_OF]
    op = vs[V_OPEN]
    bid, _ = bk_best(bk, i, 1)
    ask, _ = bk_best(bk, i, -1)
    k = 0
    while k < vs[V_CNT][C_NOPEN]:
        o = op[k]
        k += 1
        if oi[o, O_INST] != i or oi[o, O_STATUS] != OS_OPEN:
            continue
        lim = of[o, OF_PRICE]
        sd = oi[o, O_SIDE]
        if (sd > 0 and ask <= lim) or (sd < 0 and bid >= lim):
            n0 = vs[V_CNT][C_NOPEN]
            _fill_rest(vs, bk, o, np.inf, t)
            if vs[V_CNT][C_NOPEN] < n0:
                k -= 1


@njit(cache=True, nogil=True)
def cancel_all(vs, i, v, t, reason):  # type: ignore[no-untyped-def]
    """Cancel every live order of instrument ``i`` (or of venue ``v`` when ``i < 0``)."""
    oi = vs[V_OI]
    op = vs[V_OPEN]
    k = 0
    while k < vs[V_CNT][C_NOPEN]:
        o = op[k]
        j = oi[o, O_INST]
        if (i >= 0 and j == i) or (i < 0 and vs[V_II][j, I_VENUE] == v):
            _close_order(vs, o, t, OS_CANCELLED, reason)
        else:
            k += 1


@njit(cache=True, nogil=True)
def fund(vs, bk, i, rate, t):  # type: ignore[no-untyped-def]
    """Pay or receive funding at ``rate`` on ``i``'s position at the mark (else index, else mid)."""
    pos = vs[V_POS]
    q = pos[i, P_QTY]
    ii = vs[V_II]
    if q == 0.0 or ii[i, I_SPOT] == 1:
        return
    mk = vs[V_MK]
    src = 0
    p = mk[i, M_MARK]
    if np.isnan(p):
        src = 1
        p = mk[i, M_INDEX]
    if np.isnan(p):
        src = 2
        p = mid_of(bk, i)
    if np.isnan(p):
        return
    kind = ii[i, I_KIND]
    amt = funding1(q, p, rate, vs[V_FI][i, F_MULT], kind)
    pos[i, P_FUND] += amt
    vs[V_CASH][ii[i, I_VENUE], ii[i, I_SETTLE]] += amt
    cnt = vs[V_CNT]
    r = cnt[C_NFUND]
    cnt[C_NFUND] = r + 1
    vs[V_FUI][r, FUI_T] = t
    vs[V_FUI][r, FUI_INST] = i
    vs[V_FUI][r, FUI_SRC] = src
    fu = vs[V_FUF]
    fu[r, FU_QTY] = q
    fu[r, FU_PRICE] = p
    fu[r, FU_RATE] = rate
    fu[r, FU_AMOUNT] = amt
    fu[r, FU_USD] = amt * fx_of(vs, bk, i, p)


@njit(cache=True, nogil=True)
def expire(vs, bk, i, t):  # type: ignore[no-untyped-def]
    """Settle ``i`` at expiry against its underlying's index and halt it.

    Futures settle at the index; options at their intrinsic value (coin
    options: the intrinsic value over the index, in coin).
    """
    ii = vs[V_II]
    fi = vs[V_FI]
    cancel_all(vs, i, -1, t, RJ_HALTED)
    s = und_price(vs, bk, i)
    q = vs[V_POS][i, P_QTY]
    if q != 0.0 and not np.isnan(s):
        opt = ii[i, I_OPT]
        k = fi[i, F_STRIKE]
        if opt == 0:
            px = s
        else:
            intrinsic = max(s - k, 0.0) if opt == 1 else max(k - s, 0.0)
            px = intrinsic / s if ii[i, I_KIND] == 2 else intrinsic
        record_fill(vs, bk, -1, i, -1 if q > 0.0 else 1, px, abs(q), LQ_SETTLE, -1, t)
    vs[V_MK][i, M_HALT] = 1.0
    bk_clear(bk, i)


@njit(cache=True, nogil=True)
def liquidate_venue(vs, bk, v, t):  # type: ignore[no-untyped-def]
    """Close every derivative position at venue ``v`` at the mark (else mid), taker + liquidation fees."""
    ii = vs[V_II]
    pos = vs[V_POS]
    cancel_all(vs, -1, v, t, RJ_MARGIN)
    for i in range(ii.shape[0]):
        q = pos[i, P_QTY]
        if ii[i, I_VENUE] != v or q == 0.0 or ii[i, I_SPOT] == 1:
            continue
        p = vs[V_MK][i, M_MARK]
        if np.isnan(p):
            p = ref_price(vs, bk, i)
        record_fill(vs, bk, -1, i, -1 if q > 0.0 else 1, p, abs(q), LQ_LIQUIDATION, -1, t)
