"""The built-in simulated market: a seeded multi-venue crypto derivatives market.

``build_market(MarketConfig(...))`` returns a :class:`SimulatedMarket` with
the instruments, the canonical tables (quotes, L2 book snapshots, funding,
mark/index, option quotes, universe bars) and a ground-truth table of every
injected dislocation. No network, no global state: the same config (and seed)
always gives the same bytes. See :mod:`spreadlab.data.market.build` for the
model, equation by equation.

Examples
--------
>>> from spreadlab.data.market import MarketConfig, build_market
>>> mkt = build_market(MarketConfig(days=1.0, seed=1))
>>> perp = mkt.frame("SIM:BTC-PERP")
>>> perp.height == mkt.config.n_steps
True
"""

from spreadlab.data.market.build import ProgressCallback, build_market, default_expiries
from spreadlab.data.market.config import (
    BookConfig,
    FuturesConfig,
    IndexConfig,
    MarketConfig,
    OptionsConfig,
    PerpConfig,
    SecondVenueConfig,
    SpotConfig,
    TradesConfig,
    UniverseConfig,
)
from spreadlab.data.market.io import config_from_dict, config_to_dict, instruments_from_frame, read_market
from spreadlab.data.market.result import INSTRUMENTS_SCHEMA, TABLES, SimulatedMarket, instruments_frame
from spreadlab.data.market.truth import GROUND_TRUTH_SCHEMA, DislocationKind, SizeUnit

__all__ = [
    "GROUND_TRUTH_SCHEMA",
    "INSTRUMENTS_SCHEMA",
    "TABLES",
    "BookConfig",
    "DislocationKind",
    "FuturesConfig",
    "IndexConfig",
    "MarketConfig",
    "OptionsConfig",
    "PerpConfig",
    "ProgressCallback",
    "SecondVenueConfig",
    "SimulatedMarket",
    "SizeUnit",
    "SpotConfig",
    "TradesConfig",
    "UniverseConfig",
    "build_market",
    "config_from_dict",
    "config_to_dict",
    "default_expiries",
    "instruments_frame",
    "instruments_from_frame",
    "read_market",
]
