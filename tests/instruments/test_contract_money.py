"""Hand-worked money for every settlement: PnL, fees and USD conversion of round trips.

Fee rates are the venues' published base tiers (see ``instruments/fees.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from spreadlab.core.enums import ContractKind, Liquidity
from spreadlab.errors import ValidationError
from spreadlab.instruments import parse_symbol
from spreadlab.instruments.fees import FeeModel
from spreadlab.kernels import contracts as k

FEES = FeeModel.default()
T = Liquidity.TAKER


def _one(x: np.ndarray) -> float:
    return float(x[0])


def test_deribit_coin_option_round_trip() -> None:
    call = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")
    assert call.contract_kind is ContractKind.COIN_OPTION and call.settlement_currency == "BTC"
    # buy 2 calls at 0.05 BTC with BTC at 60,000, sell them at 0.06 BTC with BTC at 62,000
    gross = _one(call.pnl(2.0, 0.05, 0.06))
    assert gross == pytest.approx(0.02, rel=1e-12)  # 2 x 1 BTC x 0.01 BTC, in BTC
    fee_in = FEES.fee(call, 2.0, 0.05, T)  # 0.03% of 1 BTC per contract = 0.0003 BTC each
    fee_out = FEES.fee(call, 2.0, 0.06, T)
    assert fee_in == pytest.approx(0.0006) and fee_out == pytest.approx(0.0006)
    net_btc = gross - fee_in - fee_out
    assert net_btc == pytest.approx(0.0188)
    # the BTC is worth the underlying's price, not the premium: 0.0188 x 62,000 = 1,165.6 USD
    usd = _one(call.settlement_usd(0.06, underlying_price=62_000.0))
    assert net_btc * usd == pytest.approx(1_165.6)
    assert _one(call.notional(2.0, 0.05)) == pytest.approx(0.1)  # premium value in BTC
    assert _one(call.underlying_notional(2.0, 60_000.0)) == pytest.approx(120_000.0)
    with pytest.raises(ValidationError, match="underlying_price is required"):
        call.settlement_usd(0.06)


def test_usdc_linear_option_round_trip() -> None:
    put = parse_symbol("DERIBIT", "BTC_USDC-27JUN25-100000-P")
    assert put.contract_kind is ContractKind.LINEAR_OPTION and put.settlement_currency == "USDC"
    # buy 1 at 2,000 USDC, sell at 2,500 USDC: +500 USDC; taker 0.05% of the 100,000 index = 50 USDC
    # per side (below the 12.5% caps of 250 and 312.5 USDC)
    gross = _one(put.pnl(1.0, 2_000.0, 2_500.0))
    fees = FEES.fee(put, 1.0, 2_000.0, T, underlying_price=100_000.0) + FEES.fee(
        put, 1.0, 2_500.0, T, underlying_price=100_000.0
    )
    assert gross == 500.0 and fees == pytest.approx(100.0)
    assert _one(put.settlement_usd(2_500.0)) == 1.0


def test_inverse_perpetual_round_trip() -> None:
    perp = parse_symbol("DERIBIT", "BTC-PERPETUAL")  # 1 USD per contract, PnL in BTC
    gross = _one(perp.pnl(10_000.0, 50_000.0, 55_000.0))
    assert gross == pytest.approx(10_000 * (1 / 50_000 - 1 / 55_000))  # 0.0181818 BTC
    fees = FEES.fee(perp, 10_000.0, 50_000.0, T) + FEES.fee(perp, 10_000.0, 55_000.0, T)
    assert fees == pytest.approx(0.0005 * (0.2 + 10_000 / 55_000))  # 0.0001 + 0.0000909 BTC
    # at the exit the BTC is worth 55,000 USD each: the gross is exactly 1,000 USD
    assert gross * _one(perp.settlement_usd(55_000.0)) == pytest.approx(1_000.0)


def test_linear_perpetual_round_trip() -> None:
    perp = parse_symbol("BINANCE_USDM", "BTCUSDT")
    gross = _one(perp.pnl(0.5, 60_000.0, 61_000.0))
    fees = FEES.fee(perp, 0.5, 60_000.0, T) + FEES.fee(perp, 0.5, 61_000.0, T)
    assert gross == 500.0 and fees == pytest.approx(15.0 + 15.25)
    assert _one(perp.settlement_usd(61_000.0)) == 1.0


def test_coin_m_future_short_round_trip() -> None:
    fut = parse_symbol("BINANCE_COINM", "BTCUSD_250627")  # 100 USD per contract
    # short 10 contracts (1,000 USD) at 50,000, buy back at 45,000
    gross = _one(fut.pnl(-10.0, 50_000.0, 45_000.0))
    assert gross == pytest.approx(-1_000 * (1 / 50_000 - 1 / 45_000))  # +0.0022222 BTC
    assert gross == pytest.approx(0.00222222222, rel=1e-9)
    fees = FEES.fee(fut, 10.0, 50_000.0, T) + FEES.fee(fut, 10.0, 45_000.0, T)
    assert fees == pytest.approx(0.0005 * (0.02 + 1_000 / 45_000))
    assert gross * _one(fut.settlement_usd(45_000.0)) == pytest.approx(100.0)  # 1,000 x 5,000/50,000


def test_linear_contract_settled_in_a_coin_needs_an_explicit_conversion() -> None:
    ethbtc = parse_symbol("BINANCE", "ETHBTC")
    with pytest.raises(ValidationError, match="settles in BTC"):
        ethbtc.settlement_usd(0.05)


@pytest.mark.parametrize(
    "venue, symbol, price, und",
    [
        ("BINANCE_USDM", "BTCUSDT", 60_000.0, 1.0),
        ("DERIBIT", "BTC-PERPETUAL", 60_000.0, 1.0),
        ("DERIBIT", "BTC-27JUN25-100000-C", 0.05, 1.0),
        ("DERIBIT", "BTC-27JUN25-100000-C", 0.0008, 1.0),
        ("DERIBIT", "BTC_USDC-27JUN25-100000-P", 150.0, 100_000.0),
        ("OKX", "BTC-USD-250627-100000-C", 0.002, 1.0),
    ],
)
def test_fee_model_and_fee_kernel_agree(venue: str, symbol: str, price: float, und: float) -> None:
    inst = parse_symbol(venue, symbol)
    a = FEES.arrays([inst])
    kern = k.fee(np.array([-3.0]), np.array([price]), np.array([und]), inst.multiplier,
                 int(inst.contract_kind), float(a.taker[0]), float(a.premium_cap[0]))[0]  # fmt: skip
    assert FEES.fee(inst, -3.0, price, T, underlying_price=und) == pytest.approx(kern, rel=1e-15)
