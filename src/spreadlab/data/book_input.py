"""Input of the order-book replay: a ``book_deltas`` frame checked and turned into kernel arrays.

:func:`_delta_arrays` checks the columns the sequence rule needs, one
instrument per frame (O(1) when polars knows the column is sorted), nulls
(ids may be null on snapshot rows only) and, with :func:`_check_levels`,
side, price and size of every level row, naming the first bad row and field.
Numeric columns are handed over without copies where polars allows it.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray
from spreadlab.data.book_types import SequenceRule
from spreadlab.errors import DataError, ValidationError
from spreadlab.kernels import orderbook as k

__all__: list[str] = []

_DELTA_COLUMNS = ("side", "price", "size", "sequence", "is_snapshot")


def _delta_arrays(deltas: pl.DataFrame, rule: SequenceRule, time_column: str) -> dict[str, np.ndarray]:
    """Validate a ``book_deltas`` frame and return the kernel's input arrays."""
    if not isinstance(deltas, pl.DataFrame):
        raise ValidationError(f"deltas must be a polars DataFrame, got {type(deltas).__name__}")
    need = [*_DELTA_COLUMNS, time_column]
    if rule is SequenceRule.BINANCE_SPOT:
        need.append("first_sequence")
    elif rule is SequenceRule.BINANCE_FUTURES:
        need += ["first_sequence", "prev_sequence"]
    missing = [c for c in need if c not in deltas.columns]
    if missing:
        raise DataError(f"book_deltas frame lacks columns {missing} needed by rule {rule.value}")
    inst = deltas["instrument_id"] if "instrument_id" in deltas.columns else None
    if inst is not None and len(inst) and not _one_value(inst):
        raise DataError(
            "book_deltas frame holds several instruments "
            f"{deltas['instrument_id'].unique().to_list()[:5]}; replay one instrument per book",
            field="instrument_id",
        )
    ids = {"sequence", "first_sequence", "prev_sequence"}
    if rule is SequenceRule.NONE:
        ids = set()  # sources without update ids write null or -1
    for c in need:
        if not deltas[c].null_count():  # O(1): polars keeps the count
            continue
        nulls = deltas[c].is_null()
        if c in ids - {"sequence"}:
            nulls = nulls & ~deltas["is_snapshot"].fill_null(False)  # a snapshot has one id
        if nulls.any():
            raise DataError("null value", row=int(nulls.arg_max() or 0) + 1, field=c)
    side = deltas["side"].cast(pl.Int8).to_numpy()
    price = deltas["price"].cast(pl.Float64).to_numpy()
    size = deltas["size"].cast(pl.Float64).to_numpy()
    seq = _int_ids(deltas["sequence"])
    n = len(seq)
    first = _int_ids(deltas["first_sequence"]) if "first_sequence" in deltas.columns else seq
    if "prev_sequence" not in deltas.columns:
        prev = np.full(n, -1, np.int64)
    elif rule is SequenceRule.BINANCE_FUTURES:
        prev = _ids_read_where_valid(deltas["prev_sequence"])  # nulls checked: snapshot rows only
    else:
        prev = _int_ids(deltas["prev_sequence"])
    return {
        "ts": np.ascontiguousarray(_int_ids(deltas[time_column])),
        "side": np.ascontiguousarray(side),
        "price": np.ascontiguousarray(price),
        "size": np.ascontiguousarray(size),
        "seq": np.ascontiguousarray(seq),
        "first_seq": np.ascontiguousarray(first),
        "prev_seq": np.ascontiguousarray(prev),
        "is_snap": np.ascontiguousarray(deltas["is_snapshot"].cast(pl.Boolean).to_numpy()),
    }


def _event_outputs(m: int) -> tuple[np.ndarray, ...]:
    """Per-event output arrays of the grid replay: ts, seq, first seq, book id, outcome, valid, bbo."""
    return (
        np.empty(m, np.int64),
        np.empty(m, np.int64),
        np.empty(m, np.int64),
        np.empty(m, np.int64),
        np.empty(m, np.int8),
        np.empty(m, np.bool_),
        np.empty((m, 4), np.float64),
    )


def _check_levels(side: np.ndarray, price: FloatArray, size: FloatArray) -> None:
    """Raise :class:`DataError` naming the first bad row of the first bad field (side, price, size)."""
    if k.levels_valid(side, price, size):
        return
    bad_side = (side != 1) & (side != -1) & (side != 0)
    levels = side != 0
    bad_price = levels & ~(np.isfinite(price) & (price > 0.0))
    bad_size = levels & ~(np.isfinite(size) & (size >= 0.0))
    for name, mask, what in (
        ("side", bad_side, "must be +1 (bid), -1 (ask) or 0 (ids only)"),
        ("price", bad_price, "must be finite and > 0"),
        ("size", bad_size, "must be finite and >= 0"),
    ):
        if mask.any():
            i = int(np.argmax(mask))
            value = {"side": side, "price": price, "size": size}[name][i]
            raise DataError(f"{name}={value} {what}", row=i + 1, field=name)


def _one_value(col: pl.Series) -> bool:
    """Whether every value of ``col`` equals the first (O(1) when polars knows the column is sorted)."""
    if col.flags["SORTED_ASC"] or col.flags["SORTED_DESC"]:
        return bool(col[0] == col[-1])
    return bool((col == col[0]).all())


def _ids_read_where_valid(col: pl.Series) -> np.ndarray:
    """Return an id column as int64 numpy without filling its nulls (zero-copy when it can).

    Only for a column whose null rows are never read: ``prev_sequence``,
    null on snapshot rows only (checked by the caller), is read for diff
    messages alone. Null slots hold whatever the buffer holds.
    """
    col = col.cast(pl.Int64)
    if not col.null_count():
        return col.to_numpy()
    arr = col.rechunk().to_arrow()
    buffer = arr.buffers()[1]
    if buffer is None:  # no values at all
        return np.full(len(col), -1, np.int64)
    values = np.frombuffer(buffer, dtype=np.int64, count=arr.offset + len(arr))
    return values[arr.offset :]


def _int_ids(col: pl.Series) -> np.ndarray:
    """Return an id/time column as int64 numpy, nulls as -1 (no copy when it has none)."""
    col = col.cast(pl.Int64)
    return (col.fill_null(-1) if col.null_count() else col).to_numpy()
