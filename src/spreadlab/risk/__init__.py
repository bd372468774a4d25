"""Risk: limits every order passes before it is sent (checked in the engine's compiled submit path)."""

from spreadlab.risk.limits import RiskLimits

__all__ = ["RiskLimits"]
