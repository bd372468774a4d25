"""BinanceUsdmAdapter against the loopback Binance USDⓈ-M venue (ccxt inside, 127.0.0.1 only).

Outside truth: the recorded BTCUSDT snapshot and diffs of 2024-08-08, hand-worked fills, and the
loopback venue's own order table (one order per client id, whatever the adapter retried).
"""

from __future__ import annotations

import asyncio

import pytest

from spreadlab.adapters import VenueAuthError, VenueUnavailableError
from spreadlab.adapters.binance import BinanceUsdmAdapter
from spreadlab.core.enums import Liquidity, OrderType, Side, TimeInForce
from spreadlab.core.ids import InstrumentId
from spreadlab.data.download.retry import RetryPolicy
from spreadlab.execution.protocols import ExecutionClient, MarketDataFeed, OrderRequest, OrderStatus
from spreadlab.live.secrets import ApiCredentials
from spreadlab.testing.venues import BinanceUsdmVenue

IID = InstrumentId("BINANCE_USDM", "BTCUSDT")
CREDS = ApiCredentials(key="adapter-key-5b8e", secret="adapter-secret-0d4f")
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def run(body, recording, *, creds=CREDS, timeout_ms: int = 10_000):
    async def main():
        async with BinanceUsdmVenue(recording, api_key=CREDS.key, api_secret=CREDS.secret) as venue:
            cfg = venue.ccxt_config()
            cfg["timeout"] = timeout_ms
            adapter = BinanceUsdmAdapter(credentials=creds, config=cfg, retry=FAST)
            try:
                await adapter.connect()
                await body(venue, adapter)
            finally:
                await adapter.close()

    asyncio.run(main())


def req(
    cid: str, side: Side, qty: float, price: float | None, tif: TimeInForce = TimeInForce.GTC, **kw
) -> OrderRequest:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(
        client_order_id=cid,
        instrument_id=IID,
        side=side,
        qty=qty,
        price=price,
        order_type=kind,
        time_in_force=tif,
        **kw,
    )


def test_adapter_implements_both_protocols(binance_recording):
    async def body(venue, a):
        assert isinstance(a, MarketDataFeed) and isinstance(a, ExecutionClient)
        snap = await a.book(IID, depth=5)
        rec = binance_recording.snapshot
        assert snap.sequence == rec["lastUpdateId"]
        assert snap.bids[0] == (float(rec["bids"][0][0]), float(rec["bids"][0][1]))
        assert snap.ts_event == rec["T"] * 1_000_000
        q = await a.quote(IID)
        assert (q.bid, q.ask) == (float(rec["bids"][0][0]), float(rec["asks"][0][0]))
        fr = await a.funding(IID)
        assert fr.rate == venue.funding_rate and fr.interval_ns == 8 * 3600 * 10**9
        assert fr.funding_time_ns % (8 * 3600 * 10**9) == 0

    run(body, binance_recording)


def test_place_fill_cancel_and_account_state(binance_recording):
    asks = [(float(p), float(q)) for p, q in binance_recording.snapshot["asks"][:2]]
    qty = round(asks[0][1] + 0.002, 3)
    vwap = (asks[0][0] * asks[0][1] + asks[1][0] * 0.002) / qty

    async def body(venue, a):
        ack = await a.place(req("t-fill-1", Side.BUY, qty, asks[1][0], TimeInForce.IOC))
        assert ack.status is OrderStatus.FILLED and ack.filled_qty == pytest.approx(qty)
        assert ack.avg_price == pytest.approx(vwap, rel=1e-9)
        fills = await a.fills(IID)
        assert [(f.price, f.liquidity) for f in fills] == [
            (asks[0][0], Liquidity.TAKER),
            (asks[1][0], Liquidity.TAKER),
        ]
        assert sum(f.fee for f in fills) == pytest.approx(0.0005 * vwap * qty, rel=1e-9)
        [pos] = await a.positions()
        assert (
            pos.instrument_id == IID
            and pos.qty == pytest.approx(qty)
            and pos.entry_price == pytest.approx(vwap)
        )
        rest = await a.place(req("t-rest-1", Side.SELL, qty, asks[1][0] + 100.0))
        assert rest.status is OrderStatus.OPEN
        assert [o.client_order_id for o in await a.open_orders(IID)] == ["t-rest-1"]
        done = await a.cancel(IID, "t-rest-1")
        assert done.status is OrderStatus.CANCELED
        again = await a.cancel(IID, "t-rest-1")  # cancelling a closed order returns its final state
        assert again.status is OrderStatus.CANCELED
        usdt = next(b for b in await a.balances() if b.currency == "USDT")
        assert usdt.total == pytest.approx(
            10_000 - 0.0005 * vwap * qty + qty * (venue._mid() - vwap), rel=1e-9
        )

    run(body, binance_recording)


def test_rejections_and_partial_fills_are_values(binance_recording):
    best_ask = float(binance_recording.snapshot["asks"][0][0])

    async def body(venue, a):
        venue.faults.reject_next_orders = 1
        ack = await a.place(req("t-rej", Side.BUY, 0.01, best_ask))
        assert ack.status is OrderStatus.REJECTED and "-2019" in ack.reason
        small = await a.place(req("t-small", Side.BUY, 0.001, 60_000.0))
        assert small.status is OrderStatus.REJECTED and "-4164" in small.reason
        n = len(venue.engine.orders)
        odd = await a.place(req("t-odd", Side.BUY, 0.0205, best_ask))  # ccxt would truncate it to 0.020
        assert odd.status is OrderStatus.REJECTED and "whole number" in odd.reason
        tick = await a.place(req("t-tick", Side.BUY, 0.01, best_ask - 0.05))
        assert tick.status is OrderStatus.REJECTED and "tick" in tick.reason
        assert len(venue.engine.orders) == n
        venue.faults.partial_fill_ratio = 0.5
        part = await a.place(req("t-part", Side.BUY, 0.02, best_ask, TimeInForce.IOC))
        assert part.status is OrderStatus.EXPIRED and part.filled_qty == pytest.approx(0.01)
        gtc = await a.place(req("t-part-gtc", Side.BUY, 0.02, best_ask))
        assert gtc.status is OrderStatus.PARTIALLY_FILLED and gtc.filled_qty == pytest.approx(0.01)
        venue.faults.partial_fill_ratio = None
        po = await a.place(req("t-po", Side.BUY, 0.01, best_ask + 5, TimeInForce.POST_ONLY))
        assert po.status is OrderStatus.EXPIRED and po.filled_qty == 0

    run(body, binance_recording)


def test_rate_limits_and_5xx_are_retried_with_backoff(binance_recording):
    async def body(venue, a):
        venue.faults.rate_limit_next = 2
        venue.faults.server_error_next = 1
        n = len(venue.requests)
        snap = await a.book(IID)
        assert snap.bids and a.retries == 3
        assert venue.requests[n:] == [("GET", "v1/depth")] * 4
        venue.faults.rate_limit_next = 10  # more than the policy allows
        with pytest.raises(VenueUnavailableError):
            await a.book(IID)

    run(body, binance_recording)


def test_a_lost_acknowledgement_never_makes_a_second_order(binance_recording):
    async def body(venue, a):
        venue.faults.ack_delay_s = 0.6  # longer than the client's 300 ms timeout: the ack is lost
        ack = await a.place(req("t-idem", Side.BUY, 0.01, 61_000.0))
        venue.faults.ack_delay_s = 0.0
        await asyncio.sleep(0.7)  # let the delayed original land at the venue
        orders = [o for o in venue.engine.orders.values() if o.client_id == "t-idem"]
        assert len(orders) == 1, "the same client order id reached the book twice"
        assert ack.client_order_id == "t-idem" and ack.venue_order_id == str(orders[0].order_id)
        assert a.retries >= 1
        assert (await a.order(IID, "t-idem")).status is OrderStatus.OPEN

    run(body, binance_recording, timeout_ms=300)


def test_clock_offset_is_measured_and_used_for_signing(binance_recording):
    async def body(venue, a):
        venue.faults.clock_skew_ms = 45_000
        offset = await a.sync_clock()
        assert offset == pytest.approx(45_000, abs=1_000)
        assert (await a.balances())[0].total == 10_000.0  # signed inside the venue's recvWindow

    run(body, binance_recording)


def test_bad_key_is_an_authentication_error(binance_recording):
    async def body(venue, a):
        with pytest.raises(VenueAuthError):
            await a.balances()

    run(body, binance_recording, creds=ApiCredentials(key=CREDS.key, secret="wrong"))


def test_book_stream_resyncs_after_a_gap_and_reconnects_after_a_drop(binance_recording):
    diffs = binance_recording.diffs

    async def body(venue, a):
        stream = a.books([IID])

        async def next_book():
            return await asyncio.wait_for(stream.__anext__(), 5)

        async def pump():
            while True:
                await venue.step(1)
                await asyncio.sleep(0.02)

        pumper = asyncio.ensure_future(pump())
        try:
            first = await next_book()
            seqs = [first.sequence]
            for _ in range(3):
                seqs.append((await next_book()).sequence)
            assert seqs == sorted(seqs)
            venue.faults.drop_next_deltas = 1
            snaps = [await next_book() for _ in range(6)]
            assert a.resyncs >= 1
            opens = venue.stream_opens
            assert opens == 2  # the resync opened a fresh connection
            venue.faults.disconnect_after = 0
            await asyncio.sleep(0.1)
            venue.faults.disconnect_after = None
            snaps += [await next_book() for _ in range(4)]
            assert venue.stream_opens == 3, "the stream came back on a new connection after the drop"
            last = snaps[-1]
            # the resynced book is the venue's book at that update id: compare with a replay of the recording
            book = {float(p): float(q) for p, q in binance_recording.snapshot["bids"]}
            for d in diffs:
                if d["u"] > last.sequence:
                    break
                for p, q in d["b"]:
                    if float(q) == 0.0:
                        book.pop(float(p), None)
                    else:
                        book[float(p)] = float(q)
            assert last.bids[0][0] == max(book)
        finally:
            pumper.cancel()
            await stream.aclose()

    run(body, binance_recording)


def test_amend_reprices_a_resting_order_and_a_cross_fills_it(binance_recording):
    asks = [(float(p), float(q)) for p, q in binance_recording.snapshot["asks"][:1]]

    async def body(venue, a):
        rest = await a.place(req("t-amend", Side.BUY, 0.01, asks[0][0] - 50.0))
        assert rest.status is OrderStatus.OPEN
        moved = await a.amend(IID, "t-amend", qty=0.02, price=asks[0][0] - 20.0)
        assert moved.status is OrderStatus.OPEN and moved.qty == pytest.approx(0.02)
        assert venue.engine.find(client_id="t-amend").price == asks[0][0] - 20.0
        n = len(venue.requests)
        bad = await a.amend(IID, "t-amend", qty=0.0205, price=asks[0][0])  # not a whole lot
        assert bad.status is OrderStatus.REJECTED and "whole number" in bad.reason
        assert ("PUT", "v1/order") not in venue.requests[n:]  # refused before anything was sent
        crossed = await a.amend(IID, "t-amend", qty=0.02, price=asks[0][0])  # now at the best ask: it takes
        assert crossed.filled_qty == pytest.approx(min(0.02, asks[0][1]))
        assert crossed.avg_price == pytest.approx(asks[0][0])
        gone = await a.amend(IID, "t-amend", qty=0.03, price=asks[0][0])  # a filled order cannot change
        assert gone.status is OrderStatus.REJECTED and "-2013" in gone.reason

    run(body, binance_recording)


def test_funding_payments_come_back_as_signed_amounts(binance_recording):
    ask = float(binance_recording.snapshot["asks"][0][0])

    async def body(venue, a):
        await a.place(req("t-fund", Side.BUY, 0.01, ask, TimeInForce.IOC))
        mark = 61_800.0
        venue.funding_rate = 0.0001
        await venue.apply_funding(mark=mark)
        venue.funding_rate = -0.0002
        await venue.apply_funding(mark=mark)
        pays = await a.funding_payments(IID)
        # a long pays a positive rate and earns a negative one: -q * mark * rate
        assert [p.amount for p in pays] == pytest.approx([-0.01 * mark * 0.0001, 0.01 * mark * 0.0002])
        assert {p.currency for p in pays} == {"USDT"}

    run(body, binance_recording)
