"""Fixtures for the loopback venue tests: the recorded real payloads they serve (skip when absent)."""

from __future__ import annotations

import pytest

from spreadlab.testing import shared_file
from spreadlab.testing.venues.recordings import (
    BINANCE_USDM_CAPTURE,
    DERIBIT_PERP_BOOK,
    DERIBIT_WS_CAPTURE,
    BinanceRecording,
    DeribitRecording,
    load_binance_usdm,
    load_deribit,
)


def _need(relative: str):
    path = shared_file(relative)
    if path is None:
        pytest.skip(f"../shared/data/{relative} is absent: the loopback venue serves that real recording")
    return path


@pytest.fixture(scope="session")
def binance_recording() -> BinanceRecording:
    """The recorded Binance USDⓈ-M BTCUSDT depth snapshot and the 600 diffs after it."""
    return load_binance_usdm(_need(BINANCE_USDM_CAPTURE), max_diffs=600)


@pytest.fixture(scope="session")
def deribit_recording() -> DeribitRecording:
    """The recorded Deribit option books and the BTC-PERPETUAL Tardis snapshot."""
    return load_deribit(_need(DERIBIT_WS_CAPTURE), _need(DERIBIT_PERP_BOOK))
