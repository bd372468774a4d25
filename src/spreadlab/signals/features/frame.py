"""Turn a feature table into the :class:`~spreadlab.signals.base.SignalFrame` a model consumes.

Feature builders leave nulls in their warm-up rows (and where an as-of value
was too stale). A :class:`SignalFrame` holds no missing values, so
:func:`to_signal_frame` drops the leading rows where any selected column is
null (the warm-up) and, by default, refuses interior nulls with an error
naming the column, how many and the first row; ``interior=NullPolicy.DROP``
drops those rows too and says how many in the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import polars as pl

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.signals.base import SignalFrame

__all__ = ["FrameBuild", "NullPolicy", "to_signal_frame"]


class NullPolicy(StrEnum):
    """What to do with null rows after the warm-up."""

    RAISE = "raise"
    DROP = "drop"


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameBuild:
    """The frame and how many rows were dropped (``warmup`` leading, ``interior`` later)."""

    frame: SignalFrame
    warmup: int
    interior: int


def to_signal_frame(
    table: pl.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    ts: str = "ts",
    interior: NullPolicy = NullPolicy.RAISE,
) -> FrameBuild:
    """Build a :class:`SignalFrame` from ``table``'s ``ts`` and float columns, dropping the warm-up.

    Parameters
    ----------
    table
        Feature table with a strictly increasing int64 ``ts`` column.
    columns
        Columns to keep (default every column but ``ts``); include ``"spread"``
        for spread models.
    ts
        Name of the time column.
    interior
        Policy for nulls after the first complete row.

    Examples
    --------
    >>> t = pl.DataFrame({"ts": [1, 2, 3], "spread": [0.1, 0.2, 0.3], "f": [None, 1.0, 2.0]})
    >>> b = to_signal_frame(t)
    >>> len(b.frame), b.warmup
    (2, 1)
    """
    if ts not in table.columns:
        raise ValidationError(f"table has no time column {ts!r}; columns are {table.columns}")
    cols = [c for c in table.columns if c != ts] if columns is None else list(columns)
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ValidationError(f"table is missing column(s) {missing}; has {table.columns}")
    sub = table.select(ts, *cols).with_columns(pl.col(cols).cast(pl.Float64).fill_nan(None))
    null_any = np.zeros(sub.height, dtype=bool)
    for c in cols:
        null_any |= sub[c].is_null().to_numpy()
    complete = np.flatnonzero(~null_any)
    if complete.size == 0:
        raise InsufficientDataError(
            f"table has {sub.height} row(s) and none has all of {cols} (warm-ups longer than the data?)"
        )
    first = int(complete[0])
    rest = sub.slice(first)
    rest_null = null_any[first:]
    dropped = 0
    if rest_null.any():
        if NullPolicy(interior) is NullPolicy.RAISE:
            for c in cols:
                nulls = rest[c].is_null().to_numpy()
                if nulls.any():
                    row = first + int(np.argmax(nulls))
                    raise ValidationError(
                        f"column {c!r} has {int(nulls.sum())} missing value(s) after the warm-up, "
                        f"first at row {row} (ts {sub[ts][row]}); fill them or pass interior=NullPolicy.DROP"
                    )
        dropped = int(rest_null.sum())
        rest = rest.filter(pl.Series(~rest_null))
    frame = SignalFrame(ts=rest[ts].to_numpy(), columns={c: rest[c].to_numpy() for c in cols})
    return FrameBuild(frame=frame, warmup=first, interior=dropped)
