"""Engine prices, position averaging, latency draws, FIFO queues and reports, lot and tick rounding.

Prices: the venue mid, the valuation price (mid, else mark, else last
trade), the underlying's USD price (its index, else mark, else mid) and the
USD value of a currency or a settlement unit. Queues: orders and cancels in
flight to the venue and reports in flight to the strategy, each connection
FIFO. State lives in the venue tuple ``vs`` (:mod:`spreadlab.kernels.engine_layout`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab.kernels.contracts import fx1
from spreadlab.kernels.engine_book import bk_best
from spreadlab.kernels.engine_layout import (
    C_NPEND,
    C_NREP,
    C_RNG,
    C_SEQ,
    I_KIND,
    I_OPT,
    I_SETTLE,
    I_UND,
    I_VENUE,
    M_INDEX,
    M_LAST,
    M_MARK,
    O_INST,
    Q_AUX,
    Q_ID,
    Q_KIND,
    Q_SEQ,
    Q_T,
    QK_CANCEL,
    V_CNT,
    V_CSRC,
    V_FIFO,
    V_II,
    V_LATC,
    V_LATN,
    V_LATS,
    V_MK,
    V_OI,
    V_PQ,
    V_RQ,
)

__all__ = [
    "apply_position",
    "apply_position_py",
    "draw_latency",
    "fifo_time",
    "fx_of",
    "limit_price",
    "mid_of",
    "pop_min",
    "push_queue",
    "queue_min_t",
    "ref_price",
    "report",
    "round_qty",
    "send_cancel",
    "und_price",
    "usd_rate",
]

_EPS = 1e-9


@njit(cache=True, nogil=True)
def apply_position(q, a, dq, px, kind):  # type: ignore[no-untyped-def]
    """Return ``(new_qty, new_avg, closed_signed)`` after a fill of ``dq`` at ``px`` on ``(q, a)``.

    ``closed_signed`` is the part of the old position closed (sign of the old
    position), whose PnL is ``pnl1(closed_signed, a, px)``.
    """
    tol = _EPS * max(abs(q), abs(dq), 1.0)
    if q == 0.0 or (q > 0.0) == (dq > 0.0):
        nq = q + dq
        if q == 0.0:
            return nq, px, 0.0
        if kind == 1:
            na = (abs(q) + abs(dq)) / (abs(q) / a + abs(dq) / px)
        else:
            na = (abs(q) * a + abs(dq) * px) / (abs(q) + abs(dq))
        return nq, na, 0.0
    close = min(abs(dq), abs(q))
    closed = close if q > 0.0 else -close
    nq = q + dq
    if abs(nq) <= tol:
        return 0.0, 0.0, closed
    if abs(dq) > abs(q):
        return nq, px, closed
    return nq, a, closed


def apply_position_py(q: float, a: float, dq: float, px: float, kind: int) -> tuple[float, float, float]:
    """Plain-Python twin of :func:`apply_position`."""
    tol = _EPS * max(abs(q), abs(dq), 1.0)
    if q == 0.0 or (q > 0.0) == (dq > 0.0):
        if q == 0.0:
            return q + dq, px, 0.0
        w = abs(q) + abs(dq)
        na = w / (abs(q) / a + abs(dq) / px) if kind == 1 else (abs(q) * a + abs(dq) * px) / w
        return q + dq, na, 0.0
    closed = min(abs(dq), abs(q)) * (1.0 if q > 0.0 else -1.0)
    nq = q + dq
    if abs(nq) <= tol:
        return 0.0, 0.0, closed
    return (nq, px, closed) if abs(dq) > abs(q) else (nq, a, closed)


@njit(cache=True, nogil=True)
def mid_of(bk, i):  # type: ignore[no-untyped-def]
    """Venue mid of instrument ``i`` (NaN unless both sides are quoted)."""
    b, _ = bk_best(bk, i, 1)
    a, _ = bk_best(bk, i, -1)
    return 0.5 * (a + b)


@njit(cache=True, nogil=True)
def ref_price(vs, bk, i):  # type: ignore[no-untyped-def]
    """Valuation price of ``i``: the mid, else the mark, else the last trade."""
    p = mid_of(bk, i)
    if np.isnan(p):
        p = vs[V_MK][i, M_MARK]
    if np.isnan(p):
        p = vs[V_MK][i, M_LAST]
    return p


@njit(cache=True, nogil=True)
def und_price(vs, bk, i):  # type: ignore[no-untyped-def]
    """USD price of ``i``'s underlying: its index (or the underlying instrument's), else mark, else mid."""
    j = vs[V_II][i, I_UND]
    if j < 0:
        j = i
    p = vs[V_MK][j, M_INDEX]
    if np.isnan(p):
        p = vs[V_MK][j, M_MARK]
    if np.isnan(p) or vs[V_II][j, I_OPT] != 0:
        p2 = mid_of(bk, j)
        if not np.isnan(p2) or np.isnan(p):
            p = p2
    return p


@njit(cache=True, nogil=True)
def usd_rate(vs, bk, c):  # type: ignore[no-untyped-def]
    """USD per unit of currency ``c`` (par for USD stablecoins)."""
    src = vs[V_CSRC][c]
    if src < 0:
        return 1.0
    return und_price(vs, bk, src)


@njit(cache=True, nogil=True)
def fx_of(vs, bk, i, p):  # type: ignore[no-untyped-def]
    """USD per unit of ``i``'s settlement currency when ``i`` trades at ``p``."""
    kind = vs[V_II][i, I_KIND]
    if kind in (1, 2):
        return fx1(p, und_price(vs, bk, i), kind)
    return usd_rate(vs, bk, vs[V_II][i, I_SETTLE])


@njit(cache=True, nogil=True)
def draw_latency(vs, v, k):  # type: ignore[no-untyped-def]
    """Latency (ns) of kind ``k`` (0 order entry, 1 response) at venue ``v``: constant or a drawn sample."""
    n = vs[V_LATN][v, k]
    if n == 0:
        return vs[V_LATC][v, k]
    cnt = vs[V_CNT]
    x = np.uint64(cnt[C_RNG])
    x ^= x << np.uint64(13)
    x ^= x >> np.uint64(7)
    x ^= x << np.uint64(17)
    cnt[C_RNG] = np.int64(x & np.uint64(0x7FFFFFFFFFFFFFFF))
    return vs[V_LATS][v, k, cnt[C_RNG] % n]


@njit(cache=True, nogil=True)
def push_queue(vs, which, t, kind, oid, aux):  # type: ignore[no-untyped-def]
    """Append an entry to the report queue (``which`` = 0) or the arrival queue (1)."""
    cnt = vs[V_CNT]
    q = vs[V_RQ] if which == 0 else vs[V_PQ]
    ci = C_NREP if which == 0 else C_NPEND
    n = cnt[ci]
    q[n, Q_T] = t
    q[n, Q_KIND] = kind
    q[n, Q_ID] = oid
    q[n, Q_AUX] = aux
    q[n, Q_SEQ] = cnt[C_SEQ]
    cnt[C_SEQ] += 1
    cnt[ci] = n + 1


@njit(cache=True, nogil=True)
def pop_min(vs, which, out):  # type: ignore[no-untyped-def]
    """Remove the earliest entry (time, then sequence) of a queue into ``out``; return False if empty."""
    cnt = vs[V_CNT]
    q = vs[V_RQ] if which == 0 else vs[V_PQ]
    ci = C_NREP if which == 0 else C_NPEND
    n = cnt[ci]
    if n == 0:
        return False
    best = 0
    for k in range(1, n):
        if q[k, Q_T] < q[best, Q_T] or (q[k, Q_T] == q[best, Q_T] and q[k, Q_SEQ] < q[best, Q_SEQ]):
            best = k
    for c in range(q.shape[1]):
        out[c] = q[best, c]
        q[best, c] = q[n - 1, c]
    cnt[ci] = n - 1
    return True


@njit(cache=True, nogil=True)
def queue_min_t(vs, which):  # type: ignore[no-untyped-def]
    """Earliest time in a queue (``INF`` when empty)."""
    cnt = vs[V_CNT]
    q = vs[V_RQ] if which == 0 else vs[V_PQ]
    n = cnt[C_NREP if which == 0 else C_NPEND]
    t = np.int64(9_223_372_036_854_775_807)
    for k in range(n):
        t = min(t, q[k, Q_T])
    return t


@njit(cache=True, nogil=True)
def fifo_time(vs, v, k, t):  # type: ignore[no-untyped-def]
    """``t`` plus a latency draw, never before the previous message on the same connection (FIFO)."""
    fifo = vs[V_FIFO]
    at = t + draw_latency(vs, v, k)
    at = max(at, fifo[v, k])
    fifo[v, k] = at
    return at


@njit(cache=True, nogil=True)
def report(vs, o, t, kind, aux):  # type: ignore[no-untyped-def]
    """Queue a report of order ``o`` to its strategy, delivered after the venue's response latency."""
    v = vs[V_II][vs[V_OI][o, O_INST], I_VENUE]
    push_queue(vs, 0, fifo_time(vs, v, 1, t), kind, o, aux)


@njit(cache=True, nogil=True)
def send_cancel(vs, t, o):  # type: ignore[no-untyped-def]
    """Send a cancel of ``o`` at local time ``t`` on the venue's order connection."""
    v = vs[V_II][vs[V_OI][o, O_INST], I_VENUE]
    push_queue(vs, 1, fifo_time(vs, v, 0, t), QK_CANCEL, o, 0)


@njit(cache=True, nogil=True)
def round_qty(q, lot):  # type: ignore[no-untyped-def]
    """Round ``|q|`` down to whole lots (keeping the sign)."""
    n = np.floor(abs(q) / lot + 1e-6)
    return np.sign(q) * np.round(n * lot, 12)  # 99900 * 1e-5 is 0.9990000000000001 before rounding


@njit(cache=True, nogil=True)
def limit_price(side, touch, slip_bp, tick):  # type: ignore[no-untyped-def]
    """An IOC limit at the touch allowing ``slip_bp`` of slippage, on the tick grid, never inside it."""
    if side > 0:
        p = np.floor(touch * (1.0 + slip_bp * 1e-4) / tick + 1e-9) * tick
        return max(p, touch)
    p = np.ceil(touch * (1.0 - slip_bp * 1e-4) / tick - 1e-9) * tick
    return min(p, touch)
