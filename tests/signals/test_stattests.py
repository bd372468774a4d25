"""Stationarity and cointegration tests against statsmodels on real Hyperliquid and Binance data."""

from __future__ import annotations

import dataclasses
import warnings
from functools import lru_cache

import numpy as np
import polars as pl
import pytest
from statsmodels.tsa.stattools import adfuller, coint
from statsmodels.tsa.stattools import kpss as sm_kpss
from statsmodels.tsa.vector_ar.vecm import coint_johansen
from tests.conftest import need_shared

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.signals.stationarity import adf, eg_pvalues, engle_granger, engle_granger_pairs, johansen, kpss

TOL = 1e-6


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """statsmodels' pinv under a multi-threaded BLAS burns ~30x the CPU on a shared 2-core box."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional test helper
        yield
        return
    with threadpool_limits(1):
        yield


@lru_cache(maxsize=4)
def _hl_wide(freq: str) -> pl.DataFrame:
    path = need_shared(f"hyperliquid_perps/perp_ohlcv_{freq}.csv.gz")
    df = pl.read_csv(path, columns=["date", "symbol", "close"])
    return df.pivot(on="symbol", index="date", values="close").sort("date").drop_nulls()


@lru_cache(maxsize=4)
def _binance(kind: str, sym: str) -> np.ndarray:
    path = need_shared(f"binance_spot_perp_daily/{kind}_{sym}_1d_2021-01_2023-06.csv.gz")
    return pl.read_csv(path)["close"].to_numpy()


def _series() -> dict[str, np.ndarray]:
    h1 = _hl_wide("1h")
    h4 = _hl_wide("4h")
    spot, perp = _binance("spot", "BTCUSDT"), _binance("perp", "BTCUSDT")
    return {
        "hl1h_log_btc": np.log(h1["BTC"].to_numpy()[-1200:]),
        "hl4h_eth": h4["ETH"].to_numpy()[-1000:],
        "hl1h_doge_returns": np.diff(np.log(h1["DOGE"].to_numpy()[-1000:])),
        "binance_btc_basis": np.log(perp) - np.log(spot),
        "binance_eth_spot": _binance("spot", "ETHUSDT"),
    }


@pytest.fixture(scope="module")
def series() -> dict[str, np.ndarray]:
    return _series()


FAST_ADF = {("c", "aic"), ("ct", "bic"), ("n", "t-stat"), ("c", None)}


def _grid(regressions, autolags, fast):
    """Every combination; the ones outside ``fast`` are marked slow (statsmodels is the slow side)."""
    return [
        pytest.param(r, a, marks=() if (r, a) in fast else pytest.mark.slow)
        for r in regressions
        for a in autolags
    ]


@pytest.mark.parametrize(
    ("regression", "autolag"), _grid(["n", "c", "ct", "ctt"], ["aic", "bic", "t-stat", None], FAST_ADF)
)
def test_adf_matches_statsmodels_on_real_series(series, regression, autolag) -> None:
    for name, x in series.items():
        maxlag = None if autolag else 6
        ref = adfuller(x, maxlag=maxlag, regression=regression, autolag=autolag, result_object=True)
        got = adf(x, regression=regression, autolag=autolag, maxlag=maxlag)
        assert got.lags == ref.lags, name
        assert got.nobs == ref.nobs, name
        # statsmodels' pinv loses ~1e-6 with the badly scaled t² column (see the test below)
        tol = 1e-5 if regression == "ctt" else TOL
        assert got.statistic == pytest.approx(ref.statistic, abs=tol), name
        assert got.pvalue == pytest.approx(ref.pvalue, abs=tol), name
        for key, val in ref.critical_values.items():
            assert got.critical_values[key] == pytest.approx(val, abs=1e-9), (name, key)
        if autolag:
            assert got.icbest == pytest.approx(ref.icbest, rel=1e-9), name


def test_adf_quadratic_trend_matches_a_well_scaled_reference(series) -> None:
    """With 'ctt' the t² column spans 1..n² and statsmodels' pinv drifts by ~1e-6; a design with the
    trend rescaled to [0, 1] (which leaves the t ratio of the level unchanged) agrees with adf to 1e-10."""
    x = series["binance_btc_basis"]
    got = adf(x, regression="ctt", autolag="bic")
    n, lag = len(x), got.lags
    m = n - 1 - lag
    dx = np.diff(x)
    t = np.arange(n - m, n)
    tt = np.linspace(0.0, 1.0, m)
    X = np.column_stack([dx[t - 1 - j] for j in range(1, lag + 1)] + [np.ones(m), tt, tt**2, x[t - 1]])
    y = dx[t - 1]
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    _, R = np.linalg.qr(X)
    Ri = np.linalg.inv(R)
    se = np.sqrt((Ri @ Ri.T)[-1, -1] * (resid @ resid) / (m - X.shape[1]))
    assert got.statistic == pytest.approx(beta[-1] / se, abs=1e-10)


@pytest.mark.parametrize("regression", ["c", "ct"])
@pytest.mark.parametrize("nlags", ["auto", "legacy", 7])
def test_kpss_matches_statsmodels_on_real_series(series, regression, nlags) -> None:
    for name, x in series.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = sm_kpss(x, regression=regression, nlags=nlags, result_object=True)
        got = kpss(x, regression=regression, nlags=nlags)
        assert got.nlags == ref.lags, name
        assert got.statistic == pytest.approx(ref.statistic, abs=TOL, rel=1e-9), name
        assert got.pvalue == pytest.approx(ref.pvalue, abs=TOL), name
        assert dict(got.critical_values) == ref.critical_values
        if ref.pvalue == 0.01:
            assert got.pvalue_bound == "at_most"
        elif ref.pvalue == 0.10:
            assert got.pvalue_bound == "at_least"
        else:
            assert got.pvalue_bound == "exact"


def _pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    h1 = _hl_wide("1h")
    h4 = _hl_wide("4h")
    return [
        ("hl1h BTC~ETH", np.log(h1["BTC"].to_numpy()[-1500:]), np.log(h1["ETH"].to_numpy()[-1500:])),
        ("hl4h SOL~AVAX", h4["SOL"].to_numpy()[-1000:], h4["AVAX"].to_numpy()[-1000:]),
        ("binance BTC perp~spot", _binance("perp", "BTCUSDT"), _binance("spot", "BTCUSDT")),
        ("binance ETH perp~spot", _binance("perp", "ETHUSDT"), _binance("spot", "ETHUSDT")),
    ]


@pytest.mark.parametrize(
    ("regression", "autolag"),
    _grid(["c", "ct", "n"], ["aic", "bic", "t-stat"], {("c", "aic"), ("ct", "bic"), ("n", "t-stat")}),
)
def test_engle_granger_matches_statsmodels_coint(regression, autolag) -> None:
    for name, y, x in _pairs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = coint(y, x, trend=regression, autolag=autolag, return_results=True)
        got = engle_granger(y, x, regression=regression, autolag=autolag)
        if np.isinf(ref.coint_t):
            # statsmodels gives up at R² >= 1 - 100 sqrt(eps) and returns -inf; the QR residuals are still
            # accurate there (perp vs spot), so spreadlab reports the statistic: check it against statsmodels'
            # ADF (no deterministic terms) on residuals from numpy's least squares
            nt = {"n": 0, "c": 1, "ct": 2}[regression]
            design = np.column_stack([x] + [np.arange(1.0, len(x) + 1) ** q for q in range(nt)])
            beta, *_ = np.linalg.lstsq(design, y, rcond=None)
            adf_ref = adfuller(y - design @ beta, regression="n", autolag=autolag, result_object=True)
            assert got.statistic == pytest.approx(adf_ref.statistic, abs=TOL), name
            assert got.lags == adf_ref.lags, name
            continue
        assert got.statistic == pytest.approx(ref.coint_t, abs=TOL), name
        assert got.pvalue == pytest.approx(ref.pvalue, abs=TOL), name
        if regression == "n":
            assert dict(got.critical_values) == {}
        else:
            np.testing.assert_allclose(list(got.critical_values.values()), ref.critical_values, atol=1e-9)
        design = np.column_stack(
            [x] + [np.arange(1.0, len(x) + 1) ** q for q in range({"n": 0, "c": 1, "ct": 2}[regression])]
        )
        beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        assert got.hedge_ratio == pytest.approx(beta[0], rel=1e-8)
        np.testing.assert_allclose(got.residuals, y - design @ beta, atol=1e-8 * np.abs(y).max())


def test_engle_granger_finds_spot_perp_cointegrated_with_unit_hedge_ratio() -> None:
    spot, perp = _binance("spot", "BTCUSDT"), _binance("perp", "BTCUSDT")
    res = engle_granger(np.log(perp), np.log(spot))
    assert res.pvalue < 0.01 and res.hedge_ratio == pytest.approx(1.0, abs=0.01)
    assert "Engle-Granger" in res.summary()


def test_engle_granger_with_two_regressors_matches_statsmodels() -> None:
    h4 = _hl_wide("4h")
    y, x1, x2 = (np.log(h4[s].to_numpy()[-1500:]) for s in ("BTC", "ETH", "SOL"))
    ref = coint(y, np.column_stack([x1, x2]), return_results=True)
    got = engle_granger(y, np.column_stack([x1, x2]))
    assert got.statistic == pytest.approx(ref.coint_t, abs=TOL)
    assert got.pvalue == pytest.approx(ref.pvalue, abs=TOL)
    assert len(got.coefficients) == 2
    with pytest.raises(ValidationError, match="one regressor"):
        _ = got.hedge_ratio


@pytest.mark.parametrize("det_order", [-1, 0, 1])
@pytest.mark.parametrize("k_ar_diff", [1, 2, 4])
def test_johansen_matches_statsmodels(det_order, k_ar_diff) -> None:
    h4 = _hl_wide("4h")
    for syms in (("BTC", "ETH"), ("SOL", "AVAX", "LINK")):
        data = np.log(h4.select(syms).to_numpy()[-2000:])
        ref = coint_johansen(data, det_order, k_ar_diff)
        got = johansen(data, det_order=det_order, k_ar_diff=k_ar_diff)
        np.testing.assert_allclose(got.trace_stat, ref.lr1, atol=TOL, rtol=1e-9)
        np.testing.assert_allclose(got.max_eig_stat, ref.lr2, atol=TOL, rtol=1e-9)
        np.testing.assert_allclose(got.eigenvalues, ref.eig, atol=1e-10)
        np.testing.assert_allclose(got.trace_crit, ref.cvt, atol=1e-12)
        np.testing.assert_allclose(got.max_eig_crit, ref.cvm, atol=1e-12)
        signs = np.sign(ref.evec[0]) * np.sign(got.eigenvectors[0])
        np.testing.assert_allclose(got.eigenvectors * signs, ref.evec, rtol=1e-6, atol=1e-6)


def test_johansen_without_lagged_differences_uses_lagged_levels() -> None:
    """k_ar_diff=0: eigenvalues are the squared canonical correlations of Δy_t and y_{t-1} (demeaned)."""
    h4 = _hl_wide("4h")
    data = np.log(h4.select(("BTC", "ETH")).to_numpy()[-1500:])
    got = johansen(data, det_order=0, k_ar_diff=0)
    y = data - data.mean(axis=0)
    dy = np.diff(y, axis=0)
    ylag = y[:-1]
    qa, _ = np.linalg.qr(dy - dy.mean(axis=0))
    qb, _ = np.linalg.qr(ylag - ylag.mean(axis=0))
    canon = np.linalg.svd(qa.T @ qb, compute_uv=False) ** 2
    np.testing.assert_allclose(got.eigenvalues, np.sort(canon)[::-1], rtol=1e-9)
    assert got.trace_stat[0] == pytest.approx(-len(dy) * np.log1p(-canon).sum(), rel=1e-9)


def test_johansen_finds_rank_one_for_spot_and_perp() -> None:
    data = np.column_stack([np.log(_binance("perp", "BTCUSDT")), np.log(_binance("spot", "BTCUSDT"))])
    res = johansen(data, det_order=0, k_ar_diff=1, names=("perp", "spot"))
    assert res.rank() == 1 and res.rank(test="max_eig") == 1
    assert "perp" in res.summary()


# ---------------------------------------------------------------- bad input


def test_bad_input_is_refused_with_clear_errors() -> None:
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=300))
    with pytest.raises(ValidationError, match="y has 300 observations but x has 299"):
        engle_granger(x, x[1:] + 1)
    bad = x.copy()
    bad[17] = np.nan
    with pytest.raises(ValidationError, match="NaN/inf value.*index 17"):
        adf(bad)
    with pytest.raises(ValidationError, match="constant"):
        kpss(np.full(100, 3.0))
    with pytest.raises(ValidationError, match="column 0 is constant"):
        engle_granger(x, np.ones(300))
    with pytest.raises(InsufficientDataError, match="has 5 observations; adf needs at least 10"):
        adf(x[:5])
    with pytest.raises(InsufficientDataError, match="maxlag=40 with regression='ct' needs at least 87"):
        adf(x[:60], regression="ct", maxlag=40)
    with pytest.raises(ValidationError, match="perfectly collinear"):
        engle_granger(2 * x + 1, x)
    with pytest.raises(ValidationError, match="regression='x'"):
        adf(x, regression="x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="autolag='AIC'"):
        adf(x, autolag="AIC")  # type: ignore[arg-type]
    with pytest.raises(InsufficientDataError, match="johansen with 2 series and k_ar_diff=5 needs at least"):
        johansen(np.column_stack([x, x + rng.normal(size=300)])[:15], k_ar_diff=5)
    with pytest.raises(ValidationError, match="nlags=-1"):
        kpss(x, nlags=-1)


def test_results_are_immutable_and_summarise() -> None:
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=400))
    y = 1.5 * x + rng.normal(size=400)
    res = engle_granger(y, x)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.statistic = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.residuals[0] = 1.0
    with pytest.raises(TypeError):
        res.critical_values["1%"] = 0.0  # type: ignore[index]
    a = adf(y - 1.5 * x)
    assert a.is_stationary() and "Dickey-Fuller" in a.summary()
    k = kpss(y - 1.5 * x)
    assert k.is_stationary() is (k.pvalue >= 0.05) and "KPSS" in k.summary()


def test_engle_granger_pairs_matches_statsmodels_coint_on_real_perps() -> None:
    h4 = _hl_wide("4h")
    syms = ["BTC", "ETH", "SOL", "AVAX"]
    P = np.log(h4.select(syms).to_numpy()[-1200:])
    res = engle_granger_pairs(P, names=syms, both=True)
    assert res.height == 12
    for row in res.iter_rows(named=True):
        y, x = P[:, syms.index(row["y"])], P[:, syms.index(row["x"])]
        ref = coint(y, x, return_results=True)
        assert row["statistic"] == pytest.approx(ref.coint_t, abs=TOL)
        assert row["pvalue"] == pytest.approx(ref.pvalue, abs=TOL)
        assert row["hedge_ratio"] == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-9)
    frame = engle_granger_pairs(pl.DataFrame(dict(zip(syms, P.T, strict=True))))
    assert frame.select("y", "x").rows()[:3] == [("BTC", "ETH"), ("BTC", "SOL"), ("BTC", "AVAX")]


def test_vectorised_mackinnon_pvalues_equal_statsmodels() -> None:
    from statsmodels.tsa.adfvalues import mackinnonp

    grid = np.linspace(-25.0, 4.0, 581)
    for reg in ("n", "c", "ct"):
        for nvars in (1, 2, 4, 6):
            want = [mackinnonp(s, regression=reg, N=nvars) for s in grid]
            np.testing.assert_array_equal(eg_pvalues(grid, regression=reg, nvars=nvars), want)
