"""OU fit and optimal-band times: spreadlab vs the usual statsmodels/scipy notebook workflow.

Data: an exact OU path of 1,000,000 hourly points (theta 250/yr, sigma 0.04).
spreadlab: :func:`fit_ou` (closed-form exact MLE + delta-method SEs),
:func:`bertram_bands` (Bertram 2010 published example) and
:func:`leung_li_bands` (with and without stop-loss). Peers (own venv):
statsmodels AutoReg(1) mapped to OU, scipy L-BFGS-B on the exact likelihood,
scipy fsolve on Bertram's eq. 13 with erfi, and quadrature-based Leung-Li.
"""

from __future__ import annotations

import math

import numpy as np

from benchmarks.harness import Context, best_of
from spreadlab.signals.bands import bertram_bands, leung_li_bands
from spreadlab.signals.ou import fit_ou

N = 1_000_000
DT = 1.0 / (365.25 * 24)
MU, THETA, SIGMA = 0.002, 250.0, 0.04


def _path() -> np.ndarray:
    rng = np.random.default_rng(11)
    b = math.exp(-THETA * DT)
    sd = SIGMA * math.sqrt((1 - b * b) / (2 * THETA))
    z = rng.standard_normal(N) * sd
    from scipy.signal import lfilter

    x = lfilter([1.0], [1.0, -b], z) + MU  # AR(1) recursion x_i = b x_{i-1} + z_i about the mean
    return x


def _rel_check(what: str, ours: float, theirs: float) -> str:
    """Say how far apart the two tools' values of ``what`` are (relative)."""
    return f"{what} compared: {ours:.6g} vs {theirs:.6g}, relative diff {abs(theirs / ours - 1.0):.1e}"


def run(ctx: Context) -> list[dict]:
    x = _path()
    data = ctx.workdir / "ou.npz"
    np.savez(data, x=x, dt=DT)
    fit_ou(x[:1000], dt=DT)
    t_fit = best_of(lambda: fit_ou(x, dt=DT), repeat=5)
    fit = fit_ou(x, dt=DT)
    bertram_bands(180.967, 0.1538, 0.001)
    t_bert = best_of(lambda: bertram_bands(180.967, 0.1538, 0.001), repeat=20)
    t_sharpe = best_of(
        lambda: bertram_bands(180.967, 0.1538, 0.001, objective="sharpe", risk_free=0.01), repeat=5
    )
    ll_args = (0.71758, 6.306, math.sqrt(0.00698))
    t_ll = best_of(lambda: leung_li_bands(*ll_args, rate=0.05, cost=0.02), repeat=5)
    t_ll_sl = best_of(lambda: leung_li_bands(*ll_args, rate=0.05, cost=0.02, stop_loss=0.2), repeat=5)
    ll = leung_li_bands(*ll_args, rate=0.05, cost=0.02)
    peer = ctx.run_peer("ou_scipy", ctx.workdir.parent.parent / "peers" / "ou_scipy.py", str(data))
    ver = f"statsmodels {peer['statsmodels']}, scipy {peer['scipy']}"
    ctx.log(
        f"fit_ou {t_fit:.4f}s (theta {fit.speed:.2f} +- {fit.se_speed:.2f}); AutoReg {peer['ou_autoreg_s']:.3f}s; "
        f"scipy MLE {peer['ou_mle_s']:.3f}s (theta {peer['fit_mle']['theta']:.2f}); bertram {t_bert * 1e3:.2f}ms vs "
        f"{peer['bertram_s'] * 1e3:.2f}ms; leung-li {t_ll * 1e3:.1f}ms vs {peer['leung_li_s'] * 1e3:.1f}ms"
    )
    return [
        ctx.record(
            name="ou_fit_1e6",
            work=f"exact OU MLE with standard errors on {N:,} hourly points",
            unit="seconds",
            spreadlab=t_fit,
            peers={
                "statsmodels AutoReg(1)": {
                    "value": peer["ou_autoreg_s"],
                    "version": ver,
                    "checked": _rel_check("theta", fit.speed, peer["fit_autoreg"]["theta"]),
                },
                "scipy L-BFGS-B exact likelihood": {
                    "value": peer["ou_mle_s"],
                    "version": ver,
                    "checked": _rel_check("theta", fit.speed, peer["fit_mle"]["theta"]),
                },
            },
            higher_is_better=False,
            extra={
                "spreadlab_theta": fit.speed,
                "spreadlab_theta_se": fit.se_speed,
                "autoreg_theta": peer["fit_autoreg"]["theta"],
                "scipy_mle_theta": peer["fit_mle"]["theta"],
                "scipy_mle_theta_rel_diff": abs(peer["fit_mle"]["theta"] / fit.speed - 1.0),
                "true_theta": THETA,
            },
        ),
        ctx.record(
            name="bertram_bands",
            work="Bertram (2010) return-maximising symmetric bands (published example)",
            unit="seconds",
            spreadlab=t_bert,
            peers={
                "scipy fsolve on eq. 13": {
                    "value": peer["bertram_s"],
                    "version": ver,
                    "checked": _rel_check(
                        "entry", bertram_bands(180.967, 0.1538, 0.001).entry, peer["bertram_entry"]
                    ),
                }
            },
            higher_is_better=False,
            extra={
                "sharpe_objective_seconds": t_sharpe,
                "entry": bertram_bands(180.967, 0.1538, 0.001).entry,
                "peer_entry": peer["bertram_entry"],
            },
        ),
        ctx.record(
            name="leung_li_bands",
            work="Leung & Li (2015) optimal exit and entry levels (no stop-loss)",
            unit="seconds",
            spreadlab=t_ll,
            peers={
                "scipy quadrature + brentq": {
                    "value": peer["leung_li_s"],
                    "version": ver,
                    "checked": _rel_check("exit", ll.exit, peer["leung_li_exit"])
                    + "; "
                    + _rel_check("entry", ll.entry, peer["leung_li_entry"]),
                }
            },
            higher_is_better=False,
            extra={
                "with_stop_loss_seconds": t_ll_sl,
                "exit": ll.exit,
                "entry": ll.entry,
                "peer_exit": peer["leung_li_exit"],
                "peer_entry": peer["leung_li_entry"],
            },
        ),
    ]
