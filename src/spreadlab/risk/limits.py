"""RiskLimits: the limits no strategy can bypass.

Every order, from a compiled or a Python strategy, passes the engine's risk
check before it is sent (``kernels/engine_venue._risk``). Orders that reduce a
position always pass; others are refused -- recorded as rejected with the
rule's name and reported to the strategy at once, without reaching the venue
-- when:

- a loss switch is on: the portfolio lost ``daily_loss_usd`` since the first
  equity sample of the UTC day (off again the next day), or fell
  ``max_drawdown`` (a fraction) below its peak (off for good);
- ``max_open_orders`` orders are already live;
- the leg's notional after the order would exceed ``max_leg_notional_usd``;
- the gross notional of the instrument's venue, or of the portfolio, plus the
  order's addition would exceed ``max_venue_notional_usd`` /
  ``max_gross_notional_usd``.

Notionals are in USD at the venue's valuation prices; orders in flight are not
counted. The default limits are all off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from spreadlab.errors import ValidationError

__all__ = ["RiskLimits"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """Limits in USD (``inf``: none) and the loss switches.

    Examples
    --------
    >>> RiskLimits(max_leg_notional_usd=50_000.0).max_gross_notional_usd
    inf
    """

    max_leg_notional_usd: float = math.inf
    max_venue_notional_usd: float = math.inf
    max_gross_notional_usd: float = math.inf
    max_open_orders: float = math.inf
    daily_loss_usd: float = math.inf
    max_drawdown: float = math.inf

    def __post_init__(self) -> None:
        for name in ("max_leg_notional_usd", "max_venue_notional_usd", "max_gross_notional_usd",
                     "max_open_orders", "daily_loss_usd", "max_drawdown"):  # fmt: skip
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v) or v <= 0:
                raise ValidationError(f"{name}={v!r} must be a number > 0 (inf: no limit)")
        if self.max_drawdown != math.inf and self.max_drawdown >= 1.0:
            raise ValidationError(f"max_drawdown={self.max_drawdown} must be a fraction in (0, 1) or inf")
