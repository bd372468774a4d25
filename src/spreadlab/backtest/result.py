"""BacktestResult: the tables and metrics of an engine run, labelled.

Per round trip (one spread position from its entry decision until every leg
is flat again) the PnL splits exactly into

- ``convergence``: the legs' PnL had every fill been at the venue mid at that moment,
- ``slippage``: what the fill prices cost against those mids (book walking, spread crossing),
- ``fees`` (negative when paid) and ``funding`` (received > 0) on the legs over the trade,

all in USD (settlement-currency amounts converted at each fill's rate).
``imbalance_usd_s`` is the accrued leg imbalance, notional x seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from spreadlab.analytics.metrics import max_drawdown
from spreadlab.core.time import NS_PER_YEAR
from spreadlab.engine.core import EngineState
from spreadlab.kernels import engine_layout as lay
from spreadlab.kernels.contracts import notional1, pnl1

__all__ = ["BacktestResult", "EngineMetrics", "result_from_state"]

_LIQ = {0: "maker", 1: "taker", 2: "settlement", 3: "liquidation"}
_STATUS = {0: "in_flight", 1: "open", 2: "filled", 3: "cancelled", 4: "rejected"}
_REASON = {
    0: "",
    1: "halted",
    2: "min_qty",
    3: "reduce_only",
    4: "margin",
    5: "post_only",
    6: "fok",
    7: "no_book",
    8: "ioc_remainder",
    9: "end_of_run",
    10: "risk_leg_notional",
    11: "risk_venue_notional",
    12: "risk_gross_notional",
    13: "risk_open_orders",
    14: "risk_loss_switch",
}
_ACTION = {
    1: "enter_long",
    -1: "enter_short",
    2: "exit",
    3: "stop",
    4: "max_hold",
    5: "hedge_residual",
    6: "halted",
    7: "entry_missed",
    8: "flat",
    9: "abandon",
    10: "stuck",
}
_SRC = {0: "mark", 1: "index", 2: "mid"}


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineMetrics:
    """Headline statistics of a run (returns on the starting capital, sampled every ``sample_ns``)."""

    capital_usd: float
    final_equity_usd: float
    pnl_usd: float
    total_return: float
    periods_per_year: float
    sharpe: float
    sortino: float
    max_drawdown: float
    max_drawdown_duration_ns: int
    turnover: float
    n_trades: int
    hit_rate: float
    avg_holding_ns: float
    fees_usd: float
    funding_usd: float
    events: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestResult:
    """Orders, fills, funding, equity, decisions, round trips, positions, balances and metrics of a run."""

    orders: pl.DataFrame
    fills: pl.DataFrame
    funding: pl.DataFrame
    equity: pl.DataFrame
    decisions: pl.DataFrame
    trades: pl.DataFrame
    positions: pl.DataFrame
    balances: pl.DataFrame
    spread_values: pl.DataFrame
    metrics: EngineMetrics
    sources: dict[str, str]
    book_checks: dict[str, str] = field(default_factory=dict)
    risk_rejections: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Metrics, trades and the data sources as a JSON-ready dict."""
        return {
            "metrics": self.metrics.to_dict(),
            "trades": self.trades.to_dicts(),
            "sources": self.sources,
            "book_checks": self.book_checks,
            "risk_rejections": self.risk_rejections,
            "n_orders": self.orders.height,
            "n_fills": self.fills.height,
        }


def _names(state: EngineState, idx: np.ndarray) -> list[str]:
    names = [str(i.id) for i in state.instruments]
    return [names[int(k)] for k in idx]


def result_from_state(state: EngineState) -> BacktestResult:
    """Label the raw tables of ``state``."""
    vs = state.vs
    cnt = vs[lay.V_CNT]
    no, nf, nfu = int(cnt[lay.C_NORD]), int(cnt[lay.C_NFILL]), int(cnt[lay.C_NFUND])
    oi, of = vs[lay.V_OI][:no], vs[lay.V_OF][:no]
    fli, flf = vs[lay.V_FLI][:nf], vs[lay.V_FLF][:nf]
    ii, fi = vs[lay.V_II], vs[lay.V_FI]
    progs = [p.name for p in state.programs]

    def owner(x: int) -> str:
        return progs[x] if x >= 0 else ("python" if x == -1 else "engine")

    orders = pl.DataFrame(
        {
            "order_id": np.arange(no),
            "instrument_id": _names(state, oi[:, lay.O_INST]),
            "side": oi[:, lay.O_SIDE].astype(np.int8),
            "type": ["market" if t == 0 else "limit" for t in oi[:, lay.O_TYPE]],
            "tif": [("gtc", "ioc", "fok")[int(t)] for t in oi[:, lay.O_TIF]],
            "price": of[:, lay.OF_PRICE],
            "quantity": of[:, lay.OF_QTY],
            "filled": of[:, lay.OF_FILLED],
            "avg_price": of[:, lay.OF_AVG],
            "fee": of[:, lay.OF_FEE],
            "status": [_STATUS[int(s)] for s in oi[:, lay.O_STATUS]],
            "reason": [_REASON[int(s)] for s in oi[:, lay.O_REASON]],
            "ts_sent": oi[:, lay.O_T_SENT],
            "ts_arrive": oi[:, lay.O_T_ARRIVE],
            "ts_done": oi[:, lay.O_T_DONE],
            "owner": [owner(int(x)) for x in oi[:, lay.O_OWNER]],
            "leg": oi[:, lay.O_LEG],
            "trade": oi[:, lay.O_TAG],
        },
        schema_overrides={
            c: pl.String for c in ("instrument_id", "type", "tif", "status", "reason", "owner")
        },
    )
    fill_owner = fli[:, lay.FI_OWNER]
    fill_trade = np.where(fli[:, lay.FI_ORDER] >= 0, oi[np.maximum(fli[:, lay.FI_ORDER], 0), lay.O_TAG], -1)
    mult = fi[fli[:, lay.FI_INST], lay.F_MULT]
    kinds = ii[fli[:, lay.FI_INST], lay.I_KIND]
    slip = (
        np.array(
            [
                pnl1(float(s * q), float(p), float(mu), float(m_), int(k)) * fx
                for s, q, p, m_, mu, k, fx in zip(
                    fli[:, lay.FI_SIDE],
                    flf[:, lay.FF_QTY],
                    flf[:, lay.FF_PRICE],
                    mult,
                    flf[:, lay.FF_MID],
                    kinds,
                    flf[:, lay.FF_FX],
                    strict=True,
                )
            ]
        )
        if nf
        else np.zeros(0)
    )
    slip = np.where(np.isfinite(slip), slip, 0.0)
    notional = (
        np.array(
            [
                abs(notional1(float(q), float(p), float(m_), int(k))) * fx
                for q, p, m_, k, fx in zip(
                    flf[:, lay.FF_QTY], flf[:, lay.FF_PRICE], mult, kinds, flf[:, lay.FF_FX], strict=True
                )
            ]
        )
        if nf
        else np.zeros(0)
    )
    fills = pl.DataFrame(
        {
            "fill_id": np.arange(nf),
            "order_id": fli[:, lay.FI_ORDER],
            "instrument_id": _names(state, fli[:, lay.FI_INST]),
            "side": fli[:, lay.FI_SIDE].astype(np.int8),
            "ts": fli[:, lay.FI_T],
            "price": flf[:, lay.FF_PRICE],
            "quantity": flf[:, lay.FF_QTY],
            "fee": flf[:, lay.FF_FEE],
            "fee_usd": flf[:, lay.FF_FEE_USD],
            "liquidity": [_LIQ[int(x)] for x in fli[:, lay.FI_LIQ]],
            "level": fli[:, lay.FI_LEVEL],
            "mid": flf[:, lay.FF_MID],
            "usd_per_unit": flf[:, lay.FF_FX],
            "realised": flf[:, lay.FF_REAL],
            "realised_usd": flf[:, lay.FF_REAL] * flf[:, lay.FF_FX],
            "slippage_usd": slip,
            "notional_usd": notional,
            "owner": [owner(int(x)) for x in fill_owner],
            "trade": fill_trade,
        },
        schema_overrides={c: pl.String for c in ("instrument_id", "liquidity", "owner")},
    )
    fui, fuf = vs[lay.V_FUI][:nfu], vs[lay.V_FUF][:nfu]
    funding = pl.DataFrame(
        {
            "ts": fui[:, lay.FUI_T],
            "instrument_id": _names(state, fui[:, lay.FUI_INST]),
            "quantity": fuf[:, lay.FU_QTY],
            "price": fuf[:, lay.FU_PRICE],
            "price_source": [_SRC[int(x)] for x in fui[:, lay.FUI_SRC]],
            "rate": fuf[:, lay.FU_RATE],
            "amount": fuf[:, lay.FU_AMOUNT],
            "amount_usd": fuf[:, lay.FU_USD],
        },
        schema_overrides={"instrument_id": pl.String, "price_source": pl.String},
    )
    ns = int(cnt[lay.C_NSAMP])
    st, sv, ssp = state.samp[0][:ns], state.samp[1][:ns], state.samp[2][:ns]
    nv = len(state.venues)
    eq_cols: dict[str, Any] = {"ts": st, "equity_usd": sv[:, 0], "maintenance_margin_usd": sv[:, 1]}
    for v, name in enumerate(state.venues):
        eq_cols[f"equity_{name}"] = sv[:, 2 + v]
        eq_cols[f"margin_{name}"] = sv[:, 2 + nv + v]
    equity = pl.DataFrame(eq_cols)
    sp_rows: dict[str, Any] = {"ts": st}
    for s, name in enumerate(progs):
        sp_rows[f"{name}|value"] = ssp[:, s, 0]
        sp_rows[f"{name}|mean"] = ssp[:, s, 1]
        sp_rows[f"{name}|std"] = ssp[:, s, 2]
    spread_values = pl.DataFrame(sp_rows)
    nl = int(cnt[lay.C_NLOG])
    lgi, lgf = state.ss[lay.S_LGI][:nl], state.ss[lay.S_LGF][:nl]
    decisions = pl.DataFrame(
        {
            "ts": lgi[:, lay.LG_T],
            "spread": [progs[int(s)] for s in lgi[:, lay.LG_SPREAD]] if progs else [],
            "action": [_ACTION[int(a)] for a in lgi[:, lay.LG_ACTION]],
            "trade": lgi[:, lay.LG_TRADE],
            "value": lgf[:, lay.LF_VALUE],
            "z": lgf[:, lay.LF_Z],
            "mean": lgf[:, lay.LF_MU],
            "std": lgf[:, lay.LF_SD],
        },
        schema_overrides={"spread": pl.String},
    )
    trades = _trades(fills, funding, decisions, state)
    pos = vs[lay.V_POS]
    positions = pl.DataFrame(
        {
            "instrument_id": [str(i.id) for i in state.instruments],
            "quantity": pos[:, lay.P_QTY],
            "avg_price": pos[:, lay.P_AVG],
            "realised": pos[:, lay.P_REAL],
            "fees": pos[:, lay.P_FEES],
            "funding": pos[:, lay.P_FUND],
        }
    )
    cash = vs[lay.V_CASH]
    bal = [
        (v, c)
        for v in range(len(state.venues))
        for c in range(len(state.currencies))
        if cash[v, c] != 0.0 or state.initial_cash[v, c] != 0.0
    ]
    balances = pl.DataFrame(
        {
            "venue": [state.venues[v] for v, _ in bal],
            "currency": [state.currencies[c] for _, c in bal],
            "initial": [float(state.initial_cash[v, c]) for v, c in bal],
            "final": [float(cash[v, c]) for v, c in bal],
        },
        schema={"venue": pl.String, "currency": pl.String, "initial": pl.Float64, "final": pl.Float64},
    )
    metrics = _metrics(state, equity, fills, funding, trades)
    return BacktestResult(
        orders=orders,
        fills=fills,
        funding=funding,
        equity=equity,
        decisions=decisions,
        trades=trades,
        positions=positions,
        balances=balances,
        spread_values=spread_values,
        metrics=metrics,
        sources=dict(state.source),
        book_checks=dict(state.book_checks),
        risk_rejections={_REASON[10 + k]: int(n) for k, n in enumerate(vs[lay.V_RCNT])},
    )


def _trades(
    fills: pl.DataFrame, funding: pl.DataFrame, decisions: pl.DataFrame, state: EngineState
) -> pl.DataFrame:
    rows = []
    for prog in state.programs:
        legs = [str(i) for i in prog.instrument_ids]
        f = fills.filter((pl.col("owner") == prog.name) & (pl.col("trade") >= 0))
        d = decisions.filter(pl.col("spread") == prog.name)
        for tid in sorted(set(f["trade"].to_list())):
            ft = f.filter(pl.col("trade") == tid)
            dt = d.filter(pl.col("trade") == tid)
            t0, t1 = int(ft["ts"].min()), int(ft["ts"].max())  # type: ignore[arg-type]
            entry = dt.filter(pl.col("action").is_in(["enter_long", "enter_short"]))
            exits = dt.filter(pl.col("action").is_in(["exit", "stop", "max_hold", "halted", "abandon"]))
            flat = dt.filter(pl.col("action") == "flat")
            closed = flat.height > 0
            fund = (
                funding.filter(
                    pl.col("instrument_id").is_in(legs) & (pl.col("ts") > t0) & (pl.col("ts") <= t1)
                )["amount_usd"].sum()
                if closed
                else 0.0
            )
            realised = float(ft["realised_usd"].sum())
            slip = float(ft["slippage_usd"].sum())
            fees = -float(ft["fee_usd"].sum())
            rows.append(
                {
                    "spread": prog.name,
                    "trade": int(tid),
                    "direction": 1 if entry.height and entry["action"][0] == "enter_long" else -1,
                    "entry_ts": int(entry["ts"][0]) if entry.height else t0,
                    "exit_ts": int(exits["ts"][0]) if exits.height else None,
                    "exit_reason": str(exits["action"][0]) if exits.height else "open",
                    "closed": closed,
                    "entry_z": float(entry["z"][0]) if entry.height else math.nan,
                    "convergence_usd": realised - slip if closed else 0.0,
                    "slippage_usd": slip,
                    "fees_usd": fees,
                    "funding_usd": float(fund or 0.0),
                    "pnl_usd": (realised + fees + float(fund or 0.0)) if closed else math.nan,
                    "imbalance_usd_s": float(flat["value"][0]) if closed else math.nan,
                    "hedges": int(dt.filter(pl.col("action").is_in(["hedge_residual", "abandon"])).height),
                    "n_fills": ft.height,
                }
            )
    schema = {
        "spread": pl.String,
        "trade": pl.Int64,
        "direction": pl.Int8,
        "entry_ts": pl.Int64,
        "exit_ts": pl.Int64,
        "exit_reason": pl.String,
        "closed": pl.Boolean,
        "entry_z": pl.Float64,
        "convergence_usd": pl.Float64,
        "slippage_usd": pl.Float64,
        "fees_usd": pl.Float64,
        "funding_usd": pl.Float64,
        "pnl_usd": pl.Float64,
        "imbalance_usd_s": pl.Float64,
        "hedges": pl.Int64,
        "n_fills": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def _metrics(
    state: EngineState, equity: pl.DataFrame, fills: pl.DataFrame, funding: pl.DataFrame, trades: pl.DataFrame
) -> EngineMetrics:
    # samples before every currency has a price (empty books at the start) have no USD equity
    valued = equity.filter(pl.col("equity_usd").is_finite())
    capital = float(valued["equity_usd"][0]) if valued.height else math.nan
    final = float(valued["equity_usd"][-1]) if valued.height else math.nan
    eq = valued["equity_usd"].to_numpy()
    ts = valued["ts"].to_numpy()
    ppy = float(NS_PER_YEAR / np.median(np.diff(ts))) if ts.size > 2 else math.nan
    r = np.diff(eq) / capital if eq.size > 1 else np.zeros(0)
    sd = float(r.std(ddof=1)) if r.size > 1 else 0.0
    down = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if r.size else 0.0
    mean = float(r.mean()) if r.size else 0.0
    peak = np.maximum.accumulate(eq) if eq.size else eq
    dd_dur = 0
    if eq.size:
        under = eq < peak
        start = None
        for k, u in enumerate(under):
            if u and start is None:
                start = k
            if not u and start is not None:
                dd_dur = max(dd_dur, int(ts[k] - ts[start - 1]))
                start = None
        if start is not None:
            dd_dur = max(dd_dur, int(ts[-1] - ts[start - 1]))
    closed = trades.filter(pl.col("closed"))
    hold = (closed["exit_ts"] - closed["entry_ts"]).cast(pl.Float64).mean() if closed.height else math.nan
    years = (ts[-1] - ts[0]) / NS_PER_YEAR if ts.size > 1 else math.nan
    notional = float(fills["notional_usd"].abs().sum()) if fills.height else 0.0
    return EngineMetrics(
        capital_usd=capital,
        final_equity_usd=final,
        pnl_usd=final - capital,
        total_return=(final - capital) / capital,
        periods_per_year=ppy,
        sharpe=mean / sd * math.sqrt(ppy) if sd > 0 else 0.0,
        sortino=mean / down * math.sqrt(ppy) if down > 0 else 0.0,
        max_drawdown=max_drawdown(eq, start=capital) if eq.size and capital > 0 else 0.0,
        max_drawdown_duration_ns=dd_dur,
        turnover=notional / capital / years if years and years > 0 else math.nan,
        n_trades=closed.height,
        hit_rate=float((closed["pnl_usd"] > 0).mean()) if closed.height else math.nan,  # type: ignore[arg-type]
        avg_holding_ns=float(hold) if hold is not None else math.nan,  # type: ignore[arg-type]
        fees_usd=-float(fills["fee_usd"].sum()),
        funding_usd=float(funding["amount_usd"].sum()),
        events=state.n_events,
    )
