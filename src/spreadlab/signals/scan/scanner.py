"""The opportunity scanner: every candidate spread at a time, ranked by net edge after costs.

``scan(catalog, at=..., kinds=..., size_usd=...)`` reads the catalog rows of
the lookback window before ``at``, builds every candidate spread of the
requested kinds that the data supports (:mod:`.linear`, :mod:`.options`),
evaluates each at ``size_usd`` (:func:`.candidate.evaluate`: executable band,
round-trip cost, net edge, z-score, half-life, capacity) and returns one row
per candidate, best net edge first. The same data, time and config always
give the same frame (rows are sorted by net edge, then kind and name).

``scan_frames`` does the same from in-memory canonical tables (the built-in
market's), ``scan_times`` scans many times of one data set (sharing the SVI
fits of option snapshots across them), and :func:`score_detections` scores
flagged rows against a ground-truth table of injected dislocations: a flag
at time ``t`` matches an episode when the episode's instrument is one of the
row's two instruments (``instrument_id`` or ``reference_id``), its kind
corresponds to the row's kind (vol -> iv_mispricing, basis on a future ->
basis_dislocation, basis on a perpetual -> premium_burst, xvenue ->
venue_dislocation, pairs -> pair_spread) and ``start_ns <= t < end_ns``.
Recall is the share of episodes with at least one matching flag; precision
the share of flags that match an episode.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import polars as pl

from spreadlab.core.ids import InstrumentId
from spreadlab.core.time import NS_PER_DAY, ns_to_iso, parse_time
from spreadlab.data.catalog import Catalog
from spreadlab.errors import DataError, SpreadlabError, ValidationError
from spreadlab.events.schema import EventKind
from spreadlab.instruments.base import Instrument
from spreadlab.instruments.symbols import parse_instrument_id
from spreadlab.signals.scan.candidate import Candidate, evaluate
from spreadlab.signals.scan.config import ScanConfig, ScanKind, parse_kinds
from spreadlab.signals.scan.linear import (
    basis_candidates,
    calendar_candidates,
    pairs_candidates,
    xvenue_candidates,
)
from spreadlab.signals.scan.options import SurfaceCache, option_candidates
from spreadlab.signals.scan.view import MarketView

__all__ = [
    "SCAN_SCHEMA",
    "DetectionScore",
    "ScanResult",
    "scan",
    "scan_frames",
    "scan_report",
    "scan_times",
    "score_detections",
]

SCAN_SCHEMA = pl.Schema(
    {
        "rank": pl.Int64(),
        "kind": pl.String(),
        "spread": pl.String(),
        "instrument_id": pl.String(),
        "instrument_class": pl.String(),
        "reference_id": pl.String(),
        "legs": pl.String(),
        "ts_ns": pl.Int64(),
        "time": pl.String(),
        "unit": pl.String(),
        "value": pl.Float64(),
        "bid": pl.Float64(),
        "ask": pl.Float64(),
        "fair": pl.Float64(),
        "fair_source": pl.String(),
        "deviation": pl.Float64(),
        "deviation_bp": pl.Float64(),
        "zscore": pl.Float64(),
        "half_life_hours": pl.Float64(),
        "direction": pl.String(),
        "size_usd": pl.Float64(),
        "edge_usd": pl.Float64(),
        "fees_usd": pl.Float64(),
        "spread_cost_usd": pl.Float64(),
        "impact_usd": pl.Float64(),
        "cost_usd": pl.Float64(),
        "cost_bp": pl.Float64(),
        "net_edge_usd": pl.Float64(),
        "net_edge_bp": pl.Float64(),
        "capacity_usd": pl.Float64(),
        "capacity_limited": pl.Boolean(),
        "depth_complete": pl.Boolean(),
        "price_source": pl.String(),
    }
)
"""Columns of a scan, in order (see :func:`scan`)."""

_KINDS_NEEDED = (
    EventKind.QUOTES,
    EventKind.BOOK_SNAPSHOTS,
    EventKind.MARK,
    EventKind.FUNDING,
    EventKind.BARS,
    EventKind.OPTION_QUOTES,
)

Resolver = Callable[[str], Instrument | None]
_BARE_COIN_VENUES = ("BINANCE_USDM", "BYBIT_LINEAR", "BINANCE", "BYBIT")


def _resolver(instruments: Iterable[Instrument] | Mapping[str, Instrument] | None) -> Resolver:
    known: dict[str, Instrument] = {}
    if isinstance(instruments, Mapping):
        known = {str(k): v for k, v in instruments.items()}
    elif instruments is not None:
        known = {str(i.id): i for i in instruments}

    def resolve(iid: str) -> Instrument | None:
        if iid in known:
            return known[iid]
        try:
            return parse_instrument_id(InstrumentId.parse(iid))
        except SpreadlabError:
            pass
        # a bare coin on a USDT-margined venue (files that name BTC for BTCUSDT): read it as <COIN>USDT
        venue, _, sym = iid.partition(":")
        if venue in _BARE_COIN_VENUES and sym.isalnum() and sym.isupper():
            try:
                inst = parse_instrument_id(InstrumentId(venue, sym + "USDT"))
                return dataclasses.replace(inst, id=InstrumentId(venue, sym))
            except SpreadlabError:
                return None
        return None

    return resolve


def _config(config: ScanConfig | None, kinds: object, size_usd: float | None) -> ScanConfig:
    cfg = config if config is not None else ScanConfig()
    if not isinstance(cfg, ScanConfig):
        raise ValidationError(f"config={cfg!r} must be a ScanConfig")
    if kinds is not None:
        cfg = replace(cfg, kinds=parse_kinds(kinds))  # type: ignore[arg-type]
    if size_usd is not None:
        if (
            isinstance(size_usd, bool)
            or not isinstance(size_usd, int | float)
            or not math.isfinite(size_usd)
            or size_usd <= 0
        ):
            raise ValidationError(
                f"size_usd={size_usd!r} must be a finite number > 0 (USD of notional per leg)"
            )
        cfg = replace(cfg, size_usd=float(size_usd))
    return cfg


def _candidates(view: MarketView, cfg: ScanConfig, cache: SurfaceCache) -> list[Candidate]:
    out: list[Candidate] = []
    k = cfg.kinds
    if ScanKind.BASIS in k:
        out += basis_candidates(view)
    if ScanKind.CALENDAR in k:
        out += calendar_candidates(view)
    if ScanKind.XVENUE in k:
        out += xvenue_candidates(view)
    if ScanKind.PAIRS in k:
        out += pairs_candidates(view)
    if {ScanKind.PARITY, ScanKind.BOX, ScanKind.VOL} & set(k):
        out += option_candidates(view, k, cache)
    return out


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema=SCAN_SCHEMA)
    df = pl.DataFrame(rows, infer_schema_length=None)
    df = df.with_columns(pl.col("ts_ns").map_elements(ns_to_iso, return_dtype=pl.String).alias("time"))
    df = df.sort(["net_edge_usd", "kind", "spread"], descending=[True, False, False], nulls_last=True)
    df = df.with_columns(pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("rank"))
    return df.select([pl.col(c).cast(t) for c, t in SCAN_SCHEMA.items()]).with_columns(
        pl.col(pl.Float64).fill_nan(None)
    )


def _scan_at(
    frames: Mapping[EventKind, pl.DataFrame], at: int, cfg: ScanConfig, resolve: Resolver, cache: SurfaceCache
) -> tuple[pl.DataFrame, dict[ScanKind, int], MarketView]:
    """Rows at ``at``, the number of candidates built per kind, and the view they came from."""
    view = MarketView(frames, at=at, config=cfg, resolve=resolve)
    rows = []
    built = dict.fromkeys(cfg.kinds, 0)
    for c in _candidates(view, cfg, cache):
        built[c.kind] = built.get(c.kind, 0) + 1
        try:
            rows.append(
                evaluate(
                    c,
                    size_usd=cfg.size_usd,
                    fees=cfg.fees,
                    liquidity=cfg.liquidity,
                    min_history=cfg.min_history,
                )
            )
        except SpreadlabError:
            # a candidate whose prices fail validation at this size (e.g. an IV outside bounds) is left out
            continue
    return _frame(rows), built, view


def _scan_one(
    frames: Mapping[EventKind, pl.DataFrame], at: int, cfg: ScanConfig, resolve: Resolver, cache: SurfaceCache
) -> pl.DataFrame:
    return _scan_at(frames, at, cfg, resolve, cache)[0]


def _normalise_frames(frames: Mapping[EventKind | str, pl.DataFrame]) -> dict[EventKind, pl.DataFrame]:
    out: dict[EventKind, pl.DataFrame] = {}
    for key, df in frames.items():
        try:
            kind = EventKind(key)
        except ValueError:
            continue  # other tables (ground truth, smiles) are not market data
        if not isinstance(df, pl.DataFrame):
            raise ValidationError(f"frames[{key!r}] must be a polars DataFrame")
        out[kind] = df
    return out


def _span(frames: Mapping[EventKind, pl.DataFrame]) -> tuple[int, int]:
    lo, hi = None, None
    for df in frames.values():
        if df.height:
            a, b = int(df["ts_event"].min()), int(df["ts_event"].max())  # type: ignore[arg-type]
            lo = a if lo is None else min(lo, a)
            hi = b if hi is None else max(hi, b)
    if lo is None or hi is None:
        raise DataError("there is no market data to scan")
    return lo, hi


def _check_at(at: int, lo: int, hi: int, cfg: ScanConfig) -> None:
    slack = max(cfg.quote_max_age_ns, cfg.mark_max_age_ns, cfg.option_max_age_ns)
    if not lo <= at <= hi + slack:
        raise ValidationError(
            f"at={ns_to_iso(at)} is outside the data, which spans {ns_to_iso(lo)} .. {ns_to_iso(hi)}"
        )


def _at(at: str | int | datetime | None, lo: int, hi: int, cfg: ScanConfig) -> int:
    t = hi if at is None else parse_time(at)
    _check_at(t, lo, hi, cfg)
    return t


def scan_frames(
    frames: Mapping[EventKind | str, pl.DataFrame],
    *,
    at: str | int | datetime | None = None,
    kinds: Iterable[ScanKind | str] | str | None = None,
    size_usd: float | None = None,
    config: ScanConfig | None = None,
    instruments: Iterable[Instrument] | Mapping[str, Instrument] | None = None,
) -> pl.DataFrame:
    """Scan in-memory canonical tables (keys: event kinds) at ``at``; see :func:`scan`.

    Examples
    --------
    >>> from spreadlab.data.market import MarketConfig, build_market
    >>> mkt = build_market(MarketConfig(days=1.0, seed=1, universe=None))
    >>> out = scan_frames(mkt.tables, at="2024-03-01T12:00Z", kinds="basis,vol", instruments=mkt.instruments)
    >>> sorted(set(out["kind"]))
    ['basis', 'vol']
    >>> bool((out["net_edge_usd"].diff().drop_nulls() <= 0).all())  # ranked by net edge
    True
    """
    cfg = _config(config, kinds, size_usd)
    fr = _normalise_frames(frames)
    lo, hi = _span(fr)
    t = _at(at, lo, hi, cfg)
    return _scan_one(fr, t, cfg, _resolver(instruments), {})


def scan_times(
    frames: Mapping[EventKind | str, pl.DataFrame],
    times: Sequence[str | int | datetime],
    *,
    kinds: Iterable[ScanKind | str] | str | None = None,
    size_usd: float | None = None,
    config: ScanConfig | None = None,
    instruments: Iterable[Instrument] | Mapping[str, Instrument] | None = None,
) -> pl.DataFrame:
    """Scan the same tables at each of ``times`` and concatenate the results (SVI fits are shared)."""
    cfg = _config(config, kinds, size_usd)
    fr = _normalise_frames(frames)
    lo, hi = _span(fr)
    resolve = _resolver(instruments)
    cache: SurfaceCache = {}
    parts = [_scan_one(fr, _at(t, lo, hi, cfg), cfg, resolve, cache) for t in times]
    return pl.concat(parts) if parts else pl.DataFrame(schema=SCAN_SCHEMA)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    """A catalog scan with the times it used and why a kind produced nothing.

    ``rows``: the scan (:data:`SCAN_SCHEMA`; each row's ``ts_ns``/``time`` is
    the time it was evaluated at). ``at_ns``: the time asked for, or the
    newest data. ``default_time``: no time was given, so each spread was
    evaluated at the latest of ``times_ns`` at which all its legs had fresh
    data (the data's end times, newest first: venues and kinds often end on
    different dates). ``empty``: for each requested kind without a row, why
    (:func:`spreadlab.signals.scan.explain.empty_reason`, at the newest time).
    """

    rows: pl.DataFrame
    at_ns: int
    default_time: bool
    times_ns: tuple[int, ...]
    empty: Mapping[str, str]


_MAX_END_TIMES = 8
_PRICED_KINDS = (EventKind.QUOTES.value, EventKind.BOOK_SNAPSHOTS.value, EventKind.MARK.value)


def _end_times(cat: Catalog, inv: pl.DataFrame, cfg: ScanConfig) -> list[int]:
    """The times at which some instrument's prices end, newest first (at most ``_MAX_END_TIMES``).

    Quotes, books and marks end at their last row; a bar is known at its close
    (its ``ts_recv``); an option chain (``VENUE:ROOT``) ends at its newest
    snapshot. Times closer than ``quote_max_age_ns`` to a newer one are merged
    into it (a scan there still sees them fresh).
    """
    ends = [int(t) for t in inv.filter(pl.col("kind").is_in(_PRICED_KINDS))["last_ts"].to_list()]
    opt = inv.filter(pl.col("kind") == EventKind.OPTION_QUOTES.value)
    if opt.height:
        root = pl.col("instrument_id").str.replace(r"^([^:]+:[^-]+)-.*$", "$1")
        ends += [int(t) for t in opt.group_by(root.alias("root")).agg(pl.col("last_ts").max())["last_ts"]]
    bars = inv.filter(pl.col("kind") == EventKind.BARS.value)
    for (last,), group in bars.partition_by("last_ts", as_dict=True).items() if bars.height else []:
        got = cat.query(
            EventKind.BARS.value, group["instrument_id"].to_list(), start=int(last), end=int(last) + 1
        )
        ends.append(int(got["ts_recv"].max()) if got.height else int(last))  # type: ignore[arg-type]
    out: list[int] = []
    for t in sorted(set(ends), reverse=True):
        if not out or out[-1] - t > cfg.quote_max_age_ns:
            out.append(t)
    return out[:_MAX_END_TIMES]


def _frames_at(cat: Catalog, t: int, cfg: ScanConfig) -> dict[EventKind, pl.DataFrame]:
    start = t - cfg.lookback_ns - NS_PER_DAY  # bars open up to a day before they are known
    return {k: cat.query(k, start=start, end=t + 1) for k in _KINDS_NEEDED}


def scan_report(
    catalog: Catalog | str,
    *,
    at: str | int | datetime | None = None,
    kinds: Iterable[ScanKind | str] | str | None = None,
    size_usd: float | None = None,
    config: ScanConfig | None = None,
    instruments: Iterable[Instrument] | Mapping[str, Instrument] | None = None,
) -> ScanResult:
    """Scan a catalog like :func:`scan` and say which time(s) were used and why a kind has no row.

    Without ``at`` each spread is evaluated at the latest time at which all its
    legs have fresh data: the catalog is scanned at each time some
    instrument's data ends (newest first, see :class:`ScanResult`) and a
    spread (kind, instrument, reference) keeps its row of the newest of those
    times that produced it.
    """
    cat = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
    cfg = _config(config, kinds, size_usd)
    inv = cat.instruments()
    if inv.height == 0:
        raise DataError("the catalog holds no data", path=str(cat.path))
    lo, hi = int(inv["first_ts"].min()), int(inv["last_ts"].max())  # type: ignore[arg-type]
    resolve = _resolver(instruments)
    cache: SurfaceCache = {}
    if at is not None:
        t = _at(at, lo, hi, cfg)
        rows, built, view = _scan_at(_frames_at(cat, t, cfg), t, cfg, resolve, cache)
        times = [t]
    else:
        times = _end_times(cat, inv, cfg) or [hi]
        parts, seen = [], set()
        view = None
        built = dict.fromkeys(cfg.kinds, 0)
        for t in times:
            _check_at(t, lo, hi, cfg)
            part, b, v = _scan_at(_frames_at(cat, t, cfg), t, cfg, resolve, cache)
            if view is None:
                view, built = v, b
            keys = list(zip(part["kind"], part["instrument_id"], part["reference_id"], strict=True))
            keep = [k not in seen for k in keys]
            seen.update(keys)
            parts.append(part.filter(pl.Series(keep, dtype=pl.Boolean)))
        rows = _rerank(pl.concat(parts))
    if view is None:  # pragma: no cover - times always holds the newest data time
        raise DataError("there is no time to scan", path=str(cat.path))
    from spreadlab.signals.scan.explain import empty_reason

    present = set(rows["kind"].unique().to_list())
    empty = {
        k.value: empty_reason(view, k, candidates=built.get(k, 0), size_usd=cfg.size_usd)
        for k in cfg.kinds
        if k.value not in present
    }
    return ScanResult(rows=rows, at_ns=times[0], default_time=at is None, times_ns=tuple(times), empty=empty)


def _rerank(df: pl.DataFrame) -> pl.DataFrame:
    df = df.sort(["net_edge_usd", "kind", "spread"], descending=[True, False, False], nulls_last=True)
    return df.with_columns(pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("rank"))


def scan(
    catalog: Catalog | str,
    *,
    at: str | int | datetime | None = None,
    kinds: Iterable[ScanKind | str] | str | None = None,
    size_usd: float | None = None,
    config: ScanConfig | None = None,
    instruments: Iterable[Instrument] | Mapping[str, Instrument] | None = None,
) -> pl.DataFrame:
    """Rank every candidate spread the catalog supports at ``at`` by net edge after costs.

    Parameters
    ----------
    catalog
        A :class:`~spreadlab.data.catalog.Catalog` or its folder.
    at
        Scan time (ISO 8601, int ns or aware datetime). Default: each spread at
        the latest time at which all its legs have fresh data (see
        :func:`scan_report`, which also says why a kind produced nothing).
        A time outside the catalog's data is an error.
    kinds
        Spread kinds (``"basis,vol"`` or a list; default all of :class:`ScanKind`).
    size_usd
        Notional per leg in USD (options: of the underlying); overrides ``config.size_usd``.
    config
        Everything else (:class:`ScanConfig`).
    instruments
        Instruments whose ids the symbol parsers do not know (others are parsed from their ids).

    Returns
    -------
    polars.DataFrame
        One row per candidate with the columns of :data:`SCAN_SCHEMA`: ``value``,
        ``bid``/``ask`` (executable at the size), ``fair`` and ``deviation`` in
        ``unit`` (bp, vol points or USD), ``deviation_bp`` (of notional, positive
        = rich: sell), ``zscore`` against the deviation's own history,
        ``half_life_hours``, the round-trip cost split into fees, half-spreads and
        impact, ``net_edge_usd`` = edge - cost and ``capacity_usd`` (the size at
        which net edge reaches zero; NaN when no depth is known), ranked by net edge.
    """
    return scan_report(
        catalog, at=at, kinds=kinds, size_usd=size_usd, config=config, instruments=instruments
    ).rows


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionScore:
    """Recall and precision of flagged rows against ground-truth episodes of one kind."""

    truth_kind: str
    episodes: int
    detected: int
    flags: int
    true_flags: int

    @property
    def recall(self) -> float:
        """Share of episodes with at least one matching flag (NaN without episodes)."""
        return self.detected / self.episodes if self.episodes else math.nan

    @property
    def precision(self) -> float:
        """Share of flags that match an episode (NaN without flags)."""
        return self.true_flags / self.flags if self.flags else math.nan


_TRUTH_OF: dict[str, tuple[str, str | None]] = {
    "iv_mispricing": ("vol", None),
    "basis_dislocation": ("basis", "future"),
    "premium_burst": ("basis", "perpetual"),
    "venue_dislocation": ("xvenue", None),
    "pair_spread": ("pairs", None),
}


def score_detections(
    flags: pl.DataFrame, truth: pl.DataFrame, *, truth_kind: str, tradable: bool | None = None
) -> DetectionScore:
    """Score flagged scan rows against ground-truth episodes of ``truth_kind`` (rule in the module docstring).

    ``flags`` holds the scan rows judged dislocated (e.g. ``net_edge_usd > 0``)
    with at least ``kind``, ``instrument_class``, ``instrument_id``,
    ``reference_id`` and ``ts_ns``; ``truth`` the ground-truth table
    (``instrument_id, kind, start_ns, end_ns``). With ``tradable`` (default:
    when ``truth`` has the column of :func:`spreadlab.signals.scan.truth.label_tradable`)
    only the episodes worth trading after the round trip count: recall is over
    them, and a flag matching only an episode smaller than its cost is a false flag.
    """
    if truth_kind not in _TRUTH_OF:
        raise ValidationError(f"truth_kind={truth_kind!r} must be one of {sorted(_TRUTH_OF)}")
    use = "tradable" in truth.columns if tradable is None else tradable
    if use and "tradable" not in truth.columns:
        raise ValidationError("tradable=True needs a 'tradable' column in truth (see label_tradable)")
    scan_kind, cls = _TRUTH_OF[truth_kind]
    f = flags.filter(pl.col("kind") == scan_kind)
    if cls is not None:
        f = f.filter(pl.col("instrument_class") == cls)
    eps = truth.filter(pl.col("kind") == truth_kind)
    if use:
        eps = eps.filter(pl.col("tradable"))
    eps = eps.with_row_index("_ep")
    f = f.select("ts_ns", "instrument_id", "reference_id").with_row_index("_flag")
    a = f.join(eps.select("_ep", "instrument_id", "start_ns", "end_ns"), on="instrument_id", how="inner")
    b = f.join(
        eps.select("_ep", pl.col("instrument_id").alias("reference_id"), "start_ns", "end_ns"),
        on="reference_id",
        how="inner",
    )
    cols = ["_flag", "_ep", "ts_ns", "start_ns", "end_ns"]
    m = pl.concat([a.select(cols), b.select(cols)]).filter(
        (pl.col("ts_ns") >= pl.col("start_ns")) & (pl.col("ts_ns") < pl.col("end_ns"))
    )
    return DetectionScore(
        truth_kind=truth_kind,
        episodes=eps.height,
        detected=m["_ep"].n_unique(),
        flags=f.height,
        true_flags=m["_flag"].n_unique(),
    )
