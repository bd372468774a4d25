"""Fee model: hand-worked fees from the venues' published schedules."""

from __future__ import annotations

import pytest

from spreadlab.errors import ValidationError
from spreadlab.instruments import parse_symbol
from spreadlab.signals.costs import FeeModel, FeeRate, InstrumentClass, Liquidity, instrument_class

OPT = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")
PERP = parse_symbol("BINANCE_USDM", "BTCUSDT")
INV = parse_symbol("DERIBIT", "BTC-PERPETUAL")


def test_deribit_option_fee_is_capped_at_12_5_pct_of_premium() -> None:
    fees = FeeModel.default()
    # 0.03% of a 100,000 USD underlying = 30 USD per BTC; premium 0.02 BTC = 2,000 USD -> cap 250 USD
    assert fees.fee_usd(OPT, quantity=2.0, price_usd=2_000.0, underlying_usd=100_000.0) == pytest.approx(60.0)
    # premium 0.0001 BTC = 10 USD -> 12.5% cap = 1.25 USD per BTC, below 30
    assert fees.fee_usd(OPT, quantity=2.0, price_usd=10.0, underlying_usd=100_000.0) == pytest.approx(2.5)
    with pytest.raises(ValidationError, match="underlying_usd"):
        fees.fee_usd(OPT, quantity=1.0, price_usd=10.0)


def test_linear_and_inverse_fees_are_a_fraction_of_usd_notional() -> None:
    fees = FeeModel.default()
    assert fees.fee_usd(PERP, quantity=-0.5, price_usd=60_000.0) == pytest.approx(0.5 * 60_000 * 0.0005)
    assert fees.fee_usd(PERP, quantity=0.5, price_usd=60_000.0, liquidity=Liquidity.MAKER) == pytest.approx(
        6.0
    )
    # Deribit inverse perpetual: 1,000 contracts of 10 USD face value (multiplier 1 USD, lot 10)
    assert fees.fee_usd(INV, quantity=10_000.0, price_usd=1.0) == pytest.approx(10_000 * 0.0005)
    assert fees.fee_bp(parse_symbol("HYPERLIQUID", "BTC")) == pytest.approx(4.5)
    assert fees.fee_bp(parse_symbol("BYBIT_LINEAR", "BTCUSDT")) == pytest.approx(5.5)


def test_overrides_fallback_and_unknown_venue() -> None:
    fees = FeeModel.default(overrides={str(PERP.id): FeeRate(maker=-0.0001, taker=0.0002)})
    assert fees.fee_bp(PERP, liquidity=Liquidity.MAKER) == pytest.approx(-1.0)
    bare = FeeModel(rates={("BINANCE", InstrumentClass.SPOT): FeeRate(maker=0.001, taker=0.001)})
    with pytest.raises(ValidationError, match="venue='BINANCE_USDM'"):
        bare.rate_for(PERP)
    assert FeeModel.zero().fee_usd(PERP, quantity=1.0, price_usd=1e5) == 0.0
    assert instrument_class(OPT) is InstrumentClass.OPTION


def test_bad_rates_name_the_field() -> None:
    with pytest.raises(ValidationError, match="taker=0.5"):
        FeeRate(maker=0.0, taker=0.5)
    with pytest.raises(ValidationError, match="premium_cap"):
        FeeRate(maker=0.0, taker=0.0, premium_cap=2.0)
    with pytest.raises(ValidationError, match="price_usd"):
        FeeModel.default().fee_usd(PERP, quantity=1.0, price_usd=-1.0)
