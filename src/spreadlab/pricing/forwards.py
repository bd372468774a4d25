"""Synthetic forwards from put-call parity, conversions/reversals, box spreads, fees.

Put-call parity at one strike ``K`` and expiry ``T`` (``r`` = rate of the
premium currency, ``C``/``P`` premiums) gives the implied forward::

    linear (premium in USD):       C - P = e^{-rT} (F - K)        F = K + (C - P) e^{rT}
    coin-settled (premium in coin): C - P = e^{-rT} (1 - K / F)    F = K / (1 - (C - P) e^{rT})

Both are increasing in ``C - P``. At executable prices a synthetic long
forward (buy call at the ask, sell put at the bid) costs ``C_ask - P_bid`` and
a synthetic short earns ``C_bid - P_ask``, so each strike gives a band
``[F(C_bid - P_ask), F(C_ask - P_bid)]`` of forward prices at which one can
sell / buy the underlying forward. Fees widen it: each option leg pays
``fee`` in premium currency, so the net band uses ``C_bid - f_C - P_ask - f_P``
and ``C_ask + f_C - P_bid + f_P``.

A *conversion* sells the synthetic (at the band's bid) and buys the listed
future (at its ask): edge ``F_bid - future_ask`` per unit of underlying at
expiry. A *reversal* buys the synthetic and sells the future: edge
``future_bid - F_ask``. For coin-settled options the hedge is an inverse
future of USD notional ``K`` per option; the edges are still in USD per coin.

A *box* at strikes ``K1 < K2`` (long call spread + long put spread) pays
``K2 - K1`` USD at expiry whatever the settlement (a coin-settled box pays
``(K2 - K1) / S_T`` coin, worth ``K2 - K1`` USD). Buying it at the ask lends
USD at ``ln((K2 - K1) / ask_usd) / T``; selling at the bid borrows at
``ln((K2 - K1) / bid_usd) / T``; coin premiums convert at the spot index.

Fees come from the one fee model, :class:`spreadlab.instruments.fees.FeeModel`:
a :class:`~spreadlab.instruments.fees.FeeRate` charges ``min(r * U, cap * premium)``
per leg (Deribit: ``r = 0.0003`` of the underlying, ``cap = 12.5%`` of the premium).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spreadlab._typing import BoolArray, FloatArray
from spreadlab.core.enums import Liquidity, Settlement
from spreadlab.errors import ValidationError
from spreadlab.instruments.fees import FeeRate
from spreadlab.pricing._inputs import as_settlement, broadcast_fields

__all__ = [
    "BoxSpread",
    "ForwardBand",
    "ParityEdges",
    "box_spread",
    "parity_edges",
    "parity_forward",
    "parity_forward_band",
]


def _fwd(diff: FloatArray, k: FloatArray, growth: FloatArray, coin: bool) -> FloatArray:
    if not coin:
        out: FloatArray = k + diff * growth
        return out
    denom = 1.0 - diff * growth
    with np.errstate(divide="ignore", invalid="ignore"):
        res: FloatArray = np.where(denom > 0.0, k / denom, np.nan)
    return res


def parity_forward(
    call_price: npt.ArrayLike,
    put_price: npt.ArrayLike,
    *,
    strike: npt.ArrayLike,
    expiry_years: npt.ArrayLike,
    settlement: Settlement,
    rate: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Return the forward implied by put-call parity at each strike.

    For coin-settled options a ``C - P`` at or above ``e^{-rT}`` (one coin)
    implies no finite forward; the result is NaN there.

    Examples
    --------
    >>> float(parity_forward(12.0, 2.0, strike=100.0, expiry_years=1.0, settlement=Settlement.LINEAR))
    110.0
    >>> round(float(parity_forward(0.05, 0.0, strike=95_000.0, expiry_years=0.5,
    ...                            settlement=Settlement.INVERSE)), 2)
    100000.0
    """
    st = as_settlement(settlement)
    shape, a = broadcast_fields(
        {
            "call_price": (call_price, "non_negative"),
            "put_price": (put_price, "non_negative"),
            "strike": (strike, "positive"),
            "expiry_years": (expiry_years, "positive"),
            "rate": (rate, "finite"),
        }
    )
    growth = np.exp(a["rate"] * a["expiry_years"])
    out = _fwd(a["call_price"] - a["put_price"], a["strike"], growth, st is Settlement.INVERSE)
    return out.reshape(shape)


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardBand:
    """Executable band of the synthetic forward at each strike.

    ``bid`` is where one can sell the forward synthetically (sell call at bid,
    buy put at ask), ``ask`` where one can buy it. ``valid`` is False where a
    quote is missing (NaN or <= 0 bid) or the band is not finite; bid/ask are
    NaN there.
    """

    bid: FloatArray
    ask: FloatArray
    valid: BoolArray

    @property
    def mid(self) -> FloatArray:
        """Midpoint of the band."""
        out: FloatArray = 0.5 * (self.bid + self.ask)
        return out

    @property
    def width(self) -> FloatArray:
        """Ask minus bid."""
        out: FloatArray = self.ask - self.bid
        return out


def _quotes(**kw: npt.ArrayLike) -> dict[str, FloatArray]:
    """Quotes may be NaN (missing); they must not be negative or infinite."""
    out = {}
    for name, value in kw.items():
        arr = np.asarray(value, dtype=np.float64)
        bad = np.isinf(arr) | (arr < 0)
        if bad.any():
            i = int(np.argmax(bad.ravel()))
            raise ValidationError(f"{name}[{i}]={arr.ravel()[i]!r} must be >= 0 and finite (NaN = no quote)")
        out[name] = arr
    return out


def parity_forward_band(
    call_bid: npt.ArrayLike,
    call_ask: npt.ArrayLike,
    put_bid: npt.ArrayLike,
    put_ask: npt.ArrayLike,
    *,
    strike: npt.ArrayLike,
    expiry_years: npt.ArrayLike,
    settlement: Settlement,
    rate: npt.ArrayLike = 0.0,
    fees: FeeRate | None = None,
    liquidity: Liquidity = Liquidity.TAKER,
    forward_for_fees: npt.ArrayLike | None = None,
) -> ForwardBand:
    """Return the executable synthetic-forward band at each strike, optionally net of option fees.

    Parameters
    ----------
    call_bid, call_ask, put_bid, put_ask
        Touch quotes in premium currency; NaN (or a bid of 0) means no quote.
    strike, expiry_years, settlement, rate
        As in :func:`parity_forward`.
    fees
        Per-leg option fee rate (e.g. ``FeeModel.default().class_rate("DERIBIT",
        InstrumentClass.OPTION)``); the band is widened by it.
    liquidity
        Maker or taker rate of ``fees``.
    forward_for_fees
        Forward used for linear fees (one unit of underlying); defaults to the strike.

    Examples
    --------
    >>> b = parity_forward_band(11.0, 12.0, 1.5, 2.0, strike=100.0, expiry_years=1.0,
    ...                         settlement=Settlement.LINEAR)
    >>> float(b.bid[()]), float(b.ask[()])
    (109.0, 110.5)
    """
    st = as_settlement(settlement)
    q = _quotes(call_bid=call_bid, call_ask=call_ask, put_bid=put_bid, put_ask=put_ask)
    shape, a = broadcast_fields(
        {
            "strike": (strike, "positive"),
            "expiry_years": (expiry_years, "positive"),
            "rate": (rate, "finite"),
        },
        extra_shapes=[v.shape for v in q.values()],
    )
    cb, ca, pb, pa = (
        np.broadcast_to(q[n], shape).ravel() for n in ("call_bid", "call_ask", "put_bid", "put_ask")
    )
    k, t = a["strike"], a["expiry_years"]
    valid = np.isfinite(cb) & np.isfinite(ca) & np.isfinite(pb) & np.isfinite(pa) & (cb > 0) & (pb > 0)
    if fees is not None:
        fwd = (
            k
            if forward_for_fees is None
            else np.broadcast_to(np.asarray(forward_for_fees, float), shape).ravel()
        )
        unit = np.ones_like(cb) if st is Settlement.INVERSE else fwd
        fcb, fca, fpb, fpa = (fees.option_fee(x, unit, liquidity=liquidity) for x in (cb, ca, pb, pa))
    else:
        fcb = fca = fpb = fpa = np.zeros_like(cb)
    growth = np.exp(a["rate"] * t)
    coin = st is Settlement.INVERSE
    bid = _fwd((cb - fcb) - (pa + fpa), k, growth, coin)
    ask = _fwd((ca + fca) - (pb - fpb), k, growth, coin)
    valid &= np.isfinite(bid) & np.isfinite(ask)
    bid = np.where(valid, bid, np.nan)
    ask = np.where(valid, ask, np.nan)
    return ForwardBand(bid=bid.reshape(shape), ask=ask.reshape(shape), valid=valid.reshape(shape))


@dataclass(frozen=True, slots=True, kw_only=True)
class ParityEdges:
    """Conversion and reversal edges against a listed future (USD per unit of underlying at expiry).

    ``conversion = band.bid - future_ask`` (sell synthetic, buy future);
    ``reversal = future_bid - band.ask`` (buy synthetic, sell future). A
    positive edge is an executable arbitrage; ``inside`` is True where the
    future lies inside the band (both edges <= 0).
    """

    conversion: FloatArray
    reversal: FloatArray
    inside: BoolArray
    valid: BoolArray


def parity_edges(band: ForwardBand, future_bid: npt.ArrayLike, future_ask: npt.ArrayLike) -> ParityEdges:
    """Compare a synthetic-forward band with a future (or perpetual) quote.

    Pass the same price twice where only a mark or last price is known.

    Examples
    --------
    >>> b = parity_forward_band(11.0, 12.0, 1.5, 2.0, strike=100.0, expiry_years=1.0,
    ...                         settlement=Settlement.LINEAR)
    >>> e = parity_edges(b, 111.0, 111.0)
    >>> float(e.conversion[()]), float(e.reversal[()]), bool(e.inside[()])
    (-2.0, 0.5, False)
    """
    fb = np.asarray(future_bid, dtype=np.float64)
    fa = np.asarray(future_ask, dtype=np.float64)
    conv = band.bid - fa
    rev = fb - band.ask
    valid = band.valid & np.isfinite(conv) & np.isfinite(rev)
    inside = valid & (conv <= 0) & (rev <= 0)
    return ParityEdges(conversion=conv, reversal=rev, inside=inside, valid=valid)


@dataclass(frozen=True, slots=True, kw_only=True)
class BoxSpread:
    """Executable box prices (premium currency) and the USD rates they imply.

    ``ask`` buys the box (lend: ``lend_rate``), ``bid`` sells it (borrow:
    ``borrow_rate``); rates are continuously compounded per year.
    """

    bid: FloatArray
    ask: FloatArray
    payoff_usd: FloatArray
    lend_rate: FloatArray
    borrow_rate: FloatArray


def box_spread(
    *,
    low_call: tuple[npt.ArrayLike, npt.ArrayLike],
    high_call: tuple[npt.ArrayLike, npt.ArrayLike],
    low_put: tuple[npt.ArrayLike, npt.ArrayLike],
    high_put: tuple[npt.ArrayLike, npt.ArrayLike],
    low_strike: npt.ArrayLike,
    high_strike: npt.ArrayLike,
    expiry_years: npt.ArrayLike,
    settlement: Settlement,
    spot: npt.ArrayLike = 1.0,
) -> BoxSpread:
    """Price the long box ``+C(K1) - C(K2) - P(K1) + P(K2)`` at executable (bid, ask) quotes.

    Each leg is a ``(bid, ask)`` pair. ``spot`` converts coin premiums to USD
    (ignored for linear settlement).

    Examples
    --------
    >>> b = box_spread(low_call=(10.0, 10.5), high_call=(4.0, 4.5), low_put=(3.0, 3.5),
    ...                high_put=(6.5, 7.0), low_strike=95.0, high_strike=105.0,
    ...                expiry_years=1.0, settlement=Settlement.LINEAR)
    >>> float(b.ask[()]), float(b.bid[()])
    (10.5, 8.5)
    """
    st = as_settlement(settlement)
    shape, a = broadcast_fields(
        {
            "low_strike": (low_strike, "positive"),
            "high_strike": (high_strike, "positive"),
            "expiry_years": (expiry_years, "positive"),
            "spot": (spot, "positive"),
        }
    )
    if (a["high_strike"] <= a["low_strike"]).any():
        raise ValidationError("high_strike must be > low_strike for every box")
    legs = _quotes(
        low_call_bid=low_call[0], low_call_ask=low_call[1], high_call_bid=high_call[0],
        high_call_ask=high_call[1], low_put_bid=low_put[0], low_put_ask=low_put[1],
        high_put_bid=high_put[0], high_put_ask=high_put[1],
    )  # fmt: skip
    L = {n: np.broadcast_to(v, shape).ravel() for n, v in legs.items()}
    ask = L["low_call_ask"] - L["high_call_bid"] - L["low_put_bid"] + L["high_put_ask"]
    bid = L["low_call_bid"] - L["high_call_ask"] - L["low_put_ask"] + L["high_put_bid"]
    payoff = a["high_strike"] - a["low_strike"]
    usd = a["spot"] if st is Settlement.INVERSE else np.ones_like(payoff)
    with np.errstate(divide="ignore", invalid="ignore"):
        lend = np.where(ask > 0, np.log(payoff / (ask * usd)) / a["expiry_years"], np.nan)
        borrow = np.where(bid > 0, np.log(payoff / (bid * usd)) / a["expiry_years"], np.nan)
    return BoxSpread(
        bid=bid.reshape(shape),
        ask=ask.reshape(shape),
        payoff_usd=payoff.reshape(shape),
        lend_rate=lend.reshape(shape),
        borrow_rate=borrow.reshape(shape),
    )
