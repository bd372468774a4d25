"""Column layout of the engine's state tables, shared by every ``engine_*`` kernel.

The event-driven engine keeps its whole state in a few plain numpy tables so
that the per-event path is one compiled loop (:mod:`spreadlab.kernels.engine_loop`)
and a run can stop, hand control to Python (a user's strategy, a table that
must grow) and resume where it stopped. Integers and timestamps live in int64
tables, prices and quantities in float64 tables; the constants below name the
columns.

Tape
    One row per market event, sorted by receive time: ``t_recv``, ``t_venue``
    (the venue's time, non-decreasing per instrument), ``kind``, ``inst``,
    ``flag`` and four floats ``f`` (quote: bid, bid size, ask, ask size; book
    delta: price, size with ``flag`` = side +1 bid / -1 ask; trade: price, size
    with ``flag`` = aggressor side; mark: mark, index; funding: rate).

numba caches compiled functions per source file and does not notice when a
function it calls from another file changes, so importing this module drops
the cached code of every ``engine_*`` kernel when any of their sources (or the
order-book and contract kernels they call) changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# ---- tape kinds
TK_QUOTE = 0
TK_DELTA = 1
TK_TRADE = 2
TK_MARK = 3
TK_FUNDING = 4
TK_CLEAR = 5  # a snapshot starts: clear both sides of the book

# ---- instrument table, int64 columns
I_VENUE = 0
I_KIND = 1  # ContractKind code
I_SPOT = 2  # 1: spot (balances move, no margin position)
I_SETTLE = 3  # currency index of the settlement currency
I_BASE = 4
I_QUOTE = 5
I_EXPIRY = 6  # ns, 0 = none
I_OPT = 7  # 0 not an option, 1 call, 2 put
I_UND = 8  # instrument whose index prices the underlying (-1: this one)
I_QONLY = 9  # 1: the tape has quotes but no depth for it (impact model fills)
I_N = 10

# ---- instrument table, float64 columns
F_MULT = 0
F_MAKER = 1
F_TAKER = 2
F_CAP = 3
F_TICK = 4
F_LOT = 5
F_MINNOT = 6
F_STRIKE = 7
F_IMR = 8
F_MMR = 9
F_IMPACT = 10  # impact in bp of price for quote-only fills
F_N = 11

# ---- venue market state, float64 columns (per instrument)
M_MARK = 0
M_INDEX = 1
M_LAST = 2
M_HALT = 3  # 1 after expiry settlement
M_N = 4

# ---- local (strategy) view, float64 columns (per instrument)
L_BID = 0
L_BSZ = 1
L_ASK = 2
L_ASZ = 3
L_MARK = 4
L_INDEX = 5
L_LAST = 6
L_N = 7

# ---- orders, int64 columns
O_INST = 0
O_SIDE = 1  # +1 buy, -1 sell
O_TYPE = 2  # 0 market, 1 limit
O_TIF = 3  # 0 GTC, 1 IOC, 2 FOK
O_FLAGS = 4  # bit 0 post-only, bit 1 reduce-only
O_STATUS = 5
O_T_SENT = 6  # local time sent
O_T_ARRIVE = 7  # venue time it arrives
O_T_DONE = 8  # venue time it reached a terminal state (-1 while live)
O_OWNER = 9  # spread index of a compiled strategy, -1 a Python strategy, -2 the engine
O_LEG = 10
O_REASON = 11
O_T_CANCEL = 12  # venue time a cancel arrives (-1: none sent)
O_NFILL = 13
O_TAG = 14
OI_N = 15

# ---- orders, float64 columns
OF_PRICE = 0  # limit price (NaN: market)
OF_QTY = 1
OF_FILLED = 2
OF_AVG = 3
OF_AHEAD = 4  # queue ahead of a resting order
OF_FEE = 5
OF_N = 6

# order status
OS_INFLIGHT = 0
OS_OPEN = 1
OS_FILLED = 2
OS_CANCELLED = 3
OS_REJECTED = 4

# reject reasons
RJ_NONE = 0
RJ_HALTED = 1
RJ_MIN_QTY = 2
RJ_REDUCE_ONLY = 3
RJ_MARGIN = 4
RJ_POST_ONLY = 5
RJ_FOK = 6
RJ_NO_BOOK = 7
RJ_EXPIRED_IOC = 8  # IOC remainder cancelled (not a reject: the status says cancelled)
RJ_END = 9  # cancelled at the end of the run
RJ_RISK_LEG = 10  # risk: the leg's notional would exceed its limit
RJ_RISK_VENUE = 11  # risk: the venue's gross notional would exceed its limit
RJ_RISK_GROSS = 12  # risk: the portfolio's gross notional would exceed its limit
RJ_RISK_ORDERS = 13  # risk: too many open orders
RJ_RISK_HALT = 14  # risk: the loss or drawdown switch is on; only reducing orders pass

# ---- fills, int64 columns
FI_ORDER = 0  # -1 for settlement / liquidation / end-of-run rows without an order
FI_INST = 1
FI_SIDE = 2
FI_T = 3  # venue time
FI_LIQ = 4  # 0 maker, 1 taker, 2 settlement, 3 liquidation
FI_LEVEL = 5  # book level filled at (0 = touch; -1 quote-only impact fill)
FI_OWNER = 6
FI_N = 7

# ---- fills, float64 columns
FF_PRICE = 0
FF_QTY = 1
FF_FEE = 2  # settlement currency
FF_FEE_USD = 3
FF_MID = 4  # venue mid when filled
FF_FX = 5  # USD per settlement unit at the fill
FF_REAL = 6  # realised PnL of the fill, settlement currency
FF_N = 7

# fill liquidity
LQ_MAKER = 0
LQ_TAKER = 1
LQ_SETTLE = 2
LQ_LIQUIDATION = 3

# ---- positions, float64 columns (per instrument)
P_QTY = 0
P_AVG = 1
P_REAL = 2  # realised PnL, settlement currency
P_FEES = 3
P_FUND = 4
P_N = 5

# ---- funding ledger, float64 columns (with int64 ts, inst, source)
FU_QTY = 0
FU_PRICE = 1
FU_RATE = 2
FU_AMOUNT = 3  # settlement currency, received if > 0
FU_USD = 4
FU_N = 5
FUI_T = 0
FUI_INST = 1
FUI_SRC = 2  # 0 mark, 1 index, 2 mid
FUI_N = 3

# ---- pending queues (arrivals at the venue, reports to the strategy), int64 columns
Q_T = 0
Q_KIND = 1
Q_ID = 2  # order id
Q_AUX = 3  # fill id for reports
Q_SEQ = 4
Q_N = 5
QK_SUBMIT = 0
QK_CANCEL = 1
RP_ACK = 0
RP_FILL = 1
RP_DONE = 2  # cancelled / expired / filled terminal state
RP_REJECT = 3
RP_SETTLE = 4  # expiry or liquidation fill without an order

# ---- counters
C_VC = 0  # venue cursor
C_LC = 1  # local cursor
C_NORD = 2
C_NFILL = 3
C_NFUND = 4
C_NSAMP = 5
C_NPEND = 6
C_NREP = 7
C_SEQ = 8
C_RNG = 9
C_XC = 10  # expiry cursor
C_T = 11  # engine time
C_NLOG = 12
C_TSAMP = 13  # next sample time
C_PYT = 14  # next Python timer (-1 none)
C_LAST_REP = 15  # id of the last report handed to Python
C_EVI = 16  # instrument of the last local event handed to Python
C_NOPEN = 17  # resting/in-flight orders in the open list
C_NREPLOG = 18  # reports delivered (report log rows)
C_PAUSE = 19  # local cursor at which the loop next returns R_PROGRESS
C_N = 20

# ---- venue state tuple ``vs`` (indices)
V_II = 0
V_FI = 1
V_MK = 2
V_OI = 3
V_OF = 4
V_FLI = 5
V_FLF = 6
V_POS = 7
V_CASH = 8  # (n_venue, n_ccy)
V_CSRC = 9  # instrument pricing each currency in USD (-1: par)
V_CNT = 10
V_RQ = 11  # reports in flight to the strategy
V_PQ = 12  # orders and cancels in flight to the venue
V_LATC = 13  # (n_venue, 2) constant latency ns: entry, response
V_LATS = 14  # (n_venue, 2, n) empirical latency samples ns
V_LATN = 15  # (n_venue, 2) sample counts (0: constant)
V_SPX = 16  # scratch level prices
V_SSZ = 17  # scratch level sizes
V_OPEN = 18  # ids of live orders
V_FUI = 19
V_FUF = 20
V_IP = 21
V_FP = 22
V_REPLOG = 23  # delivered reports (int64: t, kind, order, aux)
V_FIFO = 24  # (n_venue, 2) last arrival time at the venue / of a report: each connection is FIFO
V_RISK = 25  # float limits and state, RK_* columns
V_RCNT = 26  # int64 rejections per RJ_RISK_* code (index code - RJ_RISK_LEG)

# risk limits (inf: none) and state
RK_LEG = 0
RK_VENUE = 1
RK_GROSS = 2
RK_OPEN = 3
RK_DAILY_LOSS = 4  # USD lost since the day's first sample that switches trading off for the day
RK_DRAWDOWN = 5  # fraction below the peak equity that switches trading off for good
RK_PEAK = 6
RK_DAY_START = 7  # equity at the start of the current UTC day
RK_DAY = 8  # the current UTC day number
RK_HALT = 9  # 0 trading, 1 halted for the day, 2 halted for good
RK_N = 10

# int params
IP_QMODEL = 0  # 0 conservative, 1 probabilistic
IP_SPOT_MARGIN = 1  # 1: spot may be sold short / bought on credit
IP_SAMPLE_NS = 2
IP_FEED_NS = 3
IP_T_END = 4
IP_NVENUE = 5
IP_LIQUIDATE = 6  # 1: liquidate a venue whose equity falls below maintenance
IP_PY = 7  # 1: a Python strategy takes part (reports and subscribed events return to Python)
IP_PAUSE = 8  # return R_PROGRESS every this many local events (0: never)
IP_N = 9

# free rows each table must have before the loop handles the next event
ORD_SLACK = 64
FILL_SLACK = 4200  # a market order walks at most len(V_SPX) = 4096 levels
LOG_SLACK = 64
QUEUE_SLACK = 64
# float params
FP_QPOW = 0
FP_LIQ_FEE = 1  # extra liquidation fee rate
FP_N = 2

# run() return reasons
R_DONE = 0
R_GROW = 1
R_MARKET = 2  # a local event of an instrument a Python strategy subscribed to
R_REPORT = 3  # a report for a Python strategy's order
R_TIMER = 4
R_PROGRESS = 5  # a pause for the caller's progress bar; call again to go on

# ---- compiled spread strategies: int64 config / state columns
SI_NLEG = 0
SI_LEG = 1  # SI_LEG + k, k < MAX_LEGS: instrument of leg k
SI_MARKET = 5  # 1 market legs, 0 IOC limits at the touch +- slippage
SI_QUOTE = 6  # 0 difference, 1 log, 2 ratio - 1 (basis)
SI_MAX_HOLD = 7  # ns, 0 none
SI_TIMEOUT = 8  # ns before the residual is hedged at market
SI_COOLDOWN = 9  # ns after a stop
SI_NROWS = 10  # schedule rows
SI_DIRS = 11  # 0 both directions, 1 long only, -1 short only
SI_MAKER = 12  # leg entered passively (post-only at its own touch, the others hedged on its fills); -1 none
SI_N = 13
MAX_TRIES = 3  # market attempts at a residual before the round trip is abandoned (legs flattened)
MAX_LEGS = 4

SS_DIR = 0  # +1 long spread, -1 short, 0 flat
SS_T_ENTRY = 1
SS_T_COOL = 2
SS_T_TIMEOUT = 3  # legging deadline (-1 none)
SS_ROW = 4
SS_OPEN = 5  # orders not yet reported terminal
SS_TRADES = 6
SS_HEDGES = 7
SS_EXITING = 8  # 1 while closing, 2 stopped
SS_TRADE_ID = 9  # current round trip's id (-1 flat)
SS_TRY = 10  # market attempts at the current residual
SS_MAKER_OID = 11  # the working passive entry order (-1 none)
SS_MCANCEL = 12  # 1 once its cancel was sent
SS_BLOCK = 13  # direction stopped out: not re-entered until z is back inside the entry band
SS_N = 14

SF_ENTRY = 0
SF_EXIT = 1
SF_STOP = 2
SF_NOTIONAL = 3
SF_SLIP = 4  # bp
SF_RATIO = 5  # SF_RATIO + k
SF_N = 9

# float strategy state
SV_TARGET = 0  # SV_TARGET + k: target qty of leg k (contracts)
SV_KNOWN = 4  # SV_KNOWN + k: qty the strategy knows it holds (from reports)
SV_IMB = 8  # accrued leg imbalance, USD x seconds
SV_IMB_PNL = 9
SV_LAST_T = 10
SV_LAST_Z = 11
SV_IMB_NOW = 12  # current imbalance USD
SV_IMB_T0 = 13  # SV_IMB when the current round trip started
SV_N = 14

# ---- strategy tuple ``ss`` (indices)
S_CI = 0
S_CF = 1
S_SI = 2
S_SF = 3
S_T = 4  # schedule: (n_spread, rows) times
S_B = 5  # hedge ratio multiplying the ratios of legs 1..
S_MU = 6
S_SD = 7
S_LGI = 8
S_LGF = 9

# strategy actions (log)
A_LONG = 1
A_SHORT = -1
A_EXIT = 2
A_STOP = 3
A_MAX_HOLD = 4
A_HEDGE = 5
A_HALTED = 6
A_MISSED = 7  # entry orders filled nothing: back to flat
A_FLAT = 8  # the round trip is closed on every leg (value = imbalance USD x s)
A_ABANDON = 9  # the residual could not be completed: every leg is flattened
A_STUCK = 10  # flattening failed too: the legs stay as they are until the end

# strategy log (one row per decision), int64 and float64 columns
LG_T = 0
LG_SPREAD = 1
LG_ACTION = 2  # A_* below
LG_TRADE = 3
LG_N = 4
LF_VALUE = 0  # executable spread value used
LF_Z = 1
LF_MU = 2
LF_SD = 3
LF_N = 4

INF_T = 9_223_372_036_854_775_807


def _drop_stale_engine_cache() -> None:
    """Remove numba cache files of the engine kernels when any engine kernel source changed."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*here.glob("engine_*.py"), here / "orderbook.py", here / "contracts.py"]):
        digest.update(path.read_bytes())
    cache = here / "__pycache__"
    stamp = cache / "engine_sources.sha256"
    want = digest.hexdigest()
    try:
        if stamp.read_text() == want:
            return
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        for f in cache.glob("engine_*.nb[ic]"):
            f.unlink(missing_ok=True)
        stamp.write_text(want)
    except OSError:  # a read-only install: numba then recompiles without caching
        return


_drop_stale_engine_cache()
