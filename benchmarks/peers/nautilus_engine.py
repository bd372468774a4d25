"""Peer: NautilusTrader's BacktestEngine replaying two L2 books with a Strategy reading both legs each event.

Usage: python nautilus_engine.py CASE_DIR CUTOFF_NS

Reads the legs' level updates from ``CASE_DIR/case.npz`` (see
``hftbacktest_engine.py``), keeps rows received at or before ``CUTOFF_NS``
(-1: all), and builds ``OrderBookDelta`` objects (untimed): a snapshot
becomes a ``CLEAR`` then ``ADD`` rows flagged ``F_SNAPSHOT``; a level update
is ``UPDATE`` (size > 0) or ``DELETE``; the last row of each message carries
``F_LAST``; ``ts_init`` is the receive time. Instruments: the test kit's
``BTCUSDT-PERP.BINANCE`` (leg 0) and ``BTCUSDT.BINANCE`` (leg 1) on one
simulated venue with L2_MBP books, a margin account, 1 ms latency.

Timed (CPU seconds, best of ``repeat``, at most 2): ``BacktestEngine.run()``
(data engine books, venue matching books, the strategy); a new engine per
run, built and loaded untimed. The strategy subscribes to both books'
deltas (managed books in the cache) and, on every callback, reads both
books' best bid/ask and applies the same threshold rule as the other tools
(IOC limit orders on both legs). Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.backtest.models import LatencyModel
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.model.currencies import BTC, USDT
from nautilus_trader.model.data import BookOrder, OrderBookDelta
from nautilus_trader.model.enums import (
    AccountType,
    BookAction,
    BookType,
    OmsType,
    OrderSide,
    RecordFlag,
    TimeInForce,
)
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy


class TwoLegConfig(StrategyConfig, frozen=True):
    entry: float
    exit: float
    q0: float
    q1: float
    slip: float


class TwoLeg(Strategy):
    """Both books' best bid/ask on every delta callback; the threshold rule; IOC limits on both legs."""

    def __init__(
        self, config: TwoLegConfig, legs: list, st: np.ndarray, mu: np.ndarray, sd: np.ndarray
    ) -> None:
        super().__init__(config)
        self.legs = legs
        self.st, self.mu, self.sd = st.tolist(), mu.tolist(), sd.tolist()
        self.events = self.orders = self.signals = 0
        self.pos_state = 0
        self.row = -1

    def on_start(self) -> None:
        for inst in self.legs:
            self.subscribe_order_book_deltas(inst.id, book_type=BookType.L2_MBP, managed=True)

    def on_order_book_deltas(self, deltas) -> None:
        self.events += 1
        b0 = self.cache.order_book(self.legs[0].id)
        b1 = self.cache.order_book(self.legs[1].id)
        bid0, ask0 = b0.best_bid_price(), b0.best_ask_price()
        bid1, ask1 = b1.best_bid_price(), b1.best_ask_price()
        t = deltas.ts_init
        while self.row + 1 < len(self.st) and self.st[self.row + 1] <= t:
            self.row += 1
        if self.row < 0 or bid0 is None or ask0 is None or bid1 is None or ask1 is None:
            return
        if bid0 >= ask0 or bid1 >= ask1:  # a crossed book (a stale level kept on top): no signal
            return
        mu, sd = self.mu[self.row], self.sd[self.row]
        z_sell = (float(bid0) - float(ask1) - mu) / sd
        z_buy = (float(ask0) - float(bid1) - mu) / sd
        cfg = self.config
        go = 0
        if self.pos_state == 0:
            go = -1 if z_sell >= cfg.entry else (1 if z_buy <= -cfg.entry else 0)
        elif self.pos_state == -1 and z_buy <= cfg.exit:
            go = 1
        elif self.pos_state == 1 and z_sell >= -cfg.exit:
            go = -1
        if go == 0:
            return
        self.signals += 1
        self.pos_state = 0 if self.pos_state != 0 else go
        l0, l1 = self.legs
        if go > 0:
            self._send(l0, OrderSide.BUY, cfg.q0, float(ask0) * (1 + cfg.slip))
            self._send(l1, OrderSide.SELL, cfg.q1, float(bid1) * (1 - cfg.slip))
        else:
            self._send(l0, OrderSide.SELL, cfg.q0, float(bid0) * (1 - cfg.slip))
            self._send(l1, OrderSide.BUY, cfg.q1, float(ask1) * (1 + cfg.slip))

    def _send(self, inst, side: OrderSide, qty: float, px: float) -> None:
        order = self.order_factory.limit(
            instrument_id=inst.id,
            order_side=side,
            quantity=inst.make_qty(qty),
            price=inst.make_price(px),
            time_in_force=TimeInForce.IOC,
        )
        self.submit_order(order)
        self.orders += 1


def _deltas(z: np.lib.npyio.NpzFile, k: int, inst, cutoff: int) -> list:
    tr = z[f"l{k}_ts_recv"]
    keep = tr <= cutoff if cutoff >= 0 else np.ones(tr.shape[0], bool)
    te, tr = z[f"l{k}_ts_event"][keep].tolist(), tr[keep]
    sd, px = z[f"l{k}_side"][keep].tolist(), z[f"l{k}_price"][keep].tolist()
    sz, snap = z[f"l{k}_size"][keep].tolist(), z[f"l{k}_snap"][keep]
    n = len(te)
    last = np.ones(n, bool)
    last[:-1] = tr[1:] != tr[:-1]
    last, tr, snap = last.tolist(), tr.tolist(), snap.tolist()
    pp, sp = inst.price_precision, inst.size_precision
    out = []
    prev_snap = False
    for r in range(n):
        flags = RecordFlag.F_LAST if last[r] else 0
        if snap[r] and not prev_snap:
            out.append(OrderBookDelta.clear(inst.id, 0, te[r], tr[r]))
        prev_snap = snap[r]
        side = OrderSide.BUY if sd[r] > 0 else OrderSide.SELL
        size = sz[r]
        if snap[r]:
            action = BookAction.ADD
            flags |= RecordFlag.F_SNAPSHOT
        else:
            action = BookAction.UPDATE if size > 0 else BookAction.DELETE
        order = BookOrder(side, Price(px[r], pp), Quantity(size, sp), 0)
        out.append(OrderBookDelta(inst.id, action, order, flags, 0, te[r], tr[r]))
    return out


def main() -> None:
    case, cutoff = Path(sys.argv[1]), int(sys.argv[2])
    cfg = json.loads((case / "case.json").read_text())
    z = np.load(case / "case.npz")
    legs = [TestInstrumentProvider.btcusdt_perp_binance(), TestInstrumentProvider.btcusdt_binance()]
    data = []
    rows = []
    for k, inst in enumerate(legs):
        d = _deltas(z, k, inst, cutoff)
        rows.append(sum(1 for x in d if x.action != BookAction.CLEAR))
        data.extend(d)
    data.sort(key=lambda x: x.ts_init)
    st, mu, sdv = z["sched_t"], z["sched_mu"], z["sched_sd"]
    scfg = TwoLegConfig(
        entry=cfg["entry"], exit=cfg["exit"], q0=cfg["qty"][0], q1=cfg["qty"][1], slip=cfg["slip_bp"] * 1e-4
    )
    best = best_cpu = float("inf")
    out: dict = {}
    for _ in range(min(2, int(cfg["repeat"]))):
        engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
        engine.add_venue(
            venue=Venue("BINANCE"),
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            base_currency=None,
            starting_balances=[Money(10_000_000, USDT), Money(100, BTC)],
            book_type=BookType.L2_MBP,
            latency_model=LatencyModel(base_latency_nanos=int(cfg["latency_ns"])),
        )
        for inst in legs:
            engine.add_instrument(inst)
        engine.add_data(data)
        strat = TwoLeg(scfg, legs, st, mu, sdv)
        engine.add_strategy(strat)
        t0 = time.perf_counter()
        c0 = time.process_time()
        engine.run()
        cpu = time.process_time() - c0
        wall = time.perf_counter() - t0
        if cpu < best_cpu:
            books = [engine.cache.order_book(inst.id) for inst in legs]
            out = {
                "events": strat.events,
                "orders": strat.orders,
                "signals": strat.signals,
                "rows": rows,
                "best_bid": [float(b.best_bid_price()) for b in books],
                "best_ask": [float(b.best_ask_price()) for b in books],
            }
        best_cpu, best = min(best_cpu, cpu), min(best, wall)
        engine.dispose()
    out.update({"cpu_seconds": best_cpu, "seconds": best, "version": version("nautilus_trader")})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
