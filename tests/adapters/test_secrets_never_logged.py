"""API keys come from the environment (or the keyring) and never reach a log line or an error.

The adapters run their full paths against the loopback venues (fills, rejections, retries, a
refused signature) with every logger at DEBUG; then every captured log line, stdout/stderr and
error text is searched for the key and the secret.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from spreadlab.adapters import VenueAuthError
from spreadlab.adapters.binance import BinanceUsdmAdapter
from spreadlab.adapters.bybit import BybitLinearAdapter
from spreadlab.adapters.deribit import DeribitAdapter
from spreadlab.core.enums import OrderType, Side, TimeInForce
from spreadlab.core.ids import InstrumentId
from spreadlab.data.download.retry import RetryPolicy
from spreadlab.errors import ConfigError
from spreadlab.execution.protocols import OrderRequest
from spreadlab.live.secrets import ApiCredentials, RedactSecrets, install_redaction, load_credentials
from spreadlab.testing.venues import BinanceUsdmVenue, BybitLinearVenue, DeribitVenue

KEY = "LIVEKEY-6c1f0a9e2b7d4c83"
SECRET = "LIVESECRET-f4e2a91b03c85d7e6a1b"
ENV = {"SPREADLAB_BINANCE_USDM_API_KEY": KEY, "SPREADLAB_BINANCE_USDM_API_SECRET": SECRET}
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)


def test_credentials_come_from_the_environment_and_hide_in_repr():
    creds = load_credentials("BINANCE_USDM", env=ENV, use_keyring=False)
    assert (creds.key, creds.secret, creds.source) == (KEY, SECRET, "env")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert KEY not in text and SECRET not in text


def test_a_missing_variable_is_named_without_any_value():
    with pytest.raises(ConfigError) as err:
        load_credentials("DERIBIT", env={"SPREADLAB_DERIBIT_API_KEY": KEY}, use_keyring=False)
    assert "SPREADLAB_DERIBIT_API_SECRET" in str(err.value)
    assert KEY not in str(err.value)


def test_the_redaction_filter_rewrites_records_that_carry_a_secret():
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    logger = logging.getLogger("spreadlab.test.redact")
    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    flt = install_redaction(ApiCredentials(key=KEY, secret=SECRET), logger)
    try:
        logger.warning("key %s secret %s", KEY, SECRET)
        try:
            raise RuntimeError(f"boom {SECRET}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeFilter(flt)
        logger.removeHandler(handler)
    assert records[0] == "key *** secret ***"  # the positive control: the filter does rewrite
    assert all(KEY not in r and SECRET not in r for r in records)
    assert isinstance(flt, RedactSecrets)


def test_no_log_line_or_error_of_a_live_session_carries_the_key(
    binance_recording, deribit_recording, bybit_recording, caplog, capsys
):
    creds = load_credentials("BINANCE_USDM", env=ENV, use_keyring=False)
    errors: list[str] = []
    caplog.set_level(logging.DEBUG)  # every logger, ccxt's and aiohttp's included

    async def binance():
        async with BinanceUsdmVenue(binance_recording, api_key=KEY, api_secret=SECRET) as venue:
            a = BinanceUsdmAdapter(credentials=creds, config=venue.ccxt_config(), retry=FAST)
            try:
                await a.connect()
                iid = InstrumentId("BINANCE_USDM", "BTCUSDT")
                ask = float(binance_recording.snapshot["asks"][0][0])
                venue.faults.rate_limit_next = 1
                await a.book(iid)
                await a.place(
                    OrderRequest(
                        client_order_id="s-1",
                        instrument_id=iid,
                        side=Side.BUY,
                        qty=0.01,
                        price=ask,
                        time_in_force=TimeInForce.IOC,
                    )
                )
                venue.faults.reject_next_orders = 1
                rej = await a.place(
                    OrderRequest(client_order_id="s-2", instrument_id=iid, side=Side.BUY, qty=0.01, price=ask)
                )
                errors.append(rej.reason)
                await a.positions()
                await a.balances()
                await a.fills(iid)
            finally:
                await a.close()
            bad = BinanceUsdmAdapter(
                credentials=ApiCredentials(key=KEY, secret=SECRET + "x"),
                config=venue.ccxt_config(),
                retry=FAST,
            )
            try:
                await bad.connect()
                with pytest.raises(VenueAuthError) as err:
                    await bad.balances()
                errors.append(str(err.value))
                errors.append(repr(err.value.__cause__))
            finally:
                await bad.close()

    async def deribit():
        async with DeribitVenue(deribit_recording, api_key=KEY, api_secret=SECRET) as venue:
            a = DeribitAdapter(credentials=creds, config=venue.ccxt_config(), retry=FAST)
            try:
                await a.connect()
                iid = InstrumentId("DERIBIT", "BTC-PERPETUAL")
                await a.place(
                    OrderRequest(
                        client_order_id="s-3",
                        instrument_id=iid,
                        side=Side.BUY,
                        qty=10.0,
                        order_type=OrderType.MARKET,
                    )
                )
                await a.positions()
                await a.balances()
            finally:
                await a.close()

    async def bybit():
        async with BybitLinearVenue(bybit_recording, api_key=KEY, api_secret=SECRET) as venue:
            a = BybitLinearAdapter(credentials=creds, config=venue.ccxt_config(), retry=FAST)
            try:
                await a.connect()
                iid = InstrumentId("BYBIT_LINEAR", "XRPUSDT")
                await a.place(
                    OrderRequest(client_order_id="s-4", instrument_id=iid, side=Side.BUY, qty=10.0, price=1.9)
                )
                await a.cancel(iid, "s-4")
                await a.balances()
            finally:
                await a.close()

    asyncio.run(binance())
    asyncio.run(deribit())
    asyncio.run(bybit())
    out = capsys.readouterr()
    lines = [caplog.text, out.out, out.err, *errors]
    assert any("BTCUSDT" in line or "BINANCE_USDM" in line for line in lines)  # the session did log
    assert "'X-MBX-APIKEY': '***'" in caplog.text  # ccxt logged its request headers, key masked
    assert "'X-BAPI-API-KEY': '***'" in caplog.text
    for line in "\n".join(lines).splitlines():
        assert KEY not in line and SECRET not in line, f"a secret reached the output: {line[:120]!r}"
