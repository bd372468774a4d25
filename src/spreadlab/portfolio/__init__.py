"""Portfolio: positions per leg and per spread, balances per venue and currency, margin, PnL."""

from spreadlab.portfolio.snapshot import Balance, PortfolioSnapshot, Position, SpreadPosition

__all__ = ["Balance", "PortfolioSnapshot", "Position", "SpreadPosition"]
