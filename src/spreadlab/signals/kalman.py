"""Kalman-filter hedge ratio: random-walk intercept and slope, variances by maximum likelihood.

Model (state space, :mod:`spreadlab.kernels.kalman`)::

    y_t = alpha_t + beta_t x_t + e_t,          e_t ~ N(0, r)
    (alpha_t, beta_t) = (alpha_{t-1}, beta_{t-1}) + w_t,   w_t ~ N(0, Q)

``Q`` is ``diag(q_alpha, q_beta)`` (``noise="diagonal"``) or, in the "delta"
parametrisation popularised by Chan (2013, *Algorithmic Trading*, ch. 3),
``Q = delta / (1 - delta) I`` with ``0 < delta < 1`` (``noise="delta"``).

Estimation and filtering are separate steps, so nothing leaks from the
future. The unknown variances are estimated on a TRAINING window, the first
``train`` observations only, by maximising the exact Gaussian log-likelihood
from the prediction-error decomposition (Harvey 1989, *Forecasting,
Structural Time Series Models and the Kalman Filter*, §3.4)::

    l(r, Q) = -1/2 sum_t [ log 2 pi + log F_t + v_t^2 / F_t ]

(``v_t`` the one-step innovation, ``F_t`` its variance), computed by a numba
kernel. With every variance free, ``r`` is concentrated out (``Q`` and the
prior are proportional to ``r``) and the log-variance ratios are searched;
otherwise the free log-variances are searched directly. The optimiser is
Nelder–Mead (:func:`scipy.optimize.minimize`, ``method="Nelder-Mead"``) from
a wide initial simplex (3 in log-variance), restarted once from its optimum
with a narrow one (0.5): derivative-free, because the likelihood surface is
flat along poorly identified directions. The prior is diffuse:
``(alpha_0, beta_0) = 0`` with variances ``kappa * E[y^2]`` and
``kappa * E[y^2] / E[x^2]`` (``kappa = 1e6``; the means over the first
``min(train, 50)`` points, or the first point when nothing is estimated), and
the first two innovations (one per state) are left out of the likelihood, the
usual approximate diffuse likelihood.

With the variances fixed, the filter then runs forward over every
observation. The TRADABLE spread is the PRIOR (one-step-ahead) residual,
formed before observation ``t`` is seen::

    s_t = y_t - (alpha_{t|t-1} + beta_{t|t-1} x_t)          (the innovation v_t)

It is reported from ``max(train, skip)`` on (NaN before: the variances were
fitted on those points, or the diffuse prior dominates). ``alpha`` and
``beta`` are the FILTERED states (they use ``y_t``), ``beta_prior`` the ratio
known before ``t``; ``residual`` is the posterior ``y_t - alpha_t - beta_t
x_t``, a diagnostic only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import optimize

from spreadlab._typing import FloatArray
from spreadlab.errors import ConvergenceError, ValidationError
from spreadlab.kernels import kalman as _k
from spreadlab.signals.base import as_float_series, require_min_length, require_same_length

__all__ = ["KalmanHedge", "KalmanHedgeResult", "KalmanNoise"]

KalmanNoise = Literal["diagonal", "delta"]

_SKIP = 2
_MIN_OBS = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class KalmanHedgeResult:
    """Filtered paths and estimated variances of :class:`KalmanHedge`.

    Attributes
    ----------
    alpha, beta
        Filtered intercept and hedge ratio per observation (use ``y_t``).
    beta_prior
        Hedge ratio known before observation ``t``: ``beta_{t|t-1}`` (the
        filtered ``beta[t - 1]``; the prior mean at ``t = 0``).
    beta_std
        Filtered standard deviation of ``beta``.
    spread
        Tradable spread: the prior residual ``y_t - (alpha_{t|t-1} +
        beta_{t|t-1} x_t)``; NaN before ``max(train, skip)``.
    residual
        Posterior residual ``y - alpha - beta x`` (uses ``y_t``; diagnostic only).
    innovation, innovation_std
        One-step-ahead forecast error (every ``t``, in-sample before
        ``train``) and its standard deviation ``sqrt(F_t)``; ``spread /
        innovation_std`` is Chan's trading z-score (:attr:`zscore`).
    loglik
        Log-likelihood of all observations at the variances used (first
        ``skip`` innovations excluded).
    train_loglik
        The maximised log-likelihood of the training window (None if nothing
        was estimated).
    train
        Observations the variances were estimated on (0 if all were fixed).
    obs_var, q_alpha, q_beta
        Observation and state-noise variances used.
    delta
        The delta of the "delta" parametrisation, else None.
    estimated
        Whether the variances were estimated by maximum likelihood.
    n_obs, skip
        Number of observations; innovations left out of ``loglik``.
    """

    alpha: FloatArray
    beta: FloatArray
    beta_prior: FloatArray
    beta_std: FloatArray
    spread: FloatArray
    residual: FloatArray
    innovation: FloatArray
    innovation_std: FloatArray
    loglik: float
    train_loglik: float | None
    train: int
    obs_var: float
    q_alpha: float
    q_beta: float
    delta: float | None
    estimated: bool
    n_obs: int
    skip: int

    @property
    def zscore(self) -> FloatArray:
        """Return ``spread / innovation_std`` (standard normal under the model; NaN before training ends)."""
        z: FloatArray = self.spread / self.innovation_std
        return z

    def summary(self) -> str:
        """Return a plain-text summary of the variances and final state."""
        how = f"ML estimate on the first {self.train} obs" if self.estimated else "fixed"
        lines = [
            f"Kalman hedge (random-walk alpha, beta)  n={self.n_obs}  loglik={self.loglik:.6g}  ({how})",
            f"  observation variance r   {self.obs_var:.6g}",
            f"  state variance q_alpha   {self.q_alpha:.6g}",
            f"  state variance q_beta    {self.q_beta:.6g}",
        ]
        if self.delta is not None:
            lines.append(f"  delta                    {self.delta:.6g}")
        lines.append(
            f"  final beta {self.beta[-1]:.6g} (sd {self.beta_std[-1]:.3g}), alpha {self.alpha[-1]:.6g}"
        )
        return "\n".join(lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class KalmanHedge:
    """Specify a Kalman hedge-ratio model; :meth:`fit` returns a :class:`KalmanHedgeResult`.

    Parameters
    ----------
    noise
        ``"diagonal"`` (separate ``q_alpha``, ``q_beta``) or ``"delta"``
        (``Q = delta / (1 - delta) I``).
    obs_var
        Fix the observation variance ``r`` instead of estimating it.
    state_var
        Fix ``(q_alpha, q_beta)`` (diagonal) instead of estimating them.
    delta
        Fix ``delta`` (delta parametrisation) instead of estimating it.
    prior_scale
        ``kappa`` of the diffuse prior.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = 100 + rng.normal(size=3000).cumsum()
    >>> beta = 1.5 + 0.002 * rng.normal(size=3000).cumsum()
    >>> y = 2.0 + beta * x + rng.normal(scale=0.5, size=3000)
    >>> res = KalmanHedge().fit(y, x, train=1500)  # variances from the first half only
    >>> bool(abs(res.beta[-1] - beta[-1]) < 4 * res.beta_std[-1]), round(res.obs_var, 2)
    (True, 0.25)
    >>> bool(np.isnan(res.spread[:1500]).all()), round(float(np.std(res.zscore[1500:])), 1)
    (True, 1.0)
    """

    noise: KalmanNoise = "diagonal"
    obs_var: float | None = None
    state_var: tuple[float, float] | None = None
    delta: float | None = None
    prior_scale: float = field(default=1e6)

    def __post_init__(self) -> None:
        if self.noise not in ("diagonal", "delta"):
            raise ValidationError(f"noise={self.noise!r} must be 'diagonal' or 'delta'")
        if self.obs_var is not None and not (math.isfinite(self.obs_var) and self.obs_var > 0):
            raise ValidationError(f"obs_var={self.obs_var!r} must be > 0")
        if self.state_var is not None:
            if self.noise != "diagonal":
                raise ValidationError("state_var applies to noise='diagonal'; use delta= for noise='delta'")
            if len(self.state_var) != 2 or not all(math.isfinite(v) and v >= 0 for v in self.state_var):
                raise ValidationError(f"state_var={self.state_var!r} must be two variances >= 0")
        if self.delta is not None:
            if self.noise != "delta":
                raise ValidationError("delta applies to noise='delta'")
            if not 0.0 < self.delta < 1.0:
                raise ValidationError(f"delta={self.delta!r} must lie in (0, 1)")
        if not (math.isfinite(self.prior_scale) and self.prior_scale > 0):
            raise ValidationError(f"prior_scale={self.prior_scale!r} must be > 0")

    @property
    def all_fixed(self) -> bool:
        """Whether every variance is fixed (nothing to estimate, no training window needed)."""
        q_fixed = self.delta is not None if self.noise == "delta" else self.state_var is not None
        return self.obs_var is not None and q_fixed

    def fit(self, y: FloatArray, x: FloatArray, *, train: int | None = None) -> KalmanHedgeResult:
        """Estimate the unknown variances on the first ``train`` points, then filter all of ``y`` on ``x``.

        Parameters
        ----------
        y, x
            The dependent and hedge series (prices or log prices), equal
            length, finite, at least 10 points; ``x`` must not be constant.
        train
            Number of leading observations the variances are estimated on
            (``10 <= train <= len(y)``); required unless every variance is
            fixed. ``spread`` starts at ``train``: earlier points were used
            to fit the variances. ``train=len(y)`` is an in-sample fit.

        Raises
        ------
        ValidationError
            NaN/inf, different lengths, a constant ``x``, or a missing or bad ``train``.
        InsufficientDataError
            Fewer than 10 observations.
        ConvergenceError
            The likelihood maximisation failed.
        """
        ya = as_float_series("y", y)
        xa = as_float_series("x", x)
        n = require_same_length(y=ya, x=xa)
        require_min_length("y and x", n, _MIN_OBS, why="to estimate a Kalman hedge ratio")
        m = self._train(train, n)
        fit_y, fit_x = (ya[:m], xa[:m]) if m else (ya, xa)
        if float(np.ptp(fit_x)) == 0.0:
            where = f"over the first train={m} points" if m else "throughout"
            raise ValidationError(f"x is constant ({xa[0]!r} {where}): the hedge ratio is not identified")
        head = slice(0, min(m, 50)) if m else slice(0, 1)
        sy2 = float(np.mean(ya[head] ** 2)) or 1.0
        sx2 = float(np.mean(xa[head] ** 2)) or 1.0
        prior = (0.0, 0.0, self.prior_scale * sy2, 0.0, self.prior_scale * sy2 / sx2)
        r, qa, qb, delta, estimated, prior, train_ll = self._variances(fit_y, fit_x, prior)
        alpha, beta, bvar, innov, fvar, ll = _k.kalman_hedge_filter(ya, xa, r, qa, qb, *prior, _SKIP)
        beta_prior = np.concatenate(([prior[1]], beta[:-1]))
        spread = innov.copy()
        spread[: max(m, _SKIP)] = np.nan
        residual = ya - alpha - beta * xa
        fstd = np.sqrt(fvar)
        for arr in (alpha, beta, beta_prior, innov, fstd, spread, residual):
            arr.setflags(write=False)
        return KalmanHedgeResult(
            alpha=alpha,
            beta=beta,
            beta_prior=beta_prior,
            beta_std=np.sqrt(np.clip(bvar, 0.0, None)),
            spread=spread,
            residual=residual,
            innovation=innov,
            innovation_std=fstd,
            loglik=float(ll),
            train_loglik=train_ll,
            train=m,
            obs_var=r,
            q_alpha=qa,
            q_beta=qb,
            delta=delta,
            estimated=estimated,
            n_obs=n,
            skip=_SKIP,
        )

    def _train(self, train: int | None, n: int) -> int:
        if train is None:
            if self.all_fixed:
                return 0
            raise ValidationError(
                "train is required when a variance is estimated: pass train=N to estimate them on the "
                "first N observations and filter the rest out of sample (train=len(y) for an in-sample fit)"
            )
        if isinstance(train, bool) or not isinstance(train, int | np.integer):
            raise ValidationError(f"train={train!r} must be an int number of observations")
        lo = 0 if self.all_fixed else _MIN_OBS
        if not lo <= train <= n:
            raise ValidationError(f"train={train} must lie in [{lo}, {n}] (the number of observations)")
        return int(train)

    def _variances(
        self, y: FloatArray, x: FloatArray, prior: tuple[float, float, float, float, float]
    ) -> tuple[
        float, float, float, float | None, bool, tuple[float, float, float, float, float], float | None
    ]:
        """Return (r, q_alpha, q_beta, delta, estimated, prior, maximised loglik) on ``y``, ``x``."""
        design = np.column_stack([np.ones_like(x), x])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = y - design @ coef
        r0 = max(float(resid @ resid) / y.size, 1e-300)
        rho0 = math.log(1e-4)
        rho0_b = math.log(1e-4 / max(float(np.var(x)), 1e-300))
        is_delta = self.noise == "delta"
        q_fixed: tuple[float, float] | None = None
        if is_delta and self.delta is not None:
            q = self.delta / (1.0 - self.delta)
            q_fixed = (q, q)
        elif not is_delta and self.state_var is not None:
            q_fixed = (float(self.state_var[0]), float(self.state_var[1]))

        if self.obs_var is not None and q_fixed is not None:
            return self.obs_var, q_fixed[0], q_fixed[1], self.delta, False, prior, None

        if self.obs_var is None and q_fixed is None:
            # concentrate r out: Q = r diag(rho), P0 = r P0r; search only the log-ratios
            p0r = (prior[0], prior[1], prior[2] / r0, 0.0, prior[4] / r0)

            def neg_profile(p: FloatArray) -> float:
                ra = math.exp(p[0])
                rb = math.exp(p[-1])
                return -float(_k.kalman_hedge_profile(y, x, ra, rb, *p0r, _SKIP)[1])

            start = np.array([rho0_b] if is_delta else [rho0, rho0_b])
            p = self._maximise(neg_profile, start)
            ra, rb = math.exp(p[0]), math.exp(p[-1])
            r_hat, ll_hat = (float(v) for v in _k.kalman_hedge_profile(y, x, ra, rb, *p0r, _SKIP))
            scaled = (p0r[0], p0r[1], p0r[2] * r_hat, 0.0, p0r[4] * r_hat)
            qa, qb = ra * r_hat, rb * r_hat
            delta = qb / (1.0 + qb) if is_delta else None
            return r_hat, qa, qb, delta, True, scaled, ll_hat

        # one side fixed: maximise the full likelihood over the free log-variances
        fixed_r = self.obs_var
        qf = q_fixed if q_fixed is not None else (0.0, 0.0)

        def unpack(p: FloatArray) -> tuple[float, float, float]:
            if fixed_r is not None:
                if is_delta:
                    q = math.exp(p[0])
                    return fixed_r, q, q
                return fixed_r, math.exp(p[0]), math.exp(p[1])
            return math.exp(p[0]), qf[0], qf[1]

        def neg_full(p: FloatArray) -> float:
            return -float(_k.kalman_hedge_loglik(y, x, *unpack(p), *prior, _SKIP))

        if fixed_r is not None:
            base = math.log(fixed_r)
            start = np.array([base + rho0_b] if is_delta else [base + rho0, base + rho0_b])
        else:
            start = np.array([math.log(r0)])
        best = self._maximise(neg_full, start)
        r, qa, qb = unpack(best)
        delta = qb / (1.0 + qb) if is_delta else None
        return r, qa, qb, delta, True, prior, -neg_full(best)

    @staticmethod
    def _maximise(objective: Callable[[FloatArray], float], start: FloatArray) -> FloatArray:
        """Minimise ``objective`` over log-variances by Nelder-Mead with a wide simplex, restarted once."""

        def neg(p: FloatArray) -> float:
            v = objective(p)
            return v if math.isfinite(v) else 1e300

        k = start.size
        x0 = start
        res = None
        for width in (3.0, 0.5):
            simplex = np.vstack([x0] + [x0 + width * np.eye(k)[i] for i in range(k)])
            res = optimize.minimize(
                neg,
                x0,
                method="Nelder-Mead",
                options={"initial_simplex": simplex, "xatol": 1e-6, "fatol": 1e-9, "maxfev": 2000},
            )
            x0 = res.x
        if res is None or not np.isfinite(res.fun) or res.fun >= 1e300:
            raise ConvergenceError("Kalman likelihood maximisation failed: no finite likelihood found")
        out: FloatArray = np.asarray(res.x, dtype=np.float64)
        return out
