"""The stacked engine books against their plain-Python twin, and position averaging against its twin."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spreadlab.kernels.engine_book import (
    PyBooks,
    bk_best,
    bk_clear,
    bk_levels,
    bk_set,
    bk_size_at,
    blocks_for,
    new_books,
)
from spreadlab.kernels.engine_market import apply_position, apply_position_py


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return (math.isnan(a[0]) and math.isnan(b[0])) or a == b


@pytest.mark.parametrize("seed", range(6))
def test_books_match_the_twin_on_random_streams(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3
    bk = new_books(n, blocks_for(400))
    py = PyBooks(n)
    out_px = np.zeros(64)
    out_sz = np.zeros(64)
    for step in range(3000):
        i = int(rng.integers(n))
        if rng.random() < 0.005:
            bk_clear(bk, i)
            py.clear(i)
            continue
        sd = 1 if rng.random() < 0.5 else -1
        centre = 1000.0 + 20 * math.sin(step / 300)
        price = round(centre - sd * float(rng.integers(0, 200)) * 0.5 + sd * 0.5 * rng.integers(-3, 3), 1)
        size = 0.0 if rng.random() < 0.3 else float(rng.integers(1, 9))
        bk_set(bk, i, sd, price, size)
        py.set(i, sd, price, size)
        for s in (1, -1):
            assert _same(bk_best(bk, i, s), py.best(i, s)), (step, i, s)
        probe = price + float(rng.integers(-4, 5)) * 0.5
        assert bk_size_at(bk, i, sd, probe) == py.size_at(i, sd, probe)
        qty = float(rng.integers(1, 40))
        limit = np.nan if rng.random() < 0.5 else probe
        m = bk_levels(bk, i, -sd, limit, qty, out_px, out_sz)
        want = py.levels(i, -sd, limit, qty, 64)
        assert list(zip(out_px[:m].tolist(), out_sz[:m].tolist(), strict=True)) == want
        bid, ask = bk_best(bk, i, 1)[0], bk_best(bk, i, -1)[0]
        assert not bid >= ask  # never crossed or locked


@pytest.mark.parametrize("kind", [0, 1])
def test_position_averaging_matches_the_twin(kind: int) -> None:
    rng = np.random.default_rng(kind)
    q, a = 0.0, 0.0
    for _ in range(2000):
        dq = float(rng.integers(-5, 6))
        if dq == 0:
            continue
        px = float(rng.uniform(90, 110))
        got = apply_position(q, a, dq, px, kind)
        want = apply_position_py(q, a, dq, px, kind)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)
        q, a = got[0], got[1]


def test_inverse_average_is_harmonic() -> None:
    # 100 USD at 50,000 and 100 USD at 40,000 hold 0.002 + 0.0025 BTC: the average price is 200 / 0.0045
    q, a, closed = apply_position(100.0, 50_000.0, 100.0, 40_000.0, 1)
    assert (q, closed) == (200.0, 0.0) and a == pytest.approx(
        200.0 / (100 / 50_000 + 100 / 40_000), rel=1e-14
    )


@pytest.mark.parametrize(
    ("q", "lot"), [(1042.68473, 1e-5), (2155.89258, 1e-5), (0.999, 0.001), (-37.5, 0.1), (120.0, 10.0)]
)
def test_lot_rounding_keeps_a_whole_number_of_lots_exactly(q: float, lot: float) -> None:
    # 1042.68473 / 1e-5 is 104268472.99999999 in floating point: a naive floor loses a lot
    from spreadlab.kernels.engine_market import round_qty
    from spreadlab.strategy.convergence_py import _round_qty

    assert round_qty(q, lot) == q
    assert _round_qty(q, lot) == q
    assert round_qty(q + math.copysign(0.4 * lot, q), lot) == q  # magnitudes round down to whole lots
