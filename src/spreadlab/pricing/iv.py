"""Implied volatility from option prices (public shell over :mod:`spreadlab.kernels.iv`).

The kernel inverts Black-76 on the normalised out-of-the-money price with a
bracketed third-order Householder iteration (see :mod:`spreadlab.kernels.iv` for the
equations). Prices outside the no-arbitrage bounds do not raise: their vol is
NaN and their :class:`IVStatus` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from spreadlab._typing import FloatArray
from spreadlab.core.enums import Settlement
from spreadlab.kernels import iv as _k
from spreadlab.pricing._inputs import KindLike, as_settlement, broadcast_fields, kind_shape, kind_to_is_call

__all__ = ["IVStatus", "ImpliedVols", "implied_vol"]

_PARALLEL_MIN = 20_000


class IVStatus(IntEnum):
    """Why an implied vol is (or is not) available; values are the kernel's codes."""

    OK = _k.IV_OK
    BELOW_INTRINSIC = _k.IV_BELOW_INTRINSIC
    ABOVE_MAX = _k.IV_ABOVE_MAX
    NO_TIME_VALUE = _k.IV_NO_TIME_VALUE
    NOT_CONVERGED = _k.IV_NOT_CONVERGED
    INVALID = _k.IV_INVALID


@dataclass(frozen=True, slots=True, kw_only=True)
class ImpliedVols:
    """Implied vols and their status codes, both of the broadcast input shape.

    ``vol`` is NaN exactly where ``status != IVStatus.OK``. ``np.asarray(result)``
    gives ``vol``.
    """

    vol: FloatArray
    status: npt.NDArray[np.int8]

    @property
    def ok(self) -> npt.NDArray[np.bool_]:
        """Mask of the options whose vol was solved."""
        return self.status == IVStatus.OK

    def counts(self) -> dict[IVStatus, int]:
        """Return how many options have each status."""
        codes, n = np.unique(self.status, return_counts=True)
        return {IVStatus(int(c)): int(k) for c, k in zip(codes, n, strict=True)}

    def status_at(self, index: int | tuple[int, ...]) -> IVStatus:
        """Return the status of one option as an :class:`IVStatus`."""
        return IVStatus(int(self.status[index]))

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> FloatArray:
        """Return the vols as an array."""
        return np.asarray(self.vol, dtype=dtype)


def implied_vol(
    price: npt.ArrayLike,
    *,
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    expiry_years: npt.ArrayLike,
    kind: KindLike,
    settlement: Settlement = Settlement.LINEAR,
    rate: npt.ArrayLike = 0.0,
    parallel: bool = True,
) -> ImpliedVols:
    """Solve the Black-76 implied volatility of each option price.

    Parameters
    ----------
    price
        Option premium (finite, >= 0), in the quote currency if ``settlement``
        is LINEAR, in coin if INVERSE.
    forward, strike
        Forward and strike (> 0).
    expiry_years
        Time to expiry in years (> 0).
    kind
        ``OptionKind``, ``"call"``/``"put"``, bool ``is_call``, or an array of them.
    settlement
        ``Settlement.LINEAR`` or ``Settlement.INVERSE`` (coin premium).
    rate
        Continuously compounded rate of the premium currency.
    parallel
        Spread arrays of at least 20,000 options over numba's thread pool
        (``NUMBA_NUM_THREADS`` caps it); results are identical either way.

    Returns
    -------
    ImpliedVols
        ``vol`` (decimal, NaN where not solvable) and ``status`` (:class:`IVStatus` codes).

    Examples
    --------
    >>> res = implied_vol([7.965567455405804, 0.5], forward=100.0, strike=[100.0, 50.0],
    ...                   expiry_years=1.0, kind="call")
    >>> round(float(res.vol[0]), 12), res.status_at(1).name
    (0.2, 'BELOW_INTRINSIC')
    """
    st = as_settlement(settlement)
    shape, a = broadcast_fields(
        {
            "price": (price, "non_negative"),
            "forward": (forward, "positive"),
            "strike": (strike, "positive"),
            "expiry_years": (expiry_years, "positive"),
            "rate": (rate, "finite"),
        },
        extra_shapes=[kind_shape(kind)],
    )
    is_call = kind_to_is_call(kind, shape)
    disc = np.exp(-a["rate"] * a["expiry_years"])
    solver = _k.implied_vol_parallel if parallel and a["price"].size >= _PARALLEL_MIN else _k.implied_vol
    vol, status = solver(
        a["price"], a["forward"], a["strike"], a["expiry_years"], is_call, disc, st is Settlement.INVERSE
    )
    return ImpliedVols(vol=vol.reshape(shape), status=status.reshape(shape))
