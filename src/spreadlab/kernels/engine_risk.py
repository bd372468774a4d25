"""The risk layer's compiled check on every order and its loss switches (see :mod:`spreadlab.risk.limits`)."""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab.kernels.contracts import notional1
from spreadlab.kernels.engine_layout import (
    C_NOPEN,
    F_MULT,
    I_KIND,
    I_VENUE,
    P_QTY,
    RJ_RISK_GROSS,
    RJ_RISK_HALT,
    RJ_RISK_LEG,
    RJ_RISK_ORDERS,
    RJ_RISK_VENUE,
    RK_DAILY_LOSS,
    RK_DAY,
    RK_DAY_START,
    RK_DRAWDOWN,
    RK_GROSS,
    RK_HALT,
    RK_LEG,
    RK_OPEN,
    RK_PEAK,
    RK_VENUE,
    V_CNT,
    V_FI,
    V_II,
    V_POS,
    V_RISK,
)
from spreadlab.kernels.engine_market import fx_of, ref_price

__all__ = ["risk_check", "risk_sample"]


@njit(cache=True, nogil=True)
def risk_check(vs, bk, i, sd, qty):  # type: ignore[no-untyped-def]
    """The risk layer's verdict on an order (0: approved, else its RJ_RISK_* reason).

    Orders that reduce the instrument's position always pass. Others are
    refused while a loss switch is on, or when the open orders, the leg's,
    the venue's or the portfolio's gross notional (USD at the venue's
    valuation prices, in-flight orders not counted) would exceed a limit.
    """
    rk = vs[V_RISK]
    ii = vs[V_II]
    fi = vs[V_FI]
    pos = vs[V_POS]
    cur = pos[i, P_QTY]
    new = cur + sd * qty
    if abs(new) <= abs(cur) and cur * new >= 0.0:
        return 0
    if rk[RK_HALT] != 0.0:
        return RJ_RISK_HALT
    if vs[V_CNT][C_NOPEN] >= rk[RK_OPEN]:
        return RJ_RISK_ORDERS
    p = ref_price(vs, bk, i)
    if np.isnan(p):
        return 0
    m = fi[i, F_MULT]
    kind = ii[i, I_KIND]
    fx = fx_of(vs, bk, i, p)
    leg = abs(notional1(new, p, m, kind)) * fx
    if leg > rk[RK_LEG]:
        return RJ_RISK_LEG
    add = leg - abs(notional1(cur, p, m, kind)) * fx
    v = ii[i, I_VENUE]
    venue = 0.0
    gross = 0.0
    for j in range(ii.shape[0]):
        q = pos[j, P_QTY]
        if q == 0.0:
            continue
        pj = ref_price(vs, bk, j)
        if np.isnan(pj):
            continue
        nj = abs(notional1(q, pj, fi[j, F_MULT], ii[j, I_KIND])) * fx_of(vs, bk, j, pj)
        gross += nj
        if ii[j, I_VENUE] == v:
            venue += nj
    if venue + add > rk[RK_VENUE]:
        return RJ_RISK_VENUE
    if gross + add > rk[RK_GROSS]:
        return RJ_RISK_GROSS
    return 0


@njit(cache=True, nogil=True)
def risk_sample(vs, equity, t):  # type: ignore[no-untyped-def]
    """Update the loss switches from the portfolio's equity at a sample time ``t``."""
    rk = vs[V_RISK]
    if np.isnan(equity):
        return
    day = t // 86_400_000_000_000
    if rk[RK_DAY] != day:
        rk[RK_DAY] = day
        rk[RK_DAY_START] = equity
        if rk[RK_HALT] == 1.0:
            rk[RK_HALT] = 0.0
    if np.isnan(rk[RK_PEAK]) or equity > rk[RK_PEAK]:
        rk[RK_PEAK] = equity
    if rk[RK_HALT] != 2.0 and equity < rk[RK_PEAK] * (1.0 - rk[RK_DRAWDOWN]):
        rk[RK_HALT] = 2.0
    if rk[RK_HALT] == 0.0 and rk[RK_DAY_START] - equity > rk[RK_DAILY_LOSS]:
        rk[RK_HALT] = 1.0
