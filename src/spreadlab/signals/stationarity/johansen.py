"""Johansen cointegration-rank test for two or more series.

VECM with ``k = k_ar_diff`` lagged differences (Johansen 1991)::

    Δy_t = Π y_{t-1} + Σ_{i=1..k} Γ_i Δy_{t-i} + deterministic terms + ε_t

Reduced-rank regression: ``R0`` and ``R1`` are the residuals of ``Δy_t`` and
of the lagged level on the lagged differences; with ``S_ij = R_i'R_j / T``
the eigenvalues ``λ_1 > ... > λ_N`` solve
``|λ S11 - S10 S00^{-1} S01| = 0`` (a symmetric-definite generalised
eigenproblem, solved with ``scipy.linalg.eigh``). Statistics::

    trace(r)   = -T Σ_{i>r} log(1 - λ_i)       H0: rank <= r
    max_eig(r) = -T log(1 - λ_{r+1})           H0: rank = r vs r + 1

Deterministic terms follow statsmodels' ``coint_johansen`` (from LeSage's
``johansen.m``): ``det_order`` -1 none, 0 the data are demeaned, 1 the
levels are linearly detrended (time on [-1, 1]) and the differences
demeaned. With ``k_ar_diff >= 1`` statsmodels uses the level lagged ``k``
periods, which spans the same space as ``y_{t-1}`` given the lagged
differences, so the statistics are those of the equation above; for
``k_ar_diff = 0`` statsmodels pairs ``Δy_t`` with ``y_t`` (statsmodels issue
7459) and this module uses ``y_{t-1}`` as the equation says.
Critical values (90%, 95%, 99%) are MacKinnon, Haug and Michelis (1999)
(statsmodels' ``c_sjt``/``c_sja``), available for up to 12 series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.linalg

from spreadlab._typing import FloatArray
from spreadlab.errors import InsufficientDataError, ValidationError

from ._common import as_matrix, frozen

__all__ = ["JohansenResult", "johansen"]

_LEVELS = {0.10: 0, 0.05: 1, 0.01: 2}


def _detrend(y: FloatArray, order: int) -> FloatArray:
    if order < 0 or y.size == 0:
        return y
    V = np.vander(np.linspace(-1.0, 1.0, y.shape[0]), order + 1)
    beta, *_ = np.linalg.lstsq(V, y, rcond=None)
    out: FloatArray = y - V @ beta
    return out


def _resid(y: FloatArray, x: FloatArray) -> FloatArray:
    if x.size == 0:
        return y
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    out: FloatArray = y - x @ beta
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class JohansenResult:
    """Outcome of :func:`johansen`.

    Attributes
    ----------
    trace_stat
        Trace statistics for H0: rank <= r, r = 0..N-1.
    max_eig_stat
        Maximum-eigenvalue statistics for H0: rank = r.
    trace_crit
        Per r, the (90%, 95%, 99%) critical values of the trace test.
    max_eig_crit
        Per r, the (90%, 95%, 99%) critical values of the max-eigenvalue test.
    eigenvalues
        ``λ_1 >= ... >= λ_N``.
    eigenvectors
        Columns are the cointegrating vectors ``β_i`` (``β' S11 β = I``;
        first non-zero entry positive), read-only.
    det_order
        -1, 0 or 1.
    k_ar_diff
        Lagged differences.
    nobs
        Observations in the reduced-rank regression.
    names
        Series names.
    """

    trace_stat: tuple[float, ...]
    max_eig_stat: tuple[float, ...]
    trace_crit: tuple[tuple[float, float, float], ...]
    max_eig_crit: tuple[tuple[float, float, float], ...]
    eigenvalues: tuple[float, ...]
    eigenvectors: FloatArray
    det_order: Literal[-1, 0, 1]
    k_ar_diff: int
    nobs: int
    names: tuple[str, ...]

    def rank(self, *, test: Literal["trace", "max_eig"] = "trace", level: float = 0.05) -> int:
        """Return the cointegration rank chosen by sequential testing at ``level`` (0.10, 0.05, 0.01)."""
        if level not in _LEVELS:
            raise ValidationError(f"level={level!r} must be one of 0.10, 0.05, 0.01")
        if test not in ("trace", "max_eig"):
            raise ValidationError(f"test={test!r} must be 'trace' or 'max_eig'")
        col = _LEVELS[level]
        stats = self.trace_stat if test == "trace" else self.max_eig_stat
        crit = self.trace_crit if test == "trace" else self.max_eig_crit
        for r, (s, c) in enumerate(zip(stats, crit, strict=True)):
            if s < c[col]:
                return r
        return len(stats)

    def summary(self) -> str:
        """Return a short human-readable report."""
        lines = [
            f"Johansen cointegration test ({', '.join(self.names)}; det_order={self.det_order}, "
            f"k_ar_diff={self.k_ar_diff}, nobs={self.nobs})",
            "  r   eigenvalue   trace   95% crit   max-eig   95% crit",
        ]
        for r in range(len(self.trace_stat)):
            lines.append(
                f"  {r:<3d} {self.eigenvalues[r]:10.6f} {self.trace_stat[r]:8.3f} "
                f"{self.trace_crit[r][1]:9.3f} {self.max_eig_stat[r]:9.3f} {self.max_eig_crit[r][1]:9.3f}"
            )
        lines.append(f"  rank at 5%: trace {self.rank()}, max-eig {self.rank(test='max_eig')}")
        return "\n".join(lines)


def johansen(
    data: Any,
    *,
    det_order: Literal[-1, 0, 1] = 0,
    k_ar_diff: int = 1,
    names: tuple[str, ...] | None = None,
) -> JohansenResult:
    """Run Johansen's trace and maximum-eigenvalue tests on 2 to 12 series.

    Parameters
    ----------
    data
        Observations x series (a 2-D array or a polars DataFrame whose
        columns are the series).
    det_order
        -1 no deterministic terms, 0 constant, 1 linear trend.
    k_ar_diff
        Number of lagged differences (>= 0).
    names
        Series names (default: DataFrame columns or ``y0, y1, ...``).

    Returns
    -------
    JohansenResult

    Examples
    --------
    >>> import numpy as np
    >>> from spreadlab.signals.stationarity import johansen
    >>> rng = np.random.default_rng(5)
    >>> x = np.cumsum(rng.normal(size=2000))
    >>> res = johansen(np.column_stack([x, x + rng.normal(size=2000)]))
    >>> res.rank()
    1
    """
    if det_order not in (-1, 0, 1):
        raise ValidationError(f"det_order={det_order!r} must be -1, 0 or 1")
    if isinstance(k_ar_diff, bool) or not isinstance(k_ar_diff, int | np.integer) or k_ar_diff < 0:
        raise ValidationError(f"k_ar_diff={k_ar_diff!r} must be a non-negative integer")
    if names is None and hasattr(data, "columns") and hasattr(data, "to_numpy"):
        names = tuple(str(c) for c in data.columns)
    Y = as_matrix("data", data, what="johansen")
    n, neqs = Y.shape
    if not 2 <= neqs <= 12:
        raise ValidationError(f"data has {neqs} series; johansen needs 2 to 12 (critical values stop at 12)")
    names = names if names is not None else tuple(f"y{i}" for i in range(neqs))
    if len(names) != neqs:
        raise ValidationError(f"names has {len(names)} entries but data has {neqs} series")
    k = int(k_ar_diff)
    need = neqs * (k + 1) + k + 3
    if n < need:
        raise InsufficientDataError(
            f"data has {n} observations; johansen with {neqs} series and k_ar_diff={k} needs at least {need}"
        )
    f = 0 if det_order > -1 else -1
    endog = _detrend(Y, det_order)
    dx = np.diff(endog, axis=0)
    z = np.hstack([dx[k - i : n - 1 - i] for i in range(1, k + 1)]) if k else np.empty((n - 1, 0))
    z = _detrend(z, f)
    r0 = _resid(_detrend(dx[k:], f), z)
    lx = endog[1 : n - k] if k >= 1 else endog[: n - 1]
    r1 = _resid(_detrend(lx, f), z)
    T = r1.shape[0]
    s11 = r1.T @ r1 / T
    s10 = r1.T @ r0 / T
    s00 = r0.T @ r0 / T
    try:
        sig = s10 @ np.linalg.solve(s00, s10.T)
        lam, vec = scipy.linalg.eigh((sig + sig.T) / 2.0, s11)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError) as exc:
        raise ValidationError(f"johansen: the series are collinear or degenerate ({exc})") from exc
    order = np.argsort(lam)[::-1]
    lam = np.clip(lam[order], 0.0, None)
    vec = vec[:, order]
    if lam[0] >= 1.0:
        raise ValidationError("johansen: an eigenvalue reached 1 (perfectly collinear series)")
    for c in range(neqs):
        nz = np.flatnonzero(vec[:, c])
        if nz.size and vec[nz[0], c] < 0:
            vec[:, c] = -vec[:, c]
    from statsmodels.tsa.coint_tables import c_sja, c_sjt  # deferred: heavy import

    logs = np.log1p(-lam)
    trace = tuple(float(-T * logs[i:].sum()) for i in range(neqs))
    maxeig = tuple(float(-T * logs[i]) for i in range(neqs))

    def _crit(fn: Any, i: int) -> tuple[float, float, float]:
        c = fn(neqs - i, det_order)
        return (float(c[0]), float(c[1]), float(c[2]))

    return JohansenResult(
        trace_stat=trace,
        max_eig_stat=maxeig,
        trace_crit=tuple(_crit(c_sjt, i) for i in range(neqs)),
        max_eig_crit=tuple(_crit(c_sja, i) for i in range(neqs)),
        eigenvalues=tuple(float(v) for v in lam),
        eigenvectors=frozen(vec),
        det_order=det_order,
        k_ar_diff=k,
        nobs=T,
        names=tuple(names),
    )
