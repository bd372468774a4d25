"""pytest fixtures for tests that run against the loopback venues (import them into a conftest)."""

from __future__ import annotations

import pytest

from spreadlab.testing.venues.recordings import (
    BinanceRecording,
    BybitRecording,
    DeribitRecording,
    binance_or_skip,
    bybit_or_skip,
    deribit_or_skip,
)

__all__ = ["binance_recording", "bybit_recording", "deribit_recording"]


@pytest.fixture(scope="session")
def binance_recording() -> BinanceRecording:
    """The recorded Binance USDⓈ-M BTCUSDT depth snapshot and the 600 diffs after it."""
    return binance_or_skip(max_diffs=600)


@pytest.fixture(scope="session")
def deribit_recording() -> DeribitRecording:
    """The recorded Deribit option books and the BTC-PERPETUAL Tardis snapshot."""
    return deribit_or_skip()


@pytest.fixture(scope="session")
def bybit_recording() -> BybitRecording:
    """Bybit's recorded XRPUSDT orderbook.500 snapshot and its 49 deltas."""
    return bybit_or_skip()
