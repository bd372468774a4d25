"""Fixtures: the recorded real payloads the loopback venues serve (the tests skip when they are absent)."""

from spreadlab.testing.venues.fixtures import binance_recording, bybit_recording, deribit_recording

__all__ = ["binance_recording", "bybit_recording", "deribit_recording"]
