"""Read a market written by :meth:`SimulatedMarket.write_parquet` back, and configs to/from dicts.

The folder holds one Parquet file per table (:data:`TABLES`),
``instruments.parquet`` (one row per contract specification) and
``config.json`` (:func:`config_to_dict`). Reading checks that every file is
there and every table has its schema; a missing or malformed file raises
:class:`~spreadlab.errors.DataError` naming it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import polars as pl

from spreadlab.core.enums import OptionKind, Settlement
from spreadlab.core.ids import InstrumentId
from spreadlab.data.market.config import (
    BookConfig,
    FuturesConfig,
    IndexConfig,
    MarketConfig,
    OptionsConfig,
    PerpConfig,
    SecondVenueConfig,
    SpotConfig,
    TradesConfig,
    UniverseConfig,
)
from spreadlab.data.market.result import INSTRUMENTS_SCHEMA, TABLES, SimulatedMarket
from spreadlab.errors import DataError, SpreadlabError, ValidationError
from spreadlab.instruments.base import Future, Instrument, Option, Perpetual, Spot

__all__ = ["config_from_dict", "config_to_dict", "instruments_from_frame", "read_market"]

_PARTS: dict[str, type] = {
    "index": IndexConfig,
    "spot": SpotConfig,
    "perp": PerpConfig,
    "venue2": SecondVenueConfig,
    "futures": FuturesConfig,
    "options": OptionsConfig,
    "universe": UniverseConfig,
    "book": BookConfig,
    "trades": TradesConfig,
}


def config_to_dict(config: MarketConfig) -> dict[str, Any]:
    """Return ``config`` as plain JSON-ready data (tuples become lists)."""
    return dataclasses.asdict(config)


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _make(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ValidationError(f"{where} must be a table of fields, not {data!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValidationError(f"{where}: unknown field(s) {unknown}; valid fields: {sorted(names)}")
    return cls(**{k: _tuples(v) for k, v in data.items()})


def config_from_dict(data: dict[str, Any]) -> MarketConfig:
    """Build a :class:`MarketConfig` from :func:`config_to_dict` output (or a TOML table).

    Missing fields take their defaults; a part set to ``None`` is left out.

    Examples
    --------
    >>> cfg = MarketConfig(days=1.0, options=None)
    >>> config_from_dict(config_to_dict(cfg)) == cfg
    True
    >>> config_from_dict({"perp": {"premium_half_life_minutes": 0}})
    Traceback (most recent call last):
    ...
    spreadlab.errors.ValidationError: PerpConfig.premium_half_life_minutes=0 must be > 0
    """
    if not isinstance(data, dict):
        raise ValidationError(f"market config must be a table of fields, not {data!r}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in _PARTS:
            kwargs[key] = None if value is None else _make(_PARTS[key], value, f"MarketConfig.{key}")
        else:
            kwargs[key] = _tuples(value)
    return _make(MarketConfig, kwargs, "MarketConfig")  # type: ignore[no-any-return]


def instruments_from_frame(frame: pl.DataFrame) -> tuple[Instrument, ...]:
    """Rebuild the instruments from the rows of ``instruments.parquet``."""
    out: list[Instrument] = []
    for i, row in enumerate(frame.iter_rows(named=True), start=1):
        try:
            common: dict[str, Any] = dict(
                id=InstrumentId.parse(row["instrument_id"]),
                base=row["base"],
                quote=row["quote"],
                settlement_currency=row["settlement_currency"],
                settlement=Settlement(row["settlement"]),
                tick_size=row["tick_size"],
                lot_size=row["lot_size"],
                multiplier=row["multiplier"],
                min_notional=row["min_notional"],
                listing_ns=row["listing_ns"],
            )
            kind = row["type"]
            if kind == "spot":
                out.append(Spot(**common))
            elif kind == "perpetual":
                out.append(
                    Perpetual(
                        **common,
                        funding_interval_ns=row["funding_interval_ns"],
                        funding_offset_ns=row["funding_offset_ns"],
                    )
                )
            elif kind == "future":
                out.append(Future(**common, expiry_ns=row["expiry_ns"]))
            elif kind == "option":
                out.append(
                    Option(
                        **common,
                        strike=row["strike"],
                        expiry_ns=row["expiry_ns"],
                        kind=OptionKind(row["option_kind"]),
                        underlying=row["underlying"],
                    )
                )
            else:
                raise ValidationError(f"type={kind!r} must be spot, perpetual, future or option")
        except (SpreadlabError, ValueError, TypeError) as exc:
            raise DataError(str(exc), path="instruments.parquet", row=i) from exc
    return tuple(out)


def _read(path: Path, schema: pl.Schema | None = None) -> pl.DataFrame:
    if not path.is_file():
        raise DataError(
            "the file is missing: not a folder written by SimulatedMarket.write_parquet", path=str(path)
        )
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several error types for a bad file
        raise DataError(f"not a readable Parquet file ({exc})", path=str(path)) from exc
    if schema is not None and frame.schema != schema:
        raise DataError(f"schema {dict(frame.schema)} is not the expected {dict(schema)}", path=str(path))
    return frame


def read_market(directory: str | Path) -> SimulatedMarket:
    """Read a folder written by :meth:`SimulatedMarket.write_parquet` back into a market.

    Examples
    --------
    >>> import tempfile
    >>> from spreadlab.data.market import build_market
    >>> mkt = build_market(MarketConfig(days=0.5, options=None, universe=None))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     back = read_market(mkt.write_parquet(d)["quotes"].parent)
    >>> back.quotes.equals(mkt.quotes) and back.instruments == mkt.instruments
    True
    """
    folder = Path(directory)
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise DataError(
            "the file is missing: not a folder written by SimulatedMarket.write_parquet", path=str(cfg_path)
        )
    try:
        config = config_from_dict(json.loads(cfg_path.read_text()))
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc})", path=str(cfg_path)) from exc
    except (SpreadlabError, TypeError) as exc:
        raise DataError(str(exc), path=str(cfg_path)) from exc
    instruments = instruments_from_frame(_read(folder / "instruments.parquet", INSTRUMENTS_SCHEMA))
    tables = {name: _read(folder / f"{name}.parquet") for name in TABLES}
    return SimulatedMarket(config=config, instruments=instruments, **tables)
