"""The loopback Bybit v5 venue through ccxt: recorded book, v5 signing, Bybit's codes, the spec read off the data."""

from __future__ import annotations

import asyncio

import ccxt
import ccxt.pro as ccxtpro
import pytest

from spreadlab.testing.venues import BybitLinearVenue

KEY, SECRET = "loopback-bybit-k", "loopback-bybit-s"
SYM = "XRP/USDT:USDT"


def run(body, recording, *, secret=SECRET):
    async def main():
        async with BybitLinearVenue(recording, api_key=KEY, api_secret=SECRET) as venue:
            ex = ccxtpro.bybit(
                {"apiKey": KEY, "secret": secret, "enableRateLimit": False, **venue.ccxt_config()}
            )
            try:
                await body(venue, ex)
            finally:
                await ex.close()

    asyncio.run(main())


def test_market_spec_and_book_come_from_the_recorded_file(bybit_recording):
    data = bybit_recording.snapshot["data"]

    async def body(venue, ex):
        m = (await ex.load_markets())[SYM]
        # XRPUSDT: prices with 4 decimals and whole-contract sizes in Bybit's own file
        assert m["precision"]["price"] == 0.0001 and m["precision"]["amount"] == 1.0
        ob = await ex.fetch_order_book(SYM, 3)
        assert ob["bids"][0] == [float(x) for x in data["b"][0]]
        assert ob["asks"][0] == [float(x) for x in data["a"][0]]

    run(body, bybit_recording)


def test_v5_signature_and_error_codes(bybit_recording):
    async def wrong(venue, ex):
        with pytest.raises(
            ccxt.AuthenticationError, match="10004"
        ):  # ccxt's first signed call: the coin list
            await ex.load_markets()
            await ex.fetch_balance()

    run(wrong, bybit_recording, secret="nope")

    async def codes(venue, ex):
        await ex.load_markets()
        venue.faults.rate_limit_next = 1
        with pytest.raises(ccxt.RateLimitExceeded, match="10006"):
            await ex.fetch_order_book(SYM)
        venue.faults.reject_next_orders = 1
        with pytest.raises(ccxt.InsufficientFunds, match="110007"):
            await ex.create_order(SYM, "limit", "buy", 10, 1.9)
        await ex.create_order(SYM, "limit", "buy", 10, 1.9, {"clientOrderId": "dup"})
        with pytest.raises(ccxt.BaseError, match="110072"):
            await ex.create_order(SYM, "limit", "buy", 10, 1.9, {"clientOrderId": "dup"})

    run(codes, bybit_recording)
