"""Look-ahead checks: perturb the data after time t, and nothing at or before t may change.

A builder is causal when every output row ``i`` with time ``<= t`` is a
function of the input rows with time ``<= t`` only. :func:`perturb_after`
rewrites the rows after a cut; :func:`assert_prefix_equal` compares two
outputs (arrays, polars frames, dataclasses of arrays, mappings of them) on
their first rows, NaN equal to NaN and null equal to null, bit for bit.
:func:`cut_points` is the hypothesis strategy of the cut.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import polars as pl
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

__all__ = ["assert_prefix_equal", "check_builder", "cut_points", "perturb_after", "perturb_rows"]


def cut_points(n: int, *, lo: int = 0) -> st.SearchStrategy[int]:
    """Draw a cut index ``t`` in ``[lo, n - 2]``: rows ``t + 1 ..`` are then perturbed."""
    return st.integers(min_value=lo, max_value=max(lo, n - 2))


def perturb_after(x: np.ndarray, t: int, rng: np.random.Generator, *, positive: bool = False) -> np.ndarray:
    """Return a copy of ``x`` whose rows after index ``t`` are replaced by unrelated values.

    Values are redrawn on the scale of ``x`` (and kept > 0 with ``positive``), so the
    perturbation is large and cannot leave a rolling statistic unchanged by accident.
    """
    out = np.array(x, dtype=np.float64, copy=True)
    tail = out[t + 1 :]
    if tail.size == 0:
        return out
    scale = float(np.nanstd(x)) or 1.0
    noise = rng.normal(scale=3.0 * scale, size=tail.shape)
    if positive:
        out[t + 1 :] = np.abs(tail) * np.exp(rng.normal(scale=0.5, size=tail.shape))
    else:
        out[t + 1 :] = tail + noise
    return out


def perturb_rows(
    frame: pl.DataFrame, after: np.ndarray, rng: np.random.Generator, *, columns: list[str]
) -> pl.DataFrame:
    """Multiply ``columns`` of the rows where ``after`` is true by random factors in [0.5, 1.5]."""
    if not after.any():
        return frame
    factors = {c: np.where(after, rng.uniform(0.5, 1.5, frame.height), 1.0) for c in columns}
    return frame.with_columns(*(pl.col(c) * pl.Series(factors[c]) for c in columns))


def _rows(value: Any, n: int) -> Any:
    if isinstance(value, pl.DataFrame | pl.Series):
        return value.head(n)
    arr = np.asarray(value)
    return arr[:n] if arr.ndim >= 1 else arr


def _equal(a: Any, b: Any, where: str) -> None:
    if isinstance(a, pl.DataFrame | pl.Series):
        check = assert_frame_equal if isinstance(a, pl.DataFrame) else assert_series_equal
        try:
            check(a, b, check_exact=True)  # type: ignore[operator, arg-type]
        except AssertionError as exc:
            raise AssertionError(f"{where}: rows at or before the cut changed: {exc}") from None
        return
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        raise AssertionError(f"{where}: shape {x.shape} became {y.shape}")
    if x.dtype.kind == "f":
        same = (x == y) | (np.isnan(x) & np.isnan(y))
    else:
        same = x == y
    if not np.all(same):
        i = tuple(int(v) for v in np.argwhere(~np.asarray(same))[0])
        raise AssertionError(f"{where}: row {i} changed from {x[i]} to {y[i]}")


def assert_prefix_equal(base: Any, other: Any, n: int, *, name: str = "output") -> None:
    """Assert that the first ``n`` rows of every output in ``base`` and ``other`` are identical."""
    if dataclasses.is_dataclass(base) and not isinstance(base, type):
        for f in dataclasses.fields(base):
            va, vb = getattr(base, f.name), getattr(other, f.name)
            if isinstance(va, np.ndarray | pl.DataFrame | pl.Series) and np.ndim(va) >= 1:
                assert_prefix_equal(va, vb, n, name=f"{name}.{f.name}")
        return
    if isinstance(base, Mapping):
        for key, va in base.items():
            assert_prefix_equal(va, other[key], n, name=f"{name}[{key!r}]")
        return
    if isinstance(base, tuple | list):
        for i, (va, vb) in enumerate(zip(base, other, strict=True)):
            assert_prefix_equal(va, vb, n, name=f"{name}[{i}]")
        return
    _equal(_rows(base, n), _rows(other, n), name)


def check_builder(
    build: Callable[..., Any], inputs: Mapping[str, np.ndarray], t: int, seed: int, **kwargs: Any
) -> None:
    """Build on ``inputs`` and on a copy perturbed after row ``t``; assert rows ``0..t`` are equal."""
    rng = np.random.default_rng(seed)
    base = build(**inputs, **kwargs)
    pert = {k: perturb_after(v, t, rng, positive=bool(np.all(v > 0))) for k, v in inputs.items()}
    other = build(**pert, **kwargs)
    assert_prefix_equal(base, other, t + 1, name=getattr(build, "__name__", "builder"))
