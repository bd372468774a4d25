"""Limit order book over the numba kernel of :mod:`spreadlab.kernels.orderbook`.

A book holds price levels (price -> absolute size) per side. It is built from
snapshots and diffs, checks the venue's update ids (Binance ``U``/``u``/``pu``
rules, see :class:`SequenceRule`) and, on a gap, clears itself, reports
itself invalid and drops diffs until the next snapshot, so it never serves a
wrong book. The bulk path :meth:`OrderBook.replay` applies a whole columnar
stream of ``book_deltas`` in one kernel call and returns the best bid/ask
(and optionally the top N levels) after every message. From an empty book
without top-N output it runs on a dense tick grid (the tick is the smallest
price step in the first 4,096 level rows; far levels go to a small overflow
list, retried once with 8,192 slots), falling back to the block book whenever
the grid could not reproduce it exactly.

Queries (on a valid book):

* depth within ``b`` basis points of the mid ``m``: the summed size of bids
  with price ``>= m (1 - b/10^4)`` and asks with price ``<= m (1 + b/10^4)``;
* the price impact of a market order of size ``q`` walking the far side:
  ``vwap = sum(p_i q_i) / sum(q_i)``, impact (bp) ``= ±(vwap / m - 1) 10^4``
  (positive = cost, for buys and sells alike);
* imbalance over the best ``k`` levels: ``(B_k - A_k) / (B_k + A_k)`` with
  ``B_k``/``A_k`` the summed bid/ask sizes, in ``[-1, 1]``;
* microprice (size-weighted mid): ``(b A_1 + a B_1) / (A_1 + B_1)``, which
  leans toward the side with less size at the touch.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray
from spreadlab.core.enums import Side
from spreadlab.core.ids import InstrumentId
from spreadlab.core.validate import require_positive
from spreadlab.data.book_input import _check_levels, _delta_arrays, _event_outputs
from spreadlab.data.book_types import (
    BookReplay,
    Depth,
    EventOutcome,
    Impact,
    SequenceRule,
    TopLevels,
)
from spreadlab.errors import DataError, ValidationError
from spreadlab.kernels import orderbook as k
from spreadlab.kernels import orderbook_grid as kg
from spreadlab.kernels import orderbook_query as kq

__all__ = [
    "BookReplay",
    "Depth",
    "EventOutcome",
    "Impact",
    "OrderBook",
    "SequenceRule",
    "TopLevels",
]


_PENDING_EVENTS = 1000
"""Diff messages :meth:`OrderBook.apply_diff` keeps for re-application on top of a later snapshot."""
_GRID_WINDOW = 1 << 19  # tick-grid slots per side for the fast bulk replay
_GRID_SAMPLE = 4096  # level rows used to guess the tick


def _as_levels(name: str, levels: Sequence[tuple[float, float]] | np.ndarray) -> FloatArray:
    arr = np.asarray(levels, dtype=np.float64)
    if arr.size == 0:
        return np.empty((0, 2), dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValidationError(f"{name} must be a sequence of (price, size) pairs, got shape {arr.shape}")
    bad = ~np.isfinite(arr).all(axis=1) | (arr[:, 0] <= 0.0) | (arr[:, 1] < 0.0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(
            f"{name}[{i}]=({arr[i, 0]}, {arr[i, 1]}) is invalid: price must be finite and > 0, "
            "size finite and >= 0"
        )
    return arr


class _Storage:
    """Both sides' block storage (see :func:`spreadlab.kernels.orderbook.new_storage`)."""

    __slots__ = ("K", "S", "cnt", "dmax", "dr", "free", "sc")

    def __init__(self, blocks: int) -> None:
        self.K, self.S, self.cnt, self.dr, self.dmax, self.free, self.sc = k.new_storage(blocks)

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.K, self.S, self.cnt, self.dr, self.dmax, self.free, self.sc)

    def levels(self, s: int) -> int:
        return int(self.sc[s, 0])

    def best(self, s: int) -> tuple[float, float] | None:
        nd = int(self.sc[s, 1])
        if nd == 0:
            return None
        blk = int(self.dr[s, nd - 1])
        t = int(self.cnt[s, blk]) - 1
        return float(self.K[s, blk, t]), float(self.S[s, blk, t])

    def flat(self, s: int) -> tuple[FloatArray, FloatArray]:
        return k.side_flat(self.K, self.S, self.cnt, self.dr, self.sc, s)  # type: ignore[no-any-return]

    def load(self, s: int, keys: FloatArray, sizes: FloatArray) -> None:
        need = len(keys) // (k.BLOCK // 2) + 2
        if need > self.cnt.shape[1]:
            self.grow(need)
        k._side_load(*self.arrays(), s, keys, sizes)  # type: ignore[call-arg, arg-type]

    def grow(self, need: int) -> None:
        old = self.cnt.shape[1]
        new = max(2 * old, need)
        grown = _Storage(new)
        grown.K[:, :old] = self.K
        grown.S[:, :old] = self.S
        grown.cnt[:, :old] = self.cnt
        grown.dr[:, :old] = self.dr
        grown.dmax[:, :old] = self.dmax
        for s in range(2):
            nfree = int(self.sc[s, 2])
            grown.free[s, :nfree] = self.free[s, :nfree]
            grown.free[s, nfree : nfree + new - old] = np.arange(old, new)
            grown.sc[s] = self.sc[s]
            grown.sc[s, 2] = nfree + new - old
        for name in self.__slots__:
            setattr(self, name, getattr(grown, name))


class OrderBook:
    """A sequence-checked limit order book.

    Parameters
    ----------
    instrument_id
        The instrument, for messages (optional).
    rule
        How update ids are checked; see :class:`SequenceRule`.
    capacity
        Initial number of levels per side (grows as needed).

    Notes
    -----
    The book is a mutable accumulator of market state (like a venue's own
    book); the values it returns (:class:`Depth`, :class:`Impact`,
    :class:`BookReplay`) are immutable.

    Examples
    --------
    >>> book = OrderBook(rule=SequenceRule.BINANCE_FUTURES)
    >>> book.apply_snapshot(bids=[(100.0, 2.0), (99.5, 1.0)], asks=[(100.5, 3.0)], sequence=10)
    <EventOutcome.SNAPSHOT: 1>
    >>> book.apply_diff(bids=[(100.0, 0.0)], asks=[], first_id=9, last_id=12, prev_id=8)
    <EventOutcome.APPLIED: 0>
    >>> book.best_bid, book.best_ask
    (99.5, 100.5)
    >>> book.apply_diff(bids=[(99.0, 1.0)], asks=[], first_id=20, last_id=21, prev_id=19)
    <EventOutcome.GAP: 4>
    >>> book.is_valid, book.best_bid
    (False, None)
    """

    __slots__ = (
        "_grid",
        "_last_starts",
        "_pending",
        "_rule",
        "_st",
        "_store",
        "instrument_id",
    )

    def __init__(
        self,
        instrument_id: InstrumentId | str | None = None,
        *,
        rule: SequenceRule | str = SequenceRule.NONE,
        capacity: int = 1024,
    ) -> None:
        if isinstance(instrument_id, str):
            instrument_id = InstrumentId.parse(instrument_id)
        self.instrument_id = instrument_id
        try:
            self._rule = SequenceRule(rule)
        except ValueError as exc:
            valid = ", ".join(r.value for r in SequenceRule)
            raise ValidationError(f"rule={rule!r} is unknown; valid rules: {valid}") from exc
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValidationError(f"capacity={capacity!r} must be an int >= 1")
        self._store = _Storage(max(capacity // (k.BLOCK // 2), 2))
        self._grid: tuple[np.ndarray, ...] | None = None  # a replay's grid book, not yet in ``_store``
        self._st = k.new_state(self._rule.code)
        self._last_starts = np.zeros(1, np.int64)
        self._pending: deque[dict[str, np.ndarray]] = deque(maxlen=_PENDING_EVENTS)

    # ------------------------------------------------------------------ state

    @property
    def _book(self) -> _Storage:
        """The block book; a tick-grid replay's levels are moved into it on first use."""
        if self._grid is not None:
            g, self._grid = self._grid, None
            for s in range(2):
                keys, sizes = kg.grid_levels(*g, s)  # type: ignore[call-arg, arg-type]
                self._store.load(s, keys, sizes)
        return self._store

    @property
    def rule(self) -> SequenceRule:
        """The sequence rule."""
        return self._rule

    @property
    def is_valid(self) -> bool:
        """True when the book is synchronised (never after a gap until the next snapshot)."""
        return bool(self._st[k.ST_STATUS] != k.STATUS_UNSYNCED)

    @property
    def last_update_id(self) -> int:
        """The update id the book is at (the snapshot's until a diff is applied); -1 if none."""
        return int(self._st[k.ST_LAST])

    @property
    def gaps(self) -> int:
        """Number of sequence gaps seen so far."""
        return int(self._st[k.ST_GAPS])

    @property
    def bid_levels(self) -> int:
        """Number of bid levels."""
        return self._book.levels(0) if self.is_valid else 0

    @property
    def ask_levels(self) -> int:
        """Number of ask levels."""
        return self._book.levels(1) if self.is_valid else 0

    @property
    def best_bid(self) -> float | None:
        """Best bid price, or None if the side is empty or the book invalid."""
        top = self._book.best(0) if self.is_valid else None
        return None if top is None else top[0]

    @property
    def best_ask(self) -> float | None:
        """Best ask price, or None if the side is empty or the book invalid."""
        top = self._book.best(1) if self.is_valid else None
        return None if top is None else -top[0]

    @property
    def best_bid_size(self) -> float | None:
        """Size at the best bid, or None."""
        top = self._book.best(0) if self.is_valid else None
        return None if top is None else top[1]

    @property
    def best_ask_size(self) -> float | None:
        """Size at the best ask, or None."""
        top = self._book.best(1) if self.is_valid else None
        return None if top is None else top[1]

    @property
    def mid(self) -> float | None:
        """Mid price, or None unless both sides have levels."""
        b, a = self.best_bid, self.best_ask
        return None if b is None or a is None else 0.5 * (b + a)

    @property
    def spread(self) -> float | None:
        """Best ask minus best bid, or None."""
        b, a = self.best_bid, self.best_ask
        return None if b is None or a is None else a - b

    def bids(self, n: int | None = None) -> tuple[FloatArray, FloatArray]:
        """Return ``(prices, sizes)`` of the best ``n`` bids (all if None), best first."""
        if not self.is_valid:
            return np.empty(0), np.empty(0)
        keys, sizes = self._book.flat(0)
        m = len(keys) if n is None else min(n, len(keys))
        return keys[len(keys) - m :][::-1].copy(), sizes[len(keys) - m :][::-1].copy()

    def asks(self, n: int | None = None) -> tuple[FloatArray, FloatArray]:
        """Return ``(prices, sizes)`` of the best ``n`` asks (all if None), best first."""
        if not self.is_valid:
            return np.empty(0), np.empty(0)
        keys, sizes = self._book.flat(1)
        m = len(keys) if n is None else min(n, len(keys))
        return -keys[len(keys) - m :][::-1], sizes[len(keys) - m :][::-1].copy()

    # ------------------------------------------------------------------ updates

    def apply_snapshot(
        self,
        *,
        bids: Sequence[tuple[float, float]] | np.ndarray,
        asks: Sequence[tuple[float, float]] | np.ndarray,
        sequence: int = 0,
        ts: int = 0,
    ) -> EventOutcome:
        """Replace the book by a snapshot taken at update id ``sequence`` (Binance ``lastUpdateId``)."""
        b = _as_levels("bids", bids)
        a = _as_levels("asks", asks)
        n = len(b) + len(a)
        side = np.concatenate([np.ones(len(b), np.int8), -np.ones(len(a), np.int8)])
        price = np.concatenate([b[:, 0], a[:, 0]])
        size = np.concatenate([b[:, 1], a[:, 1]])
        if n == 0:  # an empty snapshot still resets the book: one marker row
            side, price, size, n = np.zeros(1, np.int8), np.zeros(1), np.zeros(1), 1
        ids = np.full(n, int(sequence), np.int64)
        event = {
            "ts": np.full(n, int(ts), np.int64),
            "side": side,
            "price": price,
            "size": size,
            "seq": ids,
            "first_seq": ids,
            "prev_seq": ids,
            "is_snap": np.ones(n, np.bool_),
        }
        # the diffs received before the snapshot stay visible to the kernel, which
        # re-applies those the snapshot does not contain (Binance's buffering procedure)
        pending = list(self._pending) if self._rule is not SequenceRule.NONE else []
        arrays = {key: np.concatenate([*(p[key] for p in pending), v]) for key, v in event.items()}
        self._pending.clear()
        out = self._run(top_n=0, start_event=len(pending), **arrays)  # type: ignore[arg-type]
        return EventOutcome(int(out[3][-1]))

    def apply_diff(
        self,
        *,
        bids: Sequence[tuple[float, float]] | np.ndarray,
        asks: Sequence[tuple[float, float]] | np.ndarray,
        last_id: int = 0,
        first_id: int | None = None,
        prev_id: int | None = None,
        ts: int = 0,
    ) -> EventOutcome:
        """Apply one diff message (absolute sizes; 0 removes a level) with ids ``U=first_id``,
        ``u=last_id`` and ``pu=prev_id``; return what happened to it."""
        if self._rule is SequenceRule.BINANCE_SPOT and first_id is None:
            raise ValidationError("first_id (U) is required by the binance_spot rule")
        if self._rule is SequenceRule.BINANCE_FUTURES and (first_id is None or prev_id is None):
            raise ValidationError("first_id (U) and prev_id (pu) are required by the binance_futures rule")
        b = _as_levels("bids", bids)
        a = _as_levels("asks", asks)
        n = max(len(b) + len(a), 1)
        side = np.concatenate([np.ones(len(b), np.int8), -np.ones(len(a), np.int8)])
        price = np.concatenate([b[:, 0], a[:, 0]])
        size = np.concatenate([b[:, 1], a[:, 1]])
        if len(side) == 0:  # a message with no levels still advances the ids
            side, price, size = np.zeros(1, np.int8), np.zeros(1), np.zeros(1)
        event = {
            "ts": np.full(n, int(ts), np.int64),
            "side": side,
            "price": price,
            "size": size,
            "seq": np.full(n, int(last_id), np.int64),
            "first_seq": np.full(n, int(last_id if first_id is None else first_id), np.int64),
            "prev_seq": np.full(n, int(-1 if prev_id is None else prev_id), np.int64),
            "is_snap": np.zeros(n, np.bool_),
        }
        if self._rule is not SequenceRule.NONE:
            self._pending.append(event)
        out = self._run(top_n=0, **event)  # type: ignore[arg-type]
        return EventOutcome(int(out[3][-1]))

    def replay(self, deltas: pl.DataFrame, *, top_n: int = 0, time_column: str = "ts_recv") -> BookReplay:
        """Apply a stream of ``book_deltas`` rows (one instrument) in one kernel call.

        Parameters
        ----------
        deltas
            Rows in the canonical ``book_deltas`` schema, in arrival order. The
            Binance rules also need ``first_sequence`` (``U``) and, for
            futures, ``prev_sequence`` (``pu``), as the ``binance-ws`` importer
            writes them. Rows with ``side == 0`` carry ids only.
        top_n
            Also record the best ``top_n`` levels after each message.
        time_column
            The time stamped on each output row (``ts_recv`` or ``ts_event``).

        Returns
        -------
        BookReplay
            The book after every message, and counts of gaps and drops.
        """
        if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 0:
            raise ValidationError(f"top_n={top_n!r} must be an int >= 0")
        arrays = _delta_arrays(deltas, self._rule, time_column)
        before = self._st.copy()
        _check_levels(arrays["side"], arrays["price"], arrays["size"])
        grid = self._run_grid(arrays) if top_n == 0 else None
        if grid is None:
            ts_o, seq_o, book_id_o, status_o, valid_o, bbo, top = self._run(top_n=top_n, **arrays)  # type: ignore[arg-type]
            first_o = arrays["first_seq"][self._last_starts[:-1]]
        else:
            ts_o, seq_o, first_o, book_id_o, status_o, valid_o, bbo = grid
            top = np.empty((len(ts_o), 4, 0))
        frame = pl.DataFrame(
            {
                "ts": ts_o,
                "sequence": seq_o,
                "first_sequence": first_o,
                "book_id": book_id_o,
                "outcome": status_o,
                "valid": valid_o,
                "bid": bbo[:, 0],
                "bid_size": bbo[:, 1],
                "ask": bbo[:, 2],
                "ask_size": bbo[:, 3],
            }
        ).with_columns(pl.col("bid", "bid_size", "ask", "ask_size").fill_nan(None))
        diff = self._st - before
        return BookReplay(
            frame=frame,
            top=None
            if top_n == 0
            else TopLevels(
                bid_prices=top[:, 0, :],
                bid_sizes=top[:, 1, :],
                ask_prices=top[:, 2, :],
                ask_sizes=top[:, 3, :],
            ),
            events=len(ts_o),
            rows=len(arrays["side"]),
            snapshots=int(diff[k.ST_SNAPSHOTS]),
            applied=int(diff[k.ST_APPLIED]),
            stale=int(diff[k.ST_STALE]),
            unsynced=int(diff[k.ST_UNSYNCED]),
            gaps=int(diff[k.ST_GAPS]),
            buffered=int(diff[k.ST_BUFFERED]),
            uncrossed_levels=int(diff[k.ST_UNCROSSED]),
        )

    def _run(
        self,
        *,
        top_n: int,
        start_event: int = 0,
        ts: np.ndarray,
        side: np.ndarray,
        price: np.ndarray,
        size: np.ndarray,
        seq: np.ndarray,
        first_seq: np.ndarray,
        prev_seq: np.ndarray,
        is_snap: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, FloatArray, FloatArray]:
        starts = k.event_starts(seq, is_snap, ts)
        n_ev = len(starts) - 1
        out_ts = np.empty(n_ev, np.int64)
        out_seq = np.empty(n_ev, np.int64)
        out_book_id = np.empty(n_ev, np.int64)
        out_status = np.empty(n_ev, np.int8)
        out_valid = np.empty(n_ev, np.bool_)
        out_bbo = np.empty((n_ev, 4), np.float64)
        out_top = np.empty((n_ev, 4, top_n), np.float64)
        done = start_event
        while True:
            done = k.replay(  # type: ignore[call-arg]
                *self._book.arrays(),  # type: ignore[arg-type]
                self._st,
                self._rule.code,
                ts,
                side,
                price,
                size,
                seq,
                first_seq,
                prev_seq,
                is_snap,
                starts,
                done,
                out_ts,
                out_seq,
                out_book_id,
                out_status,
                out_valid,
                out_bbo,
                top_n,
                out_top,
            )
            if done >= n_ev:
                break
            self._grow(int(self._st[k.ST_NEED]))
        self._last_starts = starts
        return out_ts, out_seq, out_book_id, out_status, out_valid, out_bbo, out_top

    def _run_grid(
        self, arrays: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, FloatArray] | None:
        """Replay from an empty book on a tick grid (:func:`spreadlab.kernels.orderbook_grid.replay_grid`).

        Return ``None`` (nothing changed) when the book is not empty or the
        grid cannot hold the stream exactly; the caller then uses :meth:`_run`.
        """
        if self._book.levels(0) or self._book.levels(1):
            return None
        side, price = arrays["side"], arrays["price"]
        head = slice(0, 8 * _GRID_SAMPLE)  # enough rows to hold the sample, most of the time
        sample = price[head][side[head] != 0][:_GRID_SAMPLE]
        if len(sample) < _GRID_SAMPLE:
            sample = price[side != 0][:_GRID_SAMPLE]
        sample = sample[np.isfinite(sample) & (sample > 0.0)]
        ticks = np.diff(np.unique(sample))
        if len(ticks) == 0:
            return None
        tick = float(ticks.min())
        n = len(side)
        starts = np.empty(n + 1, np.int64)
        for overflow in (kg.GRID_OVERFLOW, kg.GRID_OVERFLOW_MAX):  # far levels of a deep book: more room
            st = self._st.copy()
            g = kg.new_grid(_GRID_WINDOW, overflow)
            # outputs sized for ~16 rows a message, grown when a stream has more messages: never
            # touching (page-faulting) memory for one entry per row
            out = _event_outputs(min(n, n // 16 + 1024))
            e = row = 0
            while True:
                done = kg.replay_grid(  # type: ignore[call-arg]
                    *g,  # type: ignore[arg-type]
                    float(np.median(sample)),
                    tick,
                    st,
                    self._rule.code,
                    arrays["ts"],
                    side,
                    price,
                    arrays["size"],
                    arrays["seq"],
                    arrays["first_seq"],
                    arrays["prev_seq"],
                    arrays["is_snap"],
                    starts,
                    e,
                    row,
                    *out,
                )
                if done != kg.GRID_ROOM:
                    break
                e, row = len(out[0]), int(st[k.ST_NEED])
                grown = _event_outputs(min(n, 2 * e))
                for new, old in zip(grown, out, strict=True):
                    new[:e] = old
                out = grown
            if done != kg.GRID_FULL:
                break
        if done < 0:
            return None
        self._grid = g  # moved into the block book only when a later call needs it
        self._st[:] = st
        self._last_starts = starts[: done + 1].copy()
        return tuple(a[:done] for a in out)  # type: ignore[return-value]

    def _grow(self, need: int) -> None:
        self._book.grow(need)

    # ------------------------------------------------------------------ queries

    def _require_valid(self) -> None:
        if not self.is_valid:
            raise DataError(
                f"the book of {self.instrument_id or 'this instrument'} is not synchronised "
                f"({self.gaps} gap(s) seen; waiting for a snapshot)"
            )

    def _require_mid(self) -> float:
        self._require_valid()
        mid = self.mid
        if mid is None:
            raise DataError(f"the book of {self.instrument_id or 'this instrument'} has an empty side")
        return mid

    def depth(self, bp: float) -> Depth:
        """Return the resting size within ``bp`` basis points of the mid on each side.

        Examples
        --------
        >>> book = OrderBook()
        >>> _ = book.apply_snapshot(bids=[(99.0, 1.0), (98.0, 5.0)], asks=[(101.0, 2.0), (103.0, 1.0)])
        >>> d = book.depth(250.0)  # mid 100: bids >= 97.5, asks <= 102.5
        >>> d.bid_size, d.ask_size
        (6.0, 2.0)
        """
        require_positive("bp", bp)
        mid = self._require_mid()
        lo = mid * (1.0 - bp / 1e4)
        hi = mid * (1.0 + bp / 1e4)
        bk, bsz = self._book.flat(0)
        ak, asz = self._book.flat(1)
        bid_sz = kq.side_depth(bk, bsz, len(bk), lo)
        ask_sz = kq.side_depth(ak, asz, len(ak), -hi)
        bp_, bs = self.bids()
        ap, as_ = self.asks()
        bmask, amask = bp_ >= lo, ap <= hi
        return Depth(
            bp=float(bp),
            bid_size=float(bid_sz),
            ask_size=float(ask_sz),
            bid_notional=float(np.dot(bp_[bmask], bs[bmask])),
            ask_notional=float(np.dot(ap[amask], as_[amask])),
        )

    def impact(self, side: Side, size: float) -> Impact:
        """Return the VWAP and price impact of a market order of ``size`` on ``side``.

        A BUY walks the asks, a SELL the bids.

        Examples
        --------
        >>> book = OrderBook()
        >>> _ = book.apply_snapshot(bids=[(99.0, 1.0)], asks=[(101.0, 1.0), (102.0, 3.0)])
        >>> imp = book.impact(Side.BUY, 2.0)
        >>> imp.vwap, imp.worst_price, round(imp.impact_bp, 6)
        (101.5, 102.0, 150.0)
        """
        if not isinstance(side, Side):
            raise ValidationError(f"side={side!r} must be a Side")
        require_positive("size", size)
        mid = self._require_mid()
        if side is Side.BUY:
            keys, sizes = self._book.flat(1)
            filled, notional, last, used = kq.side_walk(keys, sizes, len(keys), size)
        else:
            keys, sizes = self._book.flat(0)
            filled, notional, last, used = kq.side_walk(keys, sizes, len(keys), size)
        vwap = notional / filled if filled > 0 else math.nan
        impact_bp = side.sign * (vwap / mid - 1.0) * 1e4
        return Impact(
            side=side,
            requested=float(size),
            filled=float(filled),
            vwap=float(vwap),
            worst_price=float(last),
            levels=int(used),
            mid=mid,
            impact_bp=float(impact_bp),
            complete=bool(filled >= size * (1.0 - 1e-12)),
        )

    def imbalance(self, levels: Sequence[int] = (1, 5, 10)) -> tuple[float, ...]:
        """Return ``(B_k - A_k) / (B_k + A_k)`` over the best ``k`` levels for each ``k``.

        Examples
        --------
        >>> book = OrderBook()
        >>> _ = book.apply_snapshot(bids=[(99.0, 3.0), (98.0, 1.0)], asks=[(101.0, 1.0), (102.0, 1.0)])
        >>> book.imbalance((1, 2))
        (0.5, 0.3333333333333333)
        """
        self._require_mid()
        _, bsz = self._book.flat(0)
        _, asz = self._book.flat(1)
        out = []
        for lv in levels:
            if isinstance(lv, bool) or not isinstance(lv, int) or lv < 1:
                raise ValidationError(f"levels entry {lv!r} must be an int >= 1")
            b = kq.side_top_sum(bsz, len(bsz), lv)
            a = kq.side_top_sum(asz, len(asz), lv)
            out.append(float((b - a) / (b + a)))
        return tuple(out)

    def microprice(self) -> float:
        """Return the size-weighted mid ``(bid * ask_size + ask * bid_size) / (bid_size + ask_size)``.

        Examples
        --------
        >>> book = OrderBook()
        >>> _ = book.apply_snapshot(bids=[(99.0, 3.0)], asks=[(101.0, 1.0)])
        >>> book.microprice()
        100.5
        """
        self._require_mid()
        b, bs = self._book.best(0) or (math.nan, math.nan)
        a, as_ = self._book.best(1) or (math.nan, math.nan)
        a = -a
        return (b * as_ + a * bs) / (bs + as_)
