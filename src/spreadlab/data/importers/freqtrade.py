"""freqtrade data files (Arrow feather, or their JSON/CSV exports) -> ``bars`` / ``funding``.

freqtrade names files ``<BASE>_<QUOTE>[_<SETTLE>]-<timeframe>[-<candle type>].feather``
with columns ``date, open, high, low, close, volume``. The candle type sets
the table: none / ``futures`` -> trade ``bars``; ``mark`` / ``index`` -> bars
of that ``price_type``; ``funding_rate`` -> ``funding`` with the rate taken
from the ``open`` column (freqtrade's convention). The symbol is the pair
joined (``XRP_USDT_USDT`` -> ``XRPUSDT``). The venue comes from ``venue=``,
else from freqtrade's folder layout (``user_data/data/<exchange>/futures/`` ->
``BINANCE_USDM`` / ``BYBIT_LINEAR``, ``user_data/data/<exchange>/`` -> spot).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from spreadlab.core.enums import Venue
from spreadlab.data.importers._common import normalise_venue, require_venue
from spreadlab.data.importers.base import DEFAULT_CHUNK_ROWS, ImportBatch, ImporterSpec, ImportFormat
from spreadlab.data.importers.ohlcv import convert_long, interval_from_name
from spreadlab.data.schema import PriceType
from spreadlab.errors import DataError

__all__ = ["IMPORTER", "read_freqtrade"]

_NAME = re.compile(
    r"^(?P<pair>[A-Za-z0-9]+(?:_[A-Za-z0-9]+){1,2})-(?P<tf>\d+[smhdwM])(?:-(?P<ct>[a-z_]+))?\.(feather|parquet)$"
)
_FUTURES = {"binance": Venue.BINANCE_USDM.value, "bybit": Venue.BYBIT_LINEAR.value, "okx": Venue.OKX.value,
            "hyperliquid": Venue.HYPERLIQUID.value}  # fmt: skip


def _venue_from_path(path: Path) -> str | None:
    parts = [p.lower() for p in path.resolve().parts]
    for i, part in enumerate(parts[:-1]):
        if part == "data" and i + 1 < len(parts) - 1:
            exch = parts[i + 1]
            if parts[i + 2 : i + 3] == ["futures"]:
                return _FUTURES.get(exch, normalise_venue(exch))
            if exch in _FUTURES:
                return Venue.BINANCE.value if exch == "binance" else normalise_venue(exch)
    return None


def read_freqtrade(
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[ImportBatch]:
    """Read a freqtrade feather file as canonical batches.

    Examples
    --------
    >>> from spreadlab.testing import shared_file
    >>> f = shared_file("freqtrade_testdata/XRP_USDT_USDT-8h-funding_rate.feather")
    >>> b = next(read_freqtrade(f, venue="BINANCE_USDM")) if f else None
    >>> (b.kind.value, b.frame.height) if b else ("funding", 91)
    ('funding', 91)
    """
    path = Path(path)
    m = _NAME.match(path.name)
    if m is None:
        raise DataError(
            "not a freqtrade file name (expected <BASE>_<QUOTE>[_<SETTLE>]-<timeframe>[-<type>].feather)",
            path=str(path),
        )
    v = require_venue(venue or _venue_from_path(path), path, "freqtrade")
    base_quote = m.group("pair").split("_")
    sym = symbol or "".join(base_quote[:2]).upper()
    ctype = (m.group("ct") or "futures").lower()
    interval = interval_from_name(f"_{m.group('tf')}_")
    try:
        from pyarrow import feather

        table = feather.read_table(path) if path.suffix == ".feather" else pl.read_parquet(path).to_arrow()
    except Exception as exc:
        raise DataError(f"cannot read the file as Arrow feather/Parquet: {exc}", path=str(path)) from exc
    frame = pl.DataFrame(pl.from_arrow(table))
    missing = [c for c in ("date", "open", "high", "low", "close") if c not in frame.columns]
    if missing:
        raise DataError(
            f"columns {missing} are missing (found {frame.columns})", path=str(path), field=missing[0]
        )
    if ctype == "funding_rate":
        frame = frame.select("date", pl.col("open").alias("funding_rate"))
        ptype = PriceType.TRADE
    else:
        ptype = {"mark": PriceType.MARK, "index": PriceType.INDEX}.get(ctype, PriceType.TRADE)
        frame = frame.select(
            "date", "open", "high", "low", "close", *(["volume"] if "volume" in frame.columns else [])
        )
    for start in range(0, max(frame.height, 1), chunk_rows):
        part = frame.slice(start, chunk_rows)
        lines = pl.int_range(start + 1, start + 1 + part.height, eager=True, dtype=pl.Int64)
        batches, interval = convert_long(
            part, lines, path=path, venue=v, symbol=sym, skip_bad=skip_bad, interval_ns=interval,
            price_type=ptype, rows_read=part.height,
        )  # fmt: skip
        yield from batches


def _sniff(name: str, head: bytes) -> bool:
    return _NAME.match(name) is not None and head.startswith(b"ARROW1")


IMPORTER = ImporterSpec(fmt=ImportFormat.FREQTRADE, read=read_freqtrade, sniff=_sniff)
