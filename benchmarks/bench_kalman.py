"""Kalman hedge ratio over 1,000,000 observations: spreadlab's numba two-state filter vs pykalman.

Same model and variances (random-walk intercept and slope, fixed r, q_alpha,
q_beta, same prior). pykalman runs about 1 ms per observation, so it filters
the first ``PEER_N`` observations and its time is scaled linearly to 1e6
(the filter is a fixed cost per step); the log-likelihoods of that subset are
compared for identity. The full maximum-likelihood fit time is recorded too.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Context, best_of
from spreadlab.kernels import kalman as k
from spreadlab.signals.kalman import KalmanHedge

N = 1_000_000
PEER_N = 20_000
R, QA, QB = 0.25, 1e-6, 1e-8
PRIOR = (0.0, 0.0, 1e4, 0.0, 1.0)


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2024)
    x = 100 + rng.normal(size=N).cumsum() * 0.1
    beta = 1.3 + 1e-4 * rng.normal(size=N).cumsum()
    y = 2.0 + beta * x + rng.normal(scale=0.5, size=N)
    return y, x


def run(ctx: Context) -> list[dict]:
    y, x = _data()
    data = ctx.workdir / "kalman.npz"
    p0 = np.array([[PRIOR[2], PRIOR[3]], [PRIOR[3], PRIOR[4]]])
    np.savez(data, y=y, x=x, r=R, q_alpha=QA, q_beta=QB, a0=PRIOR[0], b0=PRIOR[1], p0=p0)
    args = (R, QA, QB, *PRIOR, 0)
    k.kalman_hedge_filter(y[:100], x[:100], *args)  # warm up numba
    ours = best_of(lambda: k.kalman_hedge_filter(y, x, *args), repeat=5)
    ll_subset = float(k.kalman_hedge_loglik(y[:PEER_N], x[:PEER_N], *args))
    peer = ctx.run_peer(
        "pykalman", ctx.workdir.parent.parent / "peers" / "kalman_pykalman.py", str(data), str(PEER_N)
    )
    peer_full = peer["seconds"] * N / PEER_N
    ctx.log(
        f"spreadlab filter {ours:.4f}s / 1e6; pykalman {peer['seconds']:.2f}s / {PEER_N} "
        f"-> {peer_full:.0f}s / 1e6 (scaled); loglik {ll_subset:.6f} vs {peer['loglik']:.6f}"
    )
    fit_n = 100_000
    KalmanHedge().fit(y[:1000], x[:1000], train=1000)  # warm up
    fit_time = best_of(lambda: KalmanHedge().fit(y[:fit_n], x[:fit_n], train=fit_n), repeat=1)
    return [
        ctx.record(
            name="kalman_hedge_filter_1e6",
            work=f"two-state Kalman hedge filter over {N:,} observations (fixed variances)",
            unit="seconds",
            spreadlab=ours,
            peers={
                "pykalman": {
                    "value": peer_full,
                    "version": peer["version"],
                    "note": f"filtered {PEER_N:,} observations in {peer['seconds']:.3f}s, scaled linearly to {N:,}",
                    "timing": f"extrapolated: {PEER_N:,} obs filtered in {peer['seconds']:.2f} s, x {N // PEER_N} (linear)",
                    "checked": f"yes: log-likelihood of the first {PEER_N:,} obs, |diff| {abs(ll_subset - peer['loglik']):.0e}",
                }
            },
            higher_is_better=False,
            extra={
                "loglik_subset_spreadlab": ll_subset,
                "loglik_subset_pykalman": peer["loglik"],
                "loglik_abs_diff": abs(ll_subset - peer["loglik"]),
                "ml_fit_seconds_1e5_obs": fit_time,
            },
        )
    ]
