"""The Engine: builds the state tables, runs the compiled loop and hands control to Python strategies.

One :class:`Engine` replays one tape through simulated venues. Compiled
spread strategies (:class:`spreadlab.strategy.SpreadProgram`) decide inside
the loop; a Python strategy (:class:`spreadlab.strategy.Strategy`) is called
only for the events it subscribed to, its reports and its timers, through an
:class:`EngineContext` that reads the same local view and sends orders into
the same latency queues.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from spreadlab.core.enums import OptionKind, Side
from spreadlab.errors import ValidationError
from spreadlab.execution.venue import QueueKind, QueueModel, SimulatedVenue
from spreadlab.instruments.base import Future, Instrument, Option, Perpetual, Spot
from spreadlab.instruments.fees import FeeModel
from spreadlab.kernels import engine_layout as lay
from spreadlab.kernels.contracts import notional1, pnl1
from spreadlab.kernels.engine_book import blocks_for, new_books
from spreadlab.kernels.engine_loop import close_positions, run, sample
from spreadlab.kernels.engine_market import fx_of, ref_price, send_cancel, usd_rate
from spreadlab.kernels.engine_venue import equity_usd, margin_usd, submit
from spreadlab.portfolio.snapshot import Balance, PortfolioSnapshot, Position, SpreadPosition
from spreadlab.risk.limits import RiskLimits
from spreadlab.strategy.base import Report, ReportKind, Strategy
from spreadlab.strategy.program import SpreadProgram

from .tape import Tape

__all__ = ["Engine", "EngineConfig", "EngineContext", "EngineState", "snapshot"]

_USD = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI", "USDE"})
_LEVEL_CAP = 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    """How the simulated venues behave and how the run is recorded.

    ``venues`` lists the venues with their own settings; a venue of an
    instrument not listed gets ``SimulatedVenue(venue=...)`` defaults.
    ``capital_usd`` funds every venue without balances, split equally (in
    the coin for venues whose instruments all settle in one coin, else in
    USDT or USDC).
    """

    venues: tuple[SimulatedVenue, ...] = ()
    fees: FeeModel = field(default_factory=FeeModel.default)
    queue: QueueModel = field(default_factory=QueueModel)
    feed_latency_ns: int = 0
    sample_ns: int = 60_000_000_000
    liquidate: bool = True
    liquidation_fee: float = 0.0
    capital_usd: float = 100_000.0
    seed: int = 0
    risk: RiskLimits = field(default_factory=RiskLimits)

    def __post_init__(self) -> None:
        if self.feed_latency_ns < 0:
            raise ValidationError(f"feed_latency_ns={self.feed_latency_ns} must be >= 0")
        if self.sample_ns <= 0:
            raise ValidationError(f"sample_ns={self.sample_ns} must be > 0")
        if not self.capital_usd > 0:
            raise ValidationError(f"capital_usd={self.capital_usd} must be > 0")
        names = [v.venue for v in self.venues]
        if len(set(names)) != len(names):
            raise ValidationError(f"venues repeat a venue: {names}")


@dataclass(slots=True)
class EngineState:
    """The raw tables of a finished run (see :mod:`spreadlab.kernels.engine_layout`)."""

    instruments: tuple[Instrument, ...]
    venues: tuple[str, ...]
    currencies: tuple[str, ...]
    vs: tuple[np.ndarray, ...]
    samp: tuple[np.ndarray, ...]
    ss: tuple[np.ndarray, ...]
    initial_cash: np.ndarray
    programs: tuple[SpreadProgram, ...]
    source: dict[str, str]
    n_events: int
    book_checks: dict[str, str] = field(default_factory=dict)

    def count(self, c: int) -> int:
        """A counter of the run."""
        return int(self.vs[lay.V_CNT][c])


def _grow(a: np.ndarray, rows: int) -> np.ndarray:
    out = np.zeros((rows, *a.shape[1:]), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


def _first_prices(tape: Tape, n: int) -> np.ndarray:
    px = np.full(n, np.nan)
    mid = np.where(tape.kind == lay.TK_QUOTE, 0.5 * (tape.f0 + tape.f2), tape.f0)
    ok = np.isin(tape.kind, [lay.TK_QUOTE, lay.TK_DELTA, lay.TK_TRADE, lay.TK_MARK]) & np.isfinite(mid)
    for i in range(n):
        rows = np.flatnonzero(ok & (tape.inst == i))
        if rows.size:
            px[i] = mid[rows[0]]
    return px


class Engine:
    """Replay ``tape`` for ``instruments`` through simulated venues with the given strategies."""

    def __init__(
        self,
        instruments: Sequence[Instrument],
        tape: Tape,
        *,
        config: EngineConfig | None = None,
        programs: Sequence[SpreadProgram] = (),
        strategy: Strategy | None = None,
    ) -> None:
        self.instruments = tuple(instruments)
        self.tape = tape
        self.config = config or EngineConfig()
        self.programs = tuple(programs)
        self.strategy = strategy
        self._index = {str(inst.id): k for k, inst in enumerate(self.instruments)}
        self._build()

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        cfg = self.config
        insts = self.instruments
        n = len(insts)
        venue_names: list[str] = []
        for inst in insts:
            if inst.id.venue not in venue_names:
                venue_names.append(inst.id.venue)
        given = {v.venue: v for v in cfg.venues}
        venues = [given.get(v, SimulatedVenue(venue=v)) for v in venue_names]
        ccys: list[str] = []
        for inst in insts:
            for c in (inst.base, inst.quote, inst.settlement_currency):
                if c not in ccys:
                    ccys.append(c)
        for venue in venues:
            for c in venue.balances:
                if c not in ccys:
                    ccys.append(c)
        if "USDT" not in ccys:  # the default currency of venues funded from capital
            ccys.append("USDT")
        cidx = {c: k for k, c in enumerate(ccys)}
        first = _first_prices(self.tape, n)
        ii = np.zeros((n, lay.I_N), dtype=np.int64)
        fi = np.zeros((n, lay.F_N), dtype=np.float64)
        fees = cfg.fees.arrays(list(insts))
        for k, inst in enumerate(insts):
            v = venue_names.index(inst.id.venue)
            sv = venues[v]
            ii[k, lay.I_VENUE] = v
            ii[k, lay.I_KIND] = int(inst.contract_kind)
            ii[k, lay.I_SPOT] = int(isinstance(inst, Spot))
            ii[k, lay.I_SETTLE] = cidx[inst.settlement_currency]
            ii[k, lay.I_BASE] = cidx[inst.base]
            ii[k, lay.I_QUOTE] = cidx[inst.quote]
            ii[k, lay.I_EXPIRY] = inst.expiry_ns if isinstance(inst, Future | Option) else 0
            ii[k, lay.I_OPT] = (1 if inst.kind is OptionKind.CALL else 2) if isinstance(inst, Option) else 0
            ii[k, lay.I_UND] = self._underlying(k)
            ii[k, lay.I_QONLY] = int(self.tape.source.get(str(inst.id), "depth") != "depth")
            fi[k, lay.F_MULT] = inst.multiplier
            fi[k, lay.F_MAKER] = fees.maker[k]
            fi[k, lay.F_TAKER] = fees.taker[k]
            fi[k, lay.F_CAP] = fees.premium_cap[k]
            fi[k, lay.F_TICK] = inst.tick_size
            fi[k, lay.F_LOT] = inst.lot_size
            fi[k, lay.F_MINNOT] = inst.min_notional
            fi[k, lay.F_STRIKE] = inst.strike if isinstance(inst, Option) else 0.0
            im = sv.option_margin if isinstance(inst, Option) else sv.initial_margin
            fi[k, lay.F_IMR] = im
            fi[k, lay.F_MMR] = im * sv.maintenance_margin / sv.initial_margin
            fi[k, lay.F_IMPACT] = sv.impact_bp
        csrc = np.full(len(ccys), -1, dtype=np.int64)
        for c, k in cidx.items():
            if c in _USD:
                continue
            cands = [j for j, inst in enumerate(insts) if inst.base == c and not isinstance(inst, Option)]
            cands.sort(key=lambda j: (not isinstance(insts[j], Perpetual), not isinstance(insts[j], Spot)))
            if cands:
                csrc[k] = cands[0]
            elif any(inst.settlement_currency == c for inst in insts):
                raise ValidationError(f"no instrument prices currency {c} in USD (add its perpetual or spot)")
        cash = np.zeros((len(venues), len(ccys)), dtype=np.float64)
        unfunded = [v for v, sv in enumerate(venues) if not sv.balances]
        share = cfg.capital_usd / max(len(unfunded), 1)
        for v, sv in enumerate(venues):
            for c, amount in sv.balances.items():
                cash[v, cidx[c]] = amount
            if v in unfunded:
                mine = [k for k in range(n) if ii[k, lay.I_VENUE] == v]
                settle = {insts[k].settlement_currency for k in mine if not isinstance(insts[k], Spot)}
                spot_q = {insts[k].quote for k in mine if isinstance(insts[k], Spot)}
                coin = next(iter(settle)) if len(settle) == 1 and not spot_q else None
                if coin is not None and coin not in _USD:
                    src = csrc[cidx[coin]]
                    px = first[src] if src >= 0 else np.nan
                    if not np.isfinite(px):
                        raise ValidationError(
                            f"venue {sv.venue}: no price to fund its {coin} account from capital"
                        )
                    cash[v, cidx[coin]] = share / px
                else:
                    q = next(iter(spot_q | settle), "USDT")
                    cash[v, cidx[q if q in _USD else "USDT"]] = share
        self._venues = venues
        self.venue_names = tuple(venue_names)
        self.currencies = tuple(ccys)
        self._initial_cash = cash.copy()
        nv = len(venues)
        lat_c = np.zeros((nv, 2), dtype=np.int64)
        ns = max(
            [1] + [max(len(sv.latency.entry_samples), len(sv.latency.response_samples)) for sv in venues]
        )
        lat_s = np.zeros((nv, 2, ns), dtype=np.int64)
        lat_n = np.zeros((nv, 2), dtype=np.int64)
        for v, sv in enumerate(venues):
            lat_c[v] = (sv.latency.entry_ns, sv.latency.response_ns)
            for d, smp in enumerate((sv.latency.entry_samples, sv.latency.response_samples)):
                lat_n[v, d] = len(smp)
                lat_s[v, d, : len(smp)] = smp
        cnt = np.zeros(lay.C_N, dtype=np.int64)
        cnt[lay.C_RNG] = (int(cfg.seed) * 2654435761 + 88172645463325252) & 0x7FFFFFFFFFFFFFFF or 1
        cnt[lay.C_PYT] = -1
        cnt[lay.C_TSAMP] = self.tape.start_ns
        ip = np.zeros(lay.IP_N, dtype=np.int64)
        ip[lay.IP_QMODEL] = int(cfg.queue.kind is QueueKind.PROBABILISTIC)
        ip[lay.IP_SPOT_MARGIN] = int(any(sv.spot_margin for sv in venues))
        ip[lay.IP_SAMPLE_NS] = cfg.sample_ns
        ip[lay.IP_FEED_NS] = cfg.feed_latency_ns
        ip[lay.IP_T_END] = self.tape.end_ns
        ip[lay.IP_NVENUE] = nv
        ip[lay.IP_LIQUIDATE] = int(cfg.liquidate)
        ip[lay.IP_PY] = int(self.strategy is not None)
        fp = np.array([cfg.queue.power, cfg.liquidation_fee], dtype=np.float64)
        mk = np.full((n, lay.M_N), np.nan)
        mk[:, lay.M_HALT] = 0.0
        cap = 1024
        self.vs: tuple[np.ndarray, ...] = (
            ii,
            fi,
            mk,
            np.zeros((cap, lay.OI_N), dtype=np.int64),
            np.zeros((cap, lay.OF_N)),
            np.zeros((8192, lay.FI_N), dtype=np.int64),
            np.zeros((8192, lay.FF_N)),
            np.zeros((n, lay.P_N)),
            cash,
            csrc,
            cnt,
            np.zeros((8192, lay.Q_N), dtype=np.int64),
            np.zeros((cap, lay.Q_N), dtype=np.int64),
            lat_c,
            lat_s,
            lat_n,
            np.zeros(_LEVEL_CAP),
            np.zeros(_LEVEL_CAP),
            np.zeros(cap, dtype=np.int64),
            np.zeros((cap, lay.FUI_N), dtype=np.int64),
            np.zeros((cap, lay.FU_N)),
            ip,
            fp,
            np.zeros((8192, 4), dtype=np.int64),
            np.zeros((nv, 2), dtype=np.int64),
            self._risk_table(),
            np.zeros(5, dtype=np.int64),
        )
        blocks = blocks_for(self.tape.max_levels)
        self.bk = new_books(n, blocks)
        self.lb = new_books(n, blocks)
        self.lk = np.full((n, lay.L_N), np.nan)
        self.ss = self._programs_tables()
        self.pysub = np.zeros(n, dtype=np.int8)
        if self.strategy is not None:
            for sid in self.strategy.subscriptions():
                self.pysub[self.index(str(sid))] = 1
        nsamp = int((self.tape.end_ns - self.tape.start_ns) // cfg.sample_ns) + 2
        self.samp: tuple[np.ndarray, ...] = (
            np.zeros(nsamp, dtype=np.int64),
            np.zeros((nsamp, 2 + 2 * nv)),
            np.zeros((nsamp, len(self.programs), 3)),
        )
        order = np.argsort(ii[:, lay.I_EXPIRY], kind="stable")
        order = order[ii[order, lay.I_EXPIRY] > 0]
        self.expiries = (ii[order, lay.I_EXPIRY].astype(np.int64), order.astype(np.int64))

    def _risk_table(self) -> np.ndarray:
        r = self.config.risk
        rk = np.zeros(lay.RK_N)
        rk[lay.RK_LEG] = r.max_leg_notional_usd
        rk[lay.RK_VENUE] = r.max_venue_notional_usd
        rk[lay.RK_GROSS] = r.max_gross_notional_usd
        rk[lay.RK_OPEN] = r.max_open_orders
        rk[lay.RK_DAILY_LOSS] = r.daily_loss_usd
        rk[lay.RK_DRAWDOWN] = r.max_drawdown
        rk[lay.RK_PEAK] = np.nan
        rk[lay.RK_DAY] = -1.0
        return rk

    def _underlying(self, k: int) -> int:
        inst = self.instruments[k]
        if not isinstance(inst, Option):
            return -1
        cands = [
            j for j, o in enumerate(self.instruments) if o.base == inst.base and not isinstance(o, Option)
        ]
        cands.sort(key=lambda j: (not isinstance(self.instruments[j], Perpetual), j))
        return cands[0] if cands else -1

    def _programs_tables(self) -> tuple[np.ndarray, ...]:
        progs = self.programs
        ns = len(progs)
        rows = max([1] + [p.schedule_t.shape[0] for p in progs])
        sci = np.zeros((ns, lay.SI_N), dtype=np.int64)
        scf = np.zeros((ns, lay.SF_N))
        ssi = np.zeros((ns, lay.SS_N), dtype=np.int64)
        ssf = np.zeros((ns, lay.SV_N))
        st = np.zeros((ns, rows), dtype=np.int64)
        sb = np.zeros((ns, rows))
        smu = np.zeros((ns, rows))
        ssd = np.zeros((ns, rows))
        for s, p in enumerate(progs):
            if len(p.instrument_ids) > lay.MAX_LEGS:
                raise ValidationError(
                    f"spread {p.name}: at most {lay.MAX_LEGS} legs, got {len(p.instrument_ids)}"
                )
            sci[s, lay.SI_NLEG] = len(p.instrument_ids)
            for k, iid in enumerate(p.instrument_ids):
                sci[s, lay.SI_LEG + k] = self.index(str(iid))
                scf[s, lay.SF_RATIO + k] = p.ratios[k]
            sci[s, lay.SI_MARKET] = int(p.market_orders)
            sci[s, lay.SI_QUOTE] = p.quote_code
            sci[s, lay.SI_MAX_HOLD] = p.max_hold_ns
            sci[s, lay.SI_TIMEOUT] = p.legging_timeout_ns
            sci[s, lay.SI_COOLDOWN] = p.cooldown_ns
            sci[s, lay.SI_DIRS] = p.direction_code
            sci[s, lay.SI_MAKER] = p.maker_leg
            m = p.schedule_t.shape[0]
            sci[s, lay.SI_NROWS] = m
            scf[s, lay.SF_ENTRY] = p.entry_z
            scf[s, lay.SF_EXIT] = p.exit_z
            scf[s, lay.SF_STOP] = p.stop_z
            scf[s, lay.SF_NOTIONAL] = p.notional_usd
            scf[s, lay.SF_SLIP] = p.slippage_bp
            st[s, :m] = p.schedule_t
            sb[s, :m] = p.schedule_beta
            smu[s, :m] = p.schedule_mean
            ssd[s, :m] = p.schedule_std
            ssi[s, lay.SS_T_TIMEOUT] = -1
            ssi[s, lay.SS_TRADE_ID] = -1
            ssi[s, lay.SS_MAKER_OID] = -1
        return (
            sci,
            scf,
            ssi,
            ssf,
            st,
            sb,
            smu,
            ssd,
            np.zeros((1024, lay.LG_N), dtype=np.int64),
            np.zeros((1024, lay.LF_N)),
        )

    def snapshot(self) -> PortfolioSnapshot:
        """The portfolio at the engine's current time."""
        return snapshot(self)

    def index(self, instrument_id: str) -> int:
        """The engine index of an instrument id."""
        try:
            return self._index[instrument_id]
        except KeyError:
            raise ValidationError(f"instrument {instrument_id} is not in this engine") from None

    # ------------------------------------------------------------------ run
    def _ensure_room(self) -> None:
        vs = list(self.vs)
        cnt = vs[lay.V_CNT]

        def need(idx: int, used: int, slack: int) -> None:
            if used + slack > vs[idx].shape[0]:
                vs[idx] = _grow(vs[idx], max(2 * vs[idx].shape[0], used + slack + 1))

        need(lay.V_OI, int(cnt[lay.C_NORD]), lay.ORD_SLACK)
        need(lay.V_OF, int(cnt[lay.C_NORD]), lay.ORD_SLACK)
        need(lay.V_FLI, int(cnt[lay.C_NFILL]), lay.FILL_SLACK)
        need(lay.V_FLF, int(cnt[lay.C_NFILL]), lay.FILL_SLACK)
        need(lay.V_FUI, int(cnt[lay.C_NFUND]), lay.QUEUE_SLACK)
        need(lay.V_FUF, int(cnt[lay.C_NFUND]), lay.QUEUE_SLACK)
        need(lay.V_RQ, int(cnt[lay.C_NREP]), lay.FILL_SLACK)
        need(lay.V_PQ, int(cnt[lay.C_NPEND]), lay.QUEUE_SLACK)
        need(lay.V_REPLOG, int(cnt[lay.C_NREPLOG]), lay.FILL_SLACK)
        need(lay.V_OPEN, int(cnt[lay.C_NOPEN]), lay.ORD_SLACK)
        self.vs = tuple(vs)
        ss = list(self.ss)
        nlog = int(cnt[lay.C_NLOG])
        if nlog + lay.LOG_SLACK > ss[lay.S_LGI].shape[0]:
            rows = 2 * ss[lay.S_LGI].shape[0]
            ss[lay.S_LGI] = _grow(ss[lay.S_LGI], rows)
            ss[lay.S_LGF] = _grow(ss[lay.S_LGF], rows)
        self.ss = tuple(ss)
        ns = int(cnt[lay.C_NSAMP])
        if ns + 2 > self.samp[0].shape[0]:
            rows = 2 * self.samp[0].shape[0] + 2
            self.samp = tuple(_grow(a, rows) for a in self.samp)

    def run(
        self, *, progress: Callable[[int, int], None] | None = None, close_at_end: bool = True
    ) -> EngineState:
        """Run to the end of the tape (and every queue), then close what is open unless told not to."""
        ctx = EngineContext(self) if self.strategy is not None else None
        if self.strategy is not None and ctx is not None:
            self.strategy.on_start(ctx)
        tape = self.tape.arrays()
        n = self.tape.n_events
        ip = self.vs[lay.V_IP]
        ip[lay.IP_PAUSE] = max(n // 100, 50_000) if progress is not None else 0
        self.vs[lay.V_CNT][lay.C_PAUSE] = int(self.vs[lay.V_CNT][lay.C_LC]) + int(ip[lay.IP_PAUSE])
        while True:
            self._ensure_room()
            reason = run(
                tape, self.vs, self.bk, self.lb, self.lk, self.ss, self.pysub, self.samp, self.expiries
            )
            if progress is not None:
                progress(int(self.vs[lay.V_CNT][lay.C_LC]), n)
            if reason == lay.R_DONE:
                break
            if reason in (lay.R_GROW, lay.R_PROGRESS) or ctx is None or self.strategy is None:
                continue
            if reason == lay.R_MARKET:
                self.strategy.on_market(ctx, self.instruments[int(self.vs[lay.V_CNT][lay.C_EVI])].id)
            elif reason == lay.R_REPORT:
                ctx.deliver_reports()
            elif reason == lay.R_TIMER:
                self.strategy.on_timer(ctx)
        if close_at_end:
            self._ensure_room()
            close_positions(self.vs, self.bk, self.tape.end_ns)
        self._ensure_room()
        sample(self.vs, self.bk, self.lk, self.ss, self.samp, self.tape.end_ns)
        return EngineState(
            instruments=self.instruments,
            venues=self.venue_names,
            currencies=self.currencies,
            vs=self.vs,
            samp=self.samp,
            ss=self.ss,
            initial_cash=self._initial_cash,
            programs=self.programs,
            source=dict(self.tape.source),
            n_events=n,
            book_checks=dict(self.tape.book_checks),
        )


def snapshot(engine: Engine) -> PortfolioSnapshot:
    """The engine's portfolio now (valued on the venue books)."""
    vs, bk = engine.vs, engine.bk
    ii, fi, pos, cash = vs[lay.V_II], vs[lay.V_FI], vs[lay.V_POS], vs[lay.V_CASH]
    positions = []
    for k, inst in enumerate(engine.instruments):
        q = float(pos[k, lay.P_QTY])
        if q == 0.0 and pos[k, lay.P_REAL] == 0.0 and pos[k, lay.P_FEES] == 0.0:
            continue
        px = float(ref_price(vs, bk, k))
        kind = int(ii[k, lay.I_KIND])
        m = float(fi[k, lay.F_MULT])
        fx = float(fx_of(vs, bk, k, px)) if np.isfinite(px) else float("nan")
        spot = ii[k, lay.I_SPOT] == 1
        unreal = 0.0 if spot or q == 0.0 else float(pnl1(q, float(pos[k, lay.P_AVG]), px, m, kind))
        positions.append(Position(
            instrument_id=str(inst.id), venue=inst.id.venue, settlement_currency=inst.settlement_currency,
            quantity=q, avg_price=float(pos[k, lay.P_AVG]), price=px, unrealised=unreal,
            unrealised_usd=unreal * fx, notional_usd=float(notional1(q, px, m, kind)) * fx if q else 0.0,
            realised=float(pos[k, lay.P_REAL]), fees=float(pos[k, lay.P_FEES]),
            funding=float(pos[k, lay.P_FUND]),
        ))  # fmt: skip
    balances = tuple(
        Balance(venue=v, currency=c, amount=float(cash[a, b]), usd=float(cash[a, b] * usd_rate(vs, bk, b)))
        for a, v in enumerate(engine.venue_names)
        for b, c in enumerate(engine.currencies)
        if cash[a, b] != 0.0
    )
    sci, ssi, ssf = engine.ss[lay.S_CI], engine.ss[lay.S_SI], engine.ss[lay.S_SF]
    spreads = []
    for s, p in enumerate(engine.programs):
        n = int(sci[s, lay.SI_NLEG])
        legs = {str(p.instrument_ids[k]): float(ssf[s, lay.SV_KNOWN + k]) for k in range(n)}
        targets = {str(p.instrument_ids[k]): float(ssf[s, lay.SV_TARGET + k]) for k in range(n)}
        spreads.append(SpreadPosition(spread=p.name, direction=int(ssi[s, lay.SS_DIR]),
                                      trade=int(ssi[s, lay.SS_TRADE_ID]), legs=legs, targets=targets,
                                      imbalance_usd=float(ssf[s, lay.SV_IMB_NOW])))  # fmt: skip
    names = engine.venue_names
    return PortfolioSnapshot(
        ts=int(vs[lay.V_CNT][lay.C_T]),
        positions=tuple(positions),
        spreads=tuple(spreads),
        balances=balances,
        equity_usd={v: float(equity_usd(vs, bk, a)) for a, v in enumerate(names)},
        initial_margin_usd={v: float(margin_usd(vs, bk, a, lay.F_IMR)) for a, v in enumerate(names)},
        maintenance_margin_usd={v: float(margin_usd(vs, bk, a, lay.F_MMR)) for a, v in enumerate(names)},
    )


class EngineContext:
    """What a Python strategy sees and does: the local view, its known positions, orders and timers."""

    def __init__(self, engine: Engine) -> None:
        self._e = engine
        self._known = np.zeros(len(engine.instruments))
        self._seen = 0

    @property
    def now(self) -> int:
        """Local time (ns)."""
        return int(self._e.vs[lay.V_CNT][lay.C_T])

    def _i(self, instrument_id: object) -> int:
        return self._e.index(str(instrument_id))

    def bid(self, instrument_id: object) -> float:
        """Best bid in the local view (NaN if none)."""
        return float(self._e.lk[self._i(instrument_id), lay.L_BID])

    def ask(self, instrument_id: object) -> float:
        """Best ask in the local view (NaN if none)."""
        return float(self._e.lk[self._i(instrument_id), lay.L_ASK])

    def bid_size(self, instrument_id: object) -> float:
        """Size at the best bid in the local view."""
        return float(self._e.lk[self._i(instrument_id), lay.L_BSZ])

    def ask_size(self, instrument_id: object) -> float:
        """Size at the best ask in the local view."""
        return float(self._e.lk[self._i(instrument_id), lay.L_ASZ])

    def mark(self, instrument_id: object) -> float:
        """Last mark price received (NaN if none)."""
        return float(self._e.lk[self._i(instrument_id), lay.L_MARK])

    def index_price(self, instrument_id: object) -> float:
        """Last index price received (NaN if none)."""
        return float(self._e.lk[self._i(instrument_id), lay.L_INDEX])

    def position(self, instrument_id: object) -> float:
        """Contracts the strategy knows it holds (from the fill reports received so far)."""
        return float(self._known[self._i(instrument_id)])

    def snapshot(self) -> PortfolioSnapshot:
        """The portfolio now, valued on the venue's books (what the account would report)."""
        return snapshot(self._e)

    def instrument(self, instrument_id: object) -> Instrument:
        """The instrument spec."""
        return self._e.instruments[self._i(instrument_id)]

    def submit(
        self,
        instrument_id: object,
        side: Side,
        quantity: float,
        *,
        price: float | None = None,
        ioc: bool = False,
        fok: bool = False,
        post_only: bool = False,
        reduce_only: bool = False,
        tag: int = 0,
    ) -> int:
        """Send an order now; it reaches the venue after the entry latency. Return its id."""
        if not quantity > 0:
            raise ValidationError(f"quantity={quantity} must be > 0")
        if price is not None and not price > 0:
            raise ValidationError(f"price={price} must be > 0")
        e = self._e
        e._ensure_room()
        tif = 2 if fok else (1 if ioc or price is None else 0)
        flags = int(post_only) | (2 * int(reduce_only))
        px = np.nan if price is None else float(price)
        return int(
            submit(
                e.vs,
                self.now,
                self._i(instrument_id),
                side.value,
                float(quantity),
                px,
                0 if price is None else 1,
                tif,
                flags,
                -1,
                0,
                tag,
                e.bk,
            )
        )

    def cancel(self, order_id: int) -> None:
        """Send a cancel now; it reaches the venue after the entry latency."""
        e = self._e
        if not 0 <= order_id < int(e.vs[lay.V_CNT][lay.C_NORD]):
            raise ValidationError(f"order_id={order_id} is not an order of this run")
        send_cancel(e.vs, self.now, order_id)

    def set_timer(self, at_ns: int) -> None:
        """Call ``on_timer`` at local time ``at_ns`` (one pending timer; a new one replaces it)."""
        if at_ns < self.now:
            raise ValidationError(f"at_ns={at_ns} is before now={self.now}")
        self._e.vs[lay.V_CNT][lay.C_PYT] = int(at_ns)

    def deliver_reports(self) -> None:
        """Hand every report received since the last call to the strategy."""
        e = self._e
        strat = e.strategy
        rl = e.vs[lay.V_REPLOG]
        n = int(e.vs[lay.V_CNT][lay.C_NREPLOG])
        oi = e.vs[lay.V_OI]
        fli = e.vs[lay.V_FLI]
        flf = e.vs[lay.V_FLF]
        while self._seen < n:
            t, kind, o, aux = (int(x) for x in rl[self._seen])
            self._seen += 1
            if o >= 0 and oi[o, lay.O_OWNER] != -1:
                continue
            rk = ReportKind.from_code(kind)
            fill_qty = fill_px = 0.0
            inst_i = int(oi[o, lay.O_INST]) if o >= 0 else int(fli[aux, lay.FI_INST])
            if kind in (lay.RP_FILL, lay.RP_SETTLE):
                fill_qty = float(flf[aux, lay.FF_QTY]) * int(fli[aux, lay.FI_SIDE])
                fill_px = float(flf[aux, lay.FF_PRICE])
                self._known[inst_i] += fill_qty
            rep = Report(
                kind=rk,
                ts=t,
                order_id=o,
                instrument_id=e.instruments[inst_i].id,
                filled=fill_qty,
                price=fill_px,
                reason=int(oi[o, lay.O_REASON]) if o >= 0 else 0,
            )
            if strat is not None:
                strat.on_report(self, rep)
