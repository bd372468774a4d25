"""PortfolioSnapshot: the whole book of a run at one time, as frozen values.

Positions are per instrument (signed contracts, average entry, unrealised
PnL at the valuation price -- the mid, else the mark, else the last trade --
in the settlement currency and in USD, realised PnL, fees and funding so far).
Spread positions keep one identity from the signal to the PnL: the spread,
its direction, the round trip's id and each leg's quantity as the strategy
knows it from its reports. Balances are per venue and currency with their USD
value; equity and margin are per venue in USD.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Balance", "PortfolioSnapshot", "Position", "SpreadPosition"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """One instrument's position."""

    instrument_id: str
    venue: str
    settlement_currency: str
    quantity: float
    avg_price: float
    price: float
    unrealised: float
    unrealised_usd: float
    notional_usd: float
    realised: float
    fees: float
    funding: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SpreadPosition:
    """A spread strategy's position: direction (+1 long, -1 short, 0 flat), round trip, leg quantities."""

    spread: str
    direction: int
    trade: int
    legs: Mapping[str, float]
    targets: Mapping[str, float]
    imbalance_usd: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """Cash of one currency at one venue."""

    venue: str
    currency: str
    amount: float
    usd: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioSnapshot:
    """Everything held at ``ts`` (ns)."""

    ts: int
    positions: tuple[Position, ...]
    spreads: tuple[SpreadPosition, ...]
    balances: tuple[Balance, ...]
    equity_usd: Mapping[str, float]
    initial_margin_usd: Mapping[str, float]
    maintenance_margin_usd: Mapping[str, float]

    @property
    def total_equity_usd(self) -> float:
        """Equity of every venue in USD."""
        return float(sum(self.equity_usd.values()))

    @property
    def gross_notional_usd(self) -> float:
        """Sum of |notional| of every position in USD."""
        return float(sum(abs(p.notional_usd) for p in self.positions))

    def position(self, instrument_id: object) -> Position | None:
        """The position in ``instrument_id`` (None when flat)."""
        key = str(instrument_id)
        return next((p for p in self.positions if p.instrument_id == key), None)
