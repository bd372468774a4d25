"""Black-76 prices and greeks, linear and coin-settled (public shell over the kernels).

Black-76 prices a European option on a forward ``F`` with discount factor
``D = exp(-r T)``::

    d1 = (ln(F/K) + sigma^2 T / 2) / (sigma sqrt T),   d2 = d1 - sigma sqrt T
    call = D (F N(d1) - K N(d2)),                      put = D (K N(-d2) - F N(-d1))

``Settlement.LINEAR`` gives the premium in the quote currency (USD).
``Settlement.INVERSE`` (coin-settled, e.g. Deribit BTC/ETH options) gives the
premium in coin: the linear price divided by ``F``. The coin greeks are the
derivatives of that coin price: the coin delta is
``(delta_usd - V_coin) / F`` coin per USD of forward, whose USD-equivalent
``delta_usd - V_coin`` is the premium-adjusted delta (a coin option's premium
is itself a long position in the coin). Deribit's API ``delta`` is the plain
linear delta ``D N(d1)``, i.e. ``Greeks.delta`` with ``Settlement.LINEAR``.
``rate`` is the
continuously compounded rate of the premium currency (for coin options, the
coin's own rate; 0 on Deribit by convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spreadlab._typing import FloatArray
from spreadlab.core.enums import Settlement
from spreadlab.kernels import black76 as _k
from spreadlab.pricing._inputs import KindLike, as_settlement, broadcast_fields, kind_shape, kind_to_is_call

__all__ = ["Greeks", "black76", "black76_greeks"]


def _prepare(
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    expiry_years: npt.ArrayLike,
    vol: npt.ArrayLike,
    kind: KindLike,
    rate: npt.ArrayLike,
    *,
    vol_check: str,
) -> tuple[tuple[int, ...], dict[str, FloatArray], np.ndarray]:
    shape, a = broadcast_fields(
        {
            "forward": (forward, "positive"),
            "strike": (strike, "positive"),
            "expiry_years": (expiry_years, "positive"),
            "vol": (vol, vol_check),  # type: ignore[dict-item]
            "rate": (rate, "finite"),
        },
        extra_shapes=[kind_shape(kind)],
    )
    return shape, a, kind_to_is_call(kind, shape)


def black76(
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    expiry_years: npt.ArrayLike,
    vol: npt.ArrayLike,
    *,
    kind: KindLike,
    settlement: Settlement = Settlement.LINEAR,
    rate: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Price European options on a forward with Black-76.

    Parameters
    ----------
    forward, strike
        Forward price of the underlying and strike (> 0), in the quote currency.
    expiry_years
        Time to expiry in years (> 0).
    vol
        Black volatility (>= 0) as a decimal (0.5 = 50 vol points).
    kind
        ``OptionKind``, ``"call"``/``"put"``, a bool ``is_call``, or an array of them.
    settlement
        ``Settlement.LINEAR`` for a premium in the quote currency,
        ``Settlement.INVERSE`` for a premium in coin (linear price / forward).
    rate
        Continuously compounded rate of the premium currency.

    Returns
    -------
    FloatArray
        The premium of each option, with the broadcast shape of the inputs.

    Examples
    --------
    >>> from spreadlab.core.enums import OptionKind, Settlement
    >>> float(black76(100.0, 100.0, 1.0, 0.2, kind=OptionKind.CALL))
    7.965567455405804
    >>> round(float(black76(50_000, 60_000, 0.25, 0.6, kind="call", settlement=Settlement.INVERSE)), 6)
    0.054406
    """
    st = as_settlement(settlement)
    shape, a, is_call = _prepare(forward, strike, expiry_years, vol, kind, rate, vol_check="non_negative")
    disc = np.exp(-a["rate"] * a["expiry_years"])
    out = _k.black76_price(a["forward"], a["strike"], a["expiry_years"], a["vol"], is_call, disc)
    if st is Settlement.INVERSE:
        out = out / a["forward"]
    return out.reshape(shape)


@dataclass(frozen=True, slots=True, kw_only=True)
class Greeks:
    """Black-76 price and greeks of a set of options (arrays of the broadcast input shape).

    ``delta`` and ``gamma`` are per unit of forward, ``vega`` per 1.00 of vol
    (divide by 100 for per vol point), ``theta`` per year of calendar time
    (divide by 365 for per day). With ``Settlement.INVERSE`` all are of the
    coin premium (see the module docstring).
    """

    settlement: Settlement
    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray


def black76_greeks(
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    expiry_years: npt.ArrayLike,
    vol: npt.ArrayLike,
    *,
    kind: KindLike,
    settlement: Settlement = Settlement.LINEAR,
    rate: npt.ArrayLike = 0.0,
) -> Greeks:
    """Compute Black-76 price, delta, gamma, vega and theta.

    Parameters are as in :func:`black76`, except that ``vol`` must be > 0.

    Examples
    --------
    >>> g = black76_greeks(100.0, 100.0, 1.0, 0.2, kind="call")
    >>> round(float(g.delta), 6), round(float(g.vega), 4)
    (0.539828, 39.6953)
    """
    st = as_settlement(settlement)
    shape, a, is_call = _prepare(forward, strike, expiry_years, vol, kind, rate, vol_check="positive")
    disc = np.exp(-a["rate"] * a["expiry_years"])
    f, k, t, v = a["forward"], a["strike"], a["expiry_years"], a["vol"]
    price = _k.black76_price(f, k, t, v, is_call, disc)
    coin = st is Settlement.INVERSE
    g = _k.black76_greeks(f, k, t, v, is_call, disc, a["rate"], coin)
    if coin:
        price = price / f
    return Greeks(
        settlement=st,
        price=price.reshape(shape),
        delta=g[:, _k.GREEK_DELTA].reshape(shape),
        gamma=g[:, _k.GREEK_GAMMA].reshape(shape),
        vega=g[:, _k.GREEK_VEGA].reshape(shape),
        theta=g[:, _k.GREEK_THETA].reshape(shape),
    )
