"""Shared built markets (module-independent, built once per session)."""

from __future__ import annotations

import pytest

from spreadlab.data.market import MarketConfig, SimulatedMarket, build_market


@pytest.fixture(scope="session")
def market() -> SimulatedMarket:
    """The default market (seed 7, 3 days of 1-minute steps, every part)."""
    return build_market(MarketConfig())


@pytest.fixture(scope="session")
def calm_market() -> SimulatedMarket:
    """The default market with every dislocation switched off (same seed)."""
    return build_market(MarketConfig(dislocations=False))
