"""Latent price paths of the simulated market (before quoting).

Random streams: every component draws from its own ``np.random.Generator``
(PCG64) seeded by ``SeedSequence([seed, crc32(name)])``, so switching one part
off, or the dislocations off, leaves every other path bit-for-bit unchanged.

- Index: Heston variance with compound-Poisson normal log jumps
  (:func:`spreadlab.kernels.market.heston_jump_path`), drift set to the jump
  compensator ``-lambda (exp(m + s^2/2) - 1)`` so the index is a martingale.
- OU components (spot basis, perpetual premium, venue noise, futures basis
  noise, pair spreads): exact AR(1) (:func:`spreadlab.kernels.market.ou_path`)
  started from the stationary law.
- Universe: log-price increments ``sigma sqrt(dt) (sqrt(c) f + sqrt(1-c) e)``
  with one market factor ``f``; followers are ``c + beta x_leader + s``.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from spreadlab._typing import FloatArray
from spreadlab.core.time import NS_PER_DAY, NS_PER_MINUTE, NS_PER_YEAR
from spreadlab.data.market.config import IndexConfig
from spreadlab.kernels.market import heston_jump_path, ou_path

__all__ = ["IndexPath", "expected_average_variance", "ou", "simulate_index", "stream"]


def stream(seed: int, *names: str) -> np.random.Generator:
    """Return the independent random stream of component ``names`` under ``seed``.

    Examples
    --------
    >>> a = stream(7, "perp").standard_normal(3)
    >>> b = stream(7, "perp").standard_normal(3)
    >>> bool((a == b).all()), bool((a == stream(7, "spot").standard_normal(3)).any())
    (True, False)
    """
    keys = [seed & 0xFFFFFFFF, seed >> 32] + [zlib.crc32(n.encode()) for n in names]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(keys)))


def ou(rng: np.random.Generator, n: int, *, sd: float, half_life_minutes: float, step_ns: int) -> FloatArray:
    """Return a stationary zero-mean OU path of ``n`` steps with stationary sd ``sd``."""
    z = rng.standard_normal(n)
    if sd == 0.0:
        return np.zeros(n, dtype=np.float64)
    phi = math.exp(-math.log(2.0) * (step_ns / NS_PER_MINUTE) / half_life_minutes)
    scale = sd * math.sqrt(max(1.0 - phi * phi, 0.0))
    return ou_path(z, sd * float(z[0]), phi, scale)


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexPath:
    """The spot index: price, log price from the start, and the annual variance per step."""

    price: FloatArray
    log: FloatArray
    var: FloatArray
    jumps: FloatArray


def simulate_index(
    cfg: IndexConfig, rng: np.random.Generator, *, n: int, step_ns: int, spot_price: float
) -> IndexPath:
    """Simulate ``n`` points of the index starting at ``spot_price``."""
    dt = step_ns / NS_PER_YEAR
    z_s = rng.standard_normal(n - 1)
    z_v = rng.standard_normal(n - 1)
    lam_step = cfg.jump_rate_per_day * step_ns / NS_PER_DAY
    counts = rng.poisson(lam_step, n - 1).astype(np.float64)
    z_j = rng.standard_normal(n - 1)
    m = cfg.jump_mean_pct / 100.0
    s = cfg.jump_sd_pct / 100.0
    jumps = counts * m + np.sqrt(counts) * s * z_j
    lam_year = cfg.jump_rate_per_day * NS_PER_YEAR / NS_PER_DAY
    mu = -lam_year * (math.exp(m + 0.5 * s * s) - 1.0)
    v0 = (cfg.vol if cfg.initial_vol is None else cfg.initial_vol) ** 2
    x, v = heston_jump_path(
        z_s, z_v, jumps, v0, cfg.mean_reversion, cfg.vol**2, cfg.vol_of_vol, cfg.correlation, mu, dt
    )
    return IndexPath(price=spot_price * np.exp(x), log=x, var=v, jumps=np.concatenate(([0.0], jumps)))


def expected_average_variance(v: FloatArray, theta: float, kappa: float, tau: FloatArray) -> FloatArray:
    """Heston expected average variance over ``tau`` years.

    ``theta + (v - theta) (1 - exp(-kappa tau)) / (kappa tau)``.
    """
    kt = kappa * np.maximum(tau, 1e-12)
    factor = np.where(kt > 1e-8, -np.expm1(-kt) / kt, 1.0 - 0.5 * kt)
    return theta + (v - theta) * factor
