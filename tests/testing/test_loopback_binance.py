"""The loopback Binance USDⓈ-M venue, driven through ccxt (no network: 127.0.0.1 only).

Outside truth: the recorded REST depth snapshot and diffs of BTCUSDT (2024-08-08, hftbacktest's
capture in ../shared/data), Binance's documented signing and error codes, and hand-worked fills.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
import pytest

from spreadlab.testing.venues import BinanceUsdmVenue
from spreadlab.testing.venues.recordings import replay_best_asks

SYM = "BTC/USDT:USDT"
KEY, SECRET = "loopback-key-7f3a", "loopback-secret-91c2"


def run(
    body: Callable[[BinanceUsdmVenue, Any], Awaitable[None]], recording, *, secret: str = SECRET, **opts
) -> BinanceUsdmVenue:
    async def main() -> BinanceUsdmVenue:
        async with BinanceUsdmVenue(recording, api_key=KEY, api_secret=SECRET) as venue:
            config = venue.ccxt_config()
            config["options"].update(opts.pop("options", {}))
            ex = ccxtpro.binanceusdm(
                {"apiKey": KEY, "secret": secret, "enableRateLimit": False, **config, **opts}
            )
            try:
                await body(venue, ex)
            finally:
                await ex.close()
        return venue

    return asyncio.run(main())


def test_markets_and_book_come_from_the_recorded_snapshot(binance_recording):
    snap = binance_recording.snapshot

    async def body(venue, ex):
        markets = await ex.load_markets()
        m = markets[SYM]
        assert m["id"] == "BTCUSDT" and m["linear"] and m["swap"]
        assert m["precision"]["price"] == 0.1 and m["precision"]["amount"] == 0.001
        ob = await ex.fetch_order_book(SYM, 5)
        assert ob["nonce"] == snap["lastUpdateId"]
        assert ob["bids"][0] == [float(snap["bids"][0][0]), float(snap["bids"][0][1])]
        assert ob["asks"][0] == [float(snap["asks"][0][0]), float(snap["asks"][0][1])]
        t = await ex.fetch_ticker(SYM)
        assert t["bid"] == float(snap["bids"][0][0]) and t["ask"] == float(snap["asks"][0][0])

    run(body, binance_recording)


def test_taker_buy_walks_the_recorded_asks_at_their_prices(binance_recording):
    asks = [(float(p), float(q)) for p, q in binance_recording.snapshot["asks"][:3]]
    qty = round(asks[0][1] + 0.5 * asks[1][1], 3)  # all of level 1 and part of level 2
    # hand-worked: level 1 fully, the rest at level 2
    rest = round(qty - asks[0][1], 3)
    vwap = (asks[0][0] * asks[0][1] + asks[1][0] * rest) / qty
    limit = asks[1][0]

    async def body(venue, ex):
        await ex.load_markets()
        o = await ex.create_order(SYM, "limit", "buy", qty, limit, {"timeInForce": "IOC"})
        assert o["filled"] == pytest.approx(qty)
        assert o["average"] == pytest.approx(vwap, rel=1e-9)
        pos = (await ex.fetch_positions([SYM]))[0]
        assert pos["contracts"] == pytest.approx(qty) and pos["side"] == "long"
        bal = await ex.fetch_balance()
        wallet = float(
            bal["info"]["assets"][0]["walletBalance"]
        )  # the margin balance adds the unrealised PnL
        assert wallet == pytest.approx(10_000.0 - 0.0005 * vwap * qty, rel=1e-9)
        trades = await ex.fetch_my_trades(SYM)
        assert [t["price"] for t in trades] == [asks[0][0], asks[1][0]]
        assert all(t["takerOrMaker"] == "taker" for t in trades)

    run(body, binance_recording)


def test_resting_bid_fills_as_maker_when_the_replayed_book_trades_through_it(binance_recording):
    # from the recording itself: the lowest best ask over the replayed diffs
    asks = replay_best_asks(binance_recording)
    best0, low = asks[0], min(asks)
    if low >= best0:
        pytest.skip("the recorded asks never fall below the first best ask in the replayed window")

    async def body(venue, ex):
        await ex.load_markets()
        o = await ex.create_order(SYM, "limit", "buy", 0.002, low)
        assert o["status"] == "open" and o["filled"] == 0
        await venue.step(len(binance_recording.diffs))
        got = await ex.fetch_order(o["id"], SYM)
        assert got["status"] == "closed" and got["average"] == pytest.approx(low)
        trade = (await ex.fetch_my_trades(SYM))[0]
        assert trade["takerOrMaker"] == "maker"
        assert trade["fee"]["cost"] == pytest.approx(0.0002 * low * 0.002)

    run(body, binance_recording)


def test_signature_key_and_clock_are_checked(binance_recording):
    async def wrong_secret(venue, ex):
        await ex.load_markets()
        with pytest.raises(ccxt.AuthenticationError, match="-1022"):
            await ex.fetch_balance()

    run(wrong_secret, binance_recording, secret="not-the-secret")

    async def skewed(venue, ex):
        await ex.load_markets()
        venue.faults.clock_skew_ms = 30_000  # the venue runs 30 s ahead: a naive client is outside recvWindow
        with pytest.raises(ccxt.BaseError, match="-1021"):
            await ex.fetch_balance()
        await ex.load_time_difference()
        assert ex.options["timeDifference"] == pytest.approx(-30_000, abs=2_000)
        assert (await ex.fetch_balance())["USDT"]["total"] == 10_000.0

    run(skewed, binance_recording)


def test_injected_faults_surface_as_ccxt_errors(binance_recording):
    async def body(venue, ex):
        await ex.load_markets()
        venue.faults.rate_limit_next = 1
        with pytest.raises(ccxt.DDoSProtection, match="-1003"):  # ccxt raises DDoSProtection on 418/429
            await ex.fetch_order_book(SYM)
        venue.faults.server_error_next = 1
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await ex.fetch_order_book(SYM)
        venue.faults.reject_next_orders = 1
        with pytest.raises(ccxt.ExchangeError, match="-2019"):
            await ex.create_order(SYM, "market", "buy", 0.01)
        with pytest.raises(ccxt.ExchangeError, match="-4164"):  # 0.001 BTC is under the 100 USDT minimum
            await ex.create_order(SYM, "limit", "buy", 0.001, 60_000.0)
        with pytest.raises(ccxt.ExchangeError, match="-2011"):
            await ex.cancel_order("42", SYM)
        venue.faults.ack_delay_s = 0.2
        o = await ex.create_order(SYM, "limit", "buy", 0.01, 61_000.0, {"clientOrderId": "cid-1"})
        venue.faults.ack_delay_s = 0.0
        assert o["status"] == "open"
        with pytest.raises(ccxt.ExchangeError, match="-4116"):  # the same client id twice is refused
            await ex.create_order(SYM, "limit", "buy", 0.01, 61_000.0, {"clientOrderId": "cid-1"})
        assert [r for r in venue.requests if r == ("POST", "v1/order")] == [("POST", "v1/order")] * 4

    run(body, binance_recording)


def test_partial_fill_then_expiry_of_an_ioc_and_post_only_never_takes(binance_recording):
    best_ask = float(binance_recording.snapshot["asks"][0][0])

    async def body(venue, ex):
        await ex.load_markets()
        venue.faults.partial_fill_ratio = 0.5
        o = await ex.create_order(SYM, "limit", "buy", 0.02, best_ask, {"timeInForce": "IOC"})
        assert o["filled"] == pytest.approx(0.01) and o["remaining"] == pytest.approx(0.01)
        assert o["info"]["status"] == "EXPIRED"
        g = await ex.create_order(SYM, "limit", "buy", 0.02, best_ask)  # GTC: the rest stays open
        assert g["filled"] == pytest.approx(0.01) and g["status"] == "open"
        venue.faults.partial_fill_ratio = None
        p = await ex.create_order(SYM, "limit", "buy", 0.01, best_ask + 10, {"timeInForce": "GTX"})
        assert p["filled"] == 0 and p["info"]["status"] == "EXPIRED"

    run(body, binance_recording)


def test_book_stream_replays_the_recorded_diffs_and_a_gap_is_detected(binance_recording):
    diffs = binance_recording.diffs

    async def body(venue, ex):
        await ex.load_markets()
        task = asyncio.ensure_future(ex.watch_order_book(SYM))
        while not venue.connections or not venue.connections[0].channels:
            await asyncio.sleep(0.01)
        await venue.step(3)
        ob = await task
        seen = {ob["nonce"]}
        for _ in range(5):
            await venue.step(1)
            ob = await ex.watch_order_book(SYM)
            seen.add(ob["nonce"])
        # every nonce the client reached is a recorded update id (or the snapshot's)
        assert seen <= {d["u"] for d in diffs} | {binance_recording.snapshot["lastUpdateId"]}
        venue.faults.drop_next_deltas = 1
        await venue.step(2)
        with pytest.raises(ccxt.ChecksumError):
            for _ in range(3):
                await ex.watch_order_book(SYM)
        # resubscribe: a fresh snapshot at the venue's current update id, then diffs again
        task = asyncio.ensure_future(ex.watch_order_book(SYM))
        await asyncio.sleep(0.2)
        await venue.step(1)
        await task
        for _ in range(3):
            await venue.step(1)
            ob = await ex.watch_order_book(SYM)
        # ccxt hands out updates in order, one behind at most: the book is at one of the last two diffs
        done = len(diffs) - venue.remaining_diffs
        assert ob["nonce"] in {d["u"] for d in diffs[done - 2 : done]}

    run(body, binance_recording)


def test_disconnect_fault_closes_the_stream_and_a_new_watch_reconnects(binance_recording):
    async def subscribed(venue):
        while not any(c.channels and not c.ws.closed for c in venue.connections):
            await asyncio.sleep(0.01)

    async def body(venue, ex):
        await ex.load_markets()
        task = asyncio.ensure_future(ex.watch_order_book(SYM))
        await subscribed(venue)
        await venue.step(1)
        await task
        pending = asyncio.ensure_future(ex.watch_order_book(SYM))
        await asyncio.sleep(0.05)
        venue.faults.disconnect_after = 0
        await venue.step(1)
        assert all(c.ws.closed for c in venue.connections)
        with contextlib.suppress(ccxt.NetworkError):  # ccxt may hand out the update buffered before the close
            await asyncio.wait_for(pending, 2)
        venue.faults.disconnect_after = None
        assert venue.stream_opens == 1
        ob = None
        for _ in range(3):
            task = asyncio.ensure_future(ex.watch_order_book(SYM))
            await asyncio.sleep(0.2)
            await venue.step(1)
            try:
                ob = await asyncio.wait_for(task, 3)
                break
            except ccxt.NetworkError:
                continue
        assert venue.stream_opens == 2, "a watch after the disconnect opens a new connection"
        assert ob is not None and ob["nonce"] >= binance_recording.diffs[1]["u"]

    run(body, binance_recording)
