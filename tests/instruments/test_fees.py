"""Fee model: hand-worked fees from the venues' published schedules."""

from __future__ import annotations

import numpy as np
import pytest

from spreadlab.core.enums import Liquidity, Settlement
from spreadlab.errors import ValidationError
from spreadlab.instruments import parse_symbol
from spreadlab.instruments.fees import FeeModel, FeeRate, FeeTier, InstrumentClass, instrument_class

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


# ---------------------------------------------------------------- the engine's API: fee in settlement currency
# Figures from the venues' published fee pages (support.deribit.com "Fees", Binance "Fee Schedule of
# Binance Futures"), worked by hand.

LINEAR_OPT = parse_symbol("DERIBIT", "BTC_USDC-27JUN25-100000-C")


def test_binance_usdm_vip0_maker_2bp_taker_5bp_in_usdt() -> None:
    fees = FeeModel.default()
    # 0.5 BTC at 60,000 USDT = 30,000 USDT notional: taker 0.05% = 15 USDT, maker 0.02% = 6 USDT
    assert fees.fee(PERP, 0.5, 60_000.0, Liquidity.TAKER) == pytest.approx(15.0)
    assert fees.fee(PERP, -0.5, 60_000.0, Liquidity.MAKER) == pytest.approx(6.0)
    assert fees.rate(PERP, Liquidity.MAKER) == 0.0002 and fees.rate(PERP, Liquidity.TAKER) == 0.0005


def test_deribit_inverse_perpetual_fee_in_btc_matches_the_published_example() -> None:
    # Deribit: "A trade of $50,000 is executed at a price of $100,000. The taker ... will pay 0.05% of
    # 0.5 BTC as a fee, which is 0.00025 BTC. The maker ... will not pay a fee."  (1 contract = 1 USD)
    fees = FeeModel.default()
    assert fees.fee(INV, 50_000.0, 100_000.0, Liquidity.TAKER) == pytest.approx(0.00025)
    assert fees.fee(INV, 50_000.0, 100_000.0, Liquidity.MAKER) == 0.0
    # a COIN-M future: 10 contracts of 100 USD at 50,000 = 0.02 BTC; 0.05% taker = 0.00001 BTC
    coinm = parse_symbol("BINANCE_COINM", "BTCUSD_250627")
    assert fees.fee(coinm, 10.0, 50_000.0, Liquidity.TAKER) == pytest.approx(0.00001)


def test_deribit_coin_option_fee_is_capped_at_12_5_pct_of_the_option_price() -> None:
    fees = FeeModel.default()
    # 0.03% of the underlying = 0.0003 BTC per 1-BTC contract, for maker and taker alike
    assert fees.fee(OPT, 2.0, 0.05, Liquidity.TAKER) == pytest.approx(0.0006)
    assert fees.fee(OPT, 2.0, 0.05, Liquidity.MAKER) == pytest.approx(0.0006)
    # Deribit: "if an option is traded at 0.0001 BTC, the taker fee will be 0.0000125 BTC
    # (instead of 0.0003 BTC), which is calculated as 12.5% of 0.0001 BTC"
    assert fees.fee(OPT, 1.0, 0.0001, Liquidity.TAKER) == pytest.approx(0.0000125)
    # the cap binds exactly where 12.5% of the price = 0.0003 BTC: price 0.0024 BTC
    assert fees.fee(OPT, 1.0, 0.0024, Liquidity.TAKER) == pytest.approx(0.0003)
    assert fees.fee(OPT, 1.0, 0.0020, Liquidity.TAKER) == pytest.approx(0.00025)


def test_deribit_usdc_linear_option_fee_is_a_fraction_of_the_index_capped_at_the_premium() -> None:
    fees = FeeModel.default()
    # "USDC Linear Options: maker 0.0001 * index price, taker 0.0005 * index price (capped at 12.5% premium)"
    # index 100,000 USDC, premium 2,000 USDC: taker 50 USDC (cap 250), maker 10 USDC
    assert fees.fee(LINEAR_OPT, 1.0, 2_000.0, Liquidity.TAKER, underlying_price=100_000.0) == pytest.approx(
        50.0
    )
    assert fees.fee(LINEAR_OPT, 1.0, 2_000.0, Liquidity.MAKER, underlying_price=100_000.0) == pytest.approx(
        10.0
    )
    # a 100 USDC option: the cap, 12.5 USDC, binds on the taker side only
    assert fees.fee(LINEAR_OPT, 1.0, 100.0, Liquidity.TAKER, underlying_price=100_000.0) == pytest.approx(
        12.5
    )
    assert fees.fee(LINEAR_OPT, 1.0, 100.0, Liquidity.MAKER, underlying_price=100_000.0) == pytest.approx(
        10.0
    )
    with pytest.raises(ValidationError, match="underlying_price is required"):
        fees.fee(LINEAR_OPT, 1.0, 100.0, Liquidity.TAKER)
    # the coin option on the same venue keeps its own class rate
    assert fees.rate_for(OPT).taker == 0.0003 and fees.rate_for(LINEAR_OPT).taker == 0.0005


def test_volume_tiers_are_data_and_pick_the_highest_tier_reached() -> None:
    # Binance USDⓈ-M VIP 1 and VIP 2 rates (0.016% / 0.040%, 0.014% / 0.035%) at the thresholds an
    # account supplies; below the first tier the base (VIP 0) rates apply
    tiers = (
        FeeTier(min_volume_30d=15e6, maker=0.00016, taker=0.0004),
        FeeTier(min_volume_30d=50e6, maker=0.00014, taker=0.00035),
    )
    fees = FeeModel.default(overrides={str(PERP.id): FeeRate(maker=0.0002, taker=0.0005, tiers=tiers)})
    assert fees.rate(PERP, Liquidity.TAKER, volume_30d=14.9e6) == 0.0005
    assert fees.rate(PERP, Liquidity.TAKER, volume_30d=15e6) == 0.0004
    assert fees.rate(PERP, Liquidity.MAKER, volume_30d=60e6) == 0.00014
    # 1 BTC at 60,000 at VIP 2 taker: 21 USDT
    assert fees.fee(PERP, 1.0, 60_000.0, Liquidity.TAKER, volume_30d=60e6) == pytest.approx(21.0)
    with pytest.raises(ValidationError, match=r"tiers\[1\].min_volume_30d"):
        FeeRate(maker=0.0, taker=0.0, tiers=(tiers[1], tiers[0]))
    with pytest.raises(ValidationError, match="volume_30d"):
        fees.rate(PERP, Liquidity.TAKER, volume_30d=-1.0)


def test_rates_export_as_plain_float_arrays_for_kernels() -> None:
    fees = FeeModel.default()
    insts = [PERP, INV, OPT, LINEAR_OPT, parse_symbol("BINANCE", "BTCUSDT")]
    a = fees.arrays(insts)
    assert a.maker.dtype == np.float64 and a.maker.shape == (5,)
    assert a.maker.tolist() == [0.0002, 0.0, 0.0003, 0.0001, 0.001]
    assert a.taker.tolist() == [0.0005, 0.0005, 0.0003, 0.0005, 0.001]
    assert a.premium_cap.tolist() == [np.inf, np.inf, 0.125, 0.125, np.inf]
    assert a.rate(Liquidity.MAKER) is a.maker
    with pytest.raises(ValidationError, match="liquidity"):
        fees.rate(PERP, "taker")  # type: ignore[arg-type]


def test_settlement_keyed_rates_and_bad_keys() -> None:
    cls = InstrumentClass.OPTION
    fees = FeeModel(rates={("DERIBIT", cls): FeeRate(maker=0.0003, taker=0.0003, premium_cap=0.125)})
    assert fees.rate_for(LINEAR_OPT).taker == 0.0003  # no settlement-specific row: the class row
    assert fees.class_rate("DERIBIT", cls, Settlement.LINEAR).taker == 0.0003
    with pytest.raises(ValidationError, match="rates key"):
        FeeModel(rates={("DERIBIT", "option"): FeeRate(maker=0.0, taker=0.0)})  # type: ignore[dict-item]
