"""SVI slice-fit time per expiry on real Deribit chains: spreadlab's SVI vs the same fit in scipy alone.

For 10 snapshots spread over the shared Deribit data, every (currency, expiry) slice with >= 5 quoted
out-of-the-money strikes (years to expiry in Deribit's ACT/365) is fitted with
:class:`spreadlab.pricing.svi.SVI` (the compiled box-projected Levenberg-Marquardt, SLSQP under the
butterfly constraint only when needed). The peer (``peers/svi_scipy.py``, own venv) fits the same
slices to the same objective (squared implied-vol errors), box bounds, starts and butterfly / wing /
``w >= 0`` constraints with scipy ``least_squares`` (trust-region reflective) and, where needed,
scipy SLSQP. Unit: mean wall ms per slice. Checked: each slice's RMSE in vol points from both tools
and whether both fits are free of butterfly arbitrage. Skipped if the shared data is absent.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks.harness import Context
from spreadlab.core.time import venue_day_count, year_fraction
from spreadlab.pricing.chain import option_chain
from spreadlab.pricing.svi import SVI
from spreadlab.testing import shared_data_dir

PEERS = Path(__file__).resolve().parent / "peers"


def run(ctx: Context) -> list[dict]:
    root = shared_data_dir()
    if root is None:
        ctx.log("shared data absent: SVI benchmark skipped")
        return []
    files = sorted((root / "deribit_options" / "snapshots").glob("*.csv.gz"))
    files = files[:: max(1, len(files) // 10)][:10]
    slices = []
    for path in files:
        raw = pl.read_csv(path, infer_schema_length=10_000)
        ts = raw["timestamp"].str.to_datetime(time_zone="UTC").dt.epoch("ns").to_numpy()
        exp = raw["expiry_datetime"].str.to_datetime(time_zone="UTC").dt.epoch("ns").to_numpy()
        years = np.asarray(year_fraction(ts, exp, venue_day_count("DERIBIT")), dtype=np.float64)
        quotes = raw.with_columns(pl.Series("years", years)).select(
            pl.col("currency").alias("underlying"), pl.col("expiry_datetime").alias("expiry"),
            pl.col("years").alias("expiry_years"), "strike", pl.col("option_type").alias("kind"),
            pl.col("bid_price").alias("bid"), pl.col("ask_price").alias("ask"), pl.col("mark_price").alias("mark"),
            pl.col("underlying").alias("forward"),
        )  # fmt: skip
        chain = option_chain(quotes, svi=SVI())
        o = chain.options.filter(
            pl.col("mark_iv").is_not_null() & (pl.col("bid") > 0)
            & (((pl.col("kind") == "call") & (pl.col("log_moneyness") >= 0))
               | ((pl.col("kind") == "put") & (pl.col("log_moneyness") < 0)))
        )  # fmt: skip
        for _, g in o.group_by("underlying", "group"):
            if g["strike"].n_unique() >= 5:
                slices.append(
                    (g["log_moneyness"].to_numpy(), g["mark_iv"].to_numpy(), float(g["expiry_years"].mean()))
                )
    spec = SVI()
    spec.fit(*slices[0][:2], expiry_years=slices[0][2])  # load the compiled kernels
    times, rmse, constrained, free = [], [], 0, []
    for k, v, t in slices:
        t0 = time.perf_counter()
        fit = spec.fit(k, v, expiry_years=t)
        times.append(time.perf_counter() - t0)
        rmse.append(fit.rmse_vol_points)
        constrained += fit.constrained
        free.append(fit.butterfly_free)
    ms = np.array(times) * 1e3
    ctx.log(f"{len(slices)} slices: mean {ms.mean():.1f} ms, median {np.median(ms):.1f} ms per fit")
    data = ctx.workdir / "svi_slices.npz"
    offsets = np.cumsum([0] + [s[0].size for s in slices])
    np.savez(
        data, k=np.concatenate([s[0] for s in slices]), v=np.concatenate([s[1] for s in slices]),
        offsets=offsets, t=np.array([s[2] for s in slices]),
    )  # fmt: skip
    out = ctx.workdir / "svi_scipy_out.npz"
    peer = ctx.run_peer("ou_scipy", PEERS / "svi_scipy.py", str(data), str(out))
    got = np.load(out)
    peer_ms = got["seconds"] * 1e3
    d_rmse = np.array(rmse) - got["rmse"]  # > 0: spreadlab fits worse than scipy
    both_free = int((np.array(free) & got["feasible"]).sum())
    ctx.log(
        f"scipy: mean {peer_ms.mean():.1f} ms per fit; RMSE spreadlab - scipy: median {np.median(d_rmse):+.2e}, "
        f"max {d_rmse.max():+.2e}, min {d_rmse.min():+.2e} vol pts; butterfly-free both {both_free}/{len(slices)}"
    )
    checked = (
        f"yes: per-slice RMSE (vol pts) spreadlab - scipy median {np.median(d_rmse):+.0e}, "
        f"range [{d_rmse.min():+.0e}, {d_rmse.max():+.0e}], within 0.01 on {int((np.abs(d_rmse) <= 0.01).sum())}/"
        f"{len(slices)}; both butterfly-free on {both_free}/{len(slices)}"
    )
    return [
        ctx.record(
            name="svi_fit_per_expiry",
            work=f"raw-SVI fit with butterfly constraint, {len(slices)} real Deribit expiries (mean time)",
            unit="ms per expiry",
            spreadlab=float(ms.mean()),
            peers={
                "scipy least_squares + SLSQP": {
                    "value": float(peer_ms.mean()),
                    "version": f"scipy {peer['scipy']}",
                    "checked": checked,
                }
            },
            higher_is_better=False,
            extra={
                "median_ms": float(np.median(ms)),
                "p90_ms": float(np.quantile(ms, 0.9)),
                "slices": len(slices),
                "constrained_slices": int(constrained),
                "rmse_vol_points_median": float(np.median(rmse)),
                "rmse_vol_points_p90": float(np.quantile(rmse, 0.9)),
                "rmse_vol_points_max": float(np.max(rmse)),
                "peer_median_ms": float(np.median(peer_ms)),
                "peer_constrained_slices": int(got["constrained"].sum()),
                "rmse_diff_median": float(np.median(d_rmse)),
                "rmse_diff_max": float(d_rmse.max()),
                "rmse_diff_min": float(d_rmse.min()),
                "butterfly_free_spreadlab": int(np.sum(free)),
                "butterfly_free_peer": int(got["feasible"].sum()),
            },
        )
    ]
