"""Implied-vol solver throughput: spreadlab vs vollib (Let's be rational) and QuantLib on 1,000,000 options.

Data (seed 4): Deribit-like Black-76 options, forward 1,000-100,000, log-moneyness N(0, 0.25),
expiry 1 day - 1.5 years, vol 0.2-1.5, rate 3%, calls and puts, priced with spreadlab's Black-76 (which
agrees with QuantLib to 1e-10). Every tool inverts the same discounted prices; each reports its accuracy
against the true vols. spreadlab runs in-process after a numba warm-up (best of 3) through the public
``implied_vol`` in both modes, each its own row: ``parallel=False`` (one thread, the like-for-like
comparison with the single-threaded peers) and ``parallel=True`` (numba's pool on both cores). Peers run
once in their own venvs, one call per option through their public Python APIs (single-threaded), and
write their vols back; each row says how far they are from spreadlab's on the options both solved.
"""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np

from benchmarks.harness import Context, best_of
from spreadlab.kernels.black76 import black76_price
from spreadlab.pricing.iv import implied_vol

N = 1_000_000
RATE = 0.03
PEERS = Path(__file__).resolve().parent / "peers"


def _options() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(4)
    f = rng.uniform(1_000, 100_000, N)
    k = np.round(f * np.exp(rng.normal(0, 0.25, N)), 2)
    t = rng.uniform(1 / 365, 1.5, N)
    vol = rng.uniform(0.2, 1.5, N)
    call = rng.random(N) < 0.5
    disc = np.exp(-RATE * t)
    price = black76_price(f, k, t, vol, call, disc)
    return {"f": f, "k": k, "t": t, "vol": vol, "call": call.astype(np.float64), "disc": disc, "price": price}


def run(ctx: Context) -> list[dict]:
    data = _options()
    folder = ctx.workdir / "iv_options"
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in data.items():
        (folder / f"{name}.bin").write_bytes(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    (folder / "rate.txt").write_text(repr(RATE))
    call = data["call"] > 0.5
    kw = {"forward": data["f"], "strike": data["k"], "expiry_years": data["t"], "kind": call, "rate": RATE}
    implied_vol(
        data["price"][:100],
        **{**kw, **{n: v[:100] for n, v in kw.items() if n in ("forward", "strike", "expiry_years", "kind")}},
    )
    sec = best_of(lambda: implied_vol(data["price"], **kw), repeat=3)
    sec_1 = best_of(lambda: implied_vol(data["price"], **kw, parallel=False), repeat=3)
    res = implied_vol(data["price"], **kw)
    err = np.abs(res.vol - data["vol"])
    ok = res.ok
    ctx.log(
        f"spreadlab {N / sec:,.0f} options/s ({N / sec_1:,.0f} on one thread); solved {ok.mean():.6f}; median |err| {np.median(err[ok]):.2e}"
    )
    peers = {}
    extra: dict[str, object] = {
        "spreadlab_threads": numba.get_num_threads(),
        "spreadlab_parallel_options_per_s": N / sec,
        "spreadlab_single_thread_options_per_s": N / sec_1,
        "spreadlab_solved_share": float(ok.mean()),
        "spreadlab_median_abs_err": float(np.median(err[ok])),
        "spreadlab_p99_abs_err": float(np.quantile(err[ok], 0.99)),
        "spreadlab_max_abs_err": float(err[ok].max()),
        "spreadlab_status_counts": {s.name: c for s, c in res.counts().items()},
    }
    for key, script, label, out_name in (
        ("vollib", "iv_vollib.py", "vollib", "vol_vollib"),
        ("quantlib", "iv_quantlib.py", "QuantLib", "vol_quantlib"),
    ):
        out = ctx.run_peer(key, PEERS / script, str(folder))
        theirs = np.frombuffer((folder / f"{out_name}.bin").read_bytes(), dtype=np.float64)
        both = ok & np.isfinite(theirs)
        diff = np.abs(res.vol[both] - theirs[both])
        ctx.log(
            f"{label}: {out['options_per_s']:,.0f} options/s, failures {out['failures']}, "
            f"median |err| {out['median_abs_err']}; vs spreadlab on {both.sum():,} options: "
            f"median |diff| {np.median(diff):.1e}, p99.9 {np.quantile(diff, 0.999):.1e}, max {diff.max():.1e}"
        )
        checked = (
            f"yes: vols of the {both.sum():,} options both solved, |diff| median {np.median(diff):.0e}, "
            f"99.9% {np.quantile(diff, 0.999):.0e}, max {diff.max():.0e} "
            f"({out['failures']:,} peer failures, {int((~ok).sum()):,} spreadlab non-OK)"
        )
        peers[label] = {"value": out["options_per_s"], "version": out["version"], "checked": checked}
        extra[f"{label}_failures"] = out["failures"]
        extra[f"{label}_median_abs_err"] = out["median_abs_err"]
        extra[f"{label}_max_abs_err"] = out["max_abs_err"]
        extra[f"{label}_vs_spreadlab_max_abs_diff"] = float(diff.max())
    work = f"Black-76 implied vol of the same {N:,} options (calls and puts, rate {RATE})"
    threads = numba.get_num_threads()
    modes = (
        ("implied_vol_1e6_1thread", "one thread (parallel=False)", sec_1),
        (
            f"implied_vol_1e6_{threads}threads",
            f"{threads} threads (parallel=True), peers single-threaded",
            sec,
        ),
    )
    return [
        ctx.record(
            name=name,
            work=f"{work}; spreadlab on {how}",
            unit="options/s",
            spreadlab=N / s,
            peers=peers,
            higher_is_better=True,
            extra=extra,
        )
        for name, how, s in modes
    ]
