"""The loopback Deribit venue through ccxt and a raw JSON-RPC WebSocket (127.0.0.1 only).

Outside truth: the recorded book.*.raw stream of ten BTC/ETH options (cryptofeed's 2021-07-22 capture)
with Deribit's own change_id/prev_change_id chain, the Tardis BTC-PERPETUAL snapshot, Deribit's
signing and error codes, and hand-worked fills.
"""

from __future__ import annotations

import asyncio

import aiohttp
import ccxt
import ccxt.pro as ccxtpro
import pytest

from spreadlab.testing.venues import DeribitVenue

KEY, SECRET = "loopback-client-3d1", "loopback-secret-c7e0"
OPT = "BTC-24SEP21-8000-P"


def run(body, recording, *, secret: str = SECRET):
    async def main():
        async with DeribitVenue(recording, api_key=KEY, api_secret=SECRET) as venue:
            ex = ccxtpro.deribit(
                {"apiKey": KEY, "secret": secret, "enableRateLimit": False, **venue.ccxt_config()}
            )
            try:
                await body(venue, ex)
            finally:
                await ex.close()

    asyncio.run(main())


def _symbol(ex, venue_id: str) -> str:
    return next(s for s, m in ex.markets.items() if m["id"] == venue_id)


def test_instruments_and_books_are_the_recorded_ones(deribit_recording):
    snap = deribit_recording.books[OPT][0]

    async def body(venue, ex):
        await ex.load_markets()
        ids = {m["id"] for m in ex.markets.values()}
        assert ids == set(deribit_recording.books)
        sym = _symbol(ex, OPT)
        m = ex.markets[sym]
        assert m["option"] and m["strike"] == 8000 and m["optionType"] == "put"
        ob = await ex.fetch_order_book(sym)
        assert ob["bids"][0] == snap["bids"][0][1:] and ob["asks"][0] == snap["asks"][0][1:]

    run(body, deribit_recording)


def test_option_buy_walks_the_asks_and_the_fee_is_capped(deribit_recording):
    asks = [(p, q) for _, p, q in deribit_recording.books[OPT][0]["asks"][:2]]
    qty = round(asks[0][1] + 10.0, 1)  # the whole first level and 10 contracts of the second
    vwap = (asks[0][0] * asks[0][1] + asks[1][0] * 10.0) / qty

    async def body(venue, ex):
        await ex.load_markets()
        sym = _symbol(ex, OPT)
        o = await ex.create_order(sym, "limit", "buy", qty, asks[1][0])
        assert o["status"] == "closed" and o["filled"] == pytest.approx(qty)
        assert o["average"] == pytest.approx(vwap, rel=1e-12)
        trades = await ex.fetch_my_trades(sym)
        # Deribit option fee: 0.03% of the underlying per contract, capped at 12.5% of the premium
        for t in trades:
            expected = min(
                0.0005 * t["price"] * t["amount"], 0.0003 * t["amount"], 0.125 * t["price"] * t["amount"]
            )
            assert t["fee"]["cost"] == pytest.approx(expected)
        paid = sum(t["price"] * t["amount"] + t["fee"]["cost"] for t in trades)
        bal = await ex.fetch_balance()
        assert bal["BTC"]["total"] == pytest.approx(1.0 - paid + qty * (venue._mid(OPT) - vwap), rel=1e-9)

    run(body, deribit_recording)


def test_private_calls_need_a_valid_signature_and_faults_map_to_deribit_codes(deribit_recording):
    async def wrong(venue, ex):
        await ex.load_markets()
        with pytest.raises(ccxt.AuthenticationError, match="13004"):
            await ex.fetch_balance()

    run(wrong, deribit_recording, secret="bad")

    async def faults(venue, ex):
        await ex.load_markets()
        sym = _symbol(ex, OPT)
        venue.faults.rate_limit_next = 1
        with pytest.raises(ccxt.DDoSProtection, match="10028"):
            await ex.fetch_order_book(sym)
        venue.faults.reject_next_orders = 1
        with pytest.raises(ccxt.InsufficientFunds, match="10009"):
            await ex.create_order(sym, "limit", "buy", 0.5, 0.0015)
        with pytest.raises(ccxt.OrderNotFound, match="10004"):
            await ex.cancel_order("77", sym)
        venue.faults.partial_fill_ratio = 0.5
        o = await ex.create_order(sym, "limit", "buy", 1.0, 0.0015)
        assert o["filled"] == pytest.approx(0.5) and o["status"] == "open"
        c = await ex.cancel_order(o["id"], sym)
        assert c["status"] == "canceled"

    run(faults, deribit_recording)


def test_ws_book_stream_keeps_the_recorded_change_id_chain_and_a_gap_shows(deribit_recording):
    async def main():
        async with (
            DeribitVenue(deribit_recording, api_key=KEY, api_secret=SECRET) as venue,
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{venue.ws_url}/ws/api/v2") as ws,
        ):
            await ws.send_json(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "public/subscribe",
                    "params": {"channels": [f"book.{OPT}.raw"]},
                }
            )
            got = []
            reply = await ws.receive_json()
            assert reply["result"] == [f"book.{OPT}.raw"]
            snap = (await ws.receive_json())["params"]["data"]
            assert (
                snap["type"] == "snapshot"
                and snap["change_id"] == deribit_recording.books[OPT][0]["change_id"]
            )
            last = snap["change_id"]
            changes = deribit_recording.books[OPT][1:]
            while len(got) < 6:
                await venue.step(1)
                try:
                    msg = await asyncio.wait_for(ws.receive_json(), 0.05)
                except TimeoutError:
                    continue
                data = msg["params"]["data"]
                assert data["prev_change_id"] == last  # Deribit's own chain, as recorded
                last = data["change_id"]
                got.append(data)
            assert [d["change_id"] for d in got] == [d["change_id"] for d in changes[:6]]
            venue.faults.drop_next_deltas = 1
            while True:
                await venue.step(1)
                try:
                    msg = await asyncio.wait_for(ws.receive_json(), 0.05)
                    break
                except TimeoutError:
                    continue
            assert msg["params"]["data"]["prev_change_id"] != last  # the gap a client must detect

    asyncio.run(main())


def test_ws_auth_by_client_signature(deribit_recording):
    import hashlib
    import hmac
    import time

    async def main():
        async with (
            DeribitVenue(deribit_recording, api_key=KEY, api_secret=SECRET) as venue,
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{venue.ws_url}/ws/api/v2") as ws,
        ):
            await ws.send_json({"jsonrpc": "2.0", "id": 1, "method": "private/get_positions", "params": {}})
            assert (await ws.receive_json())["error"]["code"] == 13009
            ts = int(time.time() * 1000)
            sig = hmac.new(SECRET.encode(), f"{ts}\nabc\n".encode(), hashlib.sha256).hexdigest()
            auth = {
                "grant_type": "client_signature",
                "client_id": KEY,
                "timestamp": ts,
                "nonce": "abc",
                "data": "",
                "signature": sig,
            }
            await ws.send_json({"jsonrpc": "2.0", "id": 2, "method": "public/auth", "params": auth})
            assert "access_token" in (await ws.receive_json())["result"]
            await ws.send_json({"jsonrpc": "2.0", "id": 3, "method": "private/get_positions", "params": {}})
            assert (await ws.receive_json())["result"] == []

    asyncio.run(main())
