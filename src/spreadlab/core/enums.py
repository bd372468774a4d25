"""Enumerations used across spreadlab instead of free strings."""

from __future__ import annotations

from enum import Enum, IntEnum, StrEnum

__all__ = [
    "ContractKind",
    "DayCount",
    "Liquidity",
    "OptionKind",
    "OrderType",
    "Settlement",
    "Side",
    "TimeInForce",
    "Venue",
]


class Side(Enum):
    """Order or trade side. ``sign`` is +1 for BUY and -1 for SELL."""

    BUY = 1
    SELL = -1

    @property
    def sign(self) -> int:
        """Return +1 for BUY, -1 for SELL."""
        return int(self.value)

    @property
    def opposite(self) -> Side:
        """Return the other side."""
        return Side.SELL if self is Side.BUY else Side.BUY


class OptionKind(StrEnum):
    """Call or put."""

    CALL = "call"
    PUT = "put"


class Settlement(StrEnum):
    """How a contract's PnL is settled.

    LINEAR: PnL in the quote currency, ``qty * multiplier * (exit - entry)``.
    INVERSE: PnL in the base coin, ``qty_usd * (1/entry - 1/exit)``.
    """

    LINEAR = "linear"
    INVERSE = "inverse"


class ContractKind(IntEnum):
    """How a contract's value, PnL and fees are computed (the codes the contract kernels take).

    LINEAR: spot and USDT/USDC-margined perpetuals and futures, PnL ``q * m * (exit - entry)``
    in the quote. INVERSE: coin-margined perpetuals and futures, PnL ``q * m * (1/entry -
    1/exit)`` in coin. COIN_OPTION: coin-settled options, premium quoted in coin, PnL
    ``q * m * (exit - entry)`` in coin. LINEAR_OPTION: stablecoin-settled options, the same in
    the quote. See :mod:`spreadlab.kernels.contracts`.
    """

    LINEAR = 0
    INVERSE = 1
    COIN_OPTION = 2
    LINEAR_OPTION = 3


class Liquidity(StrEnum):
    """Whether a fill adds liquidity (MAKER: a resting order) or takes it (TAKER: a crossing order)."""

    MAKER = "maker"
    TAKER = "taker"


class OrderType(StrEnum):
    """Order types understood by the execution layer."""

    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    """Time in force of an order."""

    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    GTD = "gtd"
    POST_ONLY = "post_only"


class Venue(StrEnum):
    """Venues whose symbols spreadlab parses.

    ``SIM`` and ``SIM2`` are the two venues of the built-in simulated market.
    Binance and Bybit list spot and derivatives under the same symbols, so
    each product line is its own venue.
    """

    DERIBIT = "DERIBIT"
    BINANCE = "BINANCE"
    BINANCE_USDM = "BINANCE_USDM"
    BINANCE_COINM = "BINANCE_COINM"
    BYBIT = "BYBIT"
    BYBIT_LINEAR = "BYBIT_LINEAR"
    BYBIT_INVERSE = "BYBIT_INVERSE"
    BYBIT_OPTION = "BYBIT_OPTION"
    OKX = "OKX"
    HYPERLIQUID = "HYPERLIQUID"
    SIM = "SIM"
    SIM2 = "SIM2"


class DayCount(StrEnum):
    """How a span of time to an expiry is counted in years.

    ``ACT_365``: actual elapsed time over a 365-day year (Deribit: its mark IVs
    and greeks are consistent with it to rounding, see
    ``tests/pricing/test_daycount_deribit.py``). ``ACT_365_25``: over a
    365.25-day year (the calendar average; spreadlab annualises returns with it).
    """

    ACT_365 = "ACT/365"
    ACT_365_25 = "ACT/365.25"

    @property
    def days_per_year(self) -> float:
        """Days in one year of this count."""
        return 365.0 if self is DayCount.ACT_365 else 365.25
