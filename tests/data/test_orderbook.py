"""OrderBook: kernel vs plain-Python twin, never-crossed property, venue-truth property, queries, errors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.core.enums import Side
from spreadlab.data.orderbook import EventOutcome, OrderBook, SequenceRule
from spreadlab.errors import DataError, ValidationError
from spreadlab.kernels import orderbook as k
from spreadlab.kernels import orderbook_query as kq

RULES = {
    k.RULE_NONE: SequenceRule.NONE,
    k.RULE_BINANCE_SPOT: SequenceRule.BINANCE_SPOT,
    k.RULE_BINANCE_FUTURES: SequenceRule.BINANCE_FUTURES,
}


def _frame(rows: list[tuple]) -> pl.DataFrame:
    """rows: (ts, side, price, size, u, U, pu, is_snapshot)."""
    cols = list(zip(*rows)) if rows else [[]] * 8
    return pl.DataFrame(
        {
            "ts_recv": pl.Series(cols[0], dtype=pl.Int64),
            "side": pl.Series(cols[1], dtype=pl.Int8),
            "price": pl.Series(cols[2], dtype=pl.Float64),
            "size": pl.Series(cols[3], dtype=pl.Float64),
            "sequence": pl.Series(cols[4], dtype=pl.Int64),
            "first_sequence": pl.Series(cols[5], dtype=pl.Int64),
            "prev_sequence": pl.Series(cols[6], dtype=pl.Int64),
            "is_snapshot": pl.Series(cols[7], dtype=pl.Boolean),
        }
    )


def _random_stream(rng: np.random.Generator, n_events: int, width: int = 1, rows: int = 6) -> list[tuple]:
    """Events with snapshots, gaps, duplicates and diffs received before their snapshot.

    Prices span ``20 * width`` ticks around ``100 * width``; ``rows`` bounds the rows per diff.
    """
    out: list[tuple] = []
    uid = 1000
    prev_u = uid
    for e in range(n_events):
        ts = 10 * (e + 1)
        if rng.random() < 0.08:  # snapshot at an id a little behind the stream (buffering case)
            lid = uid - int(rng.integers(0, 12))
            n = int(rng.integers(0, 8 * rows))
            mid = 100 * width + int(rng.integers(-3, 4))
            for _ in range(n):
                side = 1 if rng.random() < 0.5 else -1
                price = float(mid - side * rng.integers(1, 6 * width))
                out.append((ts, side, price, float(rng.integers(0, 4)), lid, lid, lid, True))
            if n == 0:
                out.append((ts, 0, 0.0, 0.0, lid, lid, lid, True))
            continue
        span = int(rng.integers(1, 5))
        first = uid + 1
        if rng.random() < 0.05:
            first += int(rng.integers(1, 4))  # a missing message
        last = first + span - 1
        pu = prev_u if rng.random() > 0.05 else prev_u - 1
        if rng.random() < 0.04:  # a duplicate of an old message
            first, last = max(first - 10, 1), max(first - 10, 1) + span - 1
        n = int(rng.integers(0, rows))
        for _ in range(n):
            side = 1 if rng.random() < 0.5 else -1
            price = float(rng.integers(90 * width, 110 * width + 1))
            out.append((ts, side, price, float(rng.integers(0, 3)), last, first, pu, False))
        if n == 0:
            out.append((ts, 0, 0.0, 0.0, last, first, pu, False))
        if last > uid:
            uid = last
            prev_u = last
    return out


def _twin(rows: list[tuple], rule: int, st_py: np.ndarray) -> dict:
    """The plain-Python twin's replay of ``rows`` (top 1 level), updating ``st_py``."""
    a = [np.asarray(c) for c in zip(*rows)]
    return k.replay_py(
        st_py, rule, a[0].astype(np.int64), a[1].astype(np.int8), a[2].astype(float), a[3].astype(float),
        a[4].astype(np.int64), a[5].astype(np.int64), a[6].astype(np.int64), a[7].astype(bool), 1,
    )  # fmt: skip


@pytest.mark.parametrize("rule", [k.RULE_NONE, k.RULE_BINANCE_SPOT, k.RULE_BINANCE_FUTURES])
@pytest.mark.parametrize(
    ("seed", "width", "nrows"), [(s, 1, 6) for s in range(6)] + [(s, 40, 120) for s in range(2)]
)
def test_kernel_matches_python_twin_on_random_streams(rule: int, seed: int, width: int, nrows: int) -> None:
    """Narrow books (collisions, crossing) and wide ones (thousands of levels: block splits and frees)."""
    rng = np.random.default_rng(seed * 7 + rule + width)
    rows = _random_stream(rng, 300, width, nrows)
    df = _frame(rows)
    book = OrderBook(rule=RULES[rule], capacity=1)  # tiny capacity exercises growth and resume
    got = book.replay(df, top_n=4)
    a = [np.asarray(c) for c in zip(*rows)]
    st_py = k.new_state(rule)
    ref = k.replay_py(
        st_py,
        rule,
        a[0].astype(np.int64),
        a[1].astype(np.int8),
        a[2].astype(float),
        a[3].astype(float),
        a[4].astype(np.int64),
        a[5].astype(np.int64),
        a[6].astype(np.int64),
        a[7].astype(bool),
        4,
    )
    fr = got.frame
    np.testing.assert_array_equal(fr["outcome"].to_numpy(), ref["status"])
    np.testing.assert_array_equal(fr["valid"].to_numpy(), ref["valid"])
    np.testing.assert_array_equal(fr["book_id"].to_numpy(), ref["book_id"])
    bbo = fr.select("bid", "bid_size", "ask", "ask_size").fill_null(np.nan).to_numpy()
    np.testing.assert_array_equal(bbo, ref["bbo"])
    assert got.top is not None
    np.testing.assert_array_equal(got.top.bid_prices, ref["top"][:, 0, :])
    np.testing.assert_array_equal(got.top.ask_sizes, ref["top"][:, 3, :])
    assert (got.gaps, got.stale, got.unsynced, got.snapshots, got.buffered, got.uncrossed_levels) == (
        st_py[k.ST_GAPS],
        st_py[k.ST_STALE],
        st_py[k.ST_UNSYNCED],
        st_py[k.ST_SNAPSHOTS],
        st_py[k.ST_BUFFERED],
        st_py[k.ST_UNCROSSED],
    )
    if rule != k.RULE_NONE:
        assert got.gaps > 0 and got.stale > 0 and got.snapshots > 0  # the stream exercised the rules


def test_event_starts_matches_twin() -> None:
    rng = np.random.default_rng(3)
    seq = np.repeat(np.arange(50), rng.integers(1, 4, 50)).astype(np.int64)
    snap = rng.random(len(seq)) < 0.1
    ts = seq * 3
    np.testing.assert_array_equal(k.event_starts(seq, snap, ts), k.event_starts_py(seq, snap, ts))


def test_query_kernels_match_twins() -> None:
    rng = np.random.default_rng(11)
    for _ in range(50):
        n = int(rng.integers(0, 30))
        keys = np.sort(rng.choice(np.arange(1, 500), n, replace=False).astype(float)) * (
            1 if rng.random() < 0.5 else -1
        )
        keys = np.sort(keys)
        sizes = rng.random(n) * 5
        lim = float(rng.uniform(-500, 500))
        assert kq.side_depth(keys, sizes, n, lim) == pytest.approx(kq.side_depth_py(keys, sizes, n, lim))
        lv = int(rng.integers(1, 10))
        assert kq.side_top_sum(sizes, n, lv) == pytest.approx(kq.side_top_sum_py(sizes, n, lv))
        q = float(rng.uniform(0.1, 40))
        got = kq.side_walk(keys, sizes, n, q)
        want = kq.side_walk_py(keys, sizes, n, q)
        np.testing.assert_allclose(got[:3], want[:3], rtol=1e-12, equal_nan=True)
        assert got[3] == want[3]


# ---------------------------------------------------------------- properties

_level = st.tuples(
    st.sampled_from([1, -1]),
    st.integers(min_value=1, max_value=40).map(float),
    st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.0]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_level, min_size=1, max_size=6), min_size=1, max_size=40))
def test_book_is_never_crossed_or_locked(messages: list[list[tuple[int, float, float]]]) -> None:
    """Any sequence of level updates at all leaves the book strictly uncrossed (latest-wins rule)."""
    rows = [(i + 1, s, p, z, -1, -1, -1, False) for i, msg in enumerate(messages) for s, p, z in msg]
    r = OrderBook().replay(_frame(rows), top_n=50)
    both = r.frame.filter(pl.col("bid").is_not_null() & pl.col("ask").is_not_null())
    assert (both["bid"] < both["ask"]).all()
    assert r.top is not None
    bp = r.top.bid_prices
    ap = r.top.ask_prices
    # levels strictly ordered away from the touch on both sides
    assert np.all(np.nan_to_num(np.diff(bp, axis=1), nan=-1.0) < 0)
    assert np.all(np.nan_to_num(np.diff(ap, axis=1), nan=1.0) > 0)


@st.composite
def _venue_session(draw: st.DrawFn) -> tuple[list[list[tuple[int, float, float]]], list[dict]]:
    """A venue book moved by orders and cancels; each message is the net change, rows in any order.

    A *valid delta sequence* is what a venue sends: each message turns one
    uncrossed book into another (an order crossing the spread trades against
    the far side first, so the far levels it took are removed in the same
    message).
    """
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    messages = []
    truths = []
    for _ in range(draw(st.integers(1, 25))):
        old_b, old_a = dict(bids), dict(asks)
        for _ in range(draw(st.integers(1, 4))):
            side = draw(st.sampled_from([1, -1]))
            price = float(draw(st.integers(1, 30)))
            qty = float(draw(st.integers(0, 5)))
            own, far = (bids, asks) if side == 1 else (asks, bids)
            if qty == 0:
                own.pop(price, None)  # cancel
                continue
            # match against the far side at or through price
            for q in sorted(far, reverse=(side == -1)):
                if (q <= price) if side == 1 else (q >= price):
                    take = min(qty, far[q])
                    far[q] -= take
                    qty -= take
                    if far[q] == 0:
                        del far[q]
                    if qty == 0:
                        break
            if qty > 0:
                own[price] = own.get(price, 0.0) + qty
        changes = [(1, p, bids.get(p, 0.0)) for p in set(old_b) | set(bids) if old_b.get(p) != bids.get(p)]
        changes += [(-1, p, asks.get(p, 0.0)) for p in set(old_a) | set(asks) if old_a.get(p) != asks.get(p)]
        changes = draw(st.permutations(changes))
        messages.append(changes)
        truths.append({"bids": dict(bids), "asks": dict(asks)})
    return messages, truths


@settings(max_examples=150, deadline=None)
@given(_venue_session())
def test_valid_messages_rebuild_the_venue_book_exactly(session: tuple) -> None:
    messages, truths = session
    book = OrderBook()
    for msg, truth in zip(messages, truths):
        book.apply_diff(
            bids=[(p, s) for sd, p, s in msg if sd == 1], asks=[(p, s) for sd, p, s in msg if sd == -1]
        )
        bp, bs = book.bids()
        ap, as_ = book.asks()
        assert dict(zip(bp.tolist(), bs.tolist())) == truth["bids"]
        assert dict(zip(ap.tolist(), as_.tolist())) == truth["asks"]
        if len(bp) and len(ap):
            assert bp[0] < ap[0]


# ---------------------------------------------------------------- sequencing


def test_binance_futures_rules_by_hand() -> None:
    book = OrderBook(rule="binance_futures")
    # a diff before any snapshot is dropped
    assert (
        book.apply_diff(bids=[(99.0, 1.0)], asks=[], first_id=5, last_id=8, prev_id=4)
        == EventOutcome.UNSYNCED
    )
    assert book.apply_snapshot(bids=[(100.0, 1.0)], asks=[(101.0, 1.0)], sequence=10) == EventOutcome.SNAPSHOT
    assert (
        book.apply_diff(bids=[(98.0, 1.0)], asks=[], first_id=6, last_id=9, prev_id=5) == EventOutcome.STALE
    )
    # first diff must straddle lastUpdateId: U <= 10 <= u
    assert (
        book.apply_diff(bids=[(100.5, 2.0)], asks=[], first_id=10, last_id=12, prev_id=9)
        == EventOutcome.APPLIED
    )
    assert book.best_bid == 100.5
    assert (
        book.apply_diff(bids=[], asks=[(101.0, 0.0)], first_id=13, last_id=15, prev_id=12)
        == EventOutcome.APPLIED
    )
    assert book.best_ask is None and book.is_valid
    # pu does not chain: gap -> invalid until the next snapshot
    assert (
        book.apply_diff(bids=[], asks=[(102.0, 1.0)], first_id=20, last_id=21, prev_id=19) == EventOutcome.GAP
    )
    assert not book.is_valid and book.best_bid is None and book.gaps == 1
    with pytest.raises(DataError, match="not synchronised"):
        book.microprice()
    assert (
        book.apply_diff(bids=[], asks=[(102.0, 1.0)], first_id=22, last_id=23, prev_id=21)
        == EventOutcome.UNSYNCED
    )
    assert book.apply_snapshot(bids=[(100.0, 1.0)], asks=[(103.0, 1.0)], sequence=22) == EventOutcome.SNAPSHOT
    # the diff 22..23 arrived before the snapshot at 22 and was re-applied on top of it
    assert book.is_valid and book.last_update_id == 23 and book.best_ask == 102.0


def test_binance_spot_rules_by_hand() -> None:
    book = OrderBook(rule=SequenceRule.BINANCE_SPOT)
    book.apply_snapshot(bids=[(10.0, 1.0)], asks=[(11.0, 1.0)], sequence=100)
    assert book.apply_diff(bids=[(9.0, 1.0)], asks=[], first_id=90, last_id=100) == EventOutcome.STALE
    # U <= 101 <= u
    assert book.apply_diff(bids=[(10.0, 3.0)], asks=[], first_id=99, last_id=104) == EventOutcome.APPLIED
    assert book.apply_diff(bids=[(10.5, 1.0)], asks=[], first_id=105, last_id=105) == EventOutcome.APPLIED
    assert book.apply_diff(bids=[(10.6, 1.0)], asks=[], first_id=107, last_id=108) == EventOutcome.GAP
    assert not book.is_valid


def test_first_diff_that_does_not_bridge_the_snapshot_is_a_gap() -> None:
    spot = OrderBook(rule="binance_spot")
    spot.apply_snapshot(bids=[(10.0, 1.0)], asks=[(11.0, 1.0)], sequence=100)
    assert spot.apply_diff(bids=[], asks=[], first_id=102, last_id=103) == EventOutcome.GAP
    fut = OrderBook(rule="binance_futures")
    fut.apply_snapshot(bids=[(10.0, 1.0)], asks=[(11.0, 1.0)], sequence=100)
    assert fut.apply_diff(bids=[], asks=[], first_id=101, last_id=103, prev_id=100) == EventOutcome.GAP


def test_apply_diff_path_equals_bulk_replay() -> None:
    rng = np.random.default_rng(5)
    rows = _random_stream(rng, 200)
    # apply_diff takes bids then asks: give the bulk path the same row order (random messages
    # may cross themselves, and then the order of rows within a message matters)
    df = _frame(rows).sort(["ts_recv", "side"], descending=[False, True], maintain_order=True)
    bulk = OrderBook(rule="binance_futures").replay(df)
    one = OrderBook(rule="binance_futures")
    outcomes = []
    for (_, _, snap), ev in df.group_by(["ts_recv", "sequence", "is_snapshot"], maintain_order=True):
        levels = ev.filter(pl.col("side") != 0)
        bids = levels.filter(pl.col("side") == 1).select("price", "size").rows()
        asks = levels.filter(pl.col("side") == -1).select("price", "size").rows()
        if snap:
            outcomes.append(one.apply_snapshot(bids=bids, asks=asks, sequence=ev["sequence"][0]))
        else:
            outcomes.append(
                one.apply_diff(
                    bids=bids,
                    asks=asks,
                    first_id=ev["first_sequence"][0],
                    last_id=ev["sequence"][0],
                    prev_id=ev["prev_sequence"][0],
                )
            )
        row = bulk.frame.row(len(outcomes) - 1, named=True)
        assert one.is_valid == row["valid"]
        assert one.best_bid == row["bid"] and one.best_ask == row["ask"]
    assert [int(o) for o in outcomes] == bulk.frame["outcome"].to_list()


# ---------------------------------------------------------------- queries


def _book() -> OrderBook:
    book = OrderBook("BINANCE:BTCUSDT")
    book.apply_snapshot(
        bids=[(100.0, 1.0), (99.0, 2.0), (98.0, 4.0)],
        asks=[(101.0, 0.5), (102.0, 1.5), (105.0, 10.0)],
    )
    return book


def test_queries_hand_worked() -> None:
    book = _book()
    assert (book.best_bid, book.best_ask, book.mid, book.spread) == (100.0, 101.0, 100.5, 1.0)
    # depth within 150 bp of 100.5: bids >= 98.9925 (100, 99), asks <= 102.0075 (101, 102)
    d = book.depth(150.0)
    assert (d.bid_size, d.ask_size) == (3.0, 2.0)
    assert d.bid_notional == pytest.approx(100 * 1 + 99 * 2)
    assert d.ask_notional == pytest.approx(101 * 0.5 + 102 * 1.5)
    # buy 3: 0.5@101 + 1.5@102 + 1@105 = 50.5 + 153 + 105 = 308.5 -> vwap 102.8333
    imp = book.impact(Side.BUY, 3.0)
    assert imp.vwap == pytest.approx(308.5 / 3)
    assert imp.worst_price == 105.0 and imp.levels == 3 and imp.complete
    assert imp.impact_bp == pytest.approx((308.5 / 3 / 100.5 - 1) * 1e4)
    # sell 10 with 7 resting: incomplete
    sell = book.impact(Side.SELL, 10.0)
    assert not sell.complete and sell.filled == 7.0
    assert sell.vwap == pytest.approx((100 + 198 + 392) / 7)
    assert sell.impact_bp == pytest.approx(-((690 / 7) / 100.5 - 1) * 1e4)
    assert sell.impact_bp > 0  # a cost for sells as for buys
    # imbalance
    assert book.imbalance((1, 2, 3, 10)) == pytest.approx(
        ((1 - 0.5) / 1.5, (3 - 2) / 5, (7 - 12) / 19, (7 - 12) / 19)
    )
    # microprice leans toward the thin side (ask size 0.5 < bid size 1)
    assert book.microprice() == pytest.approx((100 * 0.5 + 101 * 1.0) / 1.5)
    assert book.microprice() > book.mid  # type: ignore[operator]
    bp, bs = book.bids(2)
    assert bp.tolist() == [100.0, 99.0] and bs.tolist() == [1.0, 2.0]
    ap, _ = book.asks()
    assert ap.tolist() == [101.0, 102.0, 105.0]


def test_query_and_input_errors() -> None:
    book = _book()
    with pytest.raises(ValidationError, match="bp=-1"):
        book.depth(-1)
    with pytest.raises(ValidationError, match="size=0"):
        book.impact(Side.BUY, 0.0)
    with pytest.raises(ValidationError, match="levels entry 0"):
        book.imbalance((0,))
    with pytest.raises(ValidationError, match=r"bids\[1\]"):
        book.apply_snapshot(bids=[(1.0, 1.0), (float("nan"), 1.0)], asks=[])
    with pytest.raises(ValidationError, match="rule="):
        OrderBook(rule="nasdaq")
    one_sided = OrderBook()
    one_sided.apply_snapshot(bids=[(1.0, 1.0)], asks=[])
    with pytest.raises(DataError, match="empty side"):
        one_sided.microprice()
    bad = _frame([(1, 1, 100.0, 1.0, 1, 1, 0, False), (2, -1, -5.0, 1.0, 2, 2, 1, False)])
    with pytest.raises(DataError, match=r"row 2, field 'price'"):
        OrderBook().replay(bad)
    with pytest.raises(DataError, match="prev_sequence"):
        OrderBook(rule="binance_futures").replay(bad.drop("prev_sequence"))
    two = bad.with_columns(instrument_id=pl.Series(["A:X", "A:Y"]), price=pl.Series([1.0, 2.0]))
    with pytest.raises(DataError, match="several instruments"):
        OrderBook().replay(two)


@pytest.mark.parametrize("rule", [k.RULE_NONE, k.RULE_BINANCE_SPOT, k.RULE_BINANCE_FUTURES])
@pytest.mark.parametrize(
    ("seed", "width", "distort"), [(s, w, d) for s in range(3) for w in (1, 40) for d in (0, 1)]
)
def test_tick_grid_fast_path_matches_python_twin(rule: int, seed: int, width: int, distort: int) -> None:
    """``replay`` without top-N output takes the tick-grid fast path (falling back to the block book
    when prices leave the grid); either way every message's outcome and best levels equal the twin's.
    ``distort`` adds off-grid prices and far outliers to force collisions, overflow and fallback."""
    rng = np.random.default_rng(seed * 11 + rule + width + 100 * distort)
    rows = _random_stream(rng, 300, width, 6 if width == 1 else 60)
    if distort:
        rows = [
            (
                t,
                s,
                p * 1000.0 if rng.random() < 0.01 else (p + 0.37 if rng.random() < 0.02 else p),
                q,
                u,
                fu,
                pu,
                snap,
            )
            if s != 0
            else (t, s, p, q, u, fu, pu, snap)
            for (t, s, p, q, u, fu, pu, snap) in rows
        ]
    got = OrderBook(rule=RULES[rule]).replay(_frame(rows))
    st_py = k.new_state(rule)
    ref = _twin(rows, rule, st_py)
    fr = got.frame
    np.testing.assert_array_equal(fr["outcome"].to_numpy(), ref["status"])
    np.testing.assert_array_equal(fr["valid"].to_numpy(), ref["valid"])
    np.testing.assert_array_equal(fr["book_id"].to_numpy(), ref["book_id"])
    bbo = fr.select("bid", "bid_size", "ask", "ask_size").fill_null(np.nan).to_numpy()
    np.testing.assert_array_equal(bbo, ref["bbo"])
    assert (got.gaps, got.snapshots, got.uncrossed_levels) == (
        st_py[k.ST_GAPS], st_py[k.ST_SNAPSHOTS], st_py[k.ST_UNCROSSED],
    )  # fmt: skip


def _grid_run(
    rows: list[tuple], rule: int, window: int, overflow: int = 256
) -> tuple[int, tuple, np.ndarray, np.ndarray]:
    """Run the tick-grid kernel directly (tick 1, centred on 100 * width) on ``rows``."""
    from spreadlab.kernels import orderbook_grid as kg

    a = [np.asarray(c) for c in zip(*rows)]
    n = len(rows)
    st_ = k.new_state(rule)
    starts = np.empty(n + 1, np.int64)
    out = (
        np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64),
        np.empty(n, np.int8), np.empty(n, np.bool_), np.empty((n, 4)),
    )  # fmt: skip
    prices = a[2][a[1] != 0]
    p0 = float(np.median(prices)) if len(prices) else 100.0
    g = kg.new_grid(window, overflow)
    done = kg.replay_grid(
        *g, p0, 1.0, st_, rule, a[0].astype(np.int64), a[1].astype(np.int8), a[2].astype(float),
        a[3].astype(float), a[4].astype(np.int64), a[5].astype(np.int64), a[6].astype(np.int64),
        a[7].astype(bool), starts, 0, 0, *out,
    )  # fmt: skip
    return done, out, starts, st_


@pytest.mark.parametrize("rule", [k.RULE_NONE, k.RULE_BINANCE_SPOT, k.RULE_BINANCE_FUTURES])
@pytest.mark.parametrize(
    ("seed", "width", "window"), [(s, w, win) for s in range(3) for w in (1, 40) for win in (64, 1 << 12)]
)
def test_grid_kernel_itself_matches_twin(rule: int, seed: int, width: int, window: int) -> None:
    """The fast kernel is run directly (no silent fallback): with a narrow window many levels live
    in the overflow lists, with a wide one all sit on the grid; either way it equals the twin."""
    rng = np.random.default_rng(seed * 7 + rule + width + window)
    rows = _random_stream(rng, 300, width, 6 if width == 1 else 60)
    done, out, starts, st_ = _grid_run(rows, rule, window)
    a = [np.asarray(c) for c in zip(*rows)]
    st_py = k.new_state(rule)
    ref = _twin(rows, rule, st_py)
    assert done == len(ref["status"])  # the grid held the whole stream
    ev = k.event_starts_py(a[4].astype(np.int64), a[7].astype(bool), a[0].astype(np.int64))
    np.testing.assert_array_equal(starts[: done + 1], ev)
    np.testing.assert_array_equal(out[2][:done], a[5].astype(np.int64)[ev[:-1]])  # first_sequence
    np.testing.assert_array_equal(out[4][:done], ref["status"])
    np.testing.assert_array_equal(out[5][:done], ref["valid"])
    np.testing.assert_array_equal(out[3][:done], ref["book_id"])
    np.testing.assert_array_equal(out[6][:done], ref["bbo"])
    for c in (k.ST_GAPS, k.ST_SNAPSHOTS, k.ST_UNCROSSED, k.ST_APPLIED, k.ST_STALE, k.ST_BUFFERED):
        assert st_[c] == st_py[c]


def test_grid_kernel_aborts_on_two_prices_in_one_slot() -> None:
    from spreadlab.kernels import orderbook_grid as kg

    base = [(1, 1, 99.0, 1.0, 10, 10, 10, True), (1, -1, 101.0, 1.0, 10, 10, 10, True)]
    done, *_ = _grid_run([*base, (2, 1, 99.2, 1.0, 11, 10, 10, False)], k.RULE_BINANCE_FUTURES, 64)
    assert done == kg.GRID_ABORT  # 99.0 and 99.2 share a slot at tick 1
    # far levels beyond a small overflow list: GRID_FULL, and room enough on the retry
    rows = _random_stream(np.random.default_rng(5), 300, 40, 60)
    assert _grid_run(rows, k.RULE_NONE, 16, overflow=4)[0] == kg.GRID_FULL
    assert _grid_run(rows, k.RULE_NONE, 16, overflow=kg.GRID_OVERFLOW_MAX)[0] > 0
    # replay falls back to the block book after an abort and gives the twin's answer
    rows = [*base, (2, 1, 99.2, 1.0, 11, 10, 10, False)]
    fr = OrderBook(rule="binance_futures").replay(_frame(rows)).frame
    assert fr["bid"].to_list() == [99.0, 99.2] and fr["ask"].to_list() == [101.0, 101.0]


def test_bad_row_in_a_dropped_message_is_still_reported() -> None:
    """Every row is checked, also those of messages the sequence rule drops (here: before any snapshot)."""
    rows = [
        (1, 1, 100.0, 1.0, 5, 5, 4, False),
        (1, -1, -3.0, 1.0, 5, 5, 4, False),
        (2, 1, 99.0, 1.0, 10, 10, 10, True),
    ]
    with pytest.raises(DataError, match=r"row 2, field 'price'"):
        OrderBook(rule="binance_futures").replay(_frame(rows))


def test_instrument_check_uses_the_sorted_flag_soundly() -> None:
    rows = [(1, 1, 99.0, 1.0, 10, 10, 10, True), (1, -1, 101.0, 1.0, 10, 10, 10, True)]
    one = _frame(rows).with_columns(instrument_id=pl.Series(["A:X", "A:X"]).set_sorted())
    assert OrderBook().replay(one).events == 1
    two = _frame(rows).with_columns(instrument_id=pl.Series(["A:X", "A:Y"]).set_sorted())
    with pytest.raises(DataError, match="several instruments"):
        OrderBook().replay(two)


@pytest.mark.parametrize("rule", [k.RULE_NONE, k.RULE_BINANCE_FUTURES])
def test_grid_replay_grows_its_outputs_for_one_row_messages(rule: int) -> None:
    """~One row per message: more messages than the first output guess, so the kernel resumes."""
    rows = _random_stream(np.random.default_rng(17 + rule), 6000, 1, 2)
    book = OrderBook(rule=RULES[rule])
    fr = book.replay(_frame(rows)).frame
    assert book._grid is not None and len(fr) > len(rows) // 16 + 1024
    ref = _twin(rows, rule, k.new_state(rule))
    np.testing.assert_array_equal(fr["outcome"].to_numpy(), ref["status"])
    np.testing.assert_array_equal(fr["book_id"].to_numpy(), ref["book_id"])
    np.testing.assert_array_equal(
        fr.select("bid", "bid_size", "ask", "ask_size").fill_null(np.nan).to_numpy(), ref["bbo"]
    )


def test_levels_valid_matches_twin() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(0, 12))
        side = rng.choice(np.array([-1, 0, 1, 2], np.int8), n, p=[0.45, 0.05, 0.45, 0.05])
        price = rng.choice(np.array([100.0, 0.0, -1.0, np.nan, np.inf]), n, p=[0.8, 0.05, 0.05, 0.05, 0.05])
        size = rng.choice(np.array([1.0, 0.0, -1.0, np.nan, np.inf]), n, p=[0.8, 0.05, 0.05, 0.05, 0.05])
        assert k.levels_valid(side, price, size) == k.levels_valid_py(side, price, size)
    ok = (np.array([1, -1, 0], np.int8), np.array([1.0, 2.0, np.nan]), np.array([0.0, 1.0, np.nan]))
    assert k.levels_valid(*ok)  # an ids-only row may carry NaN
