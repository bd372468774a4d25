"""Option chain view: IVs, greeks, SVI surface, residuals and parity forwards of one snapshot.

:func:`option_chain` takes one snapshot of option quotes as a polars frame
with these columns (premiums in the premium currency: coin for
``Settlement.INVERSE``, quote currency for ``Settlement.LINEAR``):

=================  ========  ==========================================================
column             required  meaning
=================  ========  ==========================================================
``expiry_years``   yes       time to expiry in years (> 0)
``strike``         yes       strike (> 0)
``kind``           yes       ``"call"`` or ``"put"``
``bid``            yes       best bid (null/NaN or 0 = none)
``ask``            yes       best ask (null/NaN = none)
``mark``           yes       mark price (null/NaN = none)
``instrument``     no        instrument name, carried through
``underlying``     no        underlying name (e.g. ``"BTC"``); default one underlying
``expiry``         no        expiry timestamp; groups expiries (else ``expiry_years``)
``forward``        no        forward used to price the option (Deribit's ``underlying``
                             price); default the expiry's parity-forward mid
``forward_source`` no        what ``forward`` is: ``"future"`` (the listed dated future of
                             the expiry), ``"synthetic"`` (the venue's synthetic forward,
                             Deribit ``SYN.*``), ``"index"`` (the spot index, where no
                             future is listed) or ``"unknown"``; see :func:`forward_source`
``future``         no        listed future price of that expiry (null if none); without
                             this column it is ``forward`` where ``forward_source`` is
                             ``"future"``, else null
``index``          no        spot index price
=================  ========  ==========================================================

Parity is compared only against a listed future: the conversion / reversal
edges and ``inside`` are null for an expiry priced off a synthetic forward or
the spot index (neither can be traded as a leg), and the expiry row says which
source its forward came from (``forward_source``; ``"parity"`` where the forward
is the chain's own parity-forward mid).

Per option it solves bid/ask/mark IV (:mod:`spreadlab.kernels.iv`), greeks at
the mark IV (:mod:`spreadlab.pricing.black76`), and the residual of each IV
against the expiry's SVI fit. Per expiry it fits raw SVI
(:mod:`spreadlab.pricing.svi`) to the out-of-the-money options that have a
bid (calls at ``k >= 0``, puts below) and reports the synthetic-forward band
from put-call parity (:mod:`spreadlab.pricing.forwards`): per strike with all
four quotes, and aggregated as the best executable band (highest bid, lowest
ask across strikes).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import polars as pl

from spreadlab.core.enums import Liquidity, Settlement, Venue
from spreadlab.core.validate import require_finite
from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.instruments.fees import FeeModel, FeeRate, InstrumentClass
from spreadlab.kernels import iv as _iv
from spreadlab.pricing._inputs import as_settlement
from spreadlab.pricing.black76 import black76_greeks
from spreadlab.pricing.forwards import parity_edges, parity_forward_band
from spreadlab.pricing.iv import IVStatus
from spreadlab.pricing.surface import CalendarCheck, calendar_arbitrage, slice_features
from spreadlab.pricing.svi import SVI, SVIFit

__all__ = ["ForwardSource", "OptionChain", "chain_parity", "forward_source", "option_chain"]

_REQUIRED = {"expiry_years": pl.Float64, "strike": pl.Float64, "kind": pl.Utf8, "bid": pl.Float64,
             "ask": pl.Float64, "mark": pl.Float64}  # fmt: skip
_OPTIONAL = {"instrument": pl.Utf8, "underlying": pl.Utf8, "forward": pl.Float64, "future": pl.Float64,
             "index": pl.Float64, "forward_source": pl.Utf8}  # fmt: skip
_PARITY_FLOATS = ("fwd_bid", "fwd_ask", "fwd_bid_net", "fwd_ask_net", "conversion", "reversal",
                  "conversion_net", "reversal_net")  # fmt: skip
_STATUS = pl.Enum([s.name for s in IVStatus])


class ForwardSource(StrEnum):
    """What the forward an option is priced off is."""

    FUTURE = "future"
    """The listed dated future of the expiry: tradable, a parity reference."""
    SYNTHETIC = "synthetic"
    """The venue's synthetic forward (Deribit ``SYN.*``): not tradable."""
    INDEX = "index"
    """The spot index (the venue's fallback where no future is listed): not tradable."""
    PARITY = "parity"
    """The chain's own put-call-parity forward mid (no forward given)."""
    UNKNOWN = "unknown"
    """Not named by the data."""


_INDEX_NAME = re.compile(r"^(index(_price)?|[a-z0-9]+_usd[ct]?|\.?[a-z0-9]+index)$", re.IGNORECASE)


def forward_source(underlying_id: str | None) -> ForwardSource:
    """Return what an option row's underlying (its ``underlying_id``) is.

    ``SYN.*`` is a synthetic forward; ``index_price``, ``index`` or a Deribit
    index name (``btc_usd``) is the spot index; an id that parses as a dated
    future on its venue (``DERIBIT:BTC-27MAR26``) is a listed future; anything
    else (null, a perpetual, an unknown name) is unknown, never a future.

    Examples
    --------
    >>> [forward_source(x).value for x in ("DERIBIT:BTC-27MAR26", "DERIBIT:SYN.BTC-3APR26",
    ...                                    "DERIBIT:index_price", "DERIBIT:BTC-PERPETUAL", None)]
    ['future', 'synthetic', 'index', 'unknown', 'unknown']
    """
    if underlying_id is None or not str(underlying_id).strip():
        return ForwardSource.UNKNOWN
    text = str(underlying_id).strip()
    venue, sep, symbol = text.partition(":")
    if not sep:
        venue, symbol = "", text
    if symbol.upper().startswith("SYN."):
        return ForwardSource.SYNTHETIC
    if _INDEX_NAME.match(symbol):
        return ForwardSource.INDEX
    if venue:
        from spreadlab.instruments.base import Future
        from spreadlab.instruments.symbols import parse_symbol

        try:
            inst = parse_symbol(venue, symbol)
        except ValidationError:
            return ForwardSource.UNKNOWN
        if isinstance(inst, Future):
            return ForwardSource.FUTURE
    return ForwardSource.UNKNOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionChain:
    """The chain view of one snapshot.

    ``options``: one row per option (input columns plus ``group``,
    ``forward_used`` and its ``forward_source`` (a :class:`ForwardSource`
    value), ``log_moneyness``, ``bid_iv``, ``ask_iv``, ``mark_iv``,
    ``mark_iv_status``, ``delta``, ``gamma``, ``vega``, ``theta`` (greeks of
    the premium in its settlement currency, at the mark IV), ``delta_linear``
    (plain Black delta, Deribit's convention), ``svi_vol``, ``residual``
    (mark IV - SVI vol), ``bid_residual`` and ``ask_residual``).

    ``parity``: one row per (expiry, strike) with all four quotes: gross and
    fee-net band, listed future, ``inside`` / ``inside_net`` and the
    conversion / reversal edges (gross and net of ``fees``).

    ``expiries``: one row per expiry: forward, ``forward_source`` (what the
    forward is; several comma-joined if the rows differ), best parity band,
    listed future (null unless one is listed),
    ``index``, ``basis_annualised`` (continuous, of the future, else of the
    parity-forward mid, against the index), SVI parameters, RMSE (vol
    points), flags, ATM vol, 25-delta RR / BF and term slope. ``fits`` maps
    ``(underlying, group)`` to its :class:`SVIFit`; ``calendar`` maps each
    underlying to its :class:`CalendarCheck`.
    """

    settlement: Settlement
    options: pl.DataFrame
    parity: pl.DataFrame
    expiries: pl.DataFrame
    fits: Mapping[tuple[str, str], SVIFit]
    calendar: Mapping[str, CalendarCheck]


def _normalise(quotes: pl.DataFrame) -> pl.DataFrame:
    missing = set(_REQUIRED) - set(quotes.columns)
    if missing:
        raise ValidationError(f"option quotes are missing required columns {sorted(missing)}")
    cols = [pl.col(c).cast(t, strict=False).alias(c) for c, t in _REQUIRED.items()]
    cols += [pl.col(c).cast(t, strict=False).alias(c) for c, t in _OPTIONAL.items() if c in quotes.columns]
    df = quotes.with_columns(cols)
    if "underlying" not in df.columns:
        df = df.with_columns(pl.lit("").alias("underlying"))
    for c in ("forward", "future", "index"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.Float64).alias(c))
    df = df.with_columns(
        pl.col(c).fill_nan(None) for c in ("bid", "ask", "mark", "forward", "future", "index")
    )
    df = df.with_columns(pl.col("kind").str.to_lowercase())
    given_future = "future" in quotes.columns
    if "forward_source" in df.columns:
        names = [s.value for s in ForwardSource]
        src = pl.col("forward_source").str.to_lowercase().fill_null(ForwardSource.UNKNOWN.value)
        df = df.with_columns(src)
        bad = df.with_row_index("_row").filter(~pl.col("forward_source").is_in(names))
        if bad.height:
            r = bad.row(0, named=True)
            raise ValidationError(
                f"option quotes row {r['_row']}: forward_source={r['forward_source']!r} is invalid; "
                f"expected one of {names}"
            )
        if not given_future:
            df = df.with_columns(
                pl.when(pl.col("forward_source") == ForwardSource.FUTURE.value)
                .then(pl.col("forward"))
                .otherwise(None)
                .alias("future")
            )
    else:
        df = df.with_columns(pl.lit(ForwardSource.UNKNOWN.value).alias("forward_source"))
    for name, cond in (
        ("expiry_years", ~(pl.col("expiry_years") > 0) | pl.col("expiry_years").is_null()),
        ("strike", ~(pl.col("strike") > 0) | pl.col("strike").is_null()),
        ("kind", ~pl.col("kind").is_in(["call", "put"]) | pl.col("kind").is_null()),
        ("bid", pl.col("bid") < 0),
        ("ask", pl.col("ask") < 0),
        ("mark", pl.col("mark") < 0),
        ("forward", pl.col("forward") <= 0),
    ):
        bad = df.with_row_index("_row").filter(cond)
        if bad.height:
            r = bad.row(0, named=True)
            raise ValidationError(f"option quotes row {r['_row']}: {name}={r[name]!r} is invalid")
    group = (
        pl.col("expiry").cast(pl.Utf8)
        if "expiry" in df.columns
        else pl.col("expiry_years").round(6).cast(pl.Utf8)
    )
    return df.with_columns(group.alias("group"))


def _option_rate(fees: FeeRate | None, st: Settlement) -> FeeRate:
    if fees is None:
        return FeeModel.default().class_rate(Venue.DERIBIT.value, InstrumentClass.OPTION, st)
    if not isinstance(fees, FeeRate):
        raise ValidationError(f"fees={fees!r} must be a FeeRate or None")
    return fees


def _parity(
    df: pl.DataFrame, st: Settlement, rate: float, fees: FeeRate | None, liquidity: Liquidity
) -> pl.DataFrame:
    fee_rate = _option_rate(fees, st)
    keys = ["underlying", "group", "strike"]
    calls = df.filter(pl.col("kind") == "call").group_by(keys).agg(
        pl.col("bid").first().alias("call_bid"), pl.col("ask").first().alias("call_ask"),
        pl.col("expiry_years").mean(), pl.col("forward").mean(), pl.col("forward_source").first(),
        pl.col("future").mean(),
    )  # fmt: skip
    puts = (
        df.filter(pl.col("kind") == "put")
        .group_by(keys)
        .agg(pl.col("bid").first().alias("put_bid"), pl.col("ask").first().alias("put_ask"))
    )
    pairs = calls.join(puts, on=keys, how="inner").sort(keys)
    four = pairs.filter(
        pl.all_horizontal(
            pl.col(c).is_not_null() & (pl.col(c) > 0) for c in ("call_bid", "call_ask", "put_bid", "put_ask")
        )
    )
    if four.height == 0:
        return four.with_columns(
            [pl.lit(None, dtype=pl.Float64).alias(c) for c in _PARITY_FLOATS]
            + [pl.lit(None, dtype=pl.Boolean).alias(c) for c in ("inside", "inside_net")]
        )
    arr = {c: four[c].to_numpy().astype(np.float64) for c in four.columns
           if c not in ("underlying", "group", "forward_source")}  # fmt: skip
    common = {"strike": arr["strike"], "expiry_years": arr["expiry_years"], "settlement": st, "rate": rate}
    quotes = (arr["call_bid"], arr["call_ask"], arr["put_bid"], arr["put_ask"])
    gross = parity_forward_band(*quotes, **common)  # type: ignore[arg-type]
    fwd_fee = np.where(np.isfinite(arr["forward"]), arr["forward"], arr["strike"])
    net = parity_forward_band(*quotes, **common, fees=fee_rate, liquidity=liquidity, forward_for_fees=fwd_fee)  # type: ignore[arg-type]
    fut = arr["future"]
    e_gross = parity_edges(gross, fut, fut)
    e_net = parity_edges(net, fut, fut)
    has_fut = np.isfinite(fut)

    def col(x: np.ndarray, mask: np.ndarray | None = None) -> pl.Series:
        y = np.where(mask, x, np.nan) if mask is not None else x
        return pl.Series(y).fill_nan(None)

    return four.with_columns(
        fwd_bid=col(gross.bid), fwd_ask=col(gross.ask), fwd_bid_net=col(net.bid), fwd_ask_net=col(net.ask),
        conversion=col(e_gross.conversion, has_fut), reversal=col(e_gross.reversal, has_fut),
        conversion_net=col(e_net.conversion, has_fut), reversal_net=col(e_net.reversal, has_fut),
        inside=_masked_bool(e_gross.inside, has_fut & e_gross.valid),
        inside_net=_masked_bool(e_net.inside, has_fut & e_net.valid),
    )  # fmt: skip


def _masked_bool(values: np.ndarray, mask: np.ndarray) -> pl.Series:
    return pl.Series(values.astype(bool)).set(pl.Series(~mask.astype(bool)), None)  # type: ignore[arg-type]


def _solve(price: pl.Series, df: pl.DataFrame, fwd: np.ndarray, is_call: np.ndarray, disc: np.ndarray,
           coin: bool) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    p = price.fill_null(np.nan).to_numpy().astype(np.float64)
    p = np.where(p > 0, p, np.nan)
    vol, status = _iv.implied_vol(
        np.ascontiguousarray(p), np.ascontiguousarray(fwd), df["strike"].to_numpy().astype(np.float64),
        df["expiry_years"].to_numpy().astype(np.float64), is_call, disc, coin,
    )  # fmt: skip
    return vol, status


def chain_parity(
    quotes: pl.DataFrame,
    *,
    settlement: Settlement = Settlement.INVERSE,
    rate: float = 0.0,
    fees: FeeRate | None = None,
    liquidity: Liquidity = Liquidity.TAKER,
) -> pl.DataFrame:
    """Return only the per-strike parity table of :func:`option_chain` (no IVs or fits; fast).

    Columns: ``underlying, group, strike, call_bid, call_ask, expiry_years,
    forward, forward_source, future, put_bid, put_ask, fwd_bid, fwd_ask, fwd_bid_net,
    fwd_ask_net, conversion, reversal, conversion_net, reversal_net, inside,
    inside_net`` (edges in quote currency per unit of underlying; null where
    there is no listed future: a synthetic forward or the index is never
    taken for one).
    """
    st = as_settlement(settlement)
    return _parity(_normalise(quotes), st, require_finite("rate", rate), fees, liquidity)


def option_chain(
    quotes: pl.DataFrame,
    *,
    settlement: Settlement = Settlement.INVERSE,
    rate: float = 0.0,
    fees: FeeRate | None = None,
    liquidity: Liquidity = Liquidity.TAKER,
    svi: SVI | None = None,
) -> OptionChain:
    """Build the chain view of one snapshot of option quotes (columns in the module docstring).

    Parameters
    ----------
    quotes
        One snapshot of option quotes.
    settlement
        ``Settlement.INVERSE`` for coin premiums (Deribit), ``LINEAR`` for quote-currency premiums.
    rate
        Continuously compounded rate of the premium currency.
    fees
        Per-leg option fee rate for the fee-net parity band; ``None`` takes
        Deribit's from :meth:`FeeModel.default` (coin options 0.03% of the
        underlying, USDC-linear options taker 0.05%, both capped at 12.5% of the premium).
    liquidity
        Maker or taker rate of ``fees``.
    svi
        SVI fit specification (default ``SVI()``).
    """
    st = as_settlement(settlement)
    r = require_finite("rate", rate)
    spec = svi if svi is not None else SVI()
    df = _normalise(quotes)
    parity = _parity(df, st, r, fees, liquidity)
    # forward per option: the given one, else the expiry's parity mid (median over strikes), else the future
    mids = parity.group_by("underlying", "group").agg(
        ((pl.col("fwd_bid") + pl.col("fwd_ask")) / 2).median().alias("_parity_mid")
    )
    df = df.join(mids, on=["underlying", "group"], how="left").with_columns(
        pl.coalesce("forward", "_parity_mid", "future").alias("forward_used"),
        pl.when(pl.col("forward").is_not_null())
        .then(pl.col("forward_source"))
        .when(pl.col("_parity_mid").is_not_null())
        .then(pl.lit(ForwardSource.PARITY.value))
        .when(pl.col("future").is_not_null())
        .then(pl.lit(ForwardSource.FUTURE.value))
        .otherwise(pl.lit(ForwardSource.UNKNOWN.value))
        .alias("forward_source"),
    )
    n = df.height
    fwd = df["forward_used"].fill_null(np.nan).to_numpy().astype(np.float64)
    fwd = np.ascontiguousarray(np.where(np.isfinite(fwd), fwd, np.nan))
    is_call = (df["kind"] == "call").to_numpy()
    t = df["expiry_years"].to_numpy().astype(np.float64)
    disc = np.exp(-r * t)
    coin = st is Settlement.INVERSE
    bid_iv, _ = _solve(df["bid"], df, fwd, is_call, disc, coin)
    ask_iv, _ = _solve(df["ask"], df, fwd, is_call, disc, coin)
    mark_iv, mark_status = _solve(df["mark"], df, fwd, is_call, disc, coin)
    ok = mark_status == IVStatus.OK
    greek = {g: np.full(n, np.nan) for g in ("delta", "gamma", "vega", "theta", "delta_linear")}
    if ok.any():
        args = (fwd[ok], df["strike"].to_numpy()[ok], t[ok], mark_iv[ok])
        g = black76_greeks(*args, kind=is_call[ok], settlement=st, rate=r)
        gl = black76_greeks(*args, kind=is_call[ok], rate=r)
        for name, vals in (("delta", g.delta), ("gamma", g.gamma), ("vega", g.vega), ("theta", g.theta),
                           ("delta_linear", gl.delta)):  # fmt: skip
            greek[name][ok] = vals
    k = np.log(df["strike"].to_numpy() / fwd)

    def s(x: np.ndarray) -> pl.Series:
        return pl.Series(x).fill_nan(None)

    df = df.with_columns(
        log_moneyness=s(k), bid_iv=s(bid_iv), ask_iv=s(ask_iv), mark_iv=s(mark_iv),
        mark_iv_status=pl.Series([IVStatus(int(c)).name for c in mark_status], dtype=_STATUS),
        **{name: s(v) for name, v in greek.items()},
    ).drop("_parity_mid")  # fmt: skip
    svi_vol = np.full(n, np.nan)
    fits: dict[tuple[str, str], SVIFit] = {}
    rows = []
    df = df.with_row_index("_i")
    for (und, grp), sub in df.group_by(["underlying", "group"], maintain_order=True):
        otm = sub.filter(
            pl.col("mark_iv").is_not_null()
            & (pl.col("bid") > 0)
            & (((pl.col("kind") == "call") & (pl.col("log_moneyness") >= 0))
               | ((pl.col("kind") == "put") & (pl.col("log_moneyness") < 0)))
        )  # fmt: skip
        t_exp = float(sub["expiry_years"].mean())  # type: ignore[arg-type]
        fit: SVIFit | None = None
        if otm["strike"].n_unique() >= spec.min_points:
            try:
                fit = spec.fit(otm["log_moneyness"].to_numpy(), otm["mark_iv"].to_numpy(), expiry_years=t_exp)
            except InsufficientDataError:
                fit = None
        if fit is not None:
            fits[(str(und), str(grp))] = fit
            idx = sub["_i"].to_numpy()
            kk = sub["log_moneyness"].fill_null(0.0).to_numpy()
            svi_vol[idx] = np.where(sub["log_moneyness"].is_null().to_numpy(), np.nan, fit.implied_vol(kk))
        rows.append(_expiry_row(str(und), str(grp), t_exp, sub, parity, fit))
    df = (
        df.drop("_i")
        .with_columns(svi_vol=s(svi_vol))
        .with_columns(
            residual=pl.col("mark_iv") - pl.col("svi_vol"),
            bid_residual=pl.col("bid_iv") - pl.col("svi_vol"),
            ask_residual=pl.col("ask_iv") - pl.col("svi_vol"),
        )
    )
    expiries = pl.DataFrame(rows, infer_schema_length=None).sort("underlying", "expiry_years")
    expiries = expiries.with_columns(
        (pl.col("atm_vol").shift(-1).over("underlying") - pl.col("atm_vol"))
        .truediv(pl.col("expiry_years").shift(-1).over("underlying") - pl.col("expiry_years"))
        .alias("term_slope")
    )
    calendar = {
        und: calendar_arbitrage([f for (u, _), f in fits.items() if u == und])
        for und in {u for (u, _) in fits}
    }
    return OptionChain(
        settlement=st, options=df, parity=parity, expiries=expiries, fits=fits, calendar=calendar
    )


def _expiry_row(
    und: str, grp: str, t_exp: float, sub: pl.DataFrame, parity: pl.DataFrame, fit: SVIFit | None
) -> dict[str, object]:
    par = parity.filter((pl.col("underlying") == und) & (pl.col("group") == grp))
    fut = sub["future"].drop_nulls()
    best_bid = par["fwd_bid"].max() if par.height else None
    best_ask = par["fwd_ask"].min() if par.height else None
    row: dict[str, object] = {
        "underlying": und,
        "group": grp,
        "expiry_years": t_exp,
        "n_options": sub.height,
        "forward": sub["forward_used"].median(),
        "forward_source": ",".join(sorted(set(sub["forward_source"].drop_nulls().to_list()))) or None,
        "future": fut.mean() if fut.len() else None,
        "n_parity_pairs": par.height,
        "parity_forward_bid": best_bid,
        "parity_forward_ask": best_ask,
        "parity_forward_mid": ((par["fwd_bid"] + par["fwd_ask"]) / 2).median() if par.height else None,
        "future_inside_share": par["inside"].drop_nulls().mean()
        if par["inside"].drop_nulls().len()
        else None,
    }
    index = sub["index"].drop_nulls()
    ref = row["future"] if row["future"] is not None else row["parity_forward_mid"]
    row["index"] = index.median() if index.len() else None
    row["basis_annualised"] = (
        math.log(float(ref) / float(row["index"])) / t_exp  # type: ignore[arg-type]
        if ref is not None and row["index"] is not None
        else None
    )
    feats = slice_features(fit) if fit is not None else None
    p = fit.params if fit is not None else None
    row.update(
        svi_a=p.a if p else None, svi_b=p.b if p else None, svi_rho=p.rho if p else None,
        svi_m=p.m if p else None, svi_sigma=p.sigma if p else None,
        svi_n=fit.n_points if fit else 0, svi_rmse_vol_points=fit.rmse_vol_points if fit else None,
        svi_converged=fit.converged if fit else None, svi_butterfly_free=fit.butterfly_free if fit else None,
        atm_vol=feats.atm_vol if feats else None,
        rr25=feats.rr25 if feats and math.isfinite(feats.rr25) else None,
        bf25=feats.bf25 if feats and math.isfinite(feats.bf25) else None,
    )  # fmt: skip
    return row
