"""Generic long OHLCV / funding tables (CSV, gzip/zip CSV or Parquet) -> ``bars`` / ``funding``.

Accepted layouts (column names are matched case-insensitively):

- bars: a time column (``date``, ``timestamp``, ``open_time``, ``time``,
  ``datetime``), an optional symbol column (``symbol``, ``pair``, ``coin``,
  ``ticker``), ``open, high, low, close`` and optional ``volume``,
  ``quote_volume``, ``trades`` / ``count``; ``close_time`` (Binance kline
  CSVs) gives the interval as ``close_time - open_time + 1 ms``.
- funding: a time column (``date``, ``funding_time``, ``fundingTime``,
  ``calc_time``, ``timestamp``), optional symbol, ``funding_rate`` (or
  ``fundingRate``, ``last_funding_rate``), optional ``mark_price`` (then a
  ``mark`` row is stored as well where it is present).

Times are epoch numbers (unit read from the magnitude) or ISO 8601 strings,
UTC. The venue comes from ``venue=`` (these files do not name it); the
symbol from the symbol column, else ``symbol=``, else a token of the file
name that ends in a quote currency (``perp_BTCUSDT_1d.csv`` -> ``BTCUSDT``).
Pair-style symbols are turned into venue symbols (``BTC/USDT:USDT`` ->
``BTCUSDT``); a bare coin (``WIF``, as freqtrade users' concatenated tables
write it) on a venue whose symbols are pairs quoted in USDT by default
(Binance spot and USDⓈ-M, Bybit spot and linear) becomes the USDT pair
(``WIFUSDT``). Every symbol must then parse on the venue
(:func:`~spreadlab.instruments.parse_symbol`), or the import stops naming
the file, line and value.

The bar interval comes from the file name (``_5m``, ``-1h``, ``_8h``,
``_1d``, ``1w``), else ``close_time``, else the median spacing of one
symbol's bars in the first chunk. Bars whose file name says ``mark`` or
``index`` get that ``price_type``; others are ``trade`` bars.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from spreadlab.core.time import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE
from spreadlab.data.importers._common import make_batch, reject_rows, require_venue, symbol_ids
from spreadlab.data.importers._csv import iter_csv, read_header, to_ns
from spreadlab.data.importers.base import (
    DEFAULT_CHUNK_ROWS,
    ImportBatch,
    ImporterSpec,
    ImportFormat,
    empty_quarantine,
    read_head,
)
from spreadlab.data.schema import EventKind, PriceType
from spreadlab.errors import DataError

__all__ = ["IMPORTER", "convert_long", "interval_from_name", "read_ohlcv"]

_TIME = ("date", "timestamp", "open_time", "opentime", "time", "datetime", "funding_time", "fundingtime",
         "calc_time")  # fmt: skip
_SYMBOL = ("symbol", "pair", "coin", "ticker", "instrument")
_RATE = ("funding_rate", "fundingrate", "last_funding_rate", "rate")
_QUOTES = ("USDT", "USDC", "BUSD", "FDUSD", "USD", "PERP")
_UNITS = {"m": NS_PER_MINUTE, "h": NS_PER_HOUR, "d": NS_PER_DAY, "w": 7 * NS_PER_DAY}


def interval_from_name(name: str) -> int | None:
    """Return the bar interval (ns) a file name states, e.g. ``perp_ohlcv_4h.csv.gz`` -> 4 h.

    Examples
    --------
    >>> interval_from_name("binance_usdm_perp_5m.csv.gz") // 60_000_000_000
    5
    >>> interval_from_name("funding.csv") is None
    True
    """
    m = re.search(r"(?:^|[_\-.])(\d{1,3})(m|h|d|w)(?=$|[_\-.])", name, flags=re.IGNORECASE)
    if not m:
        return None
    unit = m.group(2)
    if unit == "M":  # freqtrade's month
        return None
    return int(m.group(1)) * _UNITS[unit.lower()]


def _symbol_from_name(name: str) -> str | None:
    for tok in re.split(r"[_\-.\s]+", name):
        if tok.isupper() and any(tok.endswith(q) and len(tok) > len(q) for q in _QUOTES):
            return tok
    return None


def _venue_symbol(expr: pl.Expr) -> pl.Expr:
    """``BTC/USDT:USDT`` -> ``BTCUSDT``; plain symbols unchanged."""
    return expr.str.strip_chars().str.replace(r":.*$", "").str.replace_all("/", "")


_USDT_VENUES = ("BINANCE", "BINANCE_USDM", "BYBIT", "BYBIT_LINEAR")


def _coin_to_pair(syms: pl.Series, venue: str) -> pl.Series:
    """Append USDT to bare coins (no quote currency at the end) on USDT-quoted venues."""
    if venue not in _USDT_VENUES:
        return syms
    quoted = syms.str.contains(r"(USDT|USDC|BUSD|FDUSD|TUSD|DAI|USD|EUR|TRY|BTC|ETH|BNB)$")
    bare = syms.str.contains(r"^[A-Z0-9]+$") & (~quoted | syms.is_in(["BTC", "ETH", "BNB"]))
    return pl.select(pl.when(pl.lit(bare)).then(pl.lit(syms) + "USDT").otherwise(pl.lit(syms))).to_series()


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    low = {c.lower(): c for c in columns}
    for n in names:
        if n in low:
            return low[n]
    return None


def convert_long(
    frame: pl.DataFrame,
    lines: pl.Series,
    *,
    path: Path,
    venue: str,
    symbol: str | None,
    skip_bad: bool,
    interval_ns: int | None,
    price_type: PriceType,
    rows_read: int,
    quarantine: pl.DataFrame | None = None,
) -> tuple[list[ImportBatch], int | None]:
    """Turn one chunk of a long table into canonical batches; return them and the interval used."""
    cols = frame.columns
    tcol = _find(cols, _TIME)
    if tcol is None:
        raise DataError(f"no time column (one of {_TIME}) in {cols}", path=str(path), row=1)
    scol = _find(cols, _SYMBOL)
    rate = _find(cols, _RATE)
    qs = [empty_quarantine() if quarantine is None else quarantine]
    frame = frame.with_columns(to_ns(frame[tcol]).alias("ts_event"))
    frame, lines, q = reject_rows(
        frame,
        lines,
        frame["ts_event"].is_null(),
        field=tcol,
        reason="not an epoch or ISO 8601 time",
        path=path,
        skip_bad=skip_bad,
    )
    qs.append(q)
    if scol is not None:
        syms = frame.select(_venue_symbol(pl.col(scol).cast(pl.String))).to_series()
        frame, lines, q = reject_rows(
            frame, lines, syms.is_null(), field=scol, reason="empty symbol", path=path, skip_bad=skip_bad
        )
        qs.append(q)
        syms = _coin_to_pair(syms.drop_nulls(), venue)
    else:
        sym = symbol or _symbol_from_name(path.name.split(".")[0])
        if sym is None:
            raise DataError("the file has no symbol column; pass symbol= (CLI: --symbol)", path=str(path))
        syms = pl.Series([sym] * frame.height, dtype=pl.String)
    ids = symbol_ids(pl.Series([venue] * frame.height, dtype=pl.String), syms, path=path, lines=lines)
    frame = frame.with_columns(ids)
    out: list[ImportBatch] = []
    if rate is not None:
        step = (pl.col("ts_event").diff().over("instrument_id") / NS_PER_HOUR).round(0) * NS_PER_HOUR
        funding = frame.select(
            "ts_event",
            pl.col("ts_event").alias("ts_recv"),
            "instrument_id",
            pl.col(rate).cast(pl.Float64).alias("rate"),
            pl.col("ts_event").alias("funding_time_ns"),
            # a duplicated or out-of-order row says nothing about the interval (the validator reports it)
            pl.when(step > 0)
            .then(step)
            .otherwise(None)
            .cast(pl.Int64)
            .backward_fill()
            .forward_fill()
            .over("instrument_id")
            .alias("interval_ns"),
        )
        out.append(
            make_batch(EventKind.FUNDING, funding, rows_read=rows_read, quarantine=pl.concat(qs), line=lines)
        )
        mcol = _find(cols, ("mark_price", "markprice"))
        if mcol is not None:
            marks = frame.filter(pl.col(mcol).is_not_null()).select(
                "ts_event",
                pl.col("ts_event").alias("ts_recv"),
                "instrument_id",
                pl.col(mcol).cast(pl.Float64).alias("mark"),
            )
            if marks.height:
                out.append(make_batch(EventKind.MARK, marks))
        return out, interval_ns
    needed = [_find(cols, (c,)) for c in ("open", "high", "low", "close")]
    if any(c is None for c in needed):
        raise DataError(
            f"columns {cols} hold neither open/high/low/close nor a funding rate", path=str(path), row=1
        )
    close_time = _find(cols, ("close_time", "closetime"))
    if interval_ns is None and close_time is not None and frame.height:
        ct = to_ns(frame[close_time])
        interval_ns = int(((ct - frame["ts_event"]).median() or 0) + 1_000_000)  # type: ignore[operator]
    if interval_ns is None and frame.height > 1:
        diffs = frame.select(pl.col("ts_event").diff().over("instrument_id")).to_series()
        med = diffs.filter(diffs > 0).median()
        interval_ns = int(med) if med is not None else None  # type: ignore[arg-type]
    if interval_ns is None:
        raise DataError("cannot tell the bar interval; put it in the file name (e.g. _1h)", path=str(path))
    o, h, lo, c = (pl.col(x).cast(pl.Float64) for x in needed)  # type: ignore[arg-type]
    vol = _find(cols, ("volume",))
    qv = _find(cols, ("quote_volume", "quote_asset_volume", "quotevolume"))
    tc = _find(cols, ("trades", "count", "number_of_trades", "trade_count"))
    bars = frame.select(
        "ts_event",
        (pl.col("ts_event") + interval_ns).alias("ts_recv"),
        "instrument_id",
        o.alias("open"),
        h.alias("high"),
        lo.alias("low"),
        c.alias("close"),
        (pl.col(vol).cast(pl.Float64) if vol else pl.lit(None, dtype=pl.Float64)).alias("volume"),
        pl.lit(interval_ns, dtype=pl.Int64).alias("interval_ns"),
        pl.lit(price_type.value).alias("price_type"),
        (pl.col(qv).cast(pl.Float64) if qv else pl.lit(None, dtype=pl.Float64)).alias("quote_volume"),
        (pl.col(tc).cast(pl.Int64) if tc else pl.lit(None, dtype=pl.Int64)).alias("trade_count"),
    )
    out.append(make_batch(EventKind.BARS, bars, rows_read=rows_read, quarantine=pl.concat(qs), line=lines))
    return out, interval_ns


def price_type_from_name(name: str) -> PriceType:
    """Return MARK or INDEX when the file name says so, else TRADE."""
    low = name.lower()
    if "mark" in low:
        return PriceType.MARK
    if "index" in low:
        return PriceType.INDEX
    return PriceType.TRADE


def read_ohlcv(
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[ImportBatch]:
    """Read a long OHLCV or funding table (CSV or Parquet) as canonical batches.

    Examples
    --------
    >>> from spreadlab.testing import shared_file
    >>> f = shared_file("binance_bybit_perps/binance_usdm_funding.csv.gz")
    >>> b = next(read_ohlcv(f, venue="BINANCE_USDM")) if f else None
    >>> (b.kind.value, b.frame["instrument_id"][0]) if b else ("funding", "BINANCE_USDM:WIFUSDT")
    ('funding', 'BINANCE_USDM:WIFUSDT')
    """
    path = Path(path)
    v = require_venue(venue, path, "ohlcv")
    interval = interval_from_name(path.name)
    ptype = price_type_from_name(path.name)
    if read_head(path, 4) == b"PAR1":
        yield from _read_parquet(path, v, symbol, skip_bad, chunk_rows, interval, ptype)
        return
    header = read_header(path)
    if not header or not _find(header, _TIME):
        raise DataError(
            f"first line {header} is not a header with a time column ({', '.join(_TIME)})",
            path=str(path),
            row=1,
        )
    dtypes: dict[str, pl.DataType] = {}
    for name in header:
        low = name.lower()
        if low in _TIME or low in ("close_time", "closetime") or low in _SYMBOL:
            dtypes[name] = pl.String()
        elif low in ("trades", "count", "number_of_trades", "trade_count"):
            dtypes[name] = pl.Int64()
        elif low in ("open", "high", "low", "close", "volume", "quote_volume", "quote_asset_volume",
                     "mark_price", "markprice", *_RATE):  # fmt: skip
            dtypes[name] = pl.Float64()
    tcol = _find(header, _TIME)
    rate = _find(header, _RATE)
    required = [c for c in (tcol, rate) if c] or []
    if rate is None:
        required += [c for c in (_find(header, (k,)) for k in ("open", "high", "low", "close")) if c]
    for chunk in iter_csv(
        path,
        names=header,
        dtypes=dtypes,
        required=required,
        has_header=True,
        chunk_rows=chunk_rows,
        skip_bad=skip_bad,
    ):
        batches, interval = convert_long(
            chunk.frame,
            chunk.line,
            path=path,
            venue=v,
            symbol=symbol,
            skip_bad=skip_bad,
            interval_ns=interval,
            price_type=ptype,
            rows_read=chunk.rows_read,
            quarantine=chunk.quarantine,
        )
        yield from batches


def _read_parquet(
    path: Path,
    venue: str,
    symbol: str | None,
    skip_bad: bool,
    chunk_rows: int,
    interval: int | None,
    ptype: PriceType,
) -> Iterator[ImportBatch]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    start = 1
    for rb in pf.iter_batches(batch_size=chunk_rows):
        frame = pl.from_arrow(rb)
        assert isinstance(frame, pl.DataFrame)
        lines = pl.int_range(start, start + frame.height, eager=True, dtype=pl.Int64)
        start += frame.height
        batches, interval = convert_long(
            frame,
            lines,
            path=path,
            venue=venue,
            symbol=symbol,
            skip_bad=skip_bad,
            interval_ns=interval,
            price_type=ptype,
            rows_read=frame.height,
        )
        yield from batches


def _sniff(name: str, head: bytes) -> bool:
    if head.startswith(b"PAR1"):
        return True
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").lower()
    cols = [c.strip() for c in first.split(",")]
    has_time = any(c in _TIME for c in cols)
    return has_time and ({"open", "high", "low", "close"} <= set(cols) or any(c in _RATE for c in cols))


IMPORTER = ImporterSpec(fmt=ImportFormat.OHLCV, read=read_ohlcv, sniff=_sniff)
