"""The trial log: every parameter set any sweep or search evaluated, in the catalog's DuckDB.

One row per evaluated trial in the ``trials`` table of ``catalog.duckdb``
(beside the market-data metadata)::

    run_id          VARCHAR   the sweep or search that evaluated it
    trial           BIGINT    its number within the run
    config_hash     VARCHAR   sha256 of the canonical JSON of {objective, params}
    objective       VARCHAR   what was evaluated (e.g. "zscore-bands:BINANCE:BTCUSDT-PERP/...")
    params          VARCHAR   JSON of the parameter set
    data_key        VARCHAR   which data it ran on (instruments, bar interval, ...)
    data_start_ns   BIGINT    first bar time
    data_end_ns     BIGINT    last bar time
    sharpe          DOUBLE    per-period Sharpe ratio (what deflation needs)
    n_obs           BIGINT    number of returns behind it
    metrics         VARCHAR   JSON of every metric
    recorded_at_ns  BIGINT    when it was logged (the injected clock)

The Deflated Sharpe Ratio must count every configuration ever tried on the
data, not only the last search's: :meth:`TrialLog.deflation` returns the
number of distinct configurations logged for a ``data_key`` whose data
range overlaps the one asked about (earlier runs included) and the variance
of their per-period Sharpe ratios.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from spreadlab.core.clock import Clock, WallClock
from spreadlab.data.catalog_lock import DEFAULT_LOCK_TIMEOUT_S, open_db
from spreadlab.errors import DataError, ValidationError

__all__ = ["Trial", "TrialLog", "config_hash", "new_run_id"]

_DDL = """
CREATE TABLE IF NOT EXISTS trials (
    run_id VARCHAR, trial BIGINT, config_hash VARCHAR, objective VARCHAR, params VARCHAR,
    data_key VARCHAR, data_start_ns BIGINT, data_end_ns BIGINT, sharpe DOUBLE, n_obs BIGINT,
    metrics VARCHAR, recorded_at_ns BIGINT);
"""

_SCHEMA = {
    "run_id": pl.String(), "trial": pl.Int64(), "config_hash": pl.String(), "objective": pl.String(),
    "params": pl.String(), "data_key": pl.String(), "data_start_ns": pl.Int64(), "data_end_ns": pl.Int64(),
    "sharpe": pl.Float64(), "n_obs": pl.Int64(), "metrics": pl.String(), "recorded_at_ns": pl.Int64(),
}  # fmt: skip


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False, default=str)


def config_hash(objective: str, params: Mapping[str, Any]) -> str:
    """Return the sha256 of the canonical JSON of ``{objective, params}``.

    Examples
    --------
    >>> config_hash("x", {"b": 1, "a": 2.0}) == config_hash("x", {"a": 2.0, "b": 1})
    True
    """
    return hashlib.sha256(_canonical({"objective": objective, "params": dict(params)}).encode()).hexdigest()


def new_run_id() -> str:
    """Return a fresh run id (uuid4 hex)."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True, kw_only=True)
class Trial:
    """One evaluated parameter set, as logged."""

    run_id: str
    trial: int
    objective: str
    params: Mapping[str, Any]
    data_key: str
    data_start_ns: int
    data_end_ns: int
    sharpe: float
    n_obs: int
    metrics: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.run_id or not self.objective or not self.data_key:
            raise ValidationError("run_id, objective and data_key must be non-empty strings")
        if self.data_end_ns < self.data_start_ns:
            raise ValidationError(
                f"data_end_ns={self.data_end_ns} is before data_start_ns={self.data_start_ns}"
            )
        if self.n_obs < 0:
            raise ValidationError(f"n_obs={self.n_obs} must be >= 0")

    @property
    def config_hash(self) -> str:
        """sha256 of the canonical ``{objective, params}``."""
        return config_hash(self.objective, self.params)


class TrialLog:
    """The ``trials`` table of a catalog folder.

    Parameters
    ----------
    catalog
        The catalog folder (created on the first append).
    clock
        Stamps ``recorded_at_ns``.

    Examples
    --------
    >>> import tempfile
    >>> log = TrialLog(tempfile.mkdtemp())
    >>> t = Trial(run_id="r1", trial=0, objective="demo", params={"entry_z": 2.0}, data_key="BTC",
    ...           data_start_ns=0, data_end_ns=10, sharpe=0.05, n_obs=100)
    >>> log.append([t])
    1
    >>> log.deflation("BTC", start_ns=0, end_ns=10)
    (1, 0.0)
    """

    def __init__(self, catalog: str | Path, *, clock: Clock | None = None) -> None:
        self._root = Path(catalog)
        if self._root.exists() and not self._root.is_dir():
            raise ValidationError(f"catalog path={str(catalog)!r} exists and is not a folder")
        self._clock: Clock = clock if clock is not None else WallClock()

    @property
    def _db(self) -> Path:
        return self._root / "catalog.duckdb"

    def _connect(self, *, write: bool) -> duckdb.DuckDBPyConnection:
        if write:
            self._root.mkdir(parents=True, exist_ok=True)
        con = open_db(self._db, write=write, timeout=DEFAULT_LOCK_TIMEOUT_S)  # waits while an import holds it
        if write:
            try:
                con.execute(_DDL)
            except duckdb.Error as exc:
                con.close()
                raise DataError(f"cannot prepare the trials table: {exc}", path=str(self._db)) from exc
        return con

    def _has_table(self) -> bool:
        if not self._db.is_file():
            return False
        con = self._connect(write=False)
        try:
            rows = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'trials'"
            ).fetchone()
        finally:
            con.close()
        return bool(rows and rows[0])

    def append(self, trials: Sequence[Trial]) -> int:
        """Append ``trials`` in one transaction; return how many rows were written."""
        if not trials:
            return 0
        now = int(self._clock.timestamp_ns())
        rows = []
        for t in trials:
            sharpe = float(t.sharpe) if math.isfinite(t.sharpe) else None
            rows.append(
                (
                    t.run_id, int(t.trial), t.config_hash, t.objective, _canonical(dict(t.params)),
                    t.data_key, int(t.data_start_ns), int(t.data_end_ns), sharpe, int(t.n_obs),
                    json.dumps(dict(t.metrics), sort_keys=True, default=str), now,
                )
            )  # fmt: skip
        con = self._connect(write=True)
        try:
            con.execute("BEGIN")
            con.executemany("INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            con.execute("COMMIT")
        except duckdb.Error as exc:
            raise DataError(f"cannot write the trial log: {exc}", path=str(self._db)) from exc
        finally:
            con.close()
        return len(rows)

    def read(self, *, data_key: str | None = None, run_id: str | None = None) -> pl.DataFrame:
        """Return the logged trials (oldest first), optionally of one ``data_key`` or run."""
        if not self._has_table():
            return pl.DataFrame(schema=_SCHEMA)
        where, args = [], []
        if data_key is not None:
            where.append("data_key = ?")
            args.append(data_key)
        if run_id is not None:
            where.append("run_id = ?")
            args.append(run_id)
        sql = "SELECT * FROM trials" + (" WHERE " + " AND ".join(where) if where else "")
        con = self._connect(write=False)
        try:
            tbl = con.sql(sql + " ORDER BY recorded_at_ns, run_id, trial", params=args).to_arrow_table()
        finally:
            con.close()
        return pl.DataFrame(tbl).cast(_SCHEMA)  # type: ignore[arg-type]

    def deflation(self, data_key: str, *, start_ns: int, end_ns: int) -> tuple[int, float]:
        """Return ``(n_trials, sharpe_variance)`` over every run on overlapping data of ``data_key``.

        ``n_trials`` counts distinct configurations (a configuration re-run is
        one trial); ``sharpe_variance`` is the sample variance (ddof=1) of
        their per-period Sharpe ratios, each configuration's latest value
        (0 when fewer than two).
        """
        if not self._has_table():
            return 0, 0.0
        con = self._connect(write=False)
        try:
            row = con.execute(
                "WITH latest AS (SELECT config_hash, arg_max(sharpe, recorded_at_ns) AS sharpe FROM trials "
                "WHERE data_key = ? AND data_start_ns <= ? AND data_end_ns >= ? GROUP BY config_hash) "
                "SELECT count(*), coalesce(var_samp(sharpe), 0.0) FROM latest",
                [data_key, int(end_ns), int(start_ns)],
            ).fetchone()
        finally:
            con.close()
        if row is None:
            return 0, 0.0
        return int(row[0]), float(row[1]) if row[1] is not None and math.isfinite(row[1]) else 0.0
