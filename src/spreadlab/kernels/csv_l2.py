"""Exact, allocation-free parsing of Tardis ``incremental_book_L2`` CSV rows.

A row is ``<prefix><timestamp>,<local_timestamp>,<is_snapshot>,<side>,<price>,<amount>``
ended by ``\\n``, ``\\r\\n`` or the end of the buffer, where ``<prefix>`` is the
byte string ``exchange,symbol,`` of the file's first row (every row must repeat
it exactly). Accepted field grammars, anything else stops the parse:

- times: ``-?[0-9]{1,18}`` epoch integers whose unit is read from the
  magnitude ``a = |t|``: ``a < 1e11`` seconds, ``< 1e14`` milliseconds,
  ``< 1e17`` microseconds, else nanoseconds; converted to ns (a value whose
  conversion would overflow int64 stops the parse);
- ``is_snapshot``: ``true`` or ``false``; ``side``: ``bid`` (+1) or ``ask`` (-1);
- ``price`` and ``amount``: ``-?[0-9]+(\\.[0-9]+)?`` with at most 22 fraction
  digits and all digits ``m`` (as one integer) at most ``2**53``.

Decimal to binary is exact: with ``m <= 2**53`` and ``k <= 22`` both ``m`` and
``10**k`` are doubles exactly, so the IEEE quotient ``m / 10**k`` *is* the
correctly rounded value of the decimal (Clinger's fast path) -- the same
double any correctly rounding parser (polars, Python's ``float``) returns.
The levels of one book update repeat ``<timestamp>,<local_timestamp>,``: when
those bytes equal the previous row's (comma included, so the fields are
identical), its two values are reused instead of parsed again. Longer
mantissas, exponents, ``nan``/``inf``, quotes, blank lines and empty
fields are left to the general reader (the kernel reports where it stopped).
"""

from __future__ import annotations

import re

import numpy as np
from numba import njit

__all__ = ["parse_l2_rows", "parse_l2_rows_py"]

_MAX_EXACT = 1 << 53
_POW10 = np.array([10.0**k for k in range(23)])
_COMMA = 44
_MINUS = 45
_DOT = 46
_ZERO = 48
_NL = 10
_CR = 13


@njit(cache=True, nogil=True)
def _epoch_ns(v: int) -> tuple[bool, int]:
    a = -v if v < 0 else v
    if a < 100_000_000_000:
        return a < 9_000_000_000, v * 1_000_000_000
    if a < 100_000_000_000_000:
        return a < 9_000_000_000_000, v * 1_000_000
    if a < 100_000_000_000_000_000:
        return a < 9_000_000_000_000_000, v * 1_000
    return True, v


@njit(cache=True, nogil=True)
def _int_field(buf: np.ndarray, p: int, end: int) -> tuple[bool, int, int]:
    neg = p < end and buf[p] == _MINUS
    if neg:
        p += 1
    v = 0
    digits = 0
    while p < end:
        c = buf[p] - _ZERO
        if c < 0 or c > 9:
            break
        v = v * 10 + c
        digits += 1
        p += 1
    if digits == 0 or digits > 18 or p >= end or buf[p] != _COMMA:
        return False, 0, p
    return True, -v if neg else v, p + 1


@njit(cache=True, nogil=True)
def _float_field(buf: np.ndarray, p: int, end: int, last: bool, pow10: np.ndarray) -> tuple[bool, float, int]:
    neg = p < end and buf[p] == _MINUS
    if neg:
        p += 1
    m = 0
    digits = 0
    frac = 0
    while p < end:
        c = buf[p] - _ZERO
        if c < 0 or c > 9:
            break
        if m <= _MAX_EXACT:
            m = m * 10 + c
        digits += 1
        p += 1
    if digits == 0:
        return False, 0.0, p
    if p < end and buf[p] == _DOT:
        p += 1
        while p < end:
            c = buf[p] - _ZERO
            if c < 0 or c > 9:
                break
            if m <= _MAX_EXACT:
                m = m * 10 + c
            frac += 1
            p += 1
        if frac == 0:
            return False, 0.0, p
    if m > _MAX_EXACT or frac > 22:
        return False, 0.0, p
    x = m / pow10[frac] if frac else float(m)
    if neg:
        x = -x
    if not last:
        if p < end and buf[p] == _COMMA:
            return True, x, p + 1
        return False, 0.0, p
    if p >= end:
        return True, x, p
    if buf[p] == _NL:
        return True, x, p + 1
    if buf[p] == _CR and p + 1 < end and buf[p + 1] == _NL:
        return True, x, p + 2
    return False, 0.0, p


@njit(cache=True, nogil=True)
def _parse(
    buf: np.ndarray,
    pos: int,
    prefix: np.ndarray,
    ts_event: np.ndarray,
    ts_recv: np.ndarray,
    side: np.ndarray,
    price: np.ndarray,
    size: np.ndarray,
    snapshot: np.ndarray,
    pow10: np.ndarray,
) -> tuple[int, int, bool]:
    end = buf.size
    cap = ts_event.size
    plen = prefix.size
    n = 0
    # the bytes "<timestamp>,<local_timestamp>," of the previous row and their values: the
    # levels of one book update repeat them, and comparing bytes is cheaper than parsing
    prev_t0 = 0
    prev_len = 0
    t_ev = 0
    t_rc = 0
    while n < cap and pos < end:
        p = pos
        if p + plen > end:
            return n, pos, False
        for k in range(plen):
            if buf[p + k] != prefix[k]:
                return n, pos, False
        p += plen
        same = prev_len > 0 and p + prev_len <= end
        if same:
            for k in range(prev_len):
                if buf[p + k] != buf[prev_t0 + k]:
                    same = False
                    break
        if same:
            p += prev_len
        else:
            t0 = p
            ok, t_ev, p = _int_field(buf, p, end)
            if not ok:
                return n, pos, False
            ok, t_ev = _epoch_ns(t_ev)
            if not ok:
                return n, pos, False
            ok, t_rc, p = _int_field(buf, p, end)
            if not ok:
                return n, pos, False
            ok, t_rc = _epoch_ns(t_rc)
            if not ok:
                return n, pos, False
            prev_t0 = t0
            prev_len = p - t0
        # is_snapshot: "true," or "false,"
        if p + 5 <= end and buf[p] == 116 and buf[p + 1] == 114 and buf[p + 2] == 117 and buf[p + 3] == 101:
            snap = True
            p += 4
        elif (
            p + 6 <= end
            and buf[p] == 102
            and buf[p + 1] == 97
            and buf[p + 2] == 108
            and buf[p + 3] == 115
            and buf[p + 4] == 101
        ):
            snap = False
            p += 5
        else:
            return n, pos, False
        if buf[p] != _COMMA:
            return n, pos, False
        p += 1
        # side: "bid," or "ask,"
        if p + 4 > end or buf[p + 3] != _COMMA:
            return n, pos, False
        if buf[p] == 98 and buf[p + 1] == 105 and buf[p + 2] == 100:
            sd = 1
        elif buf[p] == 97 and buf[p + 1] == 115 and buf[p + 2] == 107:
            sd = -1
        else:
            return n, pos, False
        p += 4
        ok, px, p = _float_field(buf, p, end, False, pow10)
        if not ok:
            return n, pos, False
        ok, qty, p = _float_field(buf, p, end, True, pow10)
        if not ok:
            return n, pos, False
        ts_event[n] = t_ev
        ts_recv[n] = t_rc
        snapshot[n] = snap
        side[n] = sd
        price[n] = px
        size[n] = qty
        n += 1
        pos = p
    return n, pos, True


def parse_l2_rows(
    buf: np.ndarray,
    pos: int,
    prefix: np.ndarray,
    ts_event: np.ndarray,
    ts_recv: np.ndarray,
    side: np.ndarray,
    price: np.ndarray,
    size: np.ndarray,
    snapshot: np.ndarray,
) -> tuple[int, int, bool]:
    """Parse rows of ``buf`` (uint8) from byte ``pos`` into the output arrays.

    Parameters
    ----------
    buf
        The file's bytes (uint8, e.g. a read-only memory map).
    pos
        Byte offset of the first row to parse (the start of a line).
    prefix
        The bytes every row starts with (``exchange,symbol,``), uint8.
    ts_event, ts_recv, side, price, size, snapshot
        Output arrays (int64, int64, int8, float64, float64, bool) of one length,
        the most rows parsed in one call.

    Returns
    -------
    tuple of (int, int, bool)
        Rows written, the byte offset after the last of them, and False when the
        parse stopped at a line it does not accept (the returned offset is that
        line's start), True when it stopped at the end of ``buf`` or at capacity.

    Examples
    --------
    >>> import numpy as np
    >>> buf = np.frombuffer(b"x,Y,1700000000000000,1700000000000100,false,ask,101.5,0.25\\n", np.uint8)
    >>> out = [np.empty(4, t) for t in (np.int64, np.int64, np.int8, np.float64, np.float64, np.bool_)]
    >>> parse_l2_rows(buf, 0, np.frombuffer(b"x,Y,", np.uint8), *out)
    (1, 59, True)
    >>> int(out[0][0]), int(out[2][0]), float(out[3][0])
    (1700000000000000000, -1, 101.5)
    """
    n, end, ok = _parse(buf, pos, prefix, ts_event, ts_recv, side, price, size, snapshot, _POW10)
    return int(n), int(end), bool(ok)


_INT = re.compile(rb"-?[0-9]{1,18}")
_FLOAT = re.compile(rb"-?([0-9]+)(?:\.([0-9]+))?")


def _epoch_ns_py(v: int) -> int | None:
    a = abs(v)
    for limit, safe, mult in (
        (10**11, 9 * 10**9, 10**9),
        (10**14, 9 * 10**12, 10**6),
        (10**17, 9 * 10**15, 10**3),
    ):
        if a < limit:
            return v * mult if a < safe else None
    return v


def _float_py(text: bytes) -> float | None:
    m = _FLOAT.fullmatch(text)
    if m is None:
        return None
    digits = m.group(1) + (m.group(2) or b"")
    if int(digits) > _MAX_EXACT or len(m.group(2) or b"") > 22:
        return None
    return float(text)


def parse_l2_rows_py(
    buf: np.ndarray,
    pos: int,
    prefix: np.ndarray,
    ts_event: np.ndarray,
    ts_recv: np.ndarray,
    side: np.ndarray,
    price: np.ndarray,
    size: np.ndarray,
    snapshot: np.ndarray,
) -> tuple[int, int, bool]:
    """Plain-Python twin of :func:`parse_l2_rows` (splits lines and fields, uses ``int``/``float``)."""
    data = bytes(buf)
    pre = bytes(prefix)
    n = 0
    while n < ts_event.size and pos < len(data):
        nl = data.find(b"\n", pos)
        line_end = len(data) if nl < 0 else nl
        nxt = len(data) if nl < 0 else nl + 1
        line = data[pos:line_end]
        if nl >= 0 and line.endswith(b"\r"):
            line = line[:-1]
        if not line.startswith(pre):
            return n, pos, False
        fields = line[len(pre) :].split(b",")
        if len(fields) != 6:
            return n, pos, False
        t_ev, t_rc, snap, sd, px, qty = fields
        if not (_INT.fullmatch(t_ev) and _INT.fullmatch(t_rc)):
            return n, pos, False
        ev, rc = _epoch_ns_py(int(t_ev)), _epoch_ns_py(int(t_rc))
        fpx, fqty = _float_py(px), _float_py(qty)
        if ev is None or rc is None or fpx is None or fqty is None:
            return n, pos, False
        if snap not in (b"true", b"false") or sd not in (b"bid", b"ask"):
            return n, pos, False
        ts_event[n], ts_recv[n] = ev, rc
        snapshot[n] = snap == b"true"
        side[n] = 1 if sd == b"bid" else -1
        price[n], size[n] = fpx, fqty
        n += 1
        pos = nxt
    return n, pos, True
