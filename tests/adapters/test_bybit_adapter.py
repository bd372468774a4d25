"""BybitLinearAdapter against the loopback Bybit v5 venue (ccxt inside, 127.0.0.1 only).

Outside truth: Bybit's official XRPUSDT orderbook.500 file (2024-12-01, snapshot + deltas with
consecutive ``u``), hand-worked fills, Bybit's error codes, and the venue's own order table.
"""

from __future__ import annotations

import asyncio

import pytest

from spreadlab.adapters.bybit import BybitLinearAdapter
from spreadlab.core.enums import Liquidity, OrderType, Side, TimeInForce
from spreadlab.core.ids import InstrumentId
from spreadlab.data.download.retry import RetryPolicy
from spreadlab.execution.protocols import ExecutionClient, MarketDataFeed, OrderRequest, OrderStatus
from spreadlab.live.secrets import ApiCredentials
from spreadlab.testing.venues import BybitLinearVenue

IID = InstrumentId("BYBIT_LINEAR", "XRPUSDT")
CREDS = ApiCredentials(key="bybit-key-4e7", secret="bybit-secret-9a0c")
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def run(body, recording, *, timeout_ms: int = 10_000):
    async def main():
        async with BybitLinearVenue(recording, api_key=CREDS.key, api_secret=CREDS.secret) as venue:
            cfg = venue.ccxt_config() | {"timeout": timeout_ms}
            adapter = BybitLinearAdapter(credentials=CREDS, config=cfg, retry=FAST)
            try:
                await adapter.connect()
                await body(venue, adapter)
            finally:
                await adapter.close()

    asyncio.run(main())


def req(cid, side, qty, price, tif=TimeInForce.GTC):
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(
        client_order_id=cid,
        instrument_id=IID,
        side=side,
        qty=qty,
        price=price,
        order_type=kind,
        time_in_force=tif,
    )


def levels(recording, key):
    return [(float(p), float(q)) for p, q in recording.snapshot["data"][key]]


def test_book_and_a_taker_fill_across_two_recorded_levels(bybit_recording):
    asks = levels(bybit_recording, "a")[:2]
    qty = asks[0][1] + 100.0
    vwap = (asks[0][0] * asks[0][1] + asks[1][0] * 100.0) / qty

    async def body(venue, a):
        assert isinstance(a, MarketDataFeed) and isinstance(a, ExecutionClient)
        snap = await a.book(IID, depth=5)
        assert snap.bids[0] == levels(bybit_recording, "b")[0] and snap.asks[0] == asks[0]
        ack = await a.place(req("y-fill", Side.BUY, qty, asks[1][0], TimeInForce.IOC))
        assert ack.status is OrderStatus.FILLED and ack.filled_qty == qty
        assert ack.avg_price == pytest.approx(vwap, rel=1e-9)  # Bybit prints 10 decimals
        fills = await a.fills(IID)
        assert [(f.price, f.qty, f.liquidity) for f in fills] == [
            (asks[0][0], asks[0][1], Liquidity.TAKER),
            (asks[1][0], 100.0, Liquidity.TAKER),
        ]
        assert sum(f.fee for f in fills) == pytest.approx(0.00055 * vwap * qty, rel=1e-9)
        [pos] = await a.positions()
        assert pos.qty == qty and pos.entry_price == pytest.approx(vwap)
        rest = await a.place(req("y-rest", Side.BUY, 10.0, 1.9))
        assert rest.status is OrderStatus.OPEN
        moved = await a.amend(IID, "y-rest", qty=20.0, price=1.91)
        assert moved.status is OrderStatus.OPEN and moved.qty == 20.0
        assert (await a.cancel(IID, "y-rest")).status is OrderStatus.CANCELED
        fr = await a.funding(IID)
        assert fr.rate == venue.funding_rate

    run(body, bybit_recording)


def test_bybit_codes_rate_limit_rejection_and_idempotent_send(bybit_recording):
    ask = levels(bybit_recording, "a")[0][0]

    async def body(venue, a):
        venue.faults.rate_limit_next = 2  # retCode 10006 on HTTP 200: still retried
        assert (await a.book(IID)).asks and a.retries == 2
        venue.faults.reject_next_orders = 1
        rej = await a.place(req("y-rej", Side.BUY, 10.0, ask))
        assert rej.status is OrderStatus.REJECTED and "110007" in rej.reason
        odd = await a.place(req("y-odd", Side.BUY, 10.5, ask))  # XRPUSDT trades whole contracts
        assert odd.status is OrderStatus.REJECTED and "whole number" in odd.reason
        venue.faults.ack_delay_s = 0.6
        ack = await a.place(req("y-idem", Side.BUY, 10.0, 1.9))
        venue.faults.ack_delay_s = 0.0
        await asyncio.sleep(0.7)
        same = [o for o in venue.engine.orders.values() if o.client_id == "y-idem"]
        assert len(same) == 1 and ack.venue_order_id == str(same[0].order_id)

    run(body, bybit_recording, timeout_ms=300)


def test_book_stream_checks_u_and_resyncs_after_a_gap(bybit_recording):
    us = [m["data"]["u"] for m in bybit_recording.deltas]

    async def body(venue, a):
        stream = a.books([IID])
        first = await asyncio.wait_for(stream.__anext__(), 5)
        assert first.sequence == bybit_recording.snapshot["data"]["u"]

        async def pump():
            while True:
                await venue.step(1)
                await asyncio.sleep(0.02)

        pumper = asyncio.ensure_future(pump())
        try:
            got = [await asyncio.wait_for(stream.__anext__(), 5) for _ in range(3)]
            assert all(g.sequence in us for g in got)
            venue.faults.drop_next_deltas = 1
            later = [await asyncio.wait_for(stream.__anext__(), 5) for _ in range(3)]
            assert a.resyncs == 1 and venue.stream_opens == 2
            book = venue.engine.books["XRPUSDT"]
            assert later[-1].sequence <= book.sequence and later[-1].sequence in us
        finally:
            pumper.cancel()
            await stream.aclose()

    run(body, bybit_recording)
