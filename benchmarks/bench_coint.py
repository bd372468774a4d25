"""Engle-Granger over all pairs of 60 Hyperliquid perps x 5,000 hourly closes: spreadlab vs statsmodels.

Data: the last 5,000 hourly log closes of the 60-perp universe in
``../shared/data/hyperliquid_perps/perp_ohlcv_1h.csv.gz`` (missing thin bars
forward-filled; the few bars before a late listing back-filled). Work: for
each of the 1,770 pairs ``i < j``, regress column ``i`` on column ``j`` with a
constant and run the ADF test on the residuals with lags chosen by AIC up to
``12 (n/100)^{1/4}`` = 32 -- statsmodels' ``coint(y, x)`` defaults.
spreadlab: :func:`spreadlab.signals.stationarity.engle_granger_pairs` (one
compiled loop; best of 3 before and 3 after the peer, after a warm-up). Peer: statsmodels ``coint`` in a
loop (own venv, BLAS pinned to one thread). The statistics and p-values of
all pairs are checked equal to 1e-6 in the same run.

``SPREADLAB_BENCH_COINT_PAIRS=K`` times the peer on the first K pairs only and
scales its time to 1,770 pairs (for quick runs; the default is all pairs).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks.harness import Context, best_of
from spreadlab.signals.stationarity import engle_granger_pairs
from spreadlab.testing import shared_file

N_OBS = 5000
PEERS = Path(__file__).resolve().parent / "peers"


def _prices() -> tuple[np.ndarray, list[str]]:
    path = shared_file("hyperliquid_perps/perp_ohlcv_1h.csv.gz")
    if path is None:
        raise FileNotFoundError("../shared/data/hyperliquid_perps/perp_ohlcv_1h.csv.gz is needed")
    df = pl.read_csv(path, columns=["date", "symbol", "close"])
    wide = df.pivot(on="symbol", index="date", values="close").sort("date")
    names = sorted(c for c in wide.columns if c != "date")
    wide = wide.select(names).fill_null(strategy="forward").fill_null(strategy="backward")
    return np.log(wide.to_numpy()[-N_OBS:]), names


def run(ctx: Context) -> list[dict]:
    P, names = _prices()
    n, N = P.shape
    npairs = N * (N - 1) // 2
    data = ctx.workdir / "coint_prices.npz"
    np.savez(data, prices=P)
    engle_granger_pairs(P[:300, :3], names=names[:3])  # compile / load the numba cache
    t_before = best_of(lambda: engle_granger_pairs(P, names=names), repeat=3)
    ours = engle_granger_pairs(P, names=names)

    limit = os.environ.get("SPREADLAB_BENCH_COINT_PAIRS")
    out = ctx.workdir / "coint_statsmodels.npy"
    args = [str(data), str(out)] + ([limit] if limit else [])
    peer = ctx.run_peer("statsmodels", PEERS / "coint_statsmodels.py", *args)
    # the peer runs for minutes on a shared machine: time spreadlab again afterwards, keep the best
    t_ours = min(t_before, best_of(lambda: engle_granger_pairs(P, names=names), repeat=3))
    ref = np.load(out)
    k = int(peer["pairs"])
    peer_time = float(peer["seconds"]) * npairs / k
    d_stat = float(np.max(np.abs(ours["statistic"].to_numpy()[:k] - ref[:, 0])))
    d_p = float(np.max(np.abs(ours["pvalue"].to_numpy()[:k] - ref[:, 1])))
    if d_stat > 1e-6 or d_p > 1e-6:
        raise AssertionError(
            f"Engle-Granger statistics differ from statsmodels: stat {d_stat:.2e}, p {d_p:.2e}"
        )
    ctx.log(
        f"engle_granger_pairs {t_ours:.3f}s for {npairs} pairs x {n} obs; statsmodels coint "
        f"{peer_time:.1f}s ({k} pairs timed); ratio {peer_time / t_ours:.0f}x; "
        f"max |d stat| {d_stat:.1e}, max |d p| {d_p:.1e}"
    )
    return [
        ctx.record(
            name="engle_granger_all_pairs_60x5000",
            work=f"Engle-Granger (constant, ADF lags by AIC up to 32) on all {npairs} pairs of {N} perps x {n} hourly log closes",
            unit="seconds",
            spreadlab=t_ours,
            peers={
                "statsmodels coint loop": {
                    "value": peer_time,
                    "version": f"statsmodels {peer['statsmodels']}",
                    "checked": f"yes: all {k:,} statistics and p-values, max |diff| {max(d_stat, d_p):.1e} (limit 1e-6)",
                    "timing": "measured"
                    if k == npairs
                    else f"extrapolated: {k:,} of {npairs:,} pairs timed, scaled linearly",
                }
            },
            higher_is_better=False,
            extra={
                "pairs_compared": k,
                "peer_pairs_timed": k,
                "max_abs_diff_statistic": d_stat,
                "max_abs_diff_pvalue": d_p,
                "pairs_p_below_5pct": int((ours["pvalue"] < 0.05).sum()),
            },
        )
    ]
