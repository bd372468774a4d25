"""Faults across venues: a stale book stream, and one venue down while the other leg stays live."""

from __future__ import annotations

import asyncio

import pytest

from spreadlab.adapters import VenueUnavailableError
from spreadlab.adapters.binance import BinanceUsdmAdapter
from spreadlab.adapters.deribit import DeribitAdapter
from spreadlab.core.enums import OrderType, Side, TimeInForce
from spreadlab.core.ids import InstrumentId
from spreadlab.data.download.retry import RetryPolicy
from spreadlab.execution.protocols import OrderRequest, OrderStatus
from spreadlab.live.secrets import ApiCredentials
from spreadlab.testing.venues import BinanceUsdmVenue, DeribitVenue
from spreadlab.testing.venues.recordings import replay_best_asks

BIN = InstrumentId("BINANCE_USDM", "BTCUSDT")
PERP = InstrumentId("DERIBIT", "BTC-PERPETUAL")
CREDS = ApiCredentials(key="faults-key-19", secret="faults-secret-a3")
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


def test_a_silent_book_stream_is_resubscribed_and_resumes(binance_recording):
    async def main():
        async with BinanceUsdmVenue(binance_recording, api_key=CREDS.key, api_secret=CREDS.secret) as venue:
            # ccxt takes about a second to reconnect and re-snapshot: a silent period is 1.5 s here
            retry = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)
            a = BinanceUsdmAdapter(
                credentials=CREDS, config=venue.ccxt_config(), retry=retry, stale_after_s=1.5
            )
            stream = a.books([BIN])

            async def pump():
                while True:
                    await venue.step(1)
                    await asyncio.sleep(0.02)

            pumper = asyncio.ensure_future(pump())
            try:
                await a.connect()
                first = await asyncio.wait_for(stream.__anext__(), 5)
                nxt = asyncio.ensure_future(stream.__anext__())
                venue.faults.stale_book = True  # deltas still move the venue's book, none is sent
                await asyncio.sleep(2.0)  # past one silent period: the adapter resubscribes
                venue.faults.stale_book = False
                snap = await asyncio.wait_for(nxt, 10)
                assert a.stale >= 1 and venue.stream_opens >= 2
                # the first book after the silence is rebuilt from a fresh snapshot: it is at an update
                # id the venue reached after the silence began
                assert snap.sequence > first.sequence
                venue.faults.down = True  # the whole venue gone: the stream gives up after the retries
                await venue.drop_connections()
                with pytest.raises(VenueUnavailableError, match="failures in a row"):
                    for _ in range(10):
                        await asyncio.wait_for(stream.__anext__(), 10)
            finally:
                pumper.cancel()
                await stream.aclose()
                await a.close()

    asyncio.run(main())


def test_one_venue_down_while_the_other_leg_stays_live(binance_recording, deribit_recording):
    async def main():
        async with (
            BinanceUsdmVenue(binance_recording, api_key=CREDS.key, api_secret=CREDS.secret) as bv,
            DeribitVenue(deribit_recording, api_key=CREDS.key, api_secret=CREDS.secret) as dv,
        ):
            b = BinanceUsdmAdapter(credentials=CREDS, config=bv.ccxt_config(), retry=FAST)
            d = DeribitAdapter(credentials=CREDS, config=dv.ccxt_config(), retry=FAST)
            try:
                await b.connect()
                await d.connect()
                ask = float(binance_recording.snapshot["asks"][0][0])
                leg1 = await b.place(
                    OrderRequest(
                        client_order_id="leg-1",
                        instrument_id=BIN,
                        side=Side.BUY,
                        qty=0.01,
                        price=ask,
                        time_in_force=TimeInForce.IOC,
                    )
                )
                assert leg1.status is OrderStatus.FILLED
                dv.faults.down = True
                leg2 = OrderRequest(  # the leg buys at the recorded asks
                    client_order_id="leg-2",
                    instrument_id=PERP,
                    side=Side.BUY,
                    qty=10.0,
                    order_type=OrderType.MARKET,
                )
                with pytest.raises(VenueUnavailableError):
                    await d.place(leg2)
                assert dv.engine.orders == {}  # nothing reached the dead venue's book
                # the live venue still answers: the first leg can be unwound there
                unwind = await b.place(
                    OrderRequest(
                        client_order_id="leg-1-unwind",
                        instrument_id=BIN,
                        side=Side.SELL,
                        qty=0.01,
                        order_type=OrderType.MARKET,
                        reduce_only=True,
                    )
                )
                assert unwind.status is OrderStatus.FILLED
                assert await b.positions() == []
                dv.faults.down = False  # back up: the same client id is sent once, not twice
                ack = await d.place(leg2)
                assert ack.status is OrderStatus.FILLED
                assert [o.client_id for o in dv.engine.orders.values()] == ["leg-2"]
            finally:
                await b.close()
                await d.close()

    asyncio.run(main())


def _run_both(binance_recording, deribit_recording, body):
    async def main():
        async with (
            BinanceUsdmVenue(binance_recording, api_key=CREDS.key, api_secret=CREDS.secret) as bv,
            DeribitVenue(deribit_recording, api_key=CREDS.key, api_secret=CREDS.secret) as dv,
        ):
            b = BinanceUsdmAdapter(credentials=CREDS, config=bv.ccxt_config(), retry=FAST)
            d = DeribitAdapter(credentials=CREDS, config=dv.ccxt_config(), retry=FAST)
            try:
                await b.connect()
                await d.connect()
                await body(bv, b, dv, d)
            finally:
                await b.close()
                await d.close()

    asyncio.run(main())


def test_order_stream_reports_a_resting_order_as_it_fills_from_the_replayed_book(
    binance_recording, deribit_recording
):
    # the lowest best ask the recorded diffs reach: a bid there rests, then fills as maker
    asks = replay_best_asks(binance_recording)
    best0, low = asks[0], min(asks)
    if low >= best0:
        pytest.skip("the recorded asks never fall below the first best ask in the replayed window")

    async def body(bv, b, dv, d):
        stream = b.order_updates([BIN])
        first = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.5)  # the user-data stream is open
        placed = await b.place(
            OrderRequest(client_order_id="maker-1", instrument_id=BIN, side=Side.BUY, qty=0.002, price=low)
        )
        assert placed.status is OrderStatus.OPEN
        seen = [await asyncio.wait_for(first, 5)]
        await bv.step(len(binance_recording.diffs))
        while seen[-1].status is not OrderStatus.FILLED:
            seen.append(await asyncio.wait_for(stream.__anext__(), 5))
        assert seen[0].status is OrderStatus.OPEN and seen[0].client_order_id == "maker-1"
        assert seen[-1].filled_qty == pytest.approx(0.002) and seen[-1].avg_price == pytest.approx(low)
        await stream.aclose()

        dstream = d.order_updates([PERP])
        nxt = asyncio.ensure_future(dstream.__anext__())
        await asyncio.sleep(0.5)
        ask = await d.place(
            OrderRequest(
                client_order_id="perp-1",
                instrument_id=PERP,
                side=Side.BUY,
                qty=10.0,
                order_type=OrderType.MARKET,
            )
        )
        update = await asyncio.wait_for(nxt, 5)
        assert update.venue_order_id == ask.venue_order_id and update.status is OrderStatus.FILLED
        assert update.client_order_id == "perp-1"
        await dstream.aclose()

    _run_both(binance_recording, deribit_recording, body)
