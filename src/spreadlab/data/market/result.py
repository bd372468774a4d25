"""The immutable result of a market build: instruments, tables, ground truth."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from spreadlab.core.ids import InstrumentId
from spreadlab.data.market.config import MarketConfig
from spreadlab.errors import UnknownSymbolError, ValidationError
from spreadlab.events.schema import EventKind
from spreadlab.instruments.base import Future, Instrument, Option, Perpetual, Spot
from spreadlab.instruments.registry import InstrumentRegistry

__all__ = ["INSTRUMENTS_SCHEMA", "TABLES", "SimulatedMarket", "instruments_frame"]

#: Tables written by :meth:`SimulatedMarket.write_parquet`, in order.
TABLES = (
    "quotes",
    "trades",
    "book_snapshots",
    "funding",
    "mark",
    "option_quotes",
    "bars",
    "ground_truth",
    "smiles",
    "pairs",
)


def instruments_frame(instruments: tuple[Instrument, ...]) -> pl.DataFrame:
    """One row per instrument with its contract specification."""
    rows = []
    for inst in instruments:
        rows.append(
            {
                "instrument_id": str(inst.id),
                "type": type(inst).__name__.lower(),
                "base": inst.base,
                "quote": inst.quote,
                "settlement_currency": inst.settlement_currency,
                "settlement": inst.settlement.value,
                "tick_size": inst.tick_size,
                "lot_size": inst.lot_size,
                "multiplier": inst.multiplier,
                "min_notional": inst.min_notional,
                "listing_ns": inst.listing_ns,
                "expiry_ns": getattr(inst, "expiry_ns", None),
                "strike": getattr(inst, "strike", None),
                "option_kind": inst.kind.value if isinstance(inst, Option) else None,
                "underlying": inst.underlying if isinstance(inst, Option) else None,
                "funding_interval_ns": inst.funding_interval_ns if isinstance(inst, Perpetual) else None,
                "funding_offset_ns": inst.funding_offset_ns if isinstance(inst, Perpetual) else None,
            }
        )
    return pl.DataFrame(rows, schema=INSTRUMENTS_SCHEMA)


INSTRUMENTS_SCHEMA = pl.Schema(
    {
        "instrument_id": pl.String(),
        "type": pl.String(),
        "base": pl.String(),
        "quote": pl.String(),
        "settlement_currency": pl.String(),
        "settlement": pl.String(),
        "tick_size": pl.Float64(),
        "lot_size": pl.Float64(),
        "multiplier": pl.Float64(),
        "min_notional": pl.Float64(),
        "listing_ns": pl.Int64(),
        "expiry_ns": pl.Int64(),
        "strike": pl.Float64(),
        "option_kind": pl.String(),
        "underlying": pl.String(),
        "funding_interval_ns": pl.Int64(),
        "funding_offset_ns": pl.Int64(),
    }
)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SimulatedMarket:
    """A built market. Build it with :func:`spreadlab.data.market.build_market`.

    Tables in the canonical schemas of :func:`spreadlab.events.schema.polars_schema`:
    ``quotes``, ``trades``, ``book_snapshots``, ``funding``, ``mark``,
    ``option_quotes`` and ``bars``, each sorted by ``(ts_event, instrument_id)``.
    Ground truth: ``ground_truth`` (every injected episode, see
    :mod:`spreadlab.data.market.truth`), ``smiles`` (the SVI parameters of each
    option snapshot and expiry) and ``pairs`` (the cointegrated pairs with
    their hedge ratio and spread half-life).
    """

    config: MarketConfig
    instruments: tuple[Instrument, ...]
    quotes: pl.DataFrame
    trades: pl.DataFrame
    book_snapshots: pl.DataFrame
    funding: pl.DataFrame
    mark: pl.DataFrame
    option_quotes: pl.DataFrame
    bars: pl.DataFrame
    ground_truth: pl.DataFrame
    smiles: pl.DataFrame
    pairs: pl.DataFrame

    @property
    def tables(self) -> dict[str, pl.DataFrame]:
        """Every table by name (see :data:`TABLES`)."""
        return {name: getattr(self, name) for name in TABLES}

    @property
    def spot(self) -> Spot:
        """The spot pair ``SIM:<BASE>USDT``."""
        inst = self.instrument(f"SIM:{self.config.base}USDT")
        if not isinstance(inst, Spot):
            raise ValidationError(f"{inst.id} is not a Spot instrument")
        return inst

    @property
    def perp(self) -> Perpetual:
        """The main perpetual ``SIM:<BASE>-PERP``."""
        inst = self.instrument(f"SIM:{self.config.base}-PERP")
        if not isinstance(inst, Perpetual):
            raise ValidationError(f"{inst.id} is not a Perpetual instrument")
        return inst

    @property
    def perp2(self) -> Perpetual | None:
        """The second venue's perpetual ``SIM2:<BASE>-PERP`` (None if that part is off)."""
        found = [i for i in self.instruments if str(i.id) == f"SIM2:{self.config.base}-PERP"]
        return found[0] if found and isinstance(found[0], Perpetual) else None

    @property
    def futures(self) -> tuple[Future, ...]:
        """The dated futures, nearest expiry first."""
        return tuple(
            sorted((i for i in self.instruments if isinstance(i, Future)), key=lambda f: f.expiry_ns)
        )

    @property
    def options(self) -> tuple[Option, ...]:
        """The option chain (by expiry, strike, call before put)."""
        return tuple(i for i in self.instruments if isinstance(i, Option))

    @property
    def universe(self) -> tuple[Instrument, ...]:
        """The universe coins (perpetuals with bars only)."""
        ids = set(self.bars.get_column("instrument_id").unique().to_list()) if self.bars.height else set()
        return tuple(i for i in self.instruments if str(i.id) in ids)

    def registry(self) -> InstrumentRegistry:
        """Return a registry of the market's instruments."""
        return InstrumentRegistry(self.instruments)

    def instrument(self, instrument_id: str | InstrumentId) -> Instrument:
        """Return the instrument with this id; unknown ids raise :class:`UnknownSymbolError`."""
        key = str(instrument_id)
        for inst in self.instruments:
            if str(inst.id) == key:
                return inst
        raise UnknownSymbolError(f"instrument_id={key!r} is not in the simulated market")

    def select(self, kind: EventKind | str, *, base: str | None = None) -> tuple[Instrument, ...]:
        """Instruments with rows of ``kind`` (optionally of one ``base`` coin)."""
        frame = getattr(self, EventKind(kind).value)
        ids = set(frame.get_column("instrument_id").unique().to_list()) if frame.height else set()
        return tuple(i for i in self.instruments if str(i.id) in ids and (base is None or i.base == base))

    def frame(self, instrument_id: str | InstrumentId, kind: EventKind | str | None = None) -> pl.DataFrame:
        """Return the rows of one instrument.

        ``kind`` defaults to ``option_quotes`` for options, ``bars`` for the
        universe coins (which have no quotes) and ``quotes`` otherwise.
        """
        inst = self.instrument(instrument_id)
        key = str(inst.id)
        if kind is None:
            if isinstance(inst, Option):
                kind = EventKind.OPTION_QUOTES
            elif isinstance(inst, Spot | Future | Perpetual) and self._has(EventKind.QUOTES, key):
                kind = EventKind.QUOTES
            else:
                kind = EventKind.BARS
        try:
            kind = EventKind(kind)
        except ValueError as exc:
            raise ValidationError(f"kind={kind!r} must be one of {[k.value for k in EventKind]}") from exc
        if kind is EventKind.BOOK_DELTAS:
            raise ValidationError("kind='book_deltas': the simulated market publishes book_snapshots")
        frame: pl.DataFrame = getattr(self, kind.value)
        return frame.filter(pl.col("instrument_id") == key)

    def _has(self, kind: EventKind, key: str) -> bool:
        frame: pl.DataFrame = getattr(self, kind.value)
        return bool(frame.height) and key in set(frame.get_column("instrument_id").unique().to_list())

    def write_parquet(self, directory: str | Path) -> dict[str, Path]:
        """Write every table, ``instruments.parquet`` and ``config.json`` into ``directory``.

        The same market always gives the same bytes; :func:`spreadlab.data.market.read_market`
        reads the folder back. Returns the paths by table name.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for name, frame in {**self.tables, "instruments": instruments_frame(self.instruments)}.items():
            path = out / f"{name}.parquet"
            frame.write_parquet(path, compression="zstd", statistics=True)
            paths[name] = path
        cfg_path = out / "config.json"
        cfg_path.write_text(json.dumps(dataclasses.asdict(self.config), indent=2, sort_keys=True) + "\n")
        paths["config"] = cfg_path
        return paths

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={frame.height}" for name, frame in self.tables.items())
        return f"SimulatedMarket(seed={self.config.seed}, instruments={len(self.instruments)}, {counts})"
