"""Venue symbol parsers on real names from ../shared/data, and bad input."""

from __future__ import annotations

import csv
import gzip
import json
import re

import pytest
from tests.conftest import need_shared

from spreadlab.core import OptionKind, Settlement, Venue
from spreadlab.core.ids import InstrumentId
from spreadlab.core.time import ns_to_iso
from spreadlab.errors import UnknownSymbolError, ValidationError
from spreadlab.instruments import Future, Option, Perpetual, Spot, format_symbol, parse_symbol
from spreadlab.instruments.base import Instrument


def test_every_name_in_a_real_deribit_chain_parses_and_formats_back() -> None:
    path = need_shared("deribit_options/snapshots/deribit_options_snapshot_20260105T092511Z.csv.gz")
    with gzip.open(path, "rt") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 1000
    names = set()
    for row in rows:
        for col in ("instrument_name", "futures_instrument_name"):
            name = row[col]
            if name.startswith("SYN."):
                continue  # Deribit's synthetic forward label, not a tradable instrument
            names.add(name)
            inst = parse_symbol("DERIBIT", name)
            assert format_symbol(inst) == name
        opt = parse_symbol("DERIBIT", row["instrument_name"])
        assert isinstance(opt, Option)
        assert opt.strike == float(row["strike"])
        assert opt.kind.value == row["option_type"]
        assert opt.settlement is Settlement.INVERSE
        # expiry agrees with the file's own expiry_datetime column
        assert ns_to_iso(opt.expiry_ns)[:19] == row["expiry_datetime"][:19]
    assert len(names) > 600


def _recorded_streams(relative: str) -> list[str]:
    path = need_shared(relative)
    with gzip.open(path, "rt") as fh:
        return fh.read().splitlines()


def test_binance_coinm_names_from_a_raw_capture_parse() -> None:
    first = _recorded_streams("cryptofeed_raw_ws/BINANCE_DELIVERY.ws.1.0.gz")[0]
    syms = sorted(set(re.findall(r"([a-z]+usd_(?:perp|\d{6}))@", first)))
    assert syms
    kinds = set()
    for s in syms:
        inst = parse_symbol("BINANCE_COINM", s.upper())
        assert inst.settlement is Settlement.INVERSE
        assert format_symbol(inst) == s.upper()
        kinds.add(type(inst))
    assert kinds == {Perpetual, Future}
    fut = parse_symbol("BINANCE_COINM", "BTCUSD_211231")
    assert ns_to_iso(fut.expiry_ns).startswith("2021-12-31T08:00:00")  # type: ignore[attr-defined]


def test_okx_names_from_a_raw_capture_parse() -> None:
    lines = _recorded_streams("cryptofeed_raw_ws/OKX.ws.1.0.gz")
    ids = sorted({m for line in lines for m in re.findall(r'"instId":"([A-Z0-9-]+)"', line)})
    assert {"BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT"} <= set(ids)
    for s in ids:
        assert format_symbol(parse_symbol("OKX", s)) == s
    assert isinstance(parse_symbol("OKX", "BTC-USDT"), Spot)
    assert parse_symbol("OKX", "UNI-USD-SWAP").settlement is Settlement.INVERSE


def test_binance_and_bybit_names_from_real_files_parse() -> None:
    lines = _recorded_streams("cryptofeed_raw_ws/BINANCE_FUTURES.ws.1.0.gz")
    syms = {json.loads(l.split(": ", 1)[1])["data"]["s"] for l in lines[1:50] if '"s":' in l}
    assert syms
    for s in syms:
        inst = parse_symbol("BINANCE_USDM", s)
        assert isinstance(inst, Perpetual) and format_symbol(inst) == s
    bybit = _recorded_streams("cryptofeed_raw_ws/BYBIT.ws.25.0.gz")
    topics = {m for line in bybit[:40] for m in re.findall(r'"trade\.([A-Z0-9]+)"', line)}
    assert topics
    for s in topics:
        inst = parse_symbol("BYBIT_LINEAR", s)
        assert isinstance(inst, Perpetual) and inst.quote == "USDT" and format_symbol(inst) == s
    for s in ("BTCUSDT", "ETHUSDT"):
        assert isinstance(parse_symbol("BINANCE", s), Spot)


@pytest.mark.parametrize(
    ("venue", "symbol", "cls", "settlement"),
    [
        ("DERIBIT", "BTC-PERPETUAL", Perpetual, Settlement.INVERSE),
        ("DERIBIT", "ETH_USDC-PERPETUAL", Perpetual, Settlement.LINEAR),
        ("DERIBIT", "BTC-27JUN25", Future, Settlement.INVERSE),
        ("DERIBIT", "XRP_USDC-30JUN25-0d625-C", Option, Settlement.LINEAR),
        ("BINANCE_USDM", "BTCUSDT_250627", Future, Settlement.LINEAR),
        ("BINANCE_COINM", "ETHUSD_PERP", Perpetual, Settlement.INVERSE),
        ("BYBIT_LINEAR", "BTCPERP", Perpetual, Settlement.LINEAR),
        ("BYBIT_LINEAR", "BTCUSDT-26DEC25", Future, Settlement.LINEAR),
        ("BYBIT_INVERSE", "BTCUSDH26", Future, Settlement.INVERSE),
        ("BYBIT_OPTION", "BTC-27JUN25-100000-P-USDT", Option, Settlement.LINEAR),
        ("OKX", "BTC-USD-250627-100000-C", Option, Settlement.INVERSE),
        ("OKX", "ETH-USDT-250627", Future, Settlement.LINEAR),
        ("HYPERLIQUID", "kPEPE", Perpetual, Settlement.LINEAR),
    ],
)
def test_grammar_round_trips(venue: str, symbol: str, cls: type, settlement: Settlement) -> None:
    inst = parse_symbol(venue, symbol)
    assert type(inst) is cls
    assert inst.settlement is settlement
    assert format_symbol(inst) == symbol


def test_expiry_details() -> None:
    assert ns_to_iso(parse_symbol("BYBIT_INVERSE", "BTCUSDH26").expiry_ns).startswith("2026-03-27T08")  # type: ignore[attr-defined]
    opt = parse_symbol("DERIBIT", "XRP_USDC-30JUN25-0d625-C")
    assert isinstance(opt, Option) and opt.strike == 0.625 and opt.kind is OptionKind.CALL
    hl = parse_symbol(Venue.HYPERLIQUID, "BTC")
    assert isinstance(hl, Perpetual) and hl.funding_interval_ns == 3600 * 10**9


@pytest.mark.parametrize(
    ("venue", "symbol", "message"),
    [
        ("DERIBIT", "BTC-32JUN25", "not a valid date"),
        ("DERIBIT", "BTC-27XXX25-1000-C", "not a date like"),
        ("DERIBIT", "BTC-27JUN25-1000-X", "must be 'C' or 'P'"),
        ("DERIBIT", "BTC", "not a Deribit name"),
        ("BINANCE_COINM", "BTCUSDT", "not a COIN-M name"),
        ("BINANCE", "FOOBAR", "cannot split"),
        ("NOWHERE", "BTCUSDT", "no symbol parser"),
        ("OKX", "btc-usdt", "not an OKX name"),
    ],
)
def test_unknown_symbols_raise_with_the_field(venue: str, symbol: str, message: str) -> None:
    with pytest.raises(UnknownSymbolError, match=message):
        parse_symbol(venue, symbol)


def test_bad_specs_name_the_field_and_value() -> None:
    iid = InstrumentId("SIM", "BTC-PERP")
    with pytest.raises(ValidationError, match="tick_size=-0.5 must be > 0"):
        Perpetual(id=iid, base="BTC", quote="USD", settlement_currency="USD", tick_size=-0.5, lot_size=1.0)
    with pytest.raises(ValidationError, match="expiry_ns=100 must be after listing_ns=200"):
        Option(
            id=iid,
            base="BTC",
            quote="USD",
            settlement_currency="BTC",
            tick_size=0.0001,
            lot_size=0.1,
            strike=1.0,
            expiry_ns=100,
            listing_ns=200,
            kind=OptionKind.CALL,
            underlying="BTC",
        )
    with pytest.raises(ValidationError, match="tick_size=nan"):
        Spot(id=iid, base="BTC", quote="USD", settlement_currency="USD", tick_size=float("nan"), lot_size=1.0)


def test_instrument_pnl_and_funding_times() -> None:
    perp = parse_symbol("DERIBIT", "BTC-PERPETUAL")
    assert isinstance(perp, Perpetual) and isinstance(perp, Instrument)
    assert perp.pnl(10_000.0, 50_000.0, 55_000.0)[0] == pytest.approx(10_000 * (1 / 50_000 - 1 / 55_000))
    usdm = parse_symbol("BINANCE_USDM", "BTCUSDT")
    assert isinstance(usdm, Perpetual)
    h = 3600 * 10**9
    times = usdm.funding_times(0, 24 * h)
    assert list(times) == [8 * h, 16 * h, 24 * h]
    assert usdm.round_price(60000.04) == 60000.0
    assert usdm.round_qty(0.0019) == 0.001
