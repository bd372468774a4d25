"""Tick-grid fast path of the order-book replay (same results as :func:`spreadlab.kernels.orderbook.replay`).

Each side is a dense array over a window of ``W`` grid slots; levels outside
the window sit in a small overflow list. An update is O(1); the best slot is
tracked incrementally. Whenever the grid cannot reproduce the block book
exactly (two prices in one slot, an overflow list full) the replay returns
:data:`GRID_ABORT` or :data:`GRID_FULL` and the caller replays again (with a
larger overflow list, or with the block-book kernel). The
plain-Python twin is :func:`spreadlab.kernels.orderbook.replay_py`.

Message boundaries (where ``seq``, ``is_snap`` or ``ts`` changes, as in
:func:`spreadlab.kernels.orderbook.event_starts`) are found in the same pass
as the updates, so the ids are read once. Rows are not validated here: the
caller checks side, price and size first (a one-pass kernel).

Speed notes: one copy of the row loop sits inside the message loop (no call
per message), and no numba function taking arrays is inlined at the numba
level in the per-message path (numba wraps such an inlined call in atomic
reference counting of every array argument, which cost more than the book
updates on short messages).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray, IntArray
from spreadlab.kernels.orderbook import (
    EV_APPLIED,
    EV_GAP,
    EV_SNAPSHOT,
    EV_STALE,
    EV_UNSYNCED,
    RULE_BINANCE_SPOT,
    RULE_NONE,
    ST_APPLIED,
    ST_BUFFERED,
    ST_GAPS,
    ST_LAST,
    ST_NASK,
    ST_NBID,
    ST_NEED,
    ST_SNAPSHOTS,
    ST_STALE,
    ST_STATUS,
    ST_UNCROSSED,
    ST_UNSYNCED,
    STATUS_AWAITING,
    STATUS_SYNCED,
    STATUS_UNSYNCED,
    _check_sequence,
)

__all__ = [
    "GRID_ABORT",
    "GRID_FULL",
    "GRID_OVERFLOW",
    "GRID_OVERFLOW_MAX",
    "grid_levels",
    "new_grid",
    "replay_grid",
]

# --------------------------------------------------------------------------- tick-grid replay
#
# A faster bulk replay for the common case (an empty book, no top-N output):
# each side is a dense array over a window of ``W`` grid slots, slot
# ``floor((price - p0) / tick + 1/2) + W/2`` (mirrored for asks so that the
# best level is the highest slot of either side), holding the level's exact
# float price and size (0 = empty); levels outside the window sit in a small
# unsorted overflow list per side. An update is O(1); the best slot is tracked
# incrementally (a scan down to the next occupied slot when the best level
# goes). The slot map is monotone in price, so slot order is price order
# whatever ``tick`` is; two distinct prices falling in one slot (a finer tick
# than guessed), or an overflow list filling up, aborts the replay (return
# -1) and the caller replays with :func:`replay` instead, so the results are
# always those of :func:`replay`.

GRID_OVERFLOW = 256
"""Levels per side allowed outside the tick window before the grid replay gives up."""

GRID_OVERFLOW_MAX = 8192
"""Overflow capacity of the retry after an overflow list filled up (deep books with far-away levels)."""

GRID_ABORT = -1
""":func:`replay_grid` result: two prices fell in one slot (replay with the block book)."""

GRID_ROOM = -3
""":func:`replay_grid` result: outputs full; resume at event ``len(out_ts)``, row ``st[ST_NEED]``."""

GRID_FULL = -2
""":func:`replay_grid` result: an overflow list filled up (retry with more room, or the block book)."""


@njit(cache=True, nogil=True)
def _grid_clear(gz: FloatArray, gb: IntArray, obk: FloatArray, s: int) -> None:
    """Empty side ``s`` of a grid book.

    ``gb[s] = (best slot, levels in the window, lowest and highest slot
    touched since the last clear, levels in the overflow list, crossed)``
    (``gb[0, 5]``: the book may be crossed or locked, see :func:`replay_grid`). Only the
    slots between the lowest and highest touched are initialised (the grid
    is allocated uninitialised); a slot outside them holds no level, and
    the gap is zeroed when a level first lands there.
    """
    if gb[s, 2] <= gb[s, 3]:
        for q in range(gb[s, 2], gb[s, 3] + 1):
            gz[s, q, 0] = 0.0
    gb[s, 0] = -1
    gb[s, 1] = 0
    gb[s, 2] = gz.shape[1]
    gb[s, 3] = -1
    gb[s, 4] = 0
    gb[0, 5] = 0
    obk[s] = -np.inf


@njit(cache=True, nogil=True)
def _grid_crossed(gz: FloatArray, gb: IntArray, ok: FloatArray, osz: FloatArray, obk: FloatArray) -> int:
    """1 if the best bid is at or above the best ask (both sides non-empty), else 0."""
    bid = _grid_best(gz, gb, ok, osz, obk, 0)[0]
    ask = _grid_best(gz, gb, ok, osz, obk, 1)[0]
    return 1 if bid >= -ask else 0  # False when either is NaN


@njit(cache=True, nogil=True)
def _grid_best(
    gz: FloatArray, gb: IntArray, ok: FloatArray, osz: FloatArray, obk: FloatArray, s: int
) -> tuple[float, float]:
    """Best ``(key, size)`` of side ``s`` (key NaN when the side is empty)."""
    sign = 1.0 if s == 0 else -1.0
    bk = np.nan
    bs = np.nan
    if gb[s, 1] > 0:
        q = gb[s, 0]
        bk = sign * gz[s, q, 1]
        bs = gz[s, q, 0]
    for i in range(gb[s, 4]):
        if not ok[s, i] <= bk:  # also true while bk is NaN
            bk = ok[s, i]
            bs = osz[s, i]
    return bk, bs


@njit(cache=True, nogil=True)
def grid_levels(
    gz: FloatArray, gb: IntArray, ok: FloatArray, osz: FloatArray, obk: FloatArray, s: int
) -> tuple[FloatArray, FloatArray]:
    """Return the levels of side ``s`` of a grid book as ``(keys, sizes)`` (any order)."""
    n = gb[s, 1] + gb[s, 4]
    keys = np.empty(n, dtype=np.float64)
    sizes = np.empty(n, dtype=np.float64)
    sign = 1.0 if s == 0 else -1.0
    m = 0
    for q in range(gb[s, 2], gb[s, 3] + 1):
        if gz[s, q, 0] > 0.0:
            keys[m] = sign * gz[s, q, 1]
            sizes[m] = gz[s, q, 0]
            m += 1
    for i in range(gb[s, 4]):
        keys[m] = ok[s, i]
        sizes[m] = osz[s, i]
        m += 1
    return keys, sizes


@njit(cache=True, nogil=True)
def _emit_best(
    gz: FloatArray,
    gb: IntArray,
    ok: FloatArray,
    osz: FloatArray,
    obk: FloatArray,
    s: int,
    valid: bool,
    out_bbo: FloatArray,
    e: int,
) -> None:
    """Write side ``s``'s best ``(price, size)`` to ``out_bbo[e]`` (NaN when empty or invalid)."""
    k, z = _grid_best(gz, gb, ok, osz, obk, s)
    c = 2 * s
    if valid and not np.isnan(k):
        out_bbo[e, c] = k if s == 0 else -k
        out_bbo[e, c + 1] = z
    else:
        out_bbo[e, c] = np.nan
        out_bbo[e, c + 1] = np.nan


def new_grid(window: int, overflow: int = GRID_OVERFLOW) -> tuple[np.ndarray, ...]:
    """Return an empty grid book ``(gz, gb, ok, osz, obk)``: ``window`` slots, ``overflow`` far levels."""
    gz = np.empty((2, window, 2), dtype=np.float64)  # slots are zeroed when first reached
    gb = np.zeros((2, 6), dtype=np.int64)
    gb[:, 0] = -1
    gb[:, 1] = 0
    gb[:, 2] = window
    gb[:, 3] = -1
    gb[:, 4] = 0
    ok = np.empty((2, overflow), dtype=np.float64)
    osz = np.empty((2, overflow), dtype=np.float64)
    obk = np.full(2, -np.inf)
    return gz, gb, ok, osz, obk


@njit(cache=True, nogil=True)
def replay_grid(
    gz: FloatArray,
    gb: IntArray,
    ok: FloatArray,
    osz: FloatArray,
    obk: FloatArray,
    p0: float,
    tick: float,
    st: IntArray,
    rule: int,
    ts: IntArray,
    side: np.ndarray,
    price: FloatArray,
    size: FloatArray,
    seq: IntArray,
    first_seq: IntArray,
    prev_seq: IntArray,
    is_snap: np.ndarray,
    starts: IntArray,
    e0: int,
    row0: int,
    out_ts: IntArray,
    out_seq: IntArray,
    out_first: IntArray,
    out_book_id: IntArray,
    out_status: np.ndarray,
    out_valid: np.ndarray,
    out_bbo: FloatArray,
) -> int:
    """:func:`replay` from an empty book on a grid book (see :func:`new_grid`), without top-N output.

    Its plain-Python twin is :func:`replay_py` (``top_n=0``), as for :func:`replay`.

    ``starts`` (length ``len(seq) + 1``) receives the first row of each event
    and a final sentinel, as :func:`event_starts` returns them; the ``out_*``
    arrays one entry per event, ``out_first`` the event's ``first_seq``.
    Events are taken from event ``e0`` starting at row ``row0`` (0, 0 for a
    new replay); when the outputs fill up the call returns :data:`GRID_ROOM`
    and can be resumed with larger outputs (their first entries copied).

    Uncrossing: a book that is not crossed or locked stays so under the
    uncrossing rule, and then only a level that becomes the best of its side
    (or one in the overflow list) can reach the far side, so only those rows
    look at it. A snapshot may itself be crossed (``gb[0, 5]`` set after
    loading it): until the book is clean again every new level checks, as
    the block book does.

    Return the number of events, or :data:`GRID_ABORT` / :data:`GRID_FULL`
    if the grid cannot hold the stream exactly (then ``st`` and the outputs
    are partial: replay again).
    """
    n = seq.shape[0]
    inv_tick = 1.0 / tick
    w = gz.shape[1]
    half = w // 2
    cap = ok.shape[1]
    room = out_ts.shape[0]
    e = e0
    r0 = row0
    while r0 < n:
        if e == room:  # out of room: the caller grows the outputs and resumes here
            st[ST_NEED] = r0
            return GRID_ROOM
        u = seq[r0]
        sn = is_snap[r0]
        t = ts[r0]
        r1 = r0 + 1
        while r1 < n and seq[r1] == u and is_snap[r1] == sn and ts[r1] == t:
            r1 += 1
        starts[e] = r0
        # What this message applies, in order: a snapshot's levels then the diffs received before it
        # that it does not cover (buffered), or the message itself. One copy of the row loop below
        # serves all three (``mode``: 1 snapshot levels, 2 a buffered diff, 3 the diff; 0 nothing).
        a0 = 0
        a1 = 0
        mode = 0
        nxt = e  # the next buffered message to consider
        if sn:
            if rule != RULE_NONE:
                while nxt > 0:
                    q = starts[nxt - 1]
                    if is_snap[q]:
                        break
                    if seq[q] < u or (rule == RULE_BINANCE_SPOT and seq[q] == u):
                        break
                    nxt -= 1
            _grid_clear(gz, gb, obk, 0)
            _grid_clear(gz, gb, obk, 1)
            a0, a1, mode = r0, r1, 1
            outcome = EV_SNAPSHOT
        else:
            outcome = _check_sequence(st[ST_STATUS], st[ST_LAST], rule, first_seq[r0], u, prev_seq[r0])
            if outcome == EV_APPLIED:
                a0, a1, mode = r0, r1, 3
            elif outcome == EV_STALE:
                st[ST_STALE] += 1
            elif outcome == EV_UNSYNCED:
                st[ST_UNSYNCED] += 1
            else:
                st[ST_GAPS] += 1
                st[ST_STATUS] = STATUS_UNSYNCED
                _grid_clear(gz, gb, obk, 0)
                _grid_clear(gz, gb, obk, 1)
        while mode != 0:
            snap = mode == 1
            check_all = gb[0, 5] != 0  # a crossed snapshot: every new level uncrosses until the book is clean
            for r in range(a0, a1):
                sd = side[r]
                if sd == 0:
                    continue
                sz = size[r]
                if snap and sz <= 0.0:
                    continue
                px = price[r]
                f = (px - p0) * inv_tick + 0.5 + half
                crossable = False  # a new best level of its side, or a far one (see the docstring)
                if sd > 0:
                    s = 0
                    key = px
                else:
                    s = 1
                    key = -px
                    f = w - f + 1.0  # mirrored: slot w - 1 - idx
                if f >= 0.0 and f < w:
                    q = int(f)  # f >= 0 here: truncation is the floor
                    lo = gb[s, 2]
                    hi = gb[s, 3]
                    if q < lo or q > hi:  # outside the initialised slots ``lo..hi``: no level there
                        if sz <= 0.0:
                            continue
                        if hi < lo:
                            lo = q
                            hi = q
                        elif q < lo:
                            hi = lo - 1
                            lo = q
                        else:
                            lo = hi + 1
                            hi = q
                        for z in range(lo, hi + 1):
                            gz[s, z, 0] = 0.0
                        gb[s, 2] = min(gb[s, 2], q)
                        gb[s, 3] = max(gb[s, 3], q)
                    cur = gz[s, q, 0]
                    if cur > 0.0 and gz[s, q, 1] != px:
                        if sz > 0.0:
                            return GRID_ABORT  # two prices in one slot: the tick guess was wrong
                        continue  # removing a level that is not there
                    if sz > 0.0:
                        if cur == 0.0:
                            gz[s, q, 1] = px
                            gb[s, 1] += 1
                            if q > gb[s, 0]:
                                gb[s, 0] = q
                                crossable = True
                        gz[s, q, 0] = sz
                    elif cur > 0.0:
                        gz[s, q, 0] = 0.0
                        gb[s, 1] -= 1
                        if q == gb[s, 0]:
                            if gb[s, 1] == 0:
                                gb[s, 0] = -1
                            else:
                                b = q - 1
                                while gz[s, b, 0] == 0.0:
                                    b -= 1
                                gb[s, 0] = b
                else:
                    crossable = True
                    m = gb[s, 4]
                    i = 0
                    while i < m and ok[s, i] != key:
                        i += 1
                    if i < m:
                        if sz > 0.0:
                            osz[s, i] = sz
                        else:
                            m -= 1
                            ok[s, i] = ok[s, m]
                            osz[s, i] = osz[s, m]
                            gb[s, 4] = m
                            if key == obk[s]:
                                top = -np.inf
                                for i in range(m):
                                    top = max(top, ok[s, i])
                                obk[s] = top
                    elif sz > 0.0:
                        if m == cap:
                            return GRID_FULL
                        ok[s, m] = key
                        osz[s, m] = sz
                        gb[s, 4] = m + 1
                        obk[s] = max(obk[s], key)
                if snap or sz <= 0.0 or not (crossable or check_all):
                    continue
                # ---- uncross: the far side's levels at or through the new level go
                o = 1 - s
                while gb[o, 1] > 0:
                    b = gb[o, 0]
                    if -(gz[o, b, 1] if o == 0 else -gz[o, b, 1]) > key:
                        break
                    gz[o, b, 0] = 0.0
                    gb[o, 1] -= 1
                    st[ST_UNCROSSED] += 1
                    if gb[o, 1] == 0:
                        gb[o, 0] = -1
                    else:
                        b -= 1
                        while gz[o, b, 0] == 0.0:
                            b -= 1
                        gb[o, 0] = b
                m = gb[o, 4]
                if m > 0 and -obk[o] <= key:  # ``obk``: the largest overflow key of each side
                    top = -np.inf
                    i = 0
                    while i < m:
                        if -ok[o, i] <= key:
                            m -= 1
                            ok[o, i] = ok[o, m]
                            osz[o, i] = osz[o, m]
                            st[ST_UNCROSSED] += 1
                        else:
                            top = max(top, ok[o, i])
                            i += 1
                    gb[o, 4] = m
                    obk[o] = top
            if snap:
                gb[0, 5] = _grid_crossed(gz, gb, ok, osz, obk)  # a venue snapshot is not, a bad one may be
                st[ST_SNAPSHOTS] += 1
                st[ST_LAST] = u
                st[ST_STATUS] = STATUS_SYNCED if rule == RULE_NONE else STATUS_AWAITING
            else:
                if gb[0, 5] != 0:  # is the book clean again?
                    gb[0, 5] = _grid_crossed(gz, gb, ok, osz, obk)
                st[ST_LAST] = seq[a0]
                st[ST_STATUS] = STATUS_SYNCED
                if mode == 2:
                    st[ST_BUFFERED] += 1
                else:
                    st[ST_APPLIED] += 1
            mode = 0
            while sn and nxt < e:  # the next buffered diff that applies on top of the snapshot
                q0 = starts[nxt]
                q1 = starts[nxt + 1]
                nxt += 1
                res = _check_sequence(st[ST_STATUS], st[ST_LAST], rule, first_seq[q0], seq[q0], prev_seq[q0])
                if res == EV_APPLIED:
                    a0, a1, mode = q0, q1, 2
                    break
                if res == EV_GAP:
                    st[ST_GAPS] += 1
                    st[ST_STATUS] = STATUS_UNSYNCED
                    _grid_clear(gz, gb, obk, 0)
                    _grid_clear(gz, gb, obk, 1)
                    break
        valid = st[ST_STATUS] != STATUS_UNSYNCED
        out_ts[e] = t
        out_seq[e] = u
        out_first[e] = first_seq[r0]
        out_book_id[e] = st[ST_LAST] if valid else -1
        out_status[e] = outcome
        out_valid[e] = valid
        # the common case inline: the best level is in the window, above any overflow level
        q = gb[0, 0]
        if valid and gb[0, 1] > 0 and (gb[0, 4] == 0 or gz[0, q, 1] > obk[0]):
            out_bbo[e, 0] = gz[0, q, 1]
            out_bbo[e, 1] = gz[0, q, 0]
        else:
            _emit_best(gz, gb, ok, osz, obk, 0, valid, out_bbo, e)
        q = gb[1, 0]
        if valid and gb[1, 1] > 0 and (gb[1, 4] == 0 or -gz[1, q, 1] > obk[1]):
            out_bbo[e, 2] = gz[1, q, 1]
            out_bbo[e, 3] = gz[1, q, 0]
        else:
            _emit_best(gz, gb, ok, osz, obk, 1, valid, out_bbo, e)
        e += 1
        r0 = r1
    starts[e] = n
    st[ST_NBID] = gb[0, 1] + gb[0, 4]
    st[ST_NASK] = gb[1, 1] + gb[1, 4]
    st[ST_NEED] = 0
    return e
