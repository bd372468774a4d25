"""The compiled decision step of :class:`spreadlab.strategy.SpreadConvergence`.

Each spread ``s`` has legs ``k`` with instruments ``i_k`` and weights ``w_0 =
r_0``, ``w_k = r_k * beta`` (``r`` the legs' ratios, ``beta`` the hedge ratio
of the schedule row in force). A schedule row ``(t, beta, mu, sd)`` is fitted
by the strategy's models on data strictly before ``t`` and used from ``t``
on. The strategy sees only its local view (what arrived by ``t_recv`` plus
the feed latency) and learns its fills from reports after the response
latency.

Executable values (sell the spread: legs with ``w > 0`` at the bid, the
others at the ask; buy: the reverse) are ``sum w_k p_k`` (difference),
``sum w_k log p_k`` (log) or ``p_0 / p_1 - 1`` (ratio); ``z = (v - mu) / sd``.

Flat: enter short when ``z_sell >= entry``, long when ``z_buy <= -entry`` (not
before the cooldown after a stop). Long: exit when ``z_sell >= -exit``, stop
when ``z_sell <= -stop``; short: exit when ``z_buy <= exit``, stop when
``z_buy >= stop``; any position: exit after ``max_hold``. Size: ``units =
notional_usd / usd_per_coin(leg 0)``, leg 0 rounded down to its lot; then a
difference spread holds ``units * w_k`` coins of leg ``k``, a log or ratio spread
(which weighs returns) ``w_k`` times leg 0's USD notional, each in contracts
rounded down to its lot (no trade when a leg rounds to zero). Legs are sent
together (IOC limits at the touch +- slippage, or market). When every order of
a round trip is done and a leg is short of its target, the residual is sent at
market after the legging timeout (at most ``MAX_TRIES`` times; then every leg
is flattened, and after as many failed attempts at that the legs are left as
they are); an entry that filled nothing on any leg goes back to flat. With a
passive leg ``m`` the entry posts leg ``m`` alone (post-only, at its own
touch: a buy at the bid), hedges each fill of it on the other legs at market,
cancels it after the legging timeout and sizes the round trip to what it
filled; exits are always taken. Leg imbalance (``(max_k u_k - min_k u_k) *
usd_per_unit``, ``u_k`` the spread units leg ``k`` holds) accrues in USD x
seconds.

After a stop-loss the stopped side is not entered again until z has come back
inside the entry band (and not before the cooldown).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab.kernels.engine_layout import (
    A_ABANDON,
    A_EXIT,
    A_FLAT,
    A_HALTED,
    A_HEDGE,
    A_MAX_HOLD,
    A_MISSED,
    A_STOP,
    A_STUCK,
    C_NLOG,
    F_LOT,
    F_MULT,
    F_TICK,
    FF_QTY,
    FI_INST,
    FI_SIDE,
    I_KIND,
    I_OPT,
    I_QUOTE,
    I_UND,
    INF_T,
    L_ASK,
    L_BID,
    L_INDEX,
    L_MARK,
    LF_MU,
    LF_SD,
    LF_VALUE,
    LF_Z,
    LG_ACTION,
    LG_SPREAD,
    LG_T,
    LG_TRADE,
    M_HALT,
    MAX_LEGS,
    MAX_TRIES,
    O_LEG,
    O_OWNER,
    RJ_RISK_LEG,
    RP_DONE,
    RP_FILL,
    RP_REJECT,
    RP_SETTLE,
    S_B,
    S_CF,
    S_CI,
    S_LGF,
    S_LGI,
    S_MU,
    S_SD,
    S_SF,
    S_SI,
    S_T,
    SF_ENTRY,
    SF_EXIT,
    SF_NOTIONAL,
    SF_RATIO,
    SF_SLIP,
    SF_STOP,
    SI_COOLDOWN,
    SI_DIRS,
    SI_LEG,
    SI_MAKER,
    SI_MARKET,
    SI_MAX_HOLD,
    SI_NLEG,
    SI_NROWS,
    SI_QUOTE,
    SI_TIMEOUT,
    SS_BLOCK,
    SS_DIR,
    SS_EXITING,
    SS_HEDGES,
    SS_MAKER_OID,
    SS_MCANCEL,
    SS_OPEN,
    SS_ROW,
    SS_T_COOL,
    SS_T_ENTRY,
    SS_T_TIMEOUT,
    SS_TRADE_ID,
    SS_TRADES,
    SS_TRY,
    SV_IMB,
    SV_IMB_NOW,
    SV_IMB_T0,
    SV_KNOWN,
    SV_LAST_T,
    SV_LAST_Z,
    SV_TARGET,
    V_CNT,
    V_FI,
    V_FLF,
    V_FLI,
    V_II,
    V_MK,
    V_OI,
)
from spreadlab.kernels.engine_market import limit_price, round_qty, send_cancel, usd_rate
from spreadlab.kernels.engine_venue import submit

__all__ = ["decide", "next_timer", "on_report", "spread_value"]


@njit(cache=True, nogil=True)
def _log(ss, vs, t, s, action, value, z, mu, sd):  # type: ignore[no-untyped-def]
    cnt = vs[V_CNT]
    r = cnt[C_NLOG]
    cnt[C_NLOG] = r + 1
    lgi = ss[S_LGI]
    lgf = ss[S_LGF]
    lgi[r, LG_T] = t
    lgi[r, LG_SPREAD] = s
    lgi[r, LG_ACTION] = action
    lgi[r, LG_TRADE] = ss[S_SI][s, SS_TRADE_ID]
    lgf[r, LF_VALUE] = value
    lgf[r, LF_Z] = z
    lgf[r, LF_MU] = mu
    lgf[r, LF_SD] = sd


@njit(cache=True, nogil=True)
def spread_value(quote, nleg, w, p_pos, p_neg):  # type: ignore[no-untyped-def]
    """Spread value with legs of positive weight at ``p_pos`` and the others at ``p_neg``."""
    if quote == 2:
        a = p_pos[0] if w[0] > 0.0 else p_neg[0]
        b = p_pos[1] if w[1] > 0.0 else p_neg[1]
        return a / b - 1.0
    v = 0.0
    for k in range(nleg):
        p = p_pos[k] if w[k] > 0.0 else p_neg[k]
        v += w[k] * (np.log(p) if quote == 1 else p)
    return v


@njit(cache=True, nogil=True)
def _coin_usd(vs, bk, lk, i):  # type: ignore[no-untyped-def]
    """USD per coin of ``i``'s underlying in the local view."""
    ii = vs[V_II]
    if ii[i, I_OPT] != 0:
        j = ii[i, I_UND]
        if j < 0:
            j = i
        p = lk[j, L_INDEX]
        if np.isnan(p):
            p = lk[j, L_MARK]
        if np.isnan(p):
            p = 0.5 * (lk[j, L_BID] + lk[j, L_ASK])
        return p
    mid = 0.5 * (lk[i, L_BID] + lk[i, L_ASK])
    if ii[i, I_KIND] == 1:
        return mid
    return mid * usd_rate(vs, bk, ii[i, I_QUOTE])


@njit(cache=True, nogil=True)
def _coins_per_contract(vs, lk, i):  # type: ignore[no-untyped-def]
    m = vs[V_FI][i, F_MULT]
    if vs[V_II][i, I_KIND] == 1:
        return m / (0.5 * (lk[i, L_BID] + lk[i, L_ASK]))
    return m


@njit(cache=True, nogil=True)
def _imbalance(vs, bk, lk, ss, s, w):  # type: ignore[no-untyped-def]
    sci = ss[S_CI]
    ssf = ss[S_SF]
    nleg = sci[s, SI_NLEG]
    hi = -np.inf
    lo = np.inf
    for k in range(nleg):
        i = sci[s, SI_LEG + k]
        u = ssf[s, SV_KNOWN + k] * _coins_per_contract(vs, lk, i) / w[k]
        hi = max(hi, u)
        lo = min(lo, u)
    if hi - lo <= 0.0:
        return 0.0
    return (hi - lo) * abs(w[0]) * _coin_usd(vs, bk, lk, sci[s, SI_LEG])


@njit(cache=True, nogil=True)
def _send(vs, bk, lk, ss, s, t, market):  # type: ignore[no-untyped-def]
    """Send each leg's difference between target and known quantity."""
    sci = ss[S_CI]
    ssf = ss[S_SF]
    ssi = ss[S_SI]
    fi = vs[V_FI]
    slip = ss[S_CF][s, SF_SLIP]
    for k in range(sci[s, SI_NLEG]):
        i = sci[s, SI_LEG + k]
        d = round_qty(ssf[s, SV_TARGET + k] - ssf[s, SV_KNOWN + k], fi[i, F_LOT])
        if d == 0.0:
            continue
        sd = 1 if d > 0.0 else -1
        if market:
            submit(vs, t, i, sd, abs(d), np.nan, 0, 1, 0, s, k, ssi[s, SS_TRADE_ID], bk)
        else:
            touch = lk[i, L_ASK] if sd > 0 else lk[i, L_BID]
            px = limit_price(sd, touch, slip, fi[i, F_TICK])
            submit(vs, t, i, sd, abs(d), px, 1, 1, 0, s, k, ssi[s, SS_TRADE_ID], bk)
        ssi[s, SS_OPEN] += 1


@njit(cache=True, nogil=True)
def _passive(vs, bk, lk, ss, s, t):  # type: ignore[no-untyped-def]
    """A passive entry is working: hedge what it filled at market, cancel it at the timeout."""
    sci = ss[S_CI]
    ssi = ss[S_SI]
    ssf = ss[S_SF]
    m = sci[s, SI_MAKER]
    fi = vs[V_FI]
    if ssi[s, SS_OPEN] == 1 and ssf[s, SV_TARGET + m] != 0.0:
        frac = ssf[s, SV_KNOWN + m] / ssf[s, SV_TARGET + m]
        for k in range(sci[s, SI_NLEG]):
            if k == m:
                continue
            i = sci[s, SI_LEG + k]
            d = round_qty(ssf[s, SV_TARGET + k] * frac - ssf[s, SV_KNOWN + k], fi[i, F_LOT])
            if d != 0.0:
                submit(vs, t, i, 1 if d > 0.0 else -1, abs(d), np.nan, 0, 1, 0, s, k, ssi[s, SS_TRADE_ID], bk)
                ssi[s, SS_OPEN] += 1
    if ssi[s, SS_MCANCEL] == 0 and t >= ssi[s, SS_T_TIMEOUT]:
        send_cancel(vs, t, ssi[s, SS_MAKER_OID])
        ssi[s, SS_MCANCEL] = 1


@njit(cache=True, nogil=True)
def decide(vs, bk, lk, ss, s, t):  # type: ignore[no-untyped-def]
    """Run spread ``s``'s decision step at local time ``t`` (see the module doc)."""
    sci = ss[S_CI]
    scf = ss[S_CF]
    ssi = ss[S_SI]
    ssf = ss[S_SF]
    nleg = sci[s, SI_NLEG]
    nr = sci[s, SI_NROWS]
    r = ssi[s, SS_ROW]
    sch_t = ss[S_T]
    while r + 1 < nr and sch_t[s, r + 1] <= t:
        r += 1
    ssi[s, SS_ROW] = r
    if nr == 0 or sch_t[s, r] > t:
        return
    beta = ss[S_B][s, r]
    mu = ss[S_MU][s, r]
    sd_ = ss[S_SD][s, r]
    w = np.empty(MAX_LEGS)
    bids = np.empty(MAX_LEGS)
    asks = np.empty(MAX_LEGS)
    halted = False
    for k in range(nleg):
        i = sci[s, SI_LEG + k]
        w[k] = scf[s, SF_RATIO + k] * (1.0 if k == 0 else beta)
        bids[k] = lk[i, L_BID]
        asks[k] = lk[i, L_ASK]
        if vs[V_MK][i, M_HALT] != 0.0:
            halted = True
    for k in range(nleg):
        if not halted and (np.isnan(bids[k]) or np.isnan(asks[k])):
            return
    # leg imbalance accrual
    if not halted:
        last = ssf[s, SV_LAST_T]
        if last > 0.0:
            ssf[s, SV_IMB] += ssf[s, SV_IMB_NOW] * (t - last) * 1e-9
        ssf[s, SV_LAST_T] = t
        ssf[s, SV_IMB_NOW] = _imbalance(vs, bk, lk, ss, s, w)
    if ssi[s, SS_MAKER_OID] >= 0:
        _passive(vs, bk, lk, ss, s, t)
        return
    if ssi[s, SS_OPEN] > 0:
        return
    lot_ok = True
    flat = True
    any_known = False
    for k in range(nleg):
        i = sci[s, SI_LEG + k]
        lot = vs[V_FI][i, F_LOT]
        if abs(ssf[s, SV_TARGET + k] - ssf[s, SV_KNOWN + k]) > 0.5 * lot:
            lot_ok = False
        if abs(ssf[s, SV_KNOWN + k]) > 0.5 * lot:
            flat = False
            any_known = True
    market = sci[s, SI_MARKET] == 1
    if halted:
        if not flat:
            for k in range(nleg):
                ssf[s, SV_TARGET + k] = 0.0
            ssi[s, SS_DIR] = 0
            ssi[s, SS_EXITING] = 1
            _send(vs, bk, lk, ss, s, t, True)
            _log(ss, vs, t, s, A_HALTED, np.nan, np.nan, mu, sd_)
        return
    if not lot_ok:
        if ssi[s, SS_EXITING] == 0 and not any_known:
            for k in range(nleg):
                ssf[s, SV_TARGET + k] = 0.0
            ssi[s, SS_DIR] = 0
            ssi[s, SS_T_TIMEOUT] = -1
            _log(ss, vs, t, s, A_MISSED, np.nan, np.nan, mu, sd_)
            ssi[s, SS_TRADE_ID] = -1
            return
        if ssi[s, SS_T_TIMEOUT] == -2:
            return
        if ssi[s, SS_T_TIMEOUT] < 0:
            ssi[s, SS_T_TIMEOUT] = t + sci[s, SI_TIMEOUT]
        if t >= ssi[s, SS_T_TIMEOUT]:
            ssi[s, SS_T_TIMEOUT] = t + sci[s, SI_TIMEOUT]
            if ssi[s, SS_TRY] >= 2 * MAX_TRIES:
                ssi[s, SS_T_TIMEOUT] = -2
                _log(ss, vs, t, s, A_STUCK, np.nan, np.nan, mu, sd_)
                return
            if ssi[s, SS_TRY] == MAX_TRIES:
                for k in range(nleg):
                    ssf[s, SV_TARGET + k] = 0.0
                ssi[s, SS_DIR] = 0
                ssi[s, SS_EXITING] = 1
                _log(ss, vs, t, s, A_ABANDON, np.nan, np.nan, mu, sd_)
            else:
                _log(ss, vs, t, s, A_HEDGE, np.nan, np.nan, mu, sd_)
            ssi[s, SS_TRY] += 1
            ssi[s, SS_HEDGES] += 1
            _send(vs, bk, lk, ss, s, t, True)
        return
    ssi[s, SS_T_TIMEOUT] = -1
    ssi[s, SS_TRY] = 0
    if flat and ssi[s, SS_TRADE_ID] >= 0:
        _log(ss, vs, t, s, A_FLAT, ssf[s, SV_IMB] - ssf[s, SV_IMB_T0], np.nan, mu, sd_)
        ssi[s, SS_TRADE_ID] = -1
        ssi[s, SS_EXITING] = 0
    if not (sd_ > 0.0) or np.isnan(mu):
        return
    quote = sci[s, SI_QUOTE]
    v_sell = spread_value(quote, nleg, w, bids, asks)
    v_buy = spread_value(quote, nleg, w, asks, bids)
    z_sell = (v_sell - mu) / sd_
    z_buy = (v_buy - mu) / sd_
    d = ssi[s, SS_DIR]
    if d == 0:
        ssf[s, SV_LAST_Z] = 0.5 * (z_sell + z_buy)
        entry = scf[s, SF_ENTRY]
        if ssi[s, SS_BLOCK] != 0 and z_sell < entry and z_buy > -entry:
            ssi[s, SS_BLOCK] = 0  # back inside the band: re-armed
        if not flat or t < ssi[s, SS_T_COOL]:
            return
        new = 0
        dirs = sci[s, SI_DIRS]
        if z_sell >= entry and dirs <= 0:
            new = -1
        elif z_buy <= -entry and dirs >= 0:
            new = 1
        if new == 0 or new == ssi[s, SS_BLOCK]:
            return
        usd0 = _coin_usd(vs, bk, lk, sci[s, SI_LEG])
        units = scf[s, SF_NOTIONAL] / (usd0 * abs(w[0]))
        for k in range(nleg):
            i = sci[s, SI_LEG + k]
            cpc = _coins_per_contract(vs, lk, i)
            # a log or ratio spread weighs returns: leg k holds w_k times leg 0's USD, not its coins
            scale = 1.0 if quote == 0 or k == 0 else usd0 / _coin_usd(vs, bk, lk, i)
            q = round_qty(new * units * w[k] * scale / cpc, vs[V_FI][i, F_LOT])
            if q == 0.0:
                return
            if k == 0:  # the other legs hedge what leg 0 holds after its lot rounding
                units = abs(q) * cpc / abs(w[0])
            ssf[s, SV_TARGET + k] = q
        ssi[s, SS_DIR] = new
        ssi[s, SS_EXITING] = 0
        ssi[s, SS_T_ENTRY] = t
        ssi[s, SS_TRADE_ID] = ssi[s, SS_TRADES]
        ssi[s, SS_TRADES] += 1
        ssf[s, SV_IMB_T0] = ssf[s, SV_IMB]
        m = sci[s, SI_MAKER]
        if m >= 0:
            i = sci[s, SI_LEG + m]
            q = ssf[s, SV_TARGET + m]
            sd1 = 1 if q > 0.0 else -1
            px = lk[i, L_BID] if sd1 > 0 else lk[i, L_ASK]
            o = submit(vs, t, i, sd1, abs(q), px, 1, 0, 1, s, m, ssi[s, SS_TRADE_ID], bk)
            ssi[s, SS_OPEN] += 1
            ssi[s, SS_MAKER_OID] = o
            ssi[s, SS_MCANCEL] = 0
            ssi[s, SS_T_TIMEOUT] = t + sci[s, SI_TIMEOUT]
        else:
            _send(vs, bk, lk, ss, s, t, market)
        _log(ss, vs, t, s, new, v_sell if new < 0 else v_buy, z_sell if new < 0 else z_buy, mu, sd_)
        return
    action = 0
    ex = scf[s, SF_EXIT]
    stop = scf[s, SF_STOP]
    z = z_buy if d < 0 else z_sell
    if d < 0:
        if z_buy <= ex:
            action = A_EXIT
        elif z_buy >= stop:
            action = A_STOP
    elif z_sell >= -ex:
        action = A_EXIT
    elif z_sell <= -stop:
        action = A_STOP
    if action == 0 and sci[s, SI_MAX_HOLD] > 0 and t - ssi[s, SS_T_ENTRY] >= sci[s, SI_MAX_HOLD]:
        action = A_MAX_HOLD
    if action == 0:
        return
    for k in range(nleg):
        ssf[s, SV_TARGET + k] = 0.0
    ssi[s, SS_DIR] = 0
    ssi[s, SS_EXITING] = 1
    if action == A_STOP:
        ssi[s, SS_T_COOL] = t + sci[s, SI_COOLDOWN]
        ssi[s, SS_BLOCK] = d
    _send(vs, bk, lk, ss, s, t, market)
    _log(ss, vs, t, s, action, v_buy if d < 0 else v_sell, z, mu, sd_)


@njit(cache=True, nogil=True)
def on_report(vs, bk, lk, ss, kind, o, aux, t):  # type: ignore[no-untyped-def]
    """Deliver a report to the compiled strategies; return True when one of them owned it."""
    sci = ss[S_CI]
    ssi = ss[S_SI]
    ssf = ss[S_SF]
    if kind == RP_SETTLE:
        i = vs[V_FLI][aux, FI_INST]
        hit = False
        for s in range(sci.shape[0]):
            for k in range(sci[s, SI_NLEG]):
                if sci[s, SI_LEG + k] == i and ssf[s, SV_KNOWN + k] != 0.0:
                    ssf[s, SV_KNOWN + k] = 0.0
                    hit = True
                    decide(vs, bk, lk, ss, s, t)
        return hit
    if o < 0:
        return False
    s = vs[V_OI][o, O_OWNER]
    if s < 0:
        return False
    if kind == RP_FILL:
        k = vs[V_OI][o, O_LEG]
        ssf[s, SV_KNOWN + k] += vs[V_FLI][aux, FI_SIDE] * vs[V_FLF][aux, FF_QTY]
    elif kind in (RP_DONE, RP_REJECT):
        ssi[s, SS_OPEN] -= 1
        if kind == RP_REJECT and aux >= RJ_RISK_LEG:
            # refused by the risk layer: no new entry before the next schedule row
            r = ssi[s, SS_ROW]
            ssi[s, SS_T_COOL] = ss[S_T][s, r + 1] if r + 1 < sci[s, SI_NROWS] else INF_T
        if o == ssi[s, SS_MAKER_OID]:
            # the passive entry is over: the round trip is what it filled
            ssi[s, SS_MAKER_OID] = -1
            m = sci[s, SI_MAKER]
            tm = ssf[s, SV_TARGET + m]
            frac = ssf[s, SV_KNOWN + m] / tm if tm != 0.0 else 0.0
            for k in range(sci[s, SI_NLEG]):
                i = sci[s, SI_LEG + k]
                if k == m:
                    ssf[s, SV_TARGET + k] = ssf[s, SV_KNOWN + k]
                else:
                    ssf[s, SV_TARGET + k] = round_qty(ssf[s, SV_TARGET + k] * frac, vs[V_FI][i, F_LOT])
            ssi[s, SS_T_TIMEOUT] = t  # hedge any residual at once
    decide(vs, bk, lk, ss, s, t)
    return True


@njit(cache=True, nogil=True)
def next_timer(ss):  # type: ignore[no-untyped-def]
    """Earliest legging deadline among spreads waiting to hedge a residual."""
    ssi = ss[S_SI]
    t = np.int64(9_223_372_036_854_775_807)
    for s in range(ssi.shape[0]):
        ready = ssi[s, SS_OPEN] == 0 or (ssi[s, SS_MAKER_OID] >= 0 and ssi[s, SS_MCANCEL] == 0)
        if ssi[s, SS_T_TIMEOUT] >= 0 and ready and ssi[s, SS_T_TIMEOUT] < t:
            t = ssi[s, SS_T_TIMEOUT]
    return t
