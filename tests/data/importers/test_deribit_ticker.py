"""Deribit ``public/ticker`` / ``get_book_summary_by_currency`` responses (issue 10 item 6).

The truth is the real ticker payloads of cryptofeed's Deribit capture (../shared/data/cryptofeed_raw_ws,
89 ``ticker.*`` notifications of 10 options): each is what ``public/ticker`` returns as ``result``.
The test reads the payloads with ``json`` itself and checks every stored field against them.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import need_shared

from spreadlab.data.catalog import Catalog
from spreadlab.data.importers.base import detect_format
from spreadlab.data.importers.deribit_ticker import read_deribit_ticker
from spreadlab.errors import DataError

CAPTURE = "cryptofeed_raw_ws/DERIBIT.ws.1.0.gz"


def _payloads() -> list[tuple[int, dict]]:
    """(receive time ns, ticker payload) of every ticker notification of the capture."""
    out = []
    with gzip.open(need_shared(CAPTURE), "rt") as fh:
        lines = fh.readlines()
    for line in lines:
        stamp, sep, body = line.partition(": ")
        if not sep or not body.startswith("{"):
            continue
        msg = json.loads(body)
        if msg.get("params", {}).get("channel", "").startswith("ticker."):
            sec, frac = stamp.split(".")
            out.append((int(sec) * 10**9 + int((frac + "0" * 9)[:9]), msg["params"]["data"]))
    return out


def _read(path: Path) -> pl.DataFrame:
    return pl.concat([b.frame for b in read_deribit_ticker(path) if b.kind.value == "option_quotes"])


def _check(df: pl.DataFrame, payloads: list[tuple[int, dict]], *, recv: bool) -> None:
    assert df.height == len(payloads) == 89
    for row, (t_recv, p) in zip(df.iter_rows(named=True), payloads, strict=True):
        assert row["instrument_id"] == "DERIBIT:" + p["instrument_name"]
        assert row["ts_event"] == p["timestamp"] * 1_000_000
        assert row["ts_recv"] == (t_recv if recv else p["timestamp"] * 1_000_000)
        assert row["mark_iv"] == pytest.approx(p["mark_iv"] / 100)  # percent at Deribit
        assert row["mark"] == p["mark_price"] and row["underlying_price"] == p["underlying_price"]
        assert row["delta"] == p["greeks"]["delta"] and row["vega"] == p["greeks"]["vega"]
        assert row["volume"] == p["stats"]["volume"] and row["open_interest"] == p["open_interest"]
        for side in ("bid", "ask"):
            px = p[f"best_{side}_price"]
            assert row[side] == (px if px > 0 else None)  # 0 = no quote on that side
            assert row[f"{side}_iv"] == (pytest.approx(p[f"{side}_iv"] / 100) if px > 0 else None)
        name = p["instrument_name"].split("-")
        assert row["strike"] == float(name[2]) and row["option_kind"] == {"C": "call", "P": "put"}[name[3]]
        assert row["underlying_id"] == "DERIBIT:" + p["underlying_index"]


def test_the_real_capture_directly():
    src = need_shared(CAPTURE)
    assert detect_format(src).value == "deribit-ticker"
    batches = list(read_deribit_ticker(src))
    assert sum(b.rows_read for b in batches) == 139  # every line of the capture counted (PROVENANCE: 139)
    _check(_read(src), _payloads(), recv=True)


def test_public_ticker_responses_as_json_lines(tmp_path):
    payloads = _payloads()
    f = tmp_path / "ticker.jsonl"
    f.write_text("".join(json.dumps({"jsonrpc": "2.0", "result": p, "usIn": t // 1000 - 300, "usOut": t // 1000,
                                     "usDiff": 300, "testnet": False}) + "\n" for t, p in payloads))  # fmt: skip
    df = _read(f)
    _check(
        df.with_columns(pl.col("ts_recv") // 1000 * 1000),
        [(t // 1000 * 1000, p) for t, p in payloads],
        recv=True,
    )
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(json.dumps(p) + "\n" for _, p in payloads))
    _check(_read(bare), payloads, recv=False)


def test_flattened_csv(tmp_path):
    payloads = _payloads()
    flat = pl.json_normalize([p for _, p in payloads], separator=".")  # greeks.delta, stats.volume
    f = tmp_path / "ticker.csv"
    flat.write_csv(f)
    assert "greeks.delta" in f.read_text().splitlines()[0]
    assert detect_format(f).value == "deribit-ticker"
    _check(_read(f), payloads, recv=False)


def test_book_summary_and_a_perpetual(tmp_path):
    payloads = _payloads()
    summary = [
        {"instrument_name": p["instrument_name"], "creation_timestamp": p["timestamp"], "bid_price": p["best_bid_price"] or None,
         "ask_price": p["best_ask_price"] or None, "mark_price": p["mark_price"], "mark_iv": p["mark_iv"],
         "underlying_price": p["underlying_price"], "underlying_index": p["underlying_index"],
         "open_interest": p["open_interest"], "volume": p["stats"]["volume"], "last": p["last_price"]}
        for _, p in payloads[:10]
    ]  # fmt: skip
    perp = {"instrument_name": "BTC-PERPETUAL", "creation_timestamp": 1626993723632, "bid_price": 32150.5,
            "ask_price": 32151.0, "mark_price": 32150.81, "estimated_delivery_price": 32148.93,
            "open_interest": 1.2e9, "volume": 12345.6, "last": 32151.0, "funding_8h": 0.00003}  # fmt: skip
    f = tmp_path / "summary.jsonl"
    f.write_text(json.dumps({"jsonrpc": "2.0", "result": [*summary, perp]}) + "\n")
    assert detect_format(f).value == "deribit-ticker"
    got = {b.kind.value: b.frame for b in read_deribit_ticker(f)}
    opt = got["option_quotes"]
    assert opt.height == 10 and opt["mark_iv"].to_list() == pytest.approx(
        [s["mark_iv"] / 100 for s in summary]
    )
    assert opt["last_price"].to_list() == [s["last"] for s in summary]
    q = got["quotes"].row(0, named=True)
    assert (q["instrument_id"], q["bid"], q["ask"]) == ("DERIBIT:BTC-PERPETUAL", 32150.5, 32151.0)
    m = got["mark"].row(0, named=True)
    assert (m["mark"], m["index"], m["open_interest"]) == (32150.81, 32148.93, 1.2e9)


def test_catalog_import_validates_every_row(tmp_path):
    cat = Catalog(tmp_path / "cat")
    rep = cat.import_("auto", [need_shared(CAPTURE)])
    (f,) = rep.files
    assert f.fmt == "deribit-ticker" and f.rows_stored == 89 and f.rows_quarantined == 0
    assert len(f.instruments) == 10


def test_bad_lines_are_named(tmp_path):
    f = tmp_path / "t.jsonl"
    p = _payloads()[0][1]
    f.write_text(json.dumps({"result": p}) + "\n" + '{"result": {"timestamp": 1, "oops": tru\n')
    with pytest.raises(DataError) as exc:
        list(read_deribit_ticker(f))
    assert exc.value.row == 2 and "not JSON" in str(exc.value)
    q = [b.quarantine for b in read_deribit_ticker(f, skip_bad=True)]
    assert pl.concat(q)["line"].to_list() == [2]
    err = tmp_path / "e.jsonl"
    err.write_text('{"jsonrpc": "2.0", "error": {"code": 10009, "message": "not_enough_funds"}}\n')
    with pytest.raises(DataError, match="JSON-RPC error"):
        list(read_deribit_ticker(err))
