"""Order-book kernels: array price levels, sequenced replay of deltas, book queries.

Layout
------
Each side of the book is a sequence of levels sorted by *ascending* key with
the best level last. The key of a bid is its price, the key of an ask is
minus its price, so one set of routines serves both sides. The sequence is
cut into blocks of at most ``BLOCK`` levels (a two-level B-tree): a
directory lists the blocks in key order with each block's largest key. A
level is found by two branch-free counts (``sum(dmax < key)`` over the
directory, then ``sum(K < key)`` inside the block; both vectorise), O(n / B +
B); inserting or deleting shifts at most ``BLOCK`` entries inside one block
(a full block splits in two, an emptied block is freed), so updates deep in
a 1000-level book cost no more than updates at the top. The best level is
the last entry of the last block: O(1). No tick size is needed: keys are
the venue's float prices, compared exactly.

Deltas
------
One row per level change: ``side`` (+1 bid, -1 ask, 0 = a sequence-only
marker of a message that changed no level), ``price``, ``size`` (absolute; 0
removes the level), the message's update ids ``seq`` (Binance ``u``,
``lastUpdateId`` for a snapshot), ``first_seq`` (``U``) and ``prev_seq``
(``pu``), and ``is_snap``. Rows of one message share ``seq``, ``is_snap`` and
``ts``; a message (an *event*) starts where any of the three changes.

A snapshot event clears both sides and loads its levels (zero sizes skipped,
duplicate prices: the last row wins).

Uncrossing rule (latest message wins): setting a bid at price ``p`` with a
positive size removes every ask at or below ``p``; setting an ask at ``p``
removes every bid at or above ``p``. A venue's matching engine never leaves
the book crossed, so a level on the far side of a new order has been taken;
if a message's final state is uncrossed (every venue message's is) this rule
reproduces it exactly whatever the order of rows within the message, and the
book is never crossed or locked after any delta.

Sequence rules (``rule``)
-------------------------
* ``RULE_NONE`` (0): no ids; the book is valid from the start.
* ``RULE_BINANCE_SPOT`` (1): after a snapshot ``L``, drop events with
  ``u <= L``; the first applied event must have ``U <= L + 1 <= u``; after that
  each event must have ``U == previous u + 1``.
* ``RULE_BINANCE_FUTURES`` (2): after a snapshot ``L``, drop events with
  ``u < L``; the first applied event must have ``U <= L <= u``; after that each
  event must have ``pu == previous u``.

Any other event is a gap: the book is cleared and marked unsynchronised, and
diffs are dropped until the next snapshot (never a wrong book). Events with
``u`` at or below the last applied ``u`` are duplicates and are dropped.

State vector ``st`` (int64): see the ``ST_*`` constants.

Fast path
---------
:func:`spreadlab.kernels.orderbook_grid.replay_grid` gives the same results
as :func:`replay` from an empty book without top-N output, on a dense tick
grid (O(1) per level update). It gives up (a negative code) rather than
differ: the caller then retries with a larger overflow list or runs
:func:`replay`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray, IntArray

__all__ = [
    "BLOCK",
    "EV_APPLIED",
    "EV_GAP",
    "EV_SNAPSHOT",
    "EV_STALE",
    "EV_UNSYNCED",
    "RULE_BINANCE_FUTURES",
    "RULE_BINANCE_SPOT",
    "RULE_NONE",
    "STATUS_AWAITING",
    "STATUS_SYNCED",
    "STATUS_UNSYNCED",
    "ST_APPLIED",
    "ST_BUFFERED",
    "ST_GAPS",
    "ST_LAST",
    "ST_NASK",
    "ST_NBID",
    "ST_NEED",
    "ST_SIZE",
    "ST_SNAPSHOTS",
    "ST_STALE",
    "ST_STATUS",
    "ST_UNCROSSED",
    "ST_UNSYNCED",
    "event_starts",
    "event_starts_py",
    "levels_valid",
    "levels_valid_py",
    "new_state",
    "new_storage",
    "replay",
    "replay_py",
    "side_flat",
    "side_reset",
]

RULE_NONE = 0
RULE_BINANCE_SPOT = 1
RULE_BINANCE_FUTURES = 2

STATUS_UNSYNCED = 0
STATUS_AWAITING = 1  # snapshot loaded, waiting for the first diff that bridges it
STATUS_SYNCED = 2

EV_APPLIED = 0
EV_SNAPSHOT = 1
EV_STALE = 2  # dropped: older than the book
EV_UNSYNCED = 3  # dropped: no valid book (waiting for a snapshot)
EV_GAP = 4  # a missing message was detected here; book cleared

ST_STATUS = 0
ST_LAST = 1  # last applied update id (the snapshot id while awaiting)
ST_NBID = 2
ST_NASK = 3
ST_GAPS = 4
ST_STALE = 5
ST_UNSYNCED = 6
ST_SNAPSHOTS = 7
ST_APPLIED = 8
ST_UNCROSSED = 9  # levels removed by the uncrossing rule
ST_NEED = 10  # capacity needed to resume after an early return
ST_BUFFERED = 11  # diffs re-applied from before a snapshot (snapshot buffering)
ST_SIZE = 12

BLOCK = 64
"""Levels per block of a side (a side is a sorted sequence of sorted blocks)."""


def new_state(rule: int) -> IntArray:
    """Return a fresh state vector for ``rule`` (synced at once for ``RULE_NONE``)."""
    st = np.zeros(ST_SIZE, dtype=np.int64)
    st[ST_STATUS] = STATUS_SYNCED if rule == RULE_NONE else STATUS_UNSYNCED
    st[ST_LAST] = -1
    return st


# --------------------------------------------------------------------------- storage
#
# Both sides live in stacked arrays indexed by ``s`` (0 = bids, 1 = asks):
# ``K[s, b, :]``/``S[s, b, :]`` keys and sizes of block ``b``, ``cnt[s, b]``
# its level count, ``dr[s, :]``/``dmax[s, :]`` the directory (block ids in key
# order and each block's largest key), ``free[s, :]`` unused block ids, and
# ``sc[s] = (levels, directory length, free blocks)``. The hot loop
# (:func:`_apply_rows`) is one function body: passing many arrays to a helper
# per row costs more than the update itself.


def new_storage(blocks: int) -> tuple[np.ndarray, ...]:
    """Return empty stacked storage ``(K, S, cnt, dr, dmax, free, sc)`` with ``blocks`` blocks per side."""
    K = np.empty((2, blocks, BLOCK), dtype=np.float64)
    S = np.empty((2, blocks, BLOCK), dtype=np.float64)
    cnt = np.zeros((2, blocks), dtype=np.int64)
    dr = np.zeros((2, blocks), dtype=np.int64)
    dmax = np.zeros((2, blocks), dtype=np.float64)
    free = np.zeros((2, blocks), dtype=np.int64)
    sc = np.zeros((2, 3), dtype=np.int64)
    for side in range(2):
        side_reset(cnt, free, sc, side)
    return K, S, cnt, dr, dmax, free, sc


@njit(cache=True, nogil=True)
def side_reset(cnt: IntArray, free: IntArray, sc: IntArray, s: int) -> None:
    """Empty side ``s``: every block back on the free list."""
    c = cnt.shape[1]
    for i in range(c):
        free[s, i] = c - 1 - i
        cnt[s, i] = 0
    sc[s, 0] = 0
    sc[s, 1] = 0
    sc[s, 2] = c


@njit(cache=True, nogil=True)
def _side_load(
    K: FloatArray,
    S: FloatArray,
    cnt: IntArray,
    dr: IntArray,
    dmax: FloatArray,
    free: IntArray,
    sc: IntArray,
    s: int,
    keys: FloatArray,
    sizes: FloatArray,
) -> None:
    """Replace side ``s`` by ``keys``/``sizes`` (any order; the last of equal keys wins)."""
    side_reset(cnt, free, sc, s)
    n = keys.shape[0]
    if n == 0:
        return
    order = np.argsort(keys, kind="mergesort")
    fill = BLOCK // 2
    blk = -1
    for i in range(n):
        o = order[i]
        if i + 1 < n and keys[order[i + 1]] == keys[o]:
            continue  # a later row with the same price wins
        if blk < 0 or cnt[s, blk] == fill:
            sc[s, 2] -= 1
            blk = free[s, sc[s, 2]]
            cnt[s, blk] = 0
            dr[s, sc[s, 1]] = blk
            sc[s, 1] += 1
        c = cnt[s, blk]
        K[s, blk, c] = keys[o]
        S[s, blk, c] = sizes[o]
        cnt[s, blk] = c + 1
        dmax[s, sc[s, 1] - 1] = keys[o]
        sc[s, 0] += 1


@njit(cache=True, nogil=True)
def side_flat(
    K: FloatArray, S: FloatArray, cnt: IntArray, dr: IntArray, sc: IntArray, s: int
) -> tuple[FloatArray, FloatArray]:
    """Return all levels of side ``s`` as flat ``(keys, sizes)`` sorted ascending (best last)."""
    n = sc[s, 0]
    keys = np.empty(n, dtype=np.float64)
    sizes = np.empty(n, dtype=np.float64)
    m = 0
    for j in range(sc[s, 1]):
        blk = dr[s, j]
        for t in range(cnt[s, blk]):
            keys[m] = K[s, blk, t]
            sizes[m] = S[s, blk, t]
            m += 1
    return keys, sizes


@njit(cache=True, nogil=True)
def _apply_rows(
    K: FloatArray,
    S: FloatArray,
    cnt: IntArray,
    dr: IntArray,
    dmax: FloatArray,
    free: IntArray,
    sc: IntArray,
    st: IntArray,
    side: np.ndarray,
    price: FloatArray,
    size: FloatArray,
    r0: int,
    r1: int,
) -> None:
    """Apply the level rows ``r0:r1`` of one diff with the uncrossing rule (see the module doc)."""
    half = BLOCK // 2
    for r in range(r0, r1):
        sd = side[r]
        if sd == 0:
            continue
        size_r = size[r]
        if sd > 0:
            s = 0
            key = price[r]
        else:
            s = 1
            key = -price[r]
        # ---- set level ``key`` of side ``s`` to ``size_r``
        nd = sc[s, 1]
        skip = False
        j = 0
        if nd == 0:
            if size_r <= 0.0:
                skip = True
            else:
                sc[s, 2] -= 1
                blk0 = free[s, sc[s, 2]]
                cnt[s, blk0] = 0
                dr[s, 0] = blk0
                dmax[s, 0] = key
                sc[s, 1] = 1
                nd = 1
        elif dmax[s, nd - 1] < key:
            j = nd - 1
        else:
            # branch-free count (vectorised): the first block whose max key is >= key
            c = 0
            for t in range(nd):
                c += dmax[s, t] < key
            j = c
        if not skip:
            blk = dr[s, j]
            n = cnt[s, blk]
            lo = 0
            for t in range(n):
                lo += K[s, blk, t] < key
            if lo < n and K[s, blk, lo] == key:
                if size_r > 0.0:
                    S[s, blk, lo] = size_r
                else:
                    for t in range(lo, n - 1):
                        K[s, blk, t] = K[s, blk, t + 1]
                        S[s, blk, t] = S[s, blk, t + 1]
                    n -= 1
                    cnt[s, blk] = n
                    sc[s, 0] -= 1
                    if n == 0:  # drop the block from the directory
                        nd = sc[s, 1]
                        for t in range(j, nd - 1):
                            dr[s, t] = dr[s, t + 1]
                            dmax[s, t] = dmax[s, t + 1]
                        sc[s, 1] = nd - 1
                        free[s, sc[s, 2]] = blk
                        sc[s, 2] += 1
                    else:
                        dmax[s, j] = K[s, blk, n - 1]
            elif size_r > 0.0:
                if n == BLOCK:  # split: the upper half moves to a new block right after this one
                    sc[s, 2] -= 1
                    nb = free[s, sc[s, 2]]
                    for t in range(half, BLOCK):
                        K[s, nb, t - half] = K[s, blk, t]
                        S[s, nb, t - half] = S[s, blk, t]
                    cnt[s, nb] = BLOCK - half
                    cnt[s, blk] = half
                    nd = sc[s, 1]
                    for t in range(nd, j + 1, -1):
                        dr[s, t] = dr[s, t - 1]
                        dmax[s, t] = dmax[s, t - 1]
                    dr[s, j + 1] = nb
                    dmax[s, j + 1] = K[s, nb, BLOCK - half - 1]
                    dmax[s, j] = K[s, blk, half - 1]
                    sc[s, 1] = nd + 1
                    if lo >= half:
                        blk = nb
                        j = j + 1
                        lo -= half
                    n = cnt[s, blk]
                for t in range(n, lo, -1):
                    K[s, blk, t] = K[s, blk, t - 1]
                    S[s, blk, t] = S[s, blk, t - 1]
                K[s, blk, lo] = key
                S[s, blk, lo] = size_r
                cnt[s, blk] = n + 1
                sc[s, 0] += 1
                if lo == n:
                    dmax[s, j] = key
        # ---- uncross: a new level removes the far side's levels at or through it
        if size_r > 0.0:
            o = 1 - s
            while sc[o, 1] > 0:
                jo = sc[o, 1] - 1
                bo = dr[o, jo]
                no = cnt[o, bo]
                if -K[o, bo, no - 1] > key:
                    break
                no -= 1
                cnt[o, bo] = no
                sc[o, 0] -= 1
                st[ST_UNCROSSED] += 1
                if no == 0:
                    sc[o, 1] = jo
                    free[o, sc[o, 2]] = bo
                    sc[o, 2] += 1
                else:
                    dmax[o, jo] = K[o, bo, no - 1]


@njit(cache=True, nogil=True)
def _best(
    K: FloatArray, S: FloatArray, cnt: IntArray, dr: IntArray, sc: IntArray, s: int
) -> tuple[float, float]:
    blk = dr[s, sc[s, 1] - 1]
    t = cnt[s, blk] - 1
    return K[s, blk, t], S[s, blk, t]


# --------------------------------------------------------------------------- events


@njit(cache=True, nogil=True)
def event_starts(seq: IntArray, is_snap: np.ndarray, ts: IntArray) -> IntArray:
    """Return the first row of each event plus a final sentinel ``len(seq)``."""
    n = seq.shape[0]
    out = np.empty(n + 1, dtype=np.int64)
    m = 0
    for i in range(n):
        if i == 0 or seq[i] != seq[i - 1] or is_snap[i] != is_snap[i - 1] or ts[i] != ts[i - 1]:
            out[m] = i
            m += 1
    out[m] = n
    return out[: m + 1].copy()


def event_starts_py(seq: IntArray, is_snap: np.ndarray, ts: IntArray) -> IntArray:
    """Plain-Python twin of :func:`event_starts`."""
    starts = [
        i
        for i in range(len(seq))
        if i == 0 or seq[i] != seq[i - 1] or is_snap[i] != is_snap[i - 1] or ts[i] != ts[i - 1]
    ]
    return np.array([*starts, len(seq)], dtype=np.int64)


@njit(cache=True, nogil=True)
def levels_valid(side: np.ndarray, price: FloatArray, size: FloatArray) -> bool:
    """Whether every row has side -1/0/+1 and every level row (side != 0) a finite price > 0 and size >= 0.

    One pass without early exit (so it vectorises); the caller finds the bad
    row only when this says False.
    """
    ok = True
    for i in range(side.shape[0]):
        sd = side[i]
        p = price[i]
        z = size[i]
        row_ok = (sd == 0) | (((sd == 1) | (sd == -1)) & (p > 0.0) & (p < np.inf) & (z >= 0.0) & (z < np.inf))
        ok &= row_ok
    return ok


def levels_valid_py(side: np.ndarray, price: FloatArray, size: FloatArray) -> bool:
    """Plain-Python twin of :func:`levels_valid`."""
    for sd, p, z in zip(side.tolist(), price.tolist(), size.tolist(), strict=True):
        if sd == 0:
            continue
        if sd not in (1, -1) or not (0.0 < p < float("inf")) or not (0.0 <= z < float("inf")):
            return False
    return True


@njit(cache=True, nogil=True)
def _check_sequence(status: int, book_id: int, rule: int, first: int, last: int, prev: int) -> int:
    """Apply the sequence rule to a diff event; return its EV_* outcome.

    ``status`` and ``book_id`` are ``st[ST_STATUS]`` and ``st[ST_LAST]``:
    scalars, so the call costs no reference counting of the state array.
    """
    if rule == RULE_NONE:
        return EV_APPLIED
    if status == STATUS_UNSYNCED:
        return EV_UNSYNCED
    if status == STATUS_AWAITING:
        if rule == RULE_BINANCE_SPOT:
            if last <= book_id:
                return EV_STALE
            if first <= book_id + 1:
                return EV_APPLIED
            return EV_GAP
        if last < book_id:
            return EV_STALE
        if first <= book_id:
            return EV_APPLIED
        return EV_GAP
    # synced
    if last <= book_id:
        return EV_STALE
    if rule == RULE_BINANCE_SPOT:
        return EV_APPLIED if first == book_id + 1 else EV_GAP
    return EV_APPLIED if prev == book_id else EV_GAP


@njit(cache=True, nogil=True)
def replay(
    K: FloatArray,
    S: FloatArray,
    cnt: IntArray,
    dr: IntArray,
    dmax: FloatArray,
    free: IntArray,
    sc: IntArray,
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
    out_ts: IntArray,
    out_seq: IntArray,
    out_book_id: IntArray,
    out_status: np.ndarray,
    out_valid: np.ndarray,
    out_bbo: FloatArray,
    top_n: int,
    out_top: FloatArray,
) -> int:
    """Apply events ``e0, e0+1, ...`` and record the book after each one.

    The book is the stacked storage of :func:`new_storage`.

    ``starts`` comes from :func:`event_starts`. ``out_bbo[e]`` holds
    ``(bid, bid_size, ask, ask_size)`` after event ``e`` (NaN where the side is
    empty or the book invalid); ``out_top[e]`` (shape ``(E, 4, top_n)``) holds
    bid prices, bid sizes, ask prices, ask sizes of the top ``top_n`` levels;
    ``out_book_id[e]`` is the update id the book is at after event ``e``.

    Snapshot buffering (Binance rules): a REST snapshot is usually received
    *after* some diffs that it does not yet contain, so on a snapshot ``L``
    the diffs just before it in the stream (back to the previous snapshot or
    to the first diff with ``u`` below ``L``) are re-applied on top of it in
    order, under the sequence rule, exactly as Binance's "buffer the stream,
    then fetch the snapshot" procedure prescribes.

    Return the number of events done; if it is short of ``len(starts) - 1``
    the sides ran out of blocks: ``st[ST_NEED]`` is the number of blocks needed.
    """
    n_events = starts.shape[0] - 1
    cap = cnt.shape[1]
    nan = np.nan
    for e in range(e0, n_events):
        r0 = starts[e]
        r1 = starts[e + 1]
        j = e
        if is_snap[r0]:
            # the diffs to re-apply: events j..e-1 (within this call)
            if rule != RULE_NONE:
                lid = seq[r0]
                while j > 0:
                    q = starts[j - 1]
                    if is_snap[q]:
                        break
                    if seq[q] < lid or (rule == RULE_BINANCE_SPOT and seq[q] == lid):
                        break
                    j -= 1
            need = (r1 - r0) // (BLOCK // 2) + 2 + (r0 - starts[j])
            short = need > cap
        else:
            need = cap + (r1 - r0)
            short = sc[0, 2] < r1 - r0 or sc[1, 2] < r1 - r0
        if short:
            st[ST_NEED] = need
            return e
        if is_snap[r0]:
            nb = 0
            na = 0
            for r in range(r0, r1):
                if size[r] > 0.0:
                    if side[r] > 0:
                        nb += 1
                    elif side[r] < 0:
                        na += 1
            bk = np.empty(nb, dtype=np.float64)
            bs = np.empty(nb, dtype=np.float64)
            ak = np.empty(na, dtype=np.float64)
            as_ = np.empty(na, dtype=np.float64)
            nb = 0
            na = 0
            for r in range(r0, r1):
                if size[r] > 0.0:
                    if side[r] > 0:
                        bk[nb] = price[r]
                        bs[nb] = size[r]
                        nb += 1
                    elif side[r] < 0:
                        ak[na] = -price[r]
                        as_[na] = size[r]
                        na += 1
            _side_load(K, S, cnt, dr, dmax, free, sc, 0, bk, bs)
            _side_load(K, S, cnt, dr, dmax, free, sc, 1, ak, as_)
            st[ST_SNAPSHOTS] += 1
            st[ST_LAST] = seq[r0]
            st[ST_STATUS] = STATUS_SYNCED if rule == RULE_NONE else STATUS_AWAITING
            outcome = EV_SNAPSHOT
            for b in range(j, e):
                q0 = starts[b]
                q1 = starts[b + 1]
                res = _check_sequence(st[ST_STATUS], st[ST_LAST], rule, first_seq[q0], seq[q0], prev_seq[q0])
                if res == EV_APPLIED:
                    _apply_rows(K, S, cnt, dr, dmax, free, sc, st, side, price, size, q0, q1)
                    st[ST_LAST] = seq[q0]
                    st[ST_STATUS] = STATUS_SYNCED
                    st[ST_BUFFERED] += 1
                elif res == EV_GAP:
                    st[ST_GAPS] += 1
                    st[ST_STATUS] = STATUS_UNSYNCED
                    side_reset(cnt, free, sc, 0)
                    side_reset(cnt, free, sc, 1)
                    break
        else:
            outcome = _check_sequence(st[ST_STATUS], st[ST_LAST], rule, first_seq[r0], seq[r0], prev_seq[r0])
            if outcome == EV_APPLIED:
                _apply_rows(K, S, cnt, dr, dmax, free, sc, st, side, price, size, r0, r1)
                st[ST_APPLIED] += 1
                st[ST_LAST] = seq[r0]
                st[ST_STATUS] = STATUS_SYNCED
            elif outcome == EV_STALE:
                st[ST_STALE] += 1
            elif outcome == EV_UNSYNCED:
                st[ST_UNSYNCED] += 1
            else:  # gap: never keep a wrong book
                st[ST_GAPS] += 1
                st[ST_STATUS] = STATUS_UNSYNCED
                side_reset(cnt, free, sc, 0)
                side_reset(cnt, free, sc, 1)
        valid = st[ST_STATUS] != STATUS_UNSYNCED
        out_ts[e] = ts[r0]
        out_seq[e] = seq[r0]
        out_book_id[e] = st[ST_LAST] if valid else -1
        out_status[e] = outcome
        out_valid[e] = valid
        if valid and sc[0, 1] > 0:
            out_bbo[e, 0], out_bbo[e, 1] = _best(K, S, cnt, dr, sc, 0)
        else:
            out_bbo[e, 0] = nan
            out_bbo[e, 1] = nan
        if valid and sc[1, 1] > 0:
            akey, asize = _best(K, S, cnt, dr, sc, 1)
            out_bbo[e, 2] = -akey
            out_bbo[e, 3] = asize
        else:
            out_bbo[e, 2] = nan
            out_bbo[e, 3] = nan
        if top_n > 0:
            _write_top(K, S, cnt, dr, sc, 0, valid, 1.0, out_top, e, 0, top_n)
            _write_top(K, S, cnt, dr, sc, 1, valid, -1.0, out_top, e, 2, top_n)
    st[ST_NBID] = sc[0, 0]
    st[ST_NASK] = sc[1, 0]
    st[ST_NEED] = 0
    return n_events


@njit(cache=True, nogil=True)
def _write_top(
    K: FloatArray,
    S: FloatArray,
    cnt: IntArray,
    dr: IntArray,
    sc: IntArray,
    s: int,
    valid: bool,
    sign: float,
    out_top: FloatArray,
    e: int,
    row: int,
    top_n: int,
) -> None:
    i = 0
    if valid:
        for j in range(sc[s, 1] - 1, -1, -1):
            blk = dr[s, j]
            for t in range(cnt[s, blk] - 1, -1, -1):
                if i >= top_n:
                    return
                out_top[e, row, i] = sign * K[s, blk, t]
                out_top[e, row + 1, i] = S[s, blk, t]
                i += 1
    while i < top_n:
        out_top[e, row, i] = np.nan
        out_top[e, row + 1, i] = np.nan
        i += 1


def replay_py(
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
    top_n: int,
    bids: dict[float, float] | None = None,
    asks: dict[float, float] | None = None,
) -> dict[str, np.ndarray]:
    """Plain-Python twin of :func:`replay` on dict books (price -> size).

    Return the arrays ``ts, seq, book_id, status, valid, bbo, top`` by name;
    ``st`` is updated in place like the kernel's (level counts included), and
    ``bids``/``asks`` hold the final book.
    """
    bids = {} if bids is None else bids
    asks = {} if asks is None else asks
    starts = event_starts_py(seq, is_snap, ts)
    n_events = len(starts) - 1
    out: dict[str, np.ndarray] = {
        "ts": np.zeros(n_events, dtype=np.int64),
        "seq": np.zeros(n_events, dtype=np.int64),
        "book_id": np.zeros(n_events, dtype=np.int64),
        "status": np.zeros(n_events, dtype=np.int8),
        "valid": np.zeros(n_events, dtype=np.bool_),
        "bbo": np.full((n_events, 4), np.nan),
        "top": np.full((n_events, 4, top_n), np.nan),
    }

    def apply_rows(r0: int, r1: int) -> None:
        for r in range(r0, r1):
            if side[r] == 0:
                continue
            p, s = float(price[r]), float(size[r])
            own, other = (bids, asks) if side[r] > 0 else (asks, bids)
            if s > 0:
                own[p] = s
                crossing = [q for q in other if (q <= p if side[r] > 0 else q >= p)]
                for q in crossing:
                    del other[q]
                st[ST_UNCROSSED] += len(crossing)
            else:
                own.pop(p, None)

    for e in range(n_events):
        r0, r1 = int(starts[e]), int(starts[e + 1])
        if is_snap[r0]:
            bids.clear()
            asks.clear()
            for r in range(r0, r1):
                if size[r] > 0 and side[r] != 0:
                    (bids if side[r] > 0 else asks)[float(price[r])] = float(size[r])
            st[ST_SNAPSHOTS] += 1
            st[ST_LAST] = seq[r0]
            st[ST_STATUS] = STATUS_SYNCED if rule == RULE_NONE else STATUS_AWAITING
            outcome = EV_SNAPSHOT
            # buffered diffs: the run of diffs right before the snapshot that it does not contain
            buffered: list[int] = []
            if rule != RULE_NONE:
                lid = int(seq[r0])
                for b in range(e - 1, -1, -1):
                    q = int(starts[b])
                    newer = seq[q] > lid if rule == RULE_BINANCE_SPOT else seq[q] >= lid
                    if is_snap[q] or not newer:
                        break
                    buffered.insert(0, b)
            for b in buffered:
                q0, q1 = int(starts[b]), int(starts[b + 1])
                res = _check_sequence_py(st, rule, int(first_seq[q0]), int(seq[q0]), int(prev_seq[q0]))
                if res == EV_APPLIED:
                    apply_rows(q0, q1)
                    st[ST_LAST] = seq[q0]
                    st[ST_STATUS] = STATUS_SYNCED
                    st[ST_BUFFERED] += 1
                elif res == EV_GAP:
                    st[ST_GAPS] += 1
                    st[ST_STATUS] = STATUS_UNSYNCED
                    bids.clear()
                    asks.clear()
                    break
        else:
            outcome = int(_check_sequence_py(st, rule, int(first_seq[r0]), int(seq[r0]), int(prev_seq[r0])))
            if outcome == EV_APPLIED:
                apply_rows(r0, r1)
                st[ST_APPLIED] += 1
                st[ST_LAST] = seq[r0]
                st[ST_STATUS] = STATUS_SYNCED
            elif outcome == EV_STALE:
                st[ST_STALE] += 1
            elif outcome == EV_UNSYNCED:
                st[ST_UNSYNCED] += 1
            else:
                st[ST_GAPS] += 1
                st[ST_STATUS] = STATUS_UNSYNCED
                bids.clear()
                asks.clear()
        valid = st[ST_STATUS] != STATUS_UNSYNCED
        out["ts"][e], out["seq"][e], out["status"][e], out["valid"][e] = ts[r0], seq[r0], outcome, valid
        out["book_id"][e] = st[ST_LAST] if valid else -1
        if valid:
            bl = sorted(bids.items(), reverse=True)
            al = sorted(asks.items())
            if bl:
                out["bbo"][e, 0], out["bbo"][e, 1] = bl[0]
            if al:
                out["bbo"][e, 2], out["bbo"][e, 3] = al[0]
            for i in range(min(top_n, len(bl))):
                out["top"][e, 0, i], out["top"][e, 1, i] = bl[i]
            for i in range(min(top_n, len(al))):
                out["top"][e, 2, i], out["top"][e, 3, i] = al[i]
    st[ST_NBID] = len(bids)
    st[ST_NASK] = len(asks)
    return out


def _check_sequence_py(st: IntArray, rule: int, first: int, last: int, prev: int) -> int:
    """Plain-Python statement of the Binance rules (mirrors ``_check_sequence``)."""
    if rule == RULE_NONE:
        return EV_APPLIED
    status, book_id = int(st[ST_STATUS]), int(st[ST_LAST])
    if status == STATUS_UNSYNCED:
        return EV_UNSYNCED
    spot = rule == RULE_BINANCE_SPOT
    if status == STATUS_AWAITING:
        if (last <= book_id) if spot else (last < book_id):
            return EV_STALE
        bridges = (first <= book_id + 1 <= last) if spot else (first <= book_id <= last)
        return EV_APPLIED if bridges else EV_GAP
    if last <= book_id:
        return EV_STALE
    chained = (first == book_id + 1) if spot else (prev == book_id)
    return EV_APPLIED if chained else EV_GAP
