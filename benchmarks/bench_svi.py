"""SVI slice-fit time per expiry on real Deribit chains (no peer: reported as ms per expiry).

For 10 snapshots spread over the shared Deribit data, every (currency, expiry) slice with >= 5 quoted
out-of-the-money strikes is fitted with :class:`spreadlab.pricing.svi.SVI` (least squares, SLSQP under
the butterfly constraint only when needed). Reports the mean and median wall time per fit and the
RMSE distribution in vol points. Skipped if the shared data is absent.
"""

from __future__ import annotations

import time

import numpy as np
import polars as pl

from benchmarks.harness import Context
from spreadlab.pricing.chain import option_chain
from spreadlab.pricing.svi import SVI
from spreadlab.testing import shared_data_dir


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
        quotes = raw.select(
            pl.col("currency").alias("underlying"), pl.col("expiry_datetime").alias("expiry"),
            pl.col("time_to_maturity").alias("expiry_years"), "strike", pl.col("option_type").alias("kind"),
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
    times, rmse, constrained = [], [], 0
    for k, v, t in slices:
        t0 = time.perf_counter()
        fit = spec.fit(k, v, expiry_years=t)
        times.append(time.perf_counter() - t0)
        rmse.append(fit.rmse_vol_points)
        constrained += fit.constrained
    ms = np.array(times) * 1e3
    ctx.log(f"{len(slices)} slices: mean {ms.mean():.1f} ms, median {np.median(ms):.1f} ms per fit")
    return [
        ctx.record(
            name="svi_fit_per_expiry",
            work=f"raw-SVI fit with butterfly constraint, {len(slices)} real Deribit expiries (mean time)",
            unit="ms per expiry",
            spreadlab=float(ms.mean()),
            peers={},
            higher_is_better=False,
            extra={
                "median_ms": float(np.median(ms)),
                "p90_ms": float(np.quantile(ms, 0.9)),
                "slices": len(slices),
                "constrained_slices": int(constrained),
                "rmse_vol_points_median": float(np.median(rmse)),
                "rmse_vol_points_p90": float(np.quantile(rmse, 0.9)),
                "rmse_vol_points_max": float(np.max(rmse)),
            },
        )
    ]
