"""Scanner configuration: which spread kinds to build and how to judge them.

All options are keyword-only fields of the frozen :class:`ScanConfig`; every
field is validated at construction with a message naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from spreadlab.core.enums import Liquidity
from spreadlab.core.time import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE
from spreadlab.core.validate import require_in_range, require_non_negative, require_positive
from spreadlab.errors import ValidationError
from spreadlab.instruments.fees import FeeModel

__all__ = ["ScanConfig", "ScanKind", "parse_kinds"]


class ScanKind(StrEnum):
    """The spread kinds the scanner builds."""

    BASIS = "basis"
    """Perpetual or dated future vs its index: premium or carry basis vs a history or funding fair."""
    CALENDAR = "calendar"
    """Two dated futures of one coin and venue: the forward-forward carry vs its history."""
    PARITY = "parity"
    """Listed future vs the put-call-parity synthetic forward of the same expiry and strike."""
    BOX = "box"
    """Box spread of two adjacent strikes vs its fair value ``(K2 - K1)`` discounted at the implied carry."""
    VOL = "vol"
    """One option's implied vol vs the expiry's SVI fit (delta-hedged with the expiry's future)."""
    XVENUE = "xvenue"
    """The same perpetual on two venues: price ratio vs 1 (the other venue's price is the fair value)."""
    PAIRS = "pairs"
    """Two cointegrated perpetuals of one venue: OLS hedge ratio and mean from history."""


def parse_kinds(kinds: Iterable[ScanKind | str] | str | None) -> tuple[ScanKind, ...]:
    """Turn ``"basis,vol"``, a list of names or of :class:`ScanKind` into a sorted tuple (all when None).

    Examples
    --------
    >>> [k.value for k in parse_kinds("vol, basis")]
    ['basis', 'vol']
    """
    if kinds is None:
        return tuple(ScanKind)
    items = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    out: set[ScanKind] = set()
    for item in items:
        name = item.strip().lower() if isinstance(item, str) else item
        if name == "":
            continue
        try:
            out.add(ScanKind(name))
        except ValueError:
            valid = ", ".join(k.value for k in ScanKind)
            raise ValidationError(f"kinds: {item!r} is not a spread kind; valid kinds: {valid}") from None
    if not out:
        raise ValidationError("kinds is empty; give at least one of " + ", ".join(k.value for k in ScanKind))
    return tuple(k for k in ScanKind if k in out)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanConfig:
    """How the scanner builds and judges candidate spreads.

    Parameters
    ----------
    kinds
        Spread kinds to build (default all).
    size_usd
        Trade size in USD of notional per leg (options: of the underlying).
    fees
        The :class:`FeeModel` (default :meth:`FeeModel.default`).
    liquidity
        Fills are taker (crossing) by default.
    lookback_ns
        History window before ``at`` for fair values, z-scores and half-lives.
    quote_max_age_ns, mark_max_age_ns, option_max_age_ns
        The newest quote/book, mark/index and option snapshot older than this
        (relative to ``at``) is stale and not used. Bars are stale after two bar intervals.
    mark_half_spread_bp
        Assumed half-spread (bp) of a leg known only from a mark or a bar close.
    min_history
        Observations needed for a z-score; half-lives need ``2 * min_history``.
    pairs_min_correlation, pairs_max_pvalue, pairs_max_candidates
        Pairs: only coin pairs whose return correlation is at least this are
        tested; a pair is a candidate when its Engle-Granger p-value is at
        most ``pairs_max_pvalue``; at most ``pairs_max_candidates`` pairs
        (highest correlation first) are tested.
    vol_history_snapshots
        Vol: how many earlier option snapshots are fitted for the residual's z-score.
    box_max_width_steps
        Box: strike pairs at most this many listed strikes apart.
    """

    kinds: tuple[ScanKind, ...] = tuple(ScanKind)
    size_usd: float = 10_000.0
    fees: FeeModel = field(default_factory=FeeModel.default)
    liquidity: Liquidity = Liquidity.TAKER
    lookback_ns: int = 3 * NS_PER_DAY
    quote_max_age_ns: int = 15 * NS_PER_MINUTE
    mark_max_age_ns: int = 8 * NS_PER_HOUR
    option_max_age_ns: int = 8 * NS_PER_HOUR
    mark_half_spread_bp: float = 1.0
    min_history: int = 10
    pairs_min_correlation: float = 0.6
    pairs_max_pvalue: float = 0.05
    pairs_max_candidates: int = 40
    vol_history_snapshots: int = 4
    box_max_width_steps: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", parse_kinds(self.kinds))
        require_positive("size_usd", self.size_usd)
        if not isinstance(self.fees, FeeModel):
            raise ValidationError(f"fees={self.fees!r} must be a FeeModel")
        if not isinstance(self.liquidity, Liquidity):
            raise ValidationError(f"liquidity={self.liquidity!r} must be a Liquidity")
        for name in ("lookback_ns", "quote_max_age_ns", "mark_max_age_ns", "option_max_age_ns"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValidationError(f"{name}={v!r} must be an int > 0 (nanoseconds)")
        require_non_negative("mark_half_spread_bp", self.mark_half_spread_bp)
        for name, low in (
            ("min_history", 3),
            ("pairs_max_candidates", 0),
            ("vol_history_snapshots", 0),
            ("box_max_width_steps", 1),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValidationError(f"{name}={v!r} must be an int >= {low}")
        require_in_range("pairs_min_correlation", self.pairs_min_correlation, -1.0, 1.0)
        require_in_range("pairs_max_pvalue", self.pairs_max_pvalue, 0.0, 1.0)
