"""Helpers shared by importers: venue names, instrument ids, batch assembly."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from spreadlab.core.enums import Venue
from spreadlab.core.ids import InstrumentId
from spreadlab.data.importers.base import ImportBatch, empty_quarantine
from spreadlab.data.schema import EventKind, conform
from spreadlab.errors import DataError, ValidationError

__all__ = ["make_batch", "normalise_venue", "reject_rows", "require_venue", "symbol_ids", "tardis_venue"]

_VENUE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")

_TARDIS_VENUES: dict[str, str] = {
    "binance": Venue.BINANCE.value,
    "binance-us": "BINANCE_US",
    "binance-futures": Venue.BINANCE_USDM.value,
    "binance-delivery": Venue.BINANCE_COINM.value,
    "binance-options": "BINANCE_OPTIONS",
    "binance-european-options": "BINANCE_OPTIONS",
    "bybit-spot": Venue.BYBIT.value,
    "bybit-options": Venue.BYBIT_OPTION.value,
    "deribit": Venue.DERIBIT.value,
    "okex": Venue.OKX.value,
    "okex-futures": Venue.OKX.value,
    "okex-swap": Venue.OKX.value,
    "okex-options": Venue.OKX.value,
    "okx": Venue.OKX.value,
    "okx-futures": Venue.OKX.value,
    "okx-swap": Venue.OKX.value,
    "okx-options": Venue.OKX.value,
    "hyperliquid": Venue.HYPERLIQUID.value,
}


def tardis_venue(exchange: str, symbol: str) -> str:
    """Map a Tardis.dev exchange name (and symbol, for Bybit) to a spreadlab venue.

    Tardis ``bybit`` carries both linear (``BTCUSDT``, ``BTCPERP``,
    ``BTC-27JUN25``) and inverse (``BTCUSD``, ``BTCUSDZ25``) contracts.
    Exchanges spreadlab has no :class:`Venue` member for map to their name
    upper-cased with ``-`` -> ``_`` (``huobi-dm-swap`` -> ``HUOBI_DM_SWAP``).

    Examples
    --------
    >>> tardis_venue("binance-futures", "BTCUSDT")
    'BINANCE_USDM'
    >>> tardis_venue("bybit", "BTCUSD"), tardis_venue("bybit", "ETHUSDT")
    ('BYBIT_INVERSE', 'BYBIT_LINEAR')
    """
    key = exchange.strip().lower()
    if key == "bybit":
        s = symbol.upper()
        inverse = re.fullmatch(r"[A-Z0-9]+USD([FGHJKMNQUVXZ]\d{2})?", s) is not None
        return Venue.BYBIT_INVERSE.value if inverse else Venue.BYBIT_LINEAR.value
    if key in _TARDIS_VENUES:
        return _TARDIS_VENUES[key]
    return normalise_venue(key)


def normalise_venue(name: str) -> str:
    """Return a venue name in spreadlab's form (upper case, ``_`` for ``-``/space).

    Examples
    --------
    >>> normalise_venue("binance_usdm")
    'BINANCE_USDM'
    """
    v = re.sub(r"[^A-Za-z0-9]+", "_", name.strip()).strip("_").upper()
    if not _VENUE_RE.match(v):
        raise ValidationError(f"venue={name!r} is invalid: expected letters, digits and '_'")
    return v


def require_venue(venue: str | None, path: Path, fmt: str) -> str:
    """Return ``venue`` normalised, or raise DataError when the format needs one and none was given."""
    if venue is None or not str(venue).strip():
        raise DataError(
            f"{fmt} files do not name their venue; pass venue= (CLI: --venue), e.g. BINANCE_USDM",
            path=str(path),
        )
    return normalise_venue(str(venue))


def symbol_ids(
    venues: pl.Series, symbols: pl.Series, *, path: Path, lines: pl.Series, field: str = "symbol"
) -> pl.Series:
    """Build ``VENUE:SYMBOL`` ids for each row, validating each distinct pair once."""
    if len(venues) == 0:
        return pl.Series("instrument_id", [], dtype=pl.String)
    keys = pl.DataFrame({"v": venues, "s": symbols})
    uniq = keys.unique(maintain_order=True)
    ids: list[str] = []
    for v, s in uniq.iter_rows():
        try:
            ids.append(str(InstrumentId(v, s)))
        except ValidationError as exc:
            bad_row = keys.with_row_index().filter((pl.col("v") == v) & (pl.col("s") == s))["index"][0]
            raise DataError(str(exc), path=str(path), row=int(lines[bad_row]), field=field) from exc
    if len(ids) == 1:
        return pl.repeat(ids[0], len(venues), eager=True, dtype=pl.String).alias("instrument_id")
    mapping = uniq.with_columns(pl.Series("id", ids))
    return keys.join(mapping, on=["v", "s"], how="left", maintain_order="left")["id"].alias("instrument_id")


def make_batch(
    kind: EventKind,
    frame: pl.DataFrame,
    *,
    rows_read: int = 0,
    quarantine: pl.DataFrame | None = None,
    line: pl.Series | None = None,
) -> ImportBatch:
    """Conform ``frame`` to ``kind`` and wrap it in an :class:`ImportBatch`."""
    return ImportBatch(
        kind=kind,
        frame=conform(frame, kind),
        rows_read=rows_read,
        line=line if line is not None and len(line) == frame.height else None,
        quarantine=empty_quarantine() if quarantine is None else quarantine,
    )


def reject_rows(
    frame: pl.DataFrame,
    lines: pl.Series,
    bad: pl.Series,
    *,
    field: str,
    reason: str,
    path: Path,
    skip_bad: bool,
) -> tuple[pl.DataFrame, pl.Series, pl.DataFrame]:
    """Drop rows flagged ``bad``: raise DataError for the first, or return them as quarantine rows.

    Returns the kept frame, the kept line numbers and the quarantine table.
    """
    bad = bad.fill_null(True)
    if not bad.any():
        return frame, lines, empty_quarantine()
    bad_lines = lines.filter(bad)
    bad_rows = frame.filter(bad)
    if not skip_bad:
        first = bad_rows.row(0, named=True)
        raise DataError(
            f"{reason} (value {first.get(field)!r})", path=str(path), row=int(bad_lines[0]), field=field
        )
    raw = bad_rows.select(
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in bad_rows.columns], separator=",")
    ).to_series()
    quarantine = pl.DataFrame(
        {
            "file": [str(path)] * bad_rows.height,
            "line": bad_lines,
            "field": [field] * bad_rows.height,
            "reason": [reason] * bad_rows.height,
            "raw": raw,
        }
    ).cast({"line": pl.Int64})
    return frame.filter(~bad), lines.filter(~bad), quarantine
