"""DeribitAdapter against the loopback Deribit venue (ccxt inside, 127.0.0.1 only).

Outside truth: the recorded option books (cryptofeed's 2021-07-22 Deribit capture, with Deribit's
change_id chain) and the Tardis BTC-PERPETUAL snapshot; hand-worked fills; the venue's order table.
"""

from __future__ import annotations

import asyncio

import pytest

from spreadlab.adapters.deribit import DeribitAdapter
from spreadlab.core.enums import Liquidity, OrderType, Side, TimeInForce
from spreadlab.core.ids import InstrumentId
from spreadlab.data.download.retry import RetryPolicy
from spreadlab.execution.protocols import ExecutionClient, MarketDataFeed, OrderRequest, OrderStatus
from spreadlab.live.secrets import ApiCredentials
from spreadlab.testing.venues import DeribitVenue

OPT = InstrumentId("DERIBIT", "BTC-24SEP21-8000-P")
PERP = InstrumentId("DERIBIT", "BTC-PERPETUAL")
CREDS = ApiCredentials(key="deribit-client-81a", secret="deribit-secret-2f9")
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def run(body, recording, *, timeout_ms: int = 10_000):
    async def main():
        async with DeribitVenue(recording, api_key=CREDS.key, api_secret=CREDS.secret) as venue:
            cfg = venue.ccxt_config() | {"timeout": timeout_ms}
            adapter = DeribitAdapter(credentials=CREDS, config=cfg, retry=FAST)
            try:
                await adapter.connect()
                await body(venue, adapter)
            finally:
                await adapter.close()

    asyncio.run(main())


def req(cid, iid, side, qty, price, tif=TimeInForce.GTC):
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(
        client_order_id=cid,
        instrument_id=iid,
        side=side,
        qty=qty,
        price=price,
        order_type=kind,
        time_in_force=tif,
    )


def test_books_and_quotes_are_the_recorded_ones(deribit_recording):
    snap = deribit_recording.books[OPT.symbol][0]

    async def body(venue, a):
        assert isinstance(a, MarketDataFeed) and isinstance(a, ExecutionClient)
        book = await a.book(OPT)
        assert book.sequence == snap["change_id"]
        assert book.bids == tuple((p, q) for _, p, q in snap["bids"])
        assert book.asks[:3] == tuple((p, q) for _, p, q in snap["asks"][:3])
        perp = await a.book(PERP)
        # the Tardis snapshot of 2020-04-01 00:00:00.245: 15 ask levels and the best bid of that instant
        assert perp.asks[0] == (6421.5, 18640.0) and perp.bids == ((6421.0, 10000.0),)

    run(body, deribit_recording)


def test_option_and_inverse_perpetual_round_trip(deribit_recording):
    asks = [(p, q) for _, p, q in deribit_recording.books[OPT.symbol][0]["asks"][:2]]

    async def body(venue, a):
        ack = await a.place(req("d-opt-1", OPT, Side.BUY, 1.0, asks[0][0]))
        assert ack.status is OrderStatus.FILLED and ack.avg_price == asks[0][0]
        [fill] = await a.fills(OPT)
        assert fill.liquidity is Liquidity.TAKER and fill.fee_currency == "BTC"
        assert fill.fee == pytest.approx(min(0.0005 * asks[0][0], 0.0003, 0.125 * asks[0][0]))
        perp = await a.place(req("d-perp-1", PERP, Side.BUY, 18_650.0, None, TimeInForce.IOC))
        # 18640 USD at 6421.5 and 10 USD at the next level 6422
        assert perp.filled_qty == 18_650.0
        assert perp.avg_price == pytest.approx((18_640 * 6421.5 + 10 * 6422.0) / 18_650)
        pos = {p.instrument_id: p for p in await a.positions()}
        assert pos[OPT].qty == 1.0 and pos[PERP].qty == 18_650.0
        rest = await a.place(req("d-rest", OPT, Side.BUY, 0.5, 0.0005))
        assert rest.status is OrderStatus.OPEN
        assert [o.client_order_id for o in await a.open_orders(OPT)] == ["d-rest"]
        assert (await a.cancel(OPT, "d-rest")).status is OrderStatus.CANCELED
        po = await a.place(req("d-po", OPT, Side.BUY, 0.5, asks[1][0], TimeInForce.POST_ONLY))
        assert po.status is OrderStatus.REJECTED and "11054" in po.reason

    run(body, deribit_recording)


def test_faults_retry_reject_and_idempotency(deribit_recording):
    async def body(venue, a):
        venue.faults.rate_limit_next = 2
        assert (await a.book(OPT)).bids and a.retries == 2
        venue.faults.reject_next_orders = 1
        rej = await a.place(req("d-rej", OPT, Side.BUY, 0.5, 0.0015))
        assert rej.status is OrderStatus.REJECTED and "10009" in rej.reason
        venue.faults.ack_delay_s = 0.6
        ack = await a.place(req("d-idem", OPT, Side.BUY, 0.5, 0.0005))
        venue.faults.ack_delay_s = 0.0
        await asyncio.sleep(0.7)
        # Deribit does not refuse a repeated label (nor does the loopback): the adapter must look,
        # for as long as the lost request may take, before it resends
        labelled = [o for o in venue.engine.orders.values() if o.client_id == "d-idem"]
        assert len(labelled) == 1 and ack.venue_order_id == str(labelled[0].order_id)

    run(body, deribit_recording, timeout_ms=300)


def test_book_stream_detects_a_change_id_gap_and_resyncs(deribit_recording):
    async def body(venue, a):
        stream = a.books([OPT])

        async def pump():
            while True:
                await venue.step(1)
                await asyncio.sleep(0.01)

        first = await asyncio.wait_for(stream.__anext__(), 5)
        assert first.sequence == deribit_recording.books[OPT.symbol][0]["change_id"]
        pumper = asyncio.ensure_future(pump())
        try:
            await asyncio.wait_for(stream.__anext__(), 5)
            venue.faults.drop_next_deltas = 3
            got = [await asyncio.wait_for(stream.__anext__(), 5) for _ in range(3)]
            assert a.resyncs >= 1 and venue.stream_opens >= 2
            changes = {m["change_id"] for m in deribit_recording.books[OPT.symbol]}
            assert all(g.sequence in changes for g in got)  # every book handed out sits on the recorded chain
            # after the resync the book is the venue's book, level by level
            book = venue.engine.books[OPT.symbol]
            assert got[-1].bids[0][0] == max(book.bids)
        finally:
            pumper.cancel()
            await stream.aclose()

    run(body, deribit_recording)


def test_amend_moves_an_option_bid_to_the_ask_and_fills(deribit_recording):
    ask = deribit_recording.books[OPT.symbol][0]["asks"][0][1]

    async def body(venue, a):
        rest = await a.place(req("d-amend", OPT, Side.BUY, 1.0, 0.0005))
        assert rest.status is OrderStatus.OPEN
        done = await a.amend(OPT, "d-amend", qty=1.0, price=ask)
        assert done.status is OrderStatus.FILLED and done.avg_price == ask

    run(body, deribit_recording)


def test_inverse_perpetual_round_trip_pnl_is_in_coin(deribit_recording):
    async def body(venue, a):
        await a.place(req("rt-in", PERP, Side.BUY, 1_000.0, None, TimeInForce.IOC))  # at the ask 6421.5
        paid = venue.apply_funding(symbol="BTC-PERPETUAL", mark=6421.25)
        await a.place(req("rt-out", PERP, Side.SELL, 1_000.0, None, TimeInForce.IOC))  # at the bid 6421.0
        assert await a.positions() == []
        # hand-worked, Deribit's inverse contract: PnL = qty_usd * (1/entry - 1/exit) in BTC
        pnl = 1_000.0 * (1 / 6421.5 - 1 / 6421.0)
        fees = 0.0005 * (1_000.0 / 6421.5 + 1_000.0 / 6421.0)
        funding = 1_000.0 / 6421.25 * venue.funding_rate
        assert paid == pytest.approx(funding)
        btc = next(b for b in await a.balances() if b.currency == "BTC")
        assert btc.total == pytest.approx(1.0 + pnl - fees - funding, rel=1e-12)

    run(body, deribit_recording)
