"""Screens around pair selection: the unit-root pre-test of each series and the per-symbol cap.

**Unit roots.** Engle–Granger assumes both legs are I(1): a unit root in the
level and none in the first difference. Each log-price series gets two
augmented Dickey–Fuller tests (constant, lags by AIC;
:func:`spreadlab.signals.stationarity.adf`): on the level, where a p-value
``<= level`` rejects the unit root (the series is I(0): stationary already),
and on the first difference, where a p-value ``> level`` fails to reject it
(the series is integrated of a higher order). Either way the series is not
I(1), its pairs are not tested, and the result reports it with both p-values.

**History window.** Symbols listed late (or delisted early) shorten a
universe's common window: :func:`history_window` finds them
(:class:`HistoryWindow`) so that pair selection can say so and either
shorten the window or drop them.

**Symbol cap.** One symbol can join most of the selected pairs (a volatile
newly listed coin, or one whose spread against everything happens to revert
in the window). Walking the ranked pairs best first, a pair is kept only
while both its symbols are in fewer than ``max_pairs_per_symbol`` kept pairs;
the rest fail with ``symbol_cap``. The count of selected pairs per symbol is
reported before and after the cap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray
from spreadlab.errors import InsufficientDataError, SpreadlabError
from spreadlab.signals.stationarity.adf import adf

__all__ = [
    "HistoryWindow",
    "cap_per_symbol",
    "history_window",
    "symbol_counts",
    "unit_root_screen",
    "window_dict",
]

ShortHistory = Literal["shorten", "drop"]

UNIT_ROOT_SCHEMA = {
    "symbol": pl.String(),
    "adf_level_stat": pl.Float64(),
    "adf_level_pvalue": pl.Float64(),
    "adf_diff_stat": pl.Float64(),
    "adf_diff_pvalue": pl.Float64(),
    "order": pl.String(),
}


def unit_root_screen(logp: FloatArray, names: Sequence[str], *, level: float) -> pl.DataFrame:
    """Return one row per series: ADF statistic and p-value of the level and the difference, and ``order``.

    ``order`` is ``"I(1)"`` (unit root in the level, none in the difference),
    ``"I(0)"`` (the level is already stationary), ``"I(2+)"`` (the difference
    still has a unit root) or ``"untestable"`` (the test could not run, e.g.
    a constant stretch).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> walk = np.cumsum(rng.normal(0, 0.01, 2000))
    >>> noise = rng.normal(0, 0.01, 2000)
    >>> unit_root_screen(np.column_stack([walk, noise]), ["W", "N"], level=0.05)["order"].to_list()
    ['I(1)', 'I(0)']
    """
    rows: list[dict[str, object]] = []
    for j, name in enumerate(names):
        x = np.ascontiguousarray(logp[:, j], dtype=np.float64)
        try:
            lv = adf(x, regression="c")
            df = adf(np.diff(x), regression="c")
        except SpreadlabError:
            rows.append({"symbol": name, "order": "untestable"})
            continue
        order = "I(0)" if lv.pvalue <= level else ("I(2+)" if df.pvalue > level else "I(1)")
        rows.append({
            "symbol": name, "adf_level_stat": lv.statistic, "adf_level_pvalue": lv.pvalue,
            "adf_diff_stat": df.statistic, "adf_diff_pvalue": df.pvalue, "order": order,
        })  # fmt: skip
    return pl.DataFrame(rows, schema=UNIT_ROOT_SCHEMA)


def cap_per_symbol(ys: Sequence[str], xs: Sequence[str], cap: int) -> list[bool]:
    """Keep pairs in the given (ranked) order while both symbols are in fewer than ``cap`` kept pairs.

    Examples
    --------
    >>> cap_per_symbol(["A", "A", "A", "B"], ["B", "C", "D", "C"], 2)
    [True, True, False, True]
    """
    used: Counter[str] = Counter()
    keep = []
    for y, x in zip(ys, xs, strict=True):
        ok = used[y] < cap and used[x] < cap
        if ok:
            used[y] += 1
            used[x] += 1
        keep.append(ok)
    return keep


def symbol_counts(before: pl.DataFrame, after: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    """Selected pairs per symbol before and after the cap (every series, most pairs first, then name)."""

    def count(df: pl.DataFrame) -> Counter[str]:
        return Counter(df["y"].to_list() + df["x"].to_list())

    b, a = count(before), count(after)
    out = pl.DataFrame(
        {
            "symbol": list(names),
            "pairs_uncapped": [b.get(n, 0) for n in names],
            "pairs": [a.get(n, 0) for n in names],
        },
        schema={"symbol": pl.String(), "pairs_uncapped": pl.Int64(), "pairs": pl.Int64()},
    )
    return out.sort(["pairs_uncapped", "pairs", "symbol"], descending=[True, True, False])


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryWindow:
    """The common window of a long frame's symbols, and what was done about the short ones.

    A symbol is *short* when its first bar comes more than one bar after the
    universe's first, or its last bar more than one bar before the last (listed
    late, or delisted). ``mode="shorten"`` keeps every symbol and tests on the
    window where all have bars (``start_ts .. end_ts``); ``mode="drop"`` drops
    the short symbols (``dropped``) and keeps the full window.
    """

    mode: ShortHistory
    start_ts: Any
    end_ts: Any
    full_start_ts: Any
    full_end_ts: Any
    short: tuple[tuple[str, Any, Any], ...] = ()
    dropped: tuple[str, ...] = ()

    @property
    def shortened(self) -> bool:
        """True when the tested window is shorter than the universe's full window."""
        return bool(self.start_ts != self.full_start_ts or self.end_ts != self.full_end_ts)

    def note(self) -> str:
        """One sentence saying what the window is and why (empty when nothing was short)."""
        if not self.short:
            return ""
        names = ", ".join(s for s, _, _ in self.short[:8]) + (" ..." if len(self.short) > 8 else "")
        if self.mode == "drop":
            return (
                f"dropped {len(self.dropped)} symbol(s) with a shorter history ({names}) to keep the full "
                f"window {self.full_start_ts} .. {self.full_end_ts}; history='shorten' keeps them instead"
            )
        return (
            f"window shortened to {self.start_ts} .. {self.end_ts} (the full window is "
            f"{self.full_start_ts} .. {self.full_end_ts}) because {len(self.short)} symbol(s) have a "
            f"shorter history ({names}); history='drop' drops them and keeps the full window"
        )


def window_dict(w: HistoryWindow) -> dict[str, Any]:
    """The JSON form of a :class:`HistoryWindow`."""
    return {
        "mode": w.mode, "start": str(w.start_ts), "end": str(w.end_ts), "full_start": str(w.full_start_ts),
        "full_end": str(w.full_end_ts), "shortened": w.shortened, "dropped": list(w.dropped),
        "short": [{"symbol": s, "first": str(a), "last": str(b)} for s, a, b in w.short], "note": w.note(),
    }  # fmt: skip


def history_window(
    frame: pl.DataFrame, ts: str, symbol: str, value: str, mode: ShortHistory
) -> HistoryWindow:
    """Each symbol's first and last bar; those starting or ending over a bar inside the full window."""
    times = frame.select(pl.col(ts).unique().sort())[ts]
    if times.len() == 0:
        raise InsufficientDataError("frame has no prices")
    pos = pl.DataFrame({ts: times, "_i": pl.int_range(0, times.len(), eager=True)})
    spans = (
        frame.filter(pl.col(value).is_not_null())
        .join(pos, on=ts, how="left")
        .group_by(symbol)
        .agg(
            pl.col(ts).min().alias("first"),
            pl.col(ts).max().alias("last"),
            pl.col("_i").min().alias("i0"),
            pl.col("_i").max().alias("i1"),
        )
        .sort(symbol)
    )
    n = times.len()
    short = spans.filter((pl.col("i0") > 1) | (pl.col("i1") < n - 2))
    rows = tuple((str(r[symbol]), r["first"], r["last"]) for r in short.iter_rows(named=True))
    dropped: tuple[str, ...] = ()
    if mode == "drop" and rows:
        dropped = tuple(s for s, _, _ in rows)
        if spans.height - len(dropped) < 2:
            raise InsufficientDataError(
                f"history='drop' would leave {spans.height - len(dropped)} symbol(s) of {spans.height}: "
                f"{len(dropped)} have a shorter history; use history='shorten'"
            )
    lo, hi = times[0], times[-1]
    return HistoryWindow(mode=mode, start_ts=lo, end_ts=hi, full_start_ts=lo, full_end_ts=hi, short=rows,
                         dropped=dropped)  # fmt: skip
