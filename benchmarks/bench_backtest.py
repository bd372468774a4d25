"""Vectorised two-leg spread backtest: spreadlab's kernel vs vectorbt's Portfolio.from_orders.

The same work for both: 1,000,000 bars of a perp and a spot leg with bid/ask,
a target spread position (long/short/flat episodes), every change executed at
the touch (buys at the ask, sells at the bid) with per-leg taker fees, marked
at mids. vectorbt gets the executable price per bar and leg precomputed and the
target amounts per leg (``size_type="targetamount"``, shared cash); spreadlab
runs :class:`~spreadlab.backtest.VectorizedBacktest` (validation, the numba
kernel, the trade list and the metrics included). Funding is off so both
compute the same PnL, which the benchmark checks (total PnL to 1e-6 relative).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.harness import Context, best_of
from spreadlab.backtest import EndOfRun, LegQuotes, VectorizedBacktest
from spreadlab.core.time import NS_PER_MINUTE
from spreadlab.instruments import parse_symbol
from spreadlab.instruments.fees import FeeModel, FeeRate
from spreadlab.signals.spread import Leg, Spread, SpreadQuote

N = 1_000_000
PEERS = Path(__file__).resolve().parent / "peers"


def _data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(42)
    spot_mid = 60_000 * np.exp(np.cumsum(rng.normal(0, 3e-4, N)))
    basis = np.zeros(N)
    for t in range(1, N):  # AR(1) premium, about 5 bp sd
        basis[t] = 0.995 * basis[t - 1] + rng.normal(0, 5e-5)
    perp_mid = spot_mid * (1 + basis)
    hs_p = perp_mid * 0.5e-4
    hs_s = spot_mid * 1e-4
    episodes = rng.uniform(size=N) < 0.002
    state = np.where(episodes, rng.choice([-1.0, 1.0], N), np.nan)
    state[0] = 0.0
    exits = rng.uniform(size=N) < 0.004
    state[exits & ~episodes] = 0.0
    # forward-fill the decided state
    idx = np.where(~np.isnan(state), np.arange(N), 0)
    np.maximum.accumulate(idx, out=idx)
    target = state[idx]
    return {
        "ts": np.arange(N, dtype=np.int64) * NS_PER_MINUTE,
        "perp_bid": perp_mid - hs_p,
        "perp_ask": perp_mid + hs_p,
        "spot_bid": spot_mid - hs_s,
        "spot_ask": spot_mid + hs_s,
        "target": target,
    }


def run(ctx: Context) -> list[dict]:
    d = _data()
    perp = parse_symbol("BINANCE_USDM", "BTCUSDT")
    spot = parse_symbol("BINANCE", "BTCUSDT")
    spread = Spread(
        legs=(Leg(instrument=perp, ratio=1.0), Leg(instrument=spot, ratio=-1.0)), quote=SpreadQuote.BASIS
    )
    fees = FeeModel(
        overrides={
            str(perp.id): FeeRate(maker=0.0002, taker=0.0002),
            str(spot.id): FeeRate(maker=0.0004, taker=0.0004),
        }
    )
    # vectorbt marks a position open at the end at the close: leave ours open at mid too (same work)
    bt = VectorizedBacktest(spread=spread, fees=fees, capital=1e6, delay_bars=1, at_end=EndOfRun.MARK)
    legs = {
        perp.id: LegQuotes(bid=d["perp_bid"], ask=d["perp_ask"]),
        spot.id: LegQuotes(bid=d["spot_bid"], ask=d["spot_ask"]),
    }

    def ours() -> float:
        return float(bt.run(ts_ns=d["ts"], legs=legs, target_units=d["target"]).pnl.sum())

    pnl = ours()  # warm up numba
    seconds = best_of(ours, repeat=3)
    data = ctx.workdir / "backtest.npz"
    np.savez(data, delay=1, fee_perp=0.0002, fee_spot=0.0004, **d)
    peer = ctx.run_peer("vectorbt", PEERS / "vectorbt_backtest.py", str(data))
    rel = abs(peer["pnl"] - pnl) / max(1.0, abs(pnl))
    ctx.log(f"spreadlab {seconds:.3f}s pnl {pnl:.6f}; vectorbt {peer['seconds']:.3f}s pnl {peer['pnl']:.6f}")
    if rel > 1e-6:
        raise RuntimeError(
            f"PnL differs between spreadlab ({pnl}) and vectorbt ({peer['pnl']}): rel {rel:.2e}"
        )
    return [
        ctx.record(
            name="vectorized_backtest_1e6",
            work=f"two-leg spread backtest over {N:,} bars at the touch with taker fees (same PnL checked)",
            unit="seconds",
            spreadlab=seconds,
            peers={
                "vectorbt": {
                    "value": peer["seconds"],
                    "version": peer["version"],
                    "checked": f"yes: total PnL {pnl:,.2f} both, relative difference {rel:.1e} (limit 1e-6)",
                }
            },
            higher_is_better=False,
            extra={"pnl_spreadlab": pnl, "pnl_vectorbt": peer["pnl"]},
        )
    ]
