"""Raw Hyperliquid websocket captures (issue 10 item 5).

../shared/data holds no Hyperliquid websocket capture (its Hyperliquid files are candles and funding),
so the lines here are written in the message shapes Hyperliquid documents for ``wss://api.hyperliquid.xyz/ws``
(hyperliquid-docs, API > Websocket > Subscriptions: ``WsBook {coin, levels: [bids, asks], time}`` with
``WsLevel {px, sz, n}`` as strings, ``WsTrade {coin, side: "A"|"B", px, sz, hash, time, tid, users}``,
``WsBbo {coin, time, bbo: [bid|null, ask|null]}``), and every stored field is checked against them.
"""

from __future__ import annotations

import gzip
import json

import polars as pl
import pytest

from spreadlab.data.catalog import Catalog
from spreadlab.data.importers.base import detect_format
from spreadlab.data.importers.hyperliquid_ws import read_hyperliquid_ws
from spreadlab.errors import DataError

T0 = 1733000000000  # ms


def _book(i: int) -> dict:
    bids = [{"px": f"{97000 - k * 0.5 - i:.1f}", "sz": f"{0.1 * (k + 1):.4f}", "n": k + 1} for k in range(5)]
    asks = [{"px": f"{97001 + k * 0.5 - i:.1f}", "sz": f"{0.2 * (k + 1):.4f}", "n": k + 2} for k in range(5)]
    return {"channel": "l2Book", "data": {"coin": "BTC", "time": T0 + 500 * i, "levels": [bids, asks]}}


def _trades(i: int) -> dict:
    return {"channel": "trades", "data": [
        {"coin": "ETH", "side": "B" if k % 2 == 0 else "A", "px": f"{3600.1 + k:.1f}", "sz": "0.0521",
         "hash": "0x" + "ab" * 32, "time": T0 + 250 * i, "tid": 900000 + 10 * i + k, "users": ["0x1", "0x2"]}
        for k in range(2)
    ]}  # fmt: skip


def _capture(tmp_path, *, prefix: bool):
    msgs = [{"channel": "subscriptionResponse", "data": {"method": "subscribe", "subscription": {"type": "l2Book",
             "coin": "BTC"}}}]  # fmt: skip
    for i in range(6):
        msgs += [_book(i), _trades(i)]
    msgs.append(
        {
            "channel": "bbo",
            "data": {
                "coin": "BTC",
                "time": T0 + 9000,
                "bbo": [{"px": "96990.0", "sz": "1.25", "n": 4}, {"px": "96991.5", "sz": "0.5", "n": 2}],
            },
        }
    )
    msgs.append({"channel": "bbo", "data": {"coin": "BTC", "time": T0 + 9500,
                 "bbo": [{"px": "96990.0", "sz": "1.25", "n": 4}, None]}})  # one-sided: no quote row  # fmt: skip
    msgs.append({"channel": "pong"})
    lines = []
    for k, m in enumerate(msgs):
        body = json.dumps(m, separators=(",", ":"))
        lines.append(f"{(T0 + 40 + 100 * k) * 1_000_000} {body}" if prefix else body)
    path = tmp_path / ("hl.log.gz" if prefix else "hl.jsonl")
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if prefix else data)
    return path, msgs


@pytest.mark.parametrize("prefix", [False, True], ids=["bare", "recv-prefix-gz"])
def test_book_snapshots_trades_and_bbo(tmp_path, prefix):
    path, msgs = _capture(tmp_path, prefix=prefix)
    assert detect_format(path).value == "hyperliquid-ws"
    batches = list(read_hyperliquid_ws(path))
    assert sum(b.rows_read for b in batches) == len(msgs) == 16
    got = {b.kind.value: b.frame for b in batches}
    recv = {k: (T0 + 40 + 100 * k) * 1_000_000 for k in range(len(msgs))}
    books = got["book_snapshots"]
    assert books.height == 6
    for j, row in enumerate(books.iter_rows(named=True)):
        data = msgs[1 + 2 * j]["data"]
        assert row["instrument_id"] == "HYPERLIQUID:BTC" and row["ts_event"] == data["time"] * 1_000_000
        assert row["ts_recv"] == (recv[1 + 2 * j] if prefix else row["ts_event"])
        assert row["bid_prices"] == [float(x["px"]) for x in data["levels"][0]]  # best first
        assert row["ask_sizes"] == [float(x["sz"]) for x in data["levels"][1]]
    trades = got["trades"]
    assert trades.height == 12
    first = trades.row(0, named=True)
    t = msgs[2]["data"][0]
    assert (first["price"], first["size"], first["aggressor"], first["trade_id"]) == (
        3600.1,
        0.0521,
        1,
        "900000",
    )
    assert trades["aggressor"].to_list()[:2] == [1, -1]  # "B": the buyer took liquidity; "A": the seller
    assert first["ts_event"] == t["time"] * 1_000_000 and first["instrument_id"] == "HYPERLIQUID:ETH"
    q = got["quotes"].row(0, named=True)
    assert got["quotes"].height == 1
    assert (q["bid"], q["bid_size"], q["ask"], q["ask_size"]) == (96990.0, 1.25, 96991.5, 0.5)


def test_import_into_a_catalog(tmp_path):
    path, _ = _capture(tmp_path, prefix=True)
    rep = Catalog(tmp_path / "cat").import_("auto", [path])
    (f,) = rep.files
    assert f.fmt == "hyperliquid-ws" and f.rows_quarantined == 0 and not f.findings
    assert dict(f.rows_by_kind) == {"book_snapshots": 6, "trades": 12, "quotes": 1}
    assert f.instruments == ("HYPERLIQUID:BTC", "HYPERLIQUID:ETH")


def test_bad_messages_are_named(tmp_path):
    p = tmp_path / "hl.jsonl"
    bad = _book(0)
    del bad["data"]["levels"]
    p.write_text(json.dumps(_book(1)) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataError) as exc:
        list(read_hyperliquid_ws(p))
    assert exc.value.row == 2 and "levels" in str(exc.value)
    q = pl.concat([b.quarantine for b in read_hyperliquid_ws(p, skip_bad=True)])
    assert q["line"].to_list() == [2]
    spot = tmp_path / "spot.jsonl"
    m = _book(0)
    m["data"]["coin"] = "@107"  # a spot pair: not a Hyperliquid perpetual name
    spot.write_text(json.dumps(m) + "\n")
    with pytest.raises(DataError, match="@107"):
        Catalog(tmp_path / "cat").import_("hyperliquid-ws", [spot])
