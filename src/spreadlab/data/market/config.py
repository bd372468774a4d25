"""Configuration of the built-in simulated market.

One frozen :class:`MarketConfig` holds everything a build depends on; the
build is a pure function of it (same config, same seed -> same bytes). Each
part of the market has its own small frozen config; set ``futures``,
``options``, ``venue2`` or ``universe`` to ``None`` to leave that part out.

Units are spelled in the field names: ``_bp`` basis points (1e-4),
``_vol_points`` implied-volatility points (1 point = 0.01), ``_minutes`` /
``_hours`` / ``_per_day`` wall time, annual quantities per 365.25-day year.
Ranges are ``(low, high)`` tuples from which each episode draws uniformly.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from spreadlab.core.time import NS_PER_DAY, NS_PER_SECOND, parse_time
from spreadlab.core.validate import (
    require_finite,
    require_in_range,
    require_non_negative,
    require_positive,
)
from spreadlab.errors import ValidationError

__all__ = [
    "BookConfig",
    "FuturesConfig",
    "IndexConfig",
    "MarketConfig",
    "OptionsConfig",
    "PerpConfig",
    "SecondVenueConfig",
    "SpotConfig",
    "TradesConfig",
    "UniverseConfig",
]

Range = tuple[float, float]


def _range(name: str, value: Range, *, low: float = 0.0, positive: bool = False) -> None:
    if not isinstance(value, tuple) or len(value) != 2:
        raise ValidationError(f"{name}={value!r} must be a (low, high) tuple")
    lo = require_finite(f"{name}[0]", value[0])
    hi = require_finite(f"{name}[1]", value[1])
    if lo < low or (positive and lo <= 0.0):
        bound = f"> {low}" if positive else f">= {low}"
        raise ValidationError(f"{name}={value!r}: low end must be {bound}")
    if hi < lo:
        raise ValidationError(f"{name}={value!r}: high end must be >= low end")


def _rate(name: str, value: float) -> None:
    require_non_negative(name, value)


def _int(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name}={value!r} must be an int")
    if not low <= value <= high:
        raise ValidationError(f"{name}={value!r} must lie in [{low}, {high}]")


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexConfig:
    """Spot index: Heston stochastic variance plus compound-Poisson log jumps.

    Parameters
    ----------
    vol
        Long-run annual volatility; the variance mean level is ``vol**2``.
    initial_vol
        Annual volatility at the start; ``None`` starts at ``vol``.
    mean_reversion
        Speed ``kappa`` of the variance, per year.
    vol_of_vol
        ``xi``, the volatility of the variance.
    correlation
        ``rho`` between price and variance shocks, in [-1, 1].
    jump_rate_per_day, jump_mean_pct, jump_sd_pct
        Poisson jump intensity and the normal law of each log jump (in %).
    """

    vol: float = 0.55
    initial_vol: float | None = None
    mean_reversion: float = 52.0
    vol_of_vol: float = 1.5
    correlation: float = -0.3
    jump_rate_per_day: float = 1.0
    jump_mean_pct: float = 0.0
    jump_sd_pct: float = 1.0

    def __post_init__(self) -> None:
        require_in_range("IndexConfig.vol", self.vol, 1e-4, 10.0)
        if self.initial_vol is not None:
            require_in_range("IndexConfig.initial_vol", self.initial_vol, 1e-4, 10.0)
        require_non_negative("IndexConfig.mean_reversion", self.mean_reversion)
        require_non_negative("IndexConfig.vol_of_vol", self.vol_of_vol)
        require_in_range("IndexConfig.correlation", self.correlation, -1.0, 1.0)
        _rate("IndexConfig.jump_rate_per_day", self.jump_rate_per_day)
        require_in_range("IndexConfig.jump_mean_pct", self.jump_mean_pct, -50.0, 50.0)
        require_in_range("IndexConfig.jump_sd_pct", self.jump_sd_pct, 0.0, 50.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotConfig:
    """The spot pair ``SIM:<BASE>USDT``: the index plus a small AR(1) basis, quoted bid/ask."""

    half_spread_bp: float = 0.5
    basis_sd_bp: float = 1.0
    basis_half_life_minutes: float = 5.0
    tick_size: float = 0.01
    lot_size: float = 0.00001

    def __post_init__(self) -> None:
        require_non_negative("SpotConfig.half_spread_bp", self.half_spread_bp)
        require_non_negative("SpotConfig.basis_sd_bp", self.basis_sd_bp)
        require_positive("SpotConfig.basis_half_life_minutes", self.basis_half_life_minutes)
        require_positive("SpotConfig.tick_size", self.tick_size)
        require_positive("SpotConfig.lot_size", self.lot_size)


@dataclass(frozen=True, slots=True, kw_only=True)
class PerpConfig:
    """The linear perpetual ``SIM:<BASE>-PERP``.

    The premium ``mid / index - 1`` is an OU process (mean ``premium_mean_bp``,
    stationary sd ``premium_sd_bp``, half-life ``premium_half_life_minutes``)
    plus burst episodes (a level shift of the recorded size while the episode
    lasts). Funding at each scheduled time (00/08/16 UTC for 8 h) follows
    Binance's rule on the average premium ``P`` of the interval::

        rate = clip(P + clip(I - P, -c, c), -cap, cap)

    with ``I = interest_per_8h`` and ``c = interest_clamp_per_8h`` scaled to the
    interval length.
    """

    premium_mean_bp: float = 5.0
    premium_sd_bp: float = 3.0
    premium_half_life_minutes: float = 30.0
    burst_rate_per_day: float = 2.0
    burst_size_bp: Range = (8.0, 30.0)
    burst_minutes: Range = (20.0, 180.0)
    burst_positive_share: float = 0.7
    half_spread_bp: float = 0.3
    funding_interval_hours: float = 8.0
    interest_per_8h: float = 0.0001
    interest_clamp_per_8h: float = 0.0005
    funding_cap: float = 0.0075
    mark_smoothing_minutes: float = 5.0
    tick_size: float = 0.1
    lot_size: float = 0.001

    def __post_init__(self) -> None:
        require_in_range("PerpConfig.premium_mean_bp", self.premium_mean_bp, -500.0, 500.0)
        require_non_negative("PerpConfig.premium_sd_bp", self.premium_sd_bp)
        require_positive("PerpConfig.premium_half_life_minutes", self.premium_half_life_minutes)
        _rate("PerpConfig.burst_rate_per_day", self.burst_rate_per_day)
        _range("PerpConfig.burst_size_bp", self.burst_size_bp)
        _range("PerpConfig.burst_minutes", self.burst_minutes, positive=True)
        require_in_range("PerpConfig.burst_positive_share", self.burst_positive_share, 0.0, 1.0)
        require_non_negative("PerpConfig.half_spread_bp", self.half_spread_bp)
        require_in_range("PerpConfig.funding_interval_hours", self.funding_interval_hours, 1 / 60, 24.0)
        if abs(self.funding_interval_hours * 60 - round(self.funding_interval_hours * 60)) > 1e-9:
            raise ValidationError(
                f"PerpConfig.funding_interval_hours={self.funding_interval_hours} must be a whole "
                "number of minutes"
            )
        require_in_range("PerpConfig.interest_per_8h", self.interest_per_8h, -0.01, 0.01)
        require_in_range("PerpConfig.interest_clamp_per_8h", self.interest_clamp_per_8h, 0.0, 0.01)
        require_in_range("PerpConfig.funding_cap", self.funding_cap, 0.0, 0.1)
        require_non_negative("PerpConfig.mark_smoothing_minutes", self.mark_smoothing_minutes)
        require_positive("PerpConfig.tick_size", self.tick_size)
        require_positive("PerpConfig.lot_size", self.lot_size)


@dataclass(frozen=True, slots=True, kw_only=True)
class SecondVenueConfig:
    """The same perpetual on venue ``SIM2``: lagged, noisier, dislocated at times.

    Its fair mid is the ``SIM`` perpetual's mid ``lag_steps`` steps earlier,
    times ``1 + noise + dislocation`` (noise an OU process in bp).
    """

    lag_steps: int = 1
    noise_sd_bp: float = 1.0
    noise_half_life_minutes: float = 2.0
    dislocation_rate_per_day: float = 4.0
    dislocation_size_bp: Range = (5.0, 25.0)
    dislocation_minutes: Range = (2.0, 20.0)
    half_spread_bp: float = 0.6
    funding_interval_hours: float = 8.0
    latency_ms: float = 40.0

    def __post_init__(self) -> None:
        _int("SecondVenueConfig.lag_steps", self.lag_steps, 0, 10_000)
        require_non_negative("SecondVenueConfig.noise_sd_bp", self.noise_sd_bp)
        require_positive("SecondVenueConfig.noise_half_life_minutes", self.noise_half_life_minutes)
        _rate("SecondVenueConfig.dislocation_rate_per_day", self.dislocation_rate_per_day)
        _range("SecondVenueConfig.dislocation_size_bp", self.dislocation_size_bp)
        _range("SecondVenueConfig.dislocation_minutes", self.dislocation_minutes, positive=True)
        require_non_negative("SecondVenueConfig.half_spread_bp", self.half_spread_bp)
        require_in_range(
            "SecondVenueConfig.funding_interval_hours", self.funding_interval_hours, 1 / 60, 24.0
        )
        require_non_negative("SecondVenueConfig.latency_ms", self.latency_ms)


@dataclass(frozen=True, slots=True, kw_only=True)
class FuturesConfig:
    """Dated linear futures ``SIM:<BASE>-<DMYY>``, one per entry of ``carry_annual``.

    Fair price ``F = index * exp(c T)`` with the annualised carry ``c`` and
    ``T`` years to expiry, plus an OU basis noise and dislocation episodes,
    both tapered linearly to zero over the last ``taper_hours`` so the future
    converges to the index at expiry. ``expiries`` (ISO strings or ns) default
    to 08:00 UTC on the first day at or after mid-run and 28 days later.
    """

    carry_annual: tuple[float, ...] = (0.08, 0.11)
    expiries: tuple[str | int, ...] | None = None
    noise_sd_bp: float = 3.0
    noise_half_life_minutes: float = 60.0
    taper_hours: float = 24.0
    dislocation_rate_per_day: float = 1.0
    dislocation_size_bp: Range = (10.0, 40.0)
    dislocation_minutes: Range = (30.0, 240.0)
    half_spread_bp: float = 1.0
    tick_size: float = 0.5
    lot_size: float = 0.001

    def __post_init__(self) -> None:
        if not isinstance(self.carry_annual, tuple) or not 1 <= len(self.carry_annual) <= 8:
            raise ValidationError(
                f"FuturesConfig.carry_annual={self.carry_annual!r} must be a tuple of 1 to 8 rates"
            )
        for i, c in enumerate(self.carry_annual):
            require_in_range(f"FuturesConfig.carry_annual[{i}]", c, -2.0, 2.0)
        if self.expiries is not None:
            if not isinstance(self.expiries, tuple) or len(self.expiries) != len(self.carry_annual):
                raise ValidationError(
                    f"FuturesConfig.expiries={self.expiries!r} must be a tuple as long as carry_annual"
                )
            ns = [parse_time(e) for e in self.expiries]
            if any(b <= a for a, b in itertools.pairwise(ns)):
                raise ValidationError(f"FuturesConfig.expiries={self.expiries!r} must be increasing")
        require_non_negative("FuturesConfig.noise_sd_bp", self.noise_sd_bp)
        require_positive("FuturesConfig.noise_half_life_minutes", self.noise_half_life_minutes)
        require_positive("FuturesConfig.taper_hours", self.taper_hours)
        _rate("FuturesConfig.dislocation_rate_per_day", self.dislocation_rate_per_day)
        _range("FuturesConfig.dislocation_size_bp", self.dislocation_size_bp)
        _range("FuturesConfig.dislocation_minutes", self.dislocation_minutes, positive=True)
        require_non_negative("FuturesConfig.half_spread_bp", self.half_spread_bp)
        require_positive("FuturesConfig.tick_size", self.tick_size)
        require_positive("FuturesConfig.lot_size", self.lot_size)


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionsConfig:
    """A coin-settled (Deribit-style) option chain on an SVI smile per expiry.

    At each snapshot the ATM implied variance is ``vol_premium**2`` times the
    Heston expected average variance to expiry,
    ``theta + (v - theta) (1 - exp(-kappa T)) / (kappa T)``, and the smile is
    raw SVI in total variance ``w(k) = T s (a' + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)))``
    with ``a'`` set so that ``w(0) / T`` equals that level when ``s = 1``; ``s`` scales
    the whole smile with the level. Expiries are the futures' expiries (or
    ``expiries``). Premiums are Black-76 prices divided by the forward.
    """

    snapshot_minutes: float = 5.0
    expiries: tuple[str | int, ...] | None = None
    strikes_per_expiry: int = 11
    strike_range_sd: float = 2.0
    svi_b: float = 1.0
    svi_rho: float = -0.1
    svi_m: float = 0.0
    svi_sigma: float = 0.1
    vol_premium: float = 1.05
    half_spread_vol_points: float = 0.5
    tick_size: float = 0.0001
    rate: float = 0.0
    mispricing_rate_per_day: float = 6.0
    mispricing_size_vol_points: Range = (2.0, 8.0)
    mispricing_minutes: Range = (10.0, 120.0)

    def __post_init__(self) -> None:
        require_positive("OptionsConfig.snapshot_minutes", self.snapshot_minutes)
        if self.expiries is not None:
            if not isinstance(self.expiries, tuple) or not self.expiries:
                raise ValidationError(f"OptionsConfig.expiries={self.expiries!r} must be a non-empty tuple")
            for e in self.expiries:
                parse_time(e)
        _int("OptionsConfig.strikes_per_expiry", self.strikes_per_expiry, 3, 201)
        require_in_range("OptionsConfig.strike_range_sd", self.strike_range_sd, 0.1, 10.0)
        require_in_range("OptionsConfig.svi_b", self.svi_b, 0.0, 100.0)
        require_in_range("OptionsConfig.svi_rho", self.svi_rho, -1.0, 1.0, inclusive=False)
        require_in_range("OptionsConfig.svi_m", self.svi_m, -2.0, 2.0)
        require_in_range("OptionsConfig.svi_sigma", self.svi_sigma, 0.0, 5.0, inclusive=False)
        require_in_range("OptionsConfig.vol_premium", self.vol_premium, 0.1, 10.0)
        require_non_negative("OptionsConfig.half_spread_vol_points", self.half_spread_vol_points)
        require_positive("OptionsConfig.tick_size", self.tick_size)
        require_in_range("OptionsConfig.rate", self.rate, -0.5, 0.5)
        _rate("OptionsConfig.mispricing_rate_per_day", self.mispricing_rate_per_day)
        _range("OptionsConfig.mispricing_size_vol_points", self.mispricing_size_vol_points)
        _range("OptionsConfig.mispricing_minutes", self.mispricing_minutes, positive=True)


_COINS = ("ETH", "BNB", "SOL", "AVAX", "LINK", "DOT", "XRP", "DOGE", "ADA", "LTC")
_PRICES = (3400.0, 400.0, 130.0, 40.0, 18.0, 8.0, 0.6, 0.12, 0.6, 85.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class UniverseConfig:
    """A universe of correlated coins (linear perpetuals ``SIM:<COIN>-PERP``) as bars.

    Every coin's log price has increments loading ``sqrt(market_correlation)``
    on one market factor. In each pair of ``cointegrated_pairs`` (leader,
    follower) the follower is ``log p_f = c + beta log p_l + s`` with ``s`` an
    OU spread (half-life drawn from ``spread_half_life_minutes``, sd
    ``spread_sd_bp``) plus dislocation episodes; every other coin follows its
    own random walk, so those pairs are not cointegrated.
    """

    coins: tuple[str, ...] = _COINS
    start_prices: tuple[float, ...] = _PRICES
    cointegrated_pairs: tuple[tuple[str, str], ...] = (("ETH", "BNB"), ("SOL", "AVAX"), ("LINK", "DOT"))
    vol: float = 0.8
    market_correlation: float = 0.6
    hedge_ratio: Range = (0.7, 1.3)
    spread_half_life_minutes: Range = (20.0, 60.0)
    spread_sd_bp: float = 50.0
    dislocation_rate_per_day: float = 1.0
    dislocation_size_bp: Range = (120.0, 250.0)
    dislocation_minutes: Range = (30.0, 240.0)
    volume_per_bar: float = 1_000.0

    def __post_init__(self) -> None:
        if not isinstance(self.coins, tuple) or not 2 <= len(self.coins) <= 64:
            raise ValidationError(f"UniverseConfig.coins={self.coins!r} must be a tuple of 2 to 64 names")
        if len(set(self.coins)) != len(self.coins):
            raise ValidationError(f"UniverseConfig.coins={self.coins!r} has duplicates")
        for c in self.coins:
            if not isinstance(c, str) or not c.isalnum() or not c.isupper():
                raise ValidationError(f"UniverseConfig.coins: {c!r} must be an upper-case coin name")
        if not isinstance(self.start_prices, tuple) or len(self.start_prices) != len(self.coins):
            raise ValidationError(
                f"UniverseConfig.start_prices has {len(self.start_prices)} entries; "
                f"coins has {len(self.coins)}: they must match"
            )
        for i, p in enumerate(self.start_prices):
            require_positive(f"UniverseConfig.start_prices[{i}]", p)
        used: set[str] = set()
        for pair in self.cointegrated_pairs:
            if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= set(self.coins):
                raise ValidationError(
                    f"UniverseConfig.cointegrated_pairs: {pair!r} must be two different coins of `coins`"
                )
            if used & set(pair):
                raise ValidationError(
                    f"UniverseConfig.cointegrated_pairs: {pair!r} reuses a coin; each coin is in one pair"
                )
            used |= set(pair)
        require_in_range("UniverseConfig.vol", self.vol, 1e-4, 10.0)
        require_in_range("UniverseConfig.market_correlation", self.market_correlation, 0.0, 0.99)
        _range("UniverseConfig.hedge_ratio", self.hedge_ratio, positive=True)
        _range("UniverseConfig.spread_half_life_minutes", self.spread_half_life_minutes, positive=True)
        require_non_negative("UniverseConfig.spread_sd_bp", self.spread_sd_bp)
        _rate("UniverseConfig.dislocation_rate_per_day", self.dislocation_rate_per_day)
        _range("UniverseConfig.dislocation_size_bp", self.dislocation_size_bp)
        _range("UniverseConfig.dislocation_minutes", self.dislocation_minutes, positive=True)
        require_positive("UniverseConfig.volume_per_bar", self.volume_per_bar)


@dataclass(frozen=True, slots=True, kw_only=True)
class BookConfig:
    """L2 book snapshots around each quote (spot, perpetuals, futures).

    Level ``j`` (0 = best) sits ``level_spacing_bp * j**spacing_exponent``
    beyond the best price (at least one tick further than level ``j-1``) and
    holds ``top_size * (1 + size_growth j)`` base units times a log-normal
    factor of dispersion ``size_dispersion``.
    """

    levels: int = 10
    level_spacing_bp: float = 0.2
    spacing_exponent: float = 1.3
    top_size: float = 1.5
    size_growth: float = 0.35
    size_dispersion: float = 0.5

    def __post_init__(self) -> None:
        _int("BookConfig.levels", self.levels, 1, 1000)
        require_positive("BookConfig.level_spacing_bp", self.level_spacing_bp)
        require_in_range("BookConfig.spacing_exponent", self.spacing_exponent, 0.5, 4.0)
        require_positive("BookConfig.top_size", self.top_size)
        require_non_negative("BookConfig.size_growth", self.size_growth)
        require_in_range("BookConfig.size_dispersion", self.size_dispersion, 0.0, 3.0)
        depth_bp = self.level_spacing_bp * (self.levels - 1) ** self.spacing_exponent
        if depth_bp > 2000.0:
            raise ValidationError(
                f"BookConfig: level_spacing_bp={self.level_spacing_bp}, levels={self.levels} and "
                f"spacing_exponent={self.spacing_exponent} put the deepest level {depth_bp:.0f} bp "
                "from the top; the valid range is <= 2000 bp"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class TradesConfig:
    """Taker trades at the touch of spot, perpetual and futures books.

    ``rate_per_minute`` trades per instrument on average (Poisson per step),
    each of log-normal size with mean ``mean_size`` base units (times the
    venue's depth scale), capped by the size shown at the touch.
    """

    rate_per_minute: float = 2.0
    mean_size: float = 0.2

    def __post_init__(self) -> None:
        require_in_range("TradesConfig.rate_per_minute", self.rate_per_minute, 0.0, 10_000.0)
        require_positive("TradesConfig.mean_size", self.mean_size)


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketConfig:
    """Everything the built-in market depends on.

    Parameters
    ----------
    seed
        Seed of every random stream (``np.random.PCG64``); same seed, same bytes.
    start
        Start time (ISO 8601 string, read as UTC, or int ns).
    days
        Length of the run in days.
    step_seconds
        Quote / bar step in seconds (a whole number of milliseconds).
    base, spot_price
        The main coin and its index level at the start.
    dislocations
        Master switch for every injected episode (bursts, venue and basis
        dislocations, option mispricings, pair-spread shocks).
    latency_ms
        Mean receive latency on venue ``SIM`` (``ts_recv - ts_event``).

    Examples
    --------
    >>> cfg = MarketConfig(days=1.0, seed=3)
    >>> cfg.n_steps
    1441
    >>> MarketConfig(days=-1.0)
    Traceback (most recent call last):
    ...
    spreadlab.errors.ValidationError: MarketConfig.days=-1.0 must lie in [0.001, 400.0]
    """

    seed: int = 7
    start: str | int = "2024-03-01T00:00:00Z"
    days: float = 3.0
    step_seconds: float = 60.0
    base: str = "BTC"
    spot_price: float = 60_000.0
    dislocations: bool = True
    latency_ms: float = 5.0
    index: IndexConfig = field(default_factory=IndexConfig)
    spot: SpotConfig = field(default_factory=SpotConfig)
    perp: PerpConfig = field(default_factory=PerpConfig)
    venue2: SecondVenueConfig | None = field(default_factory=SecondVenueConfig)
    futures: FuturesConfig | None = field(default_factory=FuturesConfig)
    options: OptionsConfig | None = field(default_factory=OptionsConfig)
    universe: UniverseConfig | None = field(default_factory=UniverseConfig)
    book: BookConfig = field(default_factory=BookConfig)
    trades: TradesConfig | None = field(default_factory=TradesConfig)

    def __post_init__(self) -> None:
        _int("MarketConfig.seed", self.seed, 0, 2**63 - 1)
        if isinstance(self.start, bool) or not isinstance(self.start, str | int):
            raise ValidationError(f"MarketConfig.start={self.start!r} must be an ISO 8601 string or int ns")
        try:
            start_ns = parse_time(self.start)
        except ValidationError as exc:
            raise ValidationError(f"MarketConfig.start={self.start!r} is not a time: {exc}") from exc
        if start_ns < 0:
            raise ValidationError(f"MarketConfig.start={self.start!r} must be after 1970")
        require_in_range("MarketConfig.days", self.days, 0.001, 400.0)
        require_in_range("MarketConfig.step_seconds", self.step_seconds, 0.001, 86_400.0)
        if abs(self.step_seconds * 1000 - round(self.step_seconds * 1000)) > 1e-6:
            raise ValidationError(
                f"MarketConfig.step_seconds={self.step_seconds} must be a whole number of milliseconds"
            )
        if self.n_steps < 10 or self.n_steps > 20_000_000:
            raise ValidationError(
                f"MarketConfig: days={self.days} and step_seconds={self.step_seconds} give "
                f"{self.n_steps} steps; the valid range is [10, 20000000]"
            )
        if not isinstance(self.base, str) or not self.base.isalnum() or not self.base.isupper():
            raise ValidationError(f"MarketConfig.base={self.base!r} must be an upper-case coin name")
        require_positive("MarketConfig.spot_price", self.spot_price)
        if not isinstance(self.dislocations, bool):
            raise ValidationError(f"MarketConfig.dislocations={self.dislocations!r} must be a bool")
        require_non_negative("MarketConfig.latency_ms", self.latency_ms)
        for name, typ in (
            ("index", IndexConfig),
            ("spot", SpotConfig),
            ("perp", PerpConfig),
            ("book", BookConfig),
        ):
            if not isinstance(getattr(self, name), typ):
                raise ValidationError(f"MarketConfig.{name} must be a {typ.__name__}")
        for name, typ2 in (
            ("venue2", SecondVenueConfig),
            ("futures", FuturesConfig),
            ("options", OptionsConfig),
            ("universe", UniverseConfig),
            ("trades", TradesConfig),
        ):
            v = getattr(self, name)
            if v is not None and not isinstance(v, typ2):
                raise ValidationError(f"MarketConfig.{name} must be a {typ2.__name__} or None")
        if self.universe is not None and self.base in self.universe.coins:
            raise ValidationError(
                f"MarketConfig.universe.coins contains the main coin base={self.base!r}; leave it out"
            )
        if self.options is not None:
            snap = self.options.snapshot_minutes * 60.0 / self.step_seconds
            if abs(snap - round(snap)) > 1e-9 or round(snap) < 1:
                raise ValidationError(
                    f"OptionsConfig.snapshot_minutes={self.options.snapshot_minutes} must be a whole "
                    f"multiple of step_seconds={self.step_seconds}"
                )
            o = self.options
            theta = self.index.vol**2 * o.vol_premium**2
            a_min = theta - o.svi_b * math.hypot(o.svi_m, o.svi_sigma) - o.svi_b * o.svi_rho * (-o.svi_m)
            if a_min + o.svi_b * o.svi_sigma * math.sqrt(1.0 - o.svi_rho**2) < 0.0:
                raise ValidationError(
                    f"OptionsConfig.svi_b={o.svi_b} is too large for IndexConfig.vol={self.index.vol}: "
                    "the smile's minimum total variance would be negative"
                )

    @property
    def start_ns(self) -> int:
        """Start time in int ns UTC."""
        return parse_time(self.start)

    @property
    def step_ns(self) -> int:
        """Step length in int ns."""
        return round(self.step_seconds * 1000) * (NS_PER_SECOND // 1000)

    @property
    def n_steps(self) -> int:
        """Number of time points (both ends included)."""
        return int(round(self.days * NS_PER_DAY / self.step_ns, 9)) + 1

    @property
    def end_ns(self) -> int:
        """Time of the last point in int ns UTC."""
        return self.start_ns + (self.n_steps - 1) * self.step_ns
