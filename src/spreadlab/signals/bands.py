"""Optimal entry and exit bands for an Ornstein–Uhlenbeck spread after transaction costs.

Bertram (2010), "Analytic solutions for optimal statistical arbitrage
trading", Physica A 389(11), 2234–2243. For ``dX = -alpha (X - mean) dt +
eta dW`` (speed ``alpha``, vol ``eta`` per sqrt(year)) a trade opens at ``a``
and closes at ``m`` (a cycle ``a -> m -> a``), earning ``m - a - c``. With
``u(z) = (z - mean) sqrt(alpha) / eta``:

* expected cycle length (eq. 9): ``E[T] = pi / alpha (erfi(u(m)) - erfi(u(a)))``
* its variance (eq. 10): ``V[T] = (w1(m') - w1(a') - w2(m') + w2(a')) / alpha^2``,
  ``z' = (z - mean) sqrt(2 alpha) / eta``, with
  ``w1(z) = (1/2 sum_k Gamma(k/2) (sqrt2 z)^k / k!)^2 - (1/2 sum_k (-1)^k Gamma(k/2) (sqrt2 z)^k / k!)^2``
  (evaluated as the product of its odd and even partial sums, no cancellation) and
  ``w2(z) = sum_k Gamma((2k-1)/2) (psi((2k-1)/2) - psi(1)) (sqrt2 z)^(2k-1) / (2k-1)!``
* return per unit time (eq. 5) ``mu = (m - a - c) / E[T]``; its variance
  (eq. 6) ``sigma^2 = (m - a - c)^2 V[T] / E[T]^3``
* Sharpe ratio (eq. 15) ``S = (mu - r_f / E[T]) / sigma`` (``r_f`` is the
  risk-free return forgone over one cycle, as in the paper's numerical example).

With symmetric bands ``m = 2 mean - a`` the return-maximising ``a`` solves eq. 13,
``exp(u(a)^2) (2 (a - mean) + c) = eta sqrt(pi / alpha) erfi(u(a))``, evaluated
here in the overflow-free form ``2 (a - mean) + c = 2 eta / sqrt(alpha) D(u(a))``
(``D`` Dawson's integral) and solved by Brent's method; the Sharpe-maximising
``a`` by bounded scalar maximisation.

Leung & Li (2015), "Optimal mean reversion trading with transaction costs and
stop-loss exit", IJTAF 18(3), 1550020. For ``dX = mu (theta - X) dt + sigma dW``,
discount rate ``r`` and cost ``c`` per trade, with
``F(x) = int_0^inf u^(r/mu - 1) exp(sqrt(2 mu / sigma^2) (x - theta) u - u^2 / 2) du``
and ``G(x)`` the same with ``theta - x`` (here in closed form,
``F = Gamma(nu) e^(z^2/4) D_{-nu}(-z)``, ``G = Gamma(nu) e^(z^2/4) D_{-nu}(z)``,
``nu = r / mu``, ``z = sqrt(2 mu) (x - theta) / sigma``, ``D`` the parabolic
cylinder function):

* exit (Thm 4.2): ``b*`` solves ``F(b) = (b - c) F'(b)``; ``V(x) = (b* - c) F(x) / F(b*)`` below ``b*``
* entry (Thm 4.4): ``d*`` solves ``G(d) (V'(d) - 1) = G'(d) (V(d) - d - c)``; enter long at ``X <= d*``
* with stop-loss ``L`` (Sec. 5): ``V_L = C F + D G`` on ``(L, b_L*)`` with
  ``V_L(L) = L - c``, ``V_L(b) = b - c`` and smooth fit ``V_L'(b) = 1`` fixing ``b_L*``;
  the entry region is the interval ``(a_L*, d_L*)`` where ``a_L*`` solves
  ``F(a) (V_L'(a) - 1) = F'(a) (V_L(a) - a - c)`` and ``d_L*`` the ``G`` equation.

Leung–Li levels are for a LONG spread position (buy low, sell high); the
short side of a symmetric strategy uses the same levels reflected about ``theta``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize, special

from spreadlab._typing import FloatArray
from spreadlab.core.validate import require_finite, require_non_negative, require_positive
from spreadlab.errors import ConvergenceError, ValidationError
from spreadlab.signals.base import SignalFrame
from spreadlab.signals.ou import OUFit, fit_ou

__all__ = [
    "BertramBands",
    "BertramObjective",
    "BertramSignal",
    "FittedBertramSignal",
    "LeungLiBands",
    "bertram_bands",
    "bertram_metrics",
    "leung_li_bands",
]

BertramObjective = Literal["return", "sharpe"]

_K = np.arange(1, 400, dtype=np.float64)
# constant parts of the series terms, computed once (log Gamma(k/2) - log k!, and the w2 coefficients)
_W1_LOGC = special.gammaln(_K / 2.0) - special.gammaln(_K + 1.0)
_J = 2.0 * _K - 1.0
_W2_LOGC = special.gammaln(_J / 2.0) - special.gammaln(_J + 1.0)
_W2_PSI = special.psi(_J / 2.0) - special.psi(1.0)


def _w1(z: float) -> float:
    if z == 0.0:
        return 0.0
    s = math.sqrt(2.0) * abs(z)
    t = np.exp(_W1_LOGC + _K * math.log(s))
    odd = float(t[0::2].sum()) * (1.0 if z > 0 else -1.0)
    even = float(t[1::2].sum())
    # (S+)^2 - (S-)^2 = (S+ - S-)(S+ + S-) with S+ - S- = sum_odd, S+ + S- = sum_even
    return odd * even


def _w2(z: float) -> float:
    if z == 0.0:
        return 0.0
    s = math.sqrt(2.0) * abs(z)
    terms = np.exp(_W2_LOGC + _J * math.log(s)) * _W2_PSI
    return float(terms.sum()) * (1.0 if z > 0 else -1.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class BertramBands:
    """Symmetric bands of Bertram (2010) and the strategy's statistics (times in years).

    ``entry`` is the lower band (buy the spread), ``exit`` the upper band
    (``2 mean - entry``); the short leg of the cycle reverses them.
    """

    entry: float
    exit: float
    objective: BertramObjective
    objective_value: float
    expected_return: float
    return_std: float
    sharpe: float
    expected_trade_length: float
    trade_length_std: float

    def summary(self) -> str:
        """Return a plain-text summary."""
        return (
            f"Bertram bands (max {self.objective}): entry {self.entry:.6g}, exit {self.exit:.6g}\n"
            f"  expected return {self.expected_return:.6g}/yr (sd {self.return_std:.4g}), "
            f"Sharpe {self.sharpe:.4g}, cycle {self.expected_trade_length:.4g} yr "
            f"(sd {self.trade_length_std:.4g})"
        )


def bertram_metrics(
    entry: float,
    exit: float,
    *,
    speed: float,
    vol: float,
    cost: float,
    risk_free: float = 0.0,
    mean: float = 0.0,
) -> dict[str, float]:
    """Return Bertram's statistics for given bands ``entry < exit``.

    Keys: ``expected_trade_length``, ``trade_length_var``, ``expected_return``,
    ``return_var``, ``sharpe`` (equations 5, 6, 9, 10, 15 of Bertram 2010).

    Examples
    --------
    >>> m = bertram_metrics(-0.00471, 0.00471, speed=180.967, vol=0.1538, cost=0.001)
    >>> round(m["expected_return"], 4), round(m["expected_trade_length"], 4)
    (0.4924, 0.0171)
    """
    a, m = entry - mean, exit - mean
    if not a < m:
        raise ValidationError(f"entry={entry!r} must be below exit={exit!r}")
    sq = math.sqrt(speed) / vol
    et = math.pi / speed * float(special.erfi(m * sq) - special.erfi(a * sq))
    s2 = math.sqrt(2.0 * speed) / vol
    vt = (_w1(m * s2) - _w1(a * s2) - _w2(m * s2) + _w2(a * s2)) / speed**2
    if not (math.isfinite(et) and math.isfinite(vt)):
        raise ConvergenceError(
            f"Bertram moments overflow for bands ({entry!r}, {exit!r}): too many stationary std from the mean"
        )
    gain = m - a - cost
    mu = gain / et
    var = gain * gain * vt / et**3
    sharpe = (mu - risk_free / et) / math.sqrt(var) if var > 0 else math.inf
    return {
        "expected_trade_length": et,
        "trade_length_var": vt,
        "expected_return": mu,
        "return_var": var,
        "sharpe": sharpe,
    }


def bertram_bands(
    speed: float,
    vol: float,
    cost: float,
    *,
    objective: BertramObjective = "return",
    risk_free: float = 0.0,
    mean: float = 0.0,
) -> BertramBands:
    """Return Bertram's (2010) optimal symmetric bands for an OU spread.

    Parameters
    ----------
    speed
        Mean-reversion speed ``alpha`` per year, > 0.
    vol
        Volatility ``eta`` per sqrt(year), > 0.
    cost
        Round-trip cost per cycle in spread units, >= 0.
    objective
        ``"return"`` (expected return per unit time, exact root of eq. 13) or
        ``"sharpe"`` (Sharpe ratio of eq. 15, numerical maximisation).
    risk_free
        Risk-free return per cycle ``r_f`` in the Sharpe ratio.
    mean
        The OU mean; bands are symmetric about it.

    Examples
    --------
    >>> b = bertram_bands(180.967, 0.1538, 0.001)
    >>> round(b.entry, 6), round(b.exit, 6), round(b.expected_return, 4)
    (-0.004715, 0.004715, 0.4924)
    """
    speed = require_positive("speed", speed)
    vol = require_positive("vol", vol)
    cost = require_non_negative("cost", cost)
    risk_free = require_finite("risk_free", risk_free)
    mean = require_finite("mean", mean)
    if objective not in ("return", "sharpe"):
        raise ValidationError(f"objective={objective!r} must be 'return' or 'sharpe'")
    sd = vol / math.sqrt(2.0 * speed)
    sq = math.sqrt(speed) / vol

    def eq13(a: float) -> float:  # a relative to the mean, a < -cost/2
        return 2.0 * a + cost - 2.0 * vol / math.sqrt(speed) * float(special.dawsn(a * sq))

    hi = -cost / 2.0 - 1e-12 * sd if cost > 0 else -1e-9 * sd
    lo = hi - sd
    while eq13(lo) > 0:
        lo -= 2.0 * (hi - lo)
        if lo < -100 * sd - cost:
            raise ConvergenceError("Bertram eq. 13 has no root: no profitable band")
    a_ret = float(optimize.brentq(eq13, lo, hi, xtol=1e-15 * max(sd, cost), rtol=1e-14))
    a = a_ret
    if objective == "sharpe":
        hi_s = -(cost + max(risk_free, 0.0)) / 2.0 - 1e-9 * sd

        def neg_sharpe(x: float) -> float:
            val = bertram_metrics(
                mean + x, mean - x, speed=speed, vol=vol, cost=cost, risk_free=risk_free, mean=mean
            )["sharpe"]
            return -val if math.isfinite(val) else 1e300

        res = optimize.minimize_scalar(
            neg_sharpe, bounds=(-8.0 * sd - cost, hi_s), method="bounded", options={"xatol": 1e-12 * sd}
        )
        if not res.success:
            raise ConvergenceError(f"Bertram Sharpe maximisation failed: {res.message}")
        a = float(res.x)
    met = bertram_metrics(mean + a, mean - a, speed=speed, vol=vol, cost=cost, risk_free=risk_free, mean=mean)
    return BertramBands(
        entry=mean + a,
        exit=mean - a,
        objective=objective,
        objective_value=met["expected_return"] if objective == "return" else met["sharpe"],
        expected_return=met["expected_return"],
        return_std=math.sqrt(met["return_var"]),
        sharpe=met["sharpe"],
        expected_trade_length=met["expected_trade_length"],
        trade_length_std=math.sqrt(max(met["trade_length_var"], 0.0)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _OUFunctions:
    """Leung–Li's F and G (closed form via parabolic cylinder functions) and derivatives."""

    mean: float
    speed: float
    vol: float
    rate: float

    def _parts(self, x: float, sign: float) -> tuple[float, float]:
        nu = self.rate / self.speed
        k = math.sqrt(2.0 * self.speed) / self.vol
        z = k * (x - self.mean)
        e = math.exp(z * z / 4.0)
        d0, _ = special.pbdv(-nu, sign * z)
        d1, _ = special.pbdv(-nu - 1.0, sign * z)
        val = special.gamma(nu) * e * d0
        der = k * special.gamma(nu + 1.0) * e * d1
        return float(val), float(der)

    def big_f(self, x: float) -> float:
        return self._parts(x, -1.0)[0]

    def d_big_f(self, x: float) -> float:
        return self._parts(x, -1.0)[1]

    def big_g(self, x: float) -> float:
        return self._parts(x, 1.0)[0]

    def d_big_g(self, x: float) -> float:
        return -self._parts(x, 1.0)[1]


def _scan_root(fn: Callable[[float], float], lo: float, hi: float, *, what: str, n: int = 81) -> float:
    """Return the root of ``fn`` nearest ``hi`` by scanning ``[lo, hi]`` for a sign change, then Brent."""
    grid = np.linspace(lo, hi, n)
    vals = np.array([fn(float(g)) for g in grid])
    idx = np.flatnonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)
    if idx.size == 0:
        raise ConvergenceError(f"Leung-Li {what}: no root in [{lo:.6g}, {hi:.6g}]")
    i = int(idx[-1])
    return float(optimize.brentq(fn, grid[i], grid[i + 1], xtol=1e-14, rtol=1e-13))


@dataclass(frozen=True, slots=True, kw_only=True)
class LeungLiBands:
    """Leung & Li (2015) optimal levels for a long spread position.

    Attributes
    ----------
    entry
        ``d*``: enter (buy the spread) when it falls to ``entry`` or below
        (with a stop-loss: while it lies in ``(entry_lower, entry]``).
    exit
        ``b*``: liquidate when it rises to ``exit``.
    entry_lower
        ``a_L*`` with a stop-loss (do not enter at or below it), else None.
    stop_loss
        ``L`` or None.
    objective_value
        The optimal entry value function ``J`` at the mean ``theta`` (expected
        discounted net profit of waiting to enter from the mean).
    """

    entry: float
    exit: float
    entry_lower: float | None
    stop_loss: float | None
    objective_value: float
    mean: float
    speed: float
    vol: float
    rate: float
    cost: float

    def _fns(self) -> _OUFunctions:
        return _OUFunctions(mean=self.mean, speed=self.speed, vol=self.vol, rate=self.rate)

    def exit_value(self, x: float) -> float:
        """Return ``V(x)`` (or ``V_L(x)``): value of holding the spread at ``x`` under the optimal exit."""
        f = self._fns()
        if self.stop_loss is None:
            return (
                (self.exit - self.cost) * f.big_f(x) / f.big_f(self.exit) if x < self.exit else x - self.cost
            )
        if x <= self.stop_loss or x >= self.exit:
            return x - self.cost
        c, d = _cd(f, self.stop_loss, self.exit, self.cost)
        return c * f.big_f(x) + d * f.big_g(x)

    def summary(self) -> str:
        """Return a plain-text summary."""
        sl = (
            ""
            if self.stop_loss is None
            else f", stop-loss {self.stop_loss:.6g}, enter above {self.entry_lower:.6g}"
        )
        return f"Leung-Li levels (long spread): entry {self.entry:.6g}, exit {self.exit:.6g}{sl}"


def _cd(f: _OUFunctions, L: float, b: float, c: float) -> tuple[float, float]:
    """Return (C, D) with ``C F + D G`` equal to ``x - c`` at ``L`` and ``b``."""
    fl, gl, fb, gb = f.big_f(L), f.big_g(L), f.big_f(b), f.big_g(b)
    det = fb * gl - fl * gb
    return ((b - c) * gl - (L - c) * gb) / det, ((L - c) * fb - (b - c) * fl) / det


def leung_li_bands(
    mean: float, speed: float, vol: float, *, rate: float, cost: float, stop_loss: float | None = None
) -> LeungLiBands:
    """Return Leung & Li's (2015) optimal entry and exit levels for an OU spread.

    Parameters
    ----------
    mean, speed, vol
        OU ``theta`` (spread units), ``mu`` (per year, > 0) and ``sigma``
        (per sqrt(year), > 0).
    rate
        Discount rate per year, > 0.
    cost
        Transaction cost per trade (entry and exit each), >= 0, spread units.
    stop_loss
        Exit unconditionally at or below this level; must lie below the mean.

    Examples
    --------
    >>> b = leung_li_bands(0.71758, 6.306, 0.00698 ** 0.5, rate=0.05, cost=0.02)
    >>> round(b.exit, 4), round(b.entry, 4)
    (0.7444, 0.651)
    """
    mean = require_finite("mean", mean)
    speed = require_positive("speed", speed)
    vol = require_positive("vol", vol)
    rate = require_positive("rate", rate)
    cost = require_non_negative("cost", cost)
    f = _OUFunctions(mean=mean, speed=speed, vol=vol, rate=rate)
    sd = vol / math.sqrt(2.0 * speed)
    top = max(mean, cost) + 8.0 * sd

    def exit_eq(b: float) -> float:
        return f.big_f(b) - (b - cost) * f.d_big_f(b)

    b_star = _scan_root(exit_eq, min(mean, cost) - 8.0 * sd, top, what="optimal exit")

    def v(x: float) -> float:
        return (b_star - cost) * f.big_f(x) / f.big_f(b_star) if x < b_star else x - cost

    def dv(x: float) -> float:
        return (b_star - cost) * f.d_big_f(x) / f.big_f(b_star) if x < b_star else 1.0

    def entry_eq(d: float) -> float:
        return f.big_g(d) * (dv(d) - 1.0) - f.d_big_g(d) * (v(d) - d - cost)

    if stop_loss is None:
        d_star = _scan_root(entry_eq, mean - 8.0 * sd, b_star - 1e-9 * sd, what="optimal entry")
        j_mean = (
            (v(d_star) - d_star - cost) * f.big_g(mean) / f.big_g(d_star)
            if mean > d_star
            else v(mean) - mean - cost
        )
        return LeungLiBands(
            entry=d_star,
            exit=b_star,
            entry_lower=None,
            stop_loss=None,
            objective_value=j_mean,
            mean=mean,
            speed=speed,
            vol=vol,
            rate=rate,
            cost=cost,
        )
    L = require_finite("stop_loss", stop_loss)
    if mean <= L:
        raise ValidationError(f"stop_loss={L!r} must lie below the mean {mean!r}")
    eps = 1e-9 * sd

    def smooth_fit(b: float) -> float:
        c_, d_ = _cd(f, L, b, cost)
        return c_ * f.d_big_f(b) + d_ * f.d_big_g(b) - 1.0

    b_l = _scan_root(smooth_fit, L + 1e-3 * sd, top, what="optimal exit with stop-loss")
    c_l, d_l = _cd(f, L, b_l, cost)

    def vl(x: float) -> float:
        return c_l * f.big_f(x) + d_l * f.big_g(x) if L < x < b_l else x - cost

    def dvl(x: float) -> float:
        return c_l * f.d_big_f(x) + d_l * f.d_big_g(x) if L < x < b_l else 1.0

    def upper_eq(d: float) -> float:
        return f.big_g(d) * (dvl(d) - 1.0) - f.d_big_g(d) * (vl(d) - d - cost)

    def lower_eq(a: float) -> float:
        return f.big_f(a) * (dvl(a) - 1.0) - f.d_big_f(a) * (vl(a) - a - cost)

    d_sl = _scan_root(upper_eq, L + eps, b_l - eps, what="optimal entry (upper) with stop-loss")
    a_sl = _scan_root(lower_eq, L + eps, d_sl, what="optimal entry (lower) with stop-loss")
    j_mean = (
        (vl(d_sl) - d_sl - cost) * f.big_g(mean) / f.big_g(d_sl) if mean > d_sl else vl(mean) - mean - cost
    )
    return LeungLiBands(
        entry=d_sl,
        exit=b_l,
        entry_lower=a_sl,
        stop_loss=L,
        objective_value=j_mean,
        mean=mean,
        speed=speed,
        vol=vol,
        rate=rate,
        cost=cost,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FittedBertramSignal:
    """An OU fit and its Bertram bands as a :class:`~spreadlab.signals.base.FittedSignal`.

    ``score`` is ``(spread - mean) / stationary_std``. ``target`` follows
    Bertram's cycle: go long (+1) when the spread is at or below ``entry``,
    flat (0) at or above ``exit``; with ``two_sided`` it goes short (-1) at
    ``exit`` instead of flat and back long at ``entry`` (each flip then costs
    two trades, which the band optimisation did not assume).
    """

    ou: OUFit
    bands: BertramBands
    two_sided: bool

    def score(self, observations: SignalFrame) -> FloatArray:
        """Return the spread in stationary standard deviations from the OU mean."""
        z: FloatArray = (observations["spread"] - self.ou.mean) / self.ou.stationary_std
        return z

    def target(self, observations: SignalFrame, *, current: float = 0.0) -> FloatArray:
        """Return the band position per row starting from ``current`` (row i uses rows <= i)."""
        if not -1.0 <= current <= 1.0:
            raise ValidationError(f"current={current!r} must lie in [-1, 1]")
        s = observations["spread"]
        out = np.empty(s.size)
        pos = float(current)
        low, high = self.bands.entry, self.bands.exit
        short = -1.0 if self.two_sided else 0.0
        for i in range(s.size):
            if s[i] <= low:
                pos = 1.0
            elif s[i] >= high:
                pos = short
            out[i] = pos
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class BertramSignal:
    """Specify an OU + Bertram-band signal; ``fit`` estimates both on a history's ``"spread"`` column.

    Parameters
    ----------
    cost
        Round-trip cost per cycle in spread units (>= 0).
    objective, risk_free
        As for :func:`bertram_bands`.
    two_sided
        Short at the upper band instead of going flat.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> s = np.zeros(5000)
    >>> for i in range(1, 5000):
    ...     s[i] = 0.9 * s[i - 1] + 0.01 * rng.standard_normal()
    >>> ts = np.arange(5000, dtype=np.int64) * 3_600_000_000_000
    >>> fitted = BertramSignal(cost=0.002).fit(SignalFrame(ts=ts, columns={"spread": s}))
    >>> fitted.target(SignalFrame(ts=ts[:3], columns={"spread": np.array([-0.05, 0.0, 0.05])})).tolist()
    [1.0, 1.0, 0.0]
    """

    cost: float
    objective: BertramObjective = "return"
    risk_free: float = 0.0
    two_sided: bool = False

    def __post_init__(self) -> None:
        require_non_negative("cost", self.cost)
        require_finite("risk_free", self.risk_free)
        if self.objective not in ("return", "sharpe"):
            raise ValidationError(f"objective={self.objective!r} must be 'return' or 'sharpe'")

    def fit(self, history: SignalFrame) -> FittedBertramSignal:
        """Fit the OU process to ``history["spread"]`` (steps from ``history.ts``) and its bands."""
        ou = fit_ou(history["spread"], ts=history.ts)
        bands = bertram_bands(
            ou.speed, ou.vol, self.cost, objective=self.objective, risk_free=self.risk_free, mean=ou.mean
        )
        return FittedBertramSignal(ou=ou, bands=bands, two_sided=self.two_sided)
