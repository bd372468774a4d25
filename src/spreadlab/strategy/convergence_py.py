"""SpreadConvergencePy: the compiled spread strategy's decision step written again in plain Python.

It runs through the engine's Python strategy interface (subscriptions,
reports, one timer) from the same :class:`SpreadProgram`, so a parity test can
hold the compiled and the Python path to identical orders and fills. It is
also the template for a user's own strategy. Sizing assumes legs quoted in a
USD stablecoin (or inverse legs quoted in USD), as the compiled step does
when the quote currency trades at par.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from spreadlab.core.enums import Side
from spreadlab.core.ids import InstrumentId
from spreadlab.instruments.base import Instrument, Option
from spreadlab.strategy.base import Report, ReportKind
from spreadlab.strategy.program import SpreadProgram

__all__ = ["SpreadConvergencePy"]

_MAX_TRIES = 3


def _round_qty(q: float, lot: float) -> float:
    n = math.floor(abs(q) / lot + 1e-6)
    return math.copysign(round(n * lot, 12), q) if n else 0.0


def _limit_price(side: int, touch: float, slip_bp: float, tick: float) -> float:
    if side > 0:
        return max(math.floor(touch * (1.0 + slip_bp * 1e-4) / tick + 1e-9) * tick, touch)
    return min(math.ceil(touch * (1.0 - slip_bp * 1e-4) / tick - 1e-9) * tick, touch)


class SpreadConvergencePy:
    """Plain-Python twin of the compiled decision step for one spread (see ``kernels/engine_strategy``)."""

    def __init__(self, program: SpreadProgram, instruments: Sequence[Instrument]) -> None:
        if program.maker_leg >= 0:
            raise NotImplementedError(
                "the Python twin covers taker legging; passive entries run compiled only"
            )
        self.p = program
        by_id = {str(i.id): i for i in instruments}
        self.legs = [by_id[str(i)] for i in program.instrument_ids]
        n = len(self.legs)
        self.target = [0.0] * n
        self.known = [0.0] * n
        self.dir = 0
        self.t_entry = 0
        self.t_cool = 0
        self.t_timeout = -1
        self.row = 0
        self.open = 0
        self.tries = 0
        self.exiting = 0
        self.trade_id = -1
        self.trades = 0
        self.block = 0
        self.leg_of: dict[int, int] = {}
        self._last: dict[str, tuple[float, float]] = {}
        self.actions: list[tuple[int, str]] = []

    # ------------------------------------------------------------------ interface
    def subscriptions(self) -> Sequence[InstrumentId]:
        return tuple(leg.id for leg in self.legs)

    def on_start(self, ctx: Any) -> None:
        pass

    def on_market(self, ctx: Any, instrument_id: InstrumentId) -> None:
        key = str(instrument_id)
        top = (ctx.bid(instrument_id), ctx.ask(instrument_id))
        old = self._last.get(key)
        self._last[key] = top
        if (
            old is not None
            and (old[0] == top[0] or (math.isnan(old[0]) and math.isnan(top[0])))
            and (old[1] == top[1] or (math.isnan(old[1]) and math.isnan(top[1])))
        ):
            return  # only a size changed: the compiled step is not called either
        self.decide(ctx)

    def on_report(self, ctx: Any, report: Report) -> None:
        if report.kind is ReportKind.SETTLE:
            hit = False
            for k, leg in enumerate(self.legs):
                if leg.id == report.instrument_id and self.known[k] != 0.0:
                    self.known[k] = 0.0
                    hit = True
            if hit:
                self.decide(ctx)
            return
        li = self.leg_of.get(report.order_id)
        if li is None:
            return
        if report.kind is ReportKind.FILL:
            self.known[li] += report.filled
        elif report.kind in (ReportKind.DONE, ReportKind.REJECT):
            self.open -= 1
            if report.kind is ReportKind.REJECT and report.reason >= 10:  # the risk layer refused it
                st = self.p.schedule_t
                self.t_cool = int(st[self.row + 1]) if self.row + 1 < st.shape[0] else 2**63 - 1
        self.decide(ctx)

    def on_timer(self, ctx: Any) -> None:
        if self.t_timeout == ctx.now and self.open == 0:
            self.decide(ctx)

    # ------------------------------------------------------------------ decision
    def _send(self, ctx: Any, market: bool) -> None:
        for k, leg in enumerate(self.legs):
            d = _round_qty(self.target[k] - self.known[k], leg.lot_size)
            if d == 0.0:
                continue
            side = Side.BUY if d > 0 else Side.SELL
            if market:
                oid = ctx.submit(leg.id, side, abs(d), tag=self.trade_id)
            else:
                touch = ctx.ask(leg.id) if d > 0 else ctx.bid(leg.id)
                px = _limit_price(side.value, touch, self.p.slippage_bp, leg.tick_size)
                oid = ctx.submit(leg.id, side, abs(d), price=px, ioc=True, tag=self.trade_id)
            self.leg_of[oid] = k
            self.open += 1

    def _arm(self, ctx: Any) -> None:
        if self.t_timeout >= 0 and self.open == 0:
            ctx.set_timer(self.t_timeout)

    def _value(self, w: list[float], p_pos: list[float], p_neg: list[float]) -> float:
        q = self.p.quote_code
        if q == 2:
            a = p_pos[0] if w[0] > 0 else p_neg[0]
            b = p_pos[1] if w[1] > 0 else p_neg[1]
            return a / b - 1.0
        v = 0.0
        for k in range(len(w)):
            p = p_pos[k] if w[k] > 0 else p_neg[k]
            v += w[k] * (float(np.log(p)) if q == 1 else p)
        return v

    def _coin_usd(self, ctx: Any, k: int) -> float:
        leg = self.legs[k]  # legs quoted in a USD stablecoin (or inverse legs quoted in USD)
        if isinstance(leg, Option):
            raise NotImplementedError("the Python twin sizes option legs only through the compiled path")
        return 0.5 * (ctx.bid(leg.id) + ctx.ask(leg.id))

    def _cpc(self, ctx: Any, k: int) -> float:
        leg = self.legs[k]
        if leg.is_inverse:
            return leg.multiplier / (0.5 * (ctx.bid(leg.id) + ctx.ask(leg.id)))
        return leg.multiplier

    def decide(self, ctx: Any) -> None:
        """One decision at ``ctx.now`` (the same steps as the compiled ``decide``)."""
        t = ctx.now
        p = self.p
        st = p.schedule_t
        nr = st.shape[0]
        r = self.row
        while r + 1 < nr and st[r + 1] <= t:
            r += 1
        self.row = r
        if nr == 0 or st[r] > t:
            return
        beta, mu, sd = float(p.schedule_beta[r]), float(p.schedule_mean[r]), float(p.schedule_std[r])
        n = len(self.legs)
        w = [p.ratios[k] * (1.0 if k == 0 else beta) for k in range(n)]
        bids = [ctx.bid(leg.id) for leg in self.legs]
        asks = [ctx.ask(leg.id) for leg in self.legs]
        if any(math.isnan(x) for x in bids + asks):
            return
        if self.open > 0:
            return
        lot_ok = all(abs(self.target[k] - self.known[k]) <= 0.5 * self.legs[k].lot_size for k in range(n))
        flat = all(abs(self.known[k]) <= 0.5 * self.legs[k].lot_size for k in range(n))
        if not lot_ok:
            if self.exiting == 0 and flat:
                self.target = [0.0] * n
                self.dir = 0
                self.t_timeout = -1
                self.trade_id = -1
                self.actions.append((t, "entry_missed"))
                return
            if self.t_timeout == -2:
                return
            if self.t_timeout < 0:
                self.t_timeout = t + p.legging_timeout_ns
            if t >= self.t_timeout:
                self.t_timeout = t + p.legging_timeout_ns
                if self.tries >= 2 * _MAX_TRIES:
                    self.t_timeout = -2
                    return
                if self.tries == _MAX_TRIES:
                    self.target = [0.0] * n
                    self.dir = 0
                    self.exiting = 1
                self.tries += 1
                self._send(ctx, True)
            self._arm(ctx)
            return
        self.t_timeout = -1
        self.tries = 0
        if flat and self.trade_id >= 0:
            self.trade_id = -1
            self.exiting = 0
        if not sd > 0 or math.isnan(mu):
            return
        z_sell = (self._value(w, bids, asks) - mu) / sd
        z_buy = (self._value(w, asks, bids) - mu) / sd
        if self.dir == 0:
            if self.block != 0 and z_sell < p.entry_z and z_buy > -p.entry_z:
                self.block = 0
            if not flat or t < self.t_cool:
                return
            new = 0
            if z_sell >= p.entry_z and p.direction_code <= 0:
                new = -1
            elif z_buy <= -p.entry_z and p.direction_code >= 0:
                new = 1
            if new in (0, self.block):
                return
            usd0 = self._coin_usd(ctx, 0)
            units = p.notional_usd / (usd0 * abs(w[0]))
            targets = []
            for k, leg in enumerate(self.legs):
                cpc = self._cpc(ctx, k)
                scale = 1.0 if p.quote_code == 0 or k == 0 else usd0 / self._coin_usd(ctx, k)
                q = _round_qty(new * units * w[k] * scale / cpc, leg.lot_size)
                if q == 0.0:
                    return
                if k == 0:
                    units = abs(q) * cpc / abs(w[0])
                targets.append(q)
            self.target = targets
            self.dir = new
            self.exiting = 0
            self.t_entry = t
            self.trade_id = self.trades
            self.trades += 1
            self._send(ctx, p.market_orders)
            self.actions.append((t, "enter_long" if new > 0 else "enter_short"))
            return
        action = ""
        if self.dir < 0:
            if z_buy <= p.exit_z:
                action = "exit"
            elif z_buy >= p.stop_z:
                action = "stop"
        elif z_sell >= -p.exit_z:
            action = "exit"
        elif z_sell <= -p.stop_z:
            action = "stop"
        if not action and p.max_hold_ns > 0 and t - self.t_entry >= p.max_hold_ns:
            action = "max_hold"
        if not action:
            return
        stopped = self.dir
        self.target = [0.0] * n
        self.dir = 0
        self.exiting = 1
        if action == "stop":
            self.t_cool = t + p.cooldown_ns
            self.block = stopped
        self._send(ctx, p.market_orders)
        self.actions.append((t, action))
