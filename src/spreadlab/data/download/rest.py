"""REST downloads through ccxt's unified API: OHLCV, funding history, book snapshots, option chains.

ccxt is an optional dependency (the ``fetch`` extra); it is imported only
when an exchange is built from its id. Every function also accepts a
ready-made exchange object (anything with ccxt's unified methods), which is
how tests inject a loopback or fake venue.

Paging: ``fetch_ohlcv`` and ``fetch_funding_rate_history`` return at most
``limit`` rows from ``since``; the functions here call them repeatedly,
moving ``since`` past the last row, until ``end`` is reached or a page comes
back empty, and drop duplicate timestamps at page seams.

Retries: every exchange call is retried on ``ccxt.NetworkError`` (which
covers ``RequestTimeout``, ``ExchangeNotAvailable``, ``DDoSProtection`` and
``RateLimitExceeded``) under a :class:`~spreadlab.data.download.retry.RetryPolicy`,
with the backoff starting no lower than the exchange's ``rateLimit`` (ms
between requests); a page that fails is asked for again from the same
``since``, so no row is lost or doubled. Other ccxt errors (``BadSymbol``,
``ExchangeError`` ...) are answers, not hiccups: they raise
:class:`~spreadlab.errors.DataError` at once.

Output frames are in the canonical schemas (``bars``, ``funding``,
``book_snapshots``, ``option_quotes``) with ``instrument_id`` =
``VENUE:<venue symbol>`` (the exchange's own market id, e.g.
``DERIBIT:BTC-PERPETUAL``).
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import polars as pl

from spreadlab.core.enums import Venue
from spreadlab.data.download.http import DEFAULT_RETRY, with_retries
from spreadlab.data.download.retry import RetryPolicy, Sleep
from spreadlab.data.schema import PriceType, canonical_schema
from spreadlab.errors import DataError, ValidationError

__all__ = [
    "fetch_book_snapshot",
    "fetch_funding_history",
    "fetch_ohlcv",
    "fetch_option_chain",
    "make_exchange",
    "venue_of",
]

_MS = 1_000_000
_T = TypeVar("_T")
_TIMEFRAME_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def make_exchange(exchange_id: str, *, config: dict[str, Any] | None = None) -> Any:
    """Build a ccxt exchange by id (``binance``, ``binanceusdm``, ``deribit``, ``okx``, ``bybit`` ...).

    Raises
    ------
    DataError
        If ccxt is not installed (``pip install 'spreadlab[fetch]'``) or the id is unknown.
    """
    try:
        ccxt = importlib.import_module("ccxt")
    except ImportError as exc:
        raise DataError(
            "ccxt is not installed: pip install 'ccxt>=4.4,<5' (the spreadlab 'fetch' extra)"
        ) from exc
    cls = getattr(ccxt, exchange_id, None)
    if cls is None:
        raise DataError(f"ccxt has no exchange {exchange_id!r}")
    return cls({"enableRateLimit": True, **(config or {})})


def _exchange(exchange: Any) -> Any:
    return make_exchange(exchange) if isinstance(exchange, str) else exchange


def _ccxt_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(transient, other) ccxt exception classes; both empty when ccxt is not installed."""
    try:
        ccxt = importlib.import_module("ccxt")
    except ImportError:
        return (), ()
    return (ccxt.NetworkError,), (ccxt.BaseError,)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Caller:
    """Calls one exchange's methods with retries on transient ccxt errors."""

    exchange: Any
    retry: RetryPolicy
    sleep: Sleep
    rng: np.random.Generator | None
    transient: tuple[type[BaseException], ...] = field(default=())
    other: tuple[type[BaseException], ...] = field(default=())

    def __call__(self, what: str, call: Callable[[], _T]) -> _T:
        name = f"{getattr(self.exchange, 'id', self.exchange)}.{what}"
        rate_limit_s = _rate_limit_s(self.exchange)
        try:
            return with_retries(
                call,
                what=name,
                retry=self.retry,
                sleep=self.sleep,
                rng=self.rng,
                transient=self.transient,
                floor=rate_limit_s,
            )[0]
        except self.other as exc:  # a ccxt answer (BadSymbol, ExchangeError ...): translate at the edge
            raise DataError(f"{name} failed: {type(exc).__name__}: {exc}") from exc


def _rate_limit_s(exchange: Any) -> float:
    value = getattr(exchange, "rateLimit", 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return 0.0
    return float(value) / 1000.0


def _caller(exchange: Any, retry: RetryPolicy, sleep: Sleep, rng: np.random.Generator | None) -> _Caller:
    transient, other = _ccxt_errors()
    return _Caller(exchange=exchange, retry=retry, sleep=sleep, rng=rng, transient=transient, other=other)


def venue_of(exchange: Any, market: dict[str, Any]) -> str:
    """Return the spreadlab venue of a ccxt market (Binance and Bybit split by product line)."""
    eid = str(getattr(exchange, "id", exchange)).lower()
    if eid.startswith("binance"):
        if market.get("spot"):
            return Venue.BINANCE.value
        return (Venue.BINANCE_COINM if market.get("inverse") else Venue.BINANCE_USDM).value
    if eid == "bybit":
        if market.get("option"):
            return Venue.BYBIT_OPTION.value
        if market.get("spot"):
            return Venue.BYBIT.value
        return (Venue.BYBIT_INVERSE if market.get("inverse") else Venue.BYBIT_LINEAR).value
    known = {"deribit": Venue.DERIBIT, "okx": Venue.OKX, "hyperliquid": Venue.HYPERLIQUID}
    if eid in known:
        return known[eid].value
    return eid.upper()


def _market(exchange: Any, symbol: str, call: _Caller) -> dict[str, Any]:
    call("load_markets()", exchange.load_markets)
    try:
        return dict(exchange.market(symbol))
    except Exception as exc:  # ccxt raises BadSymbol; translate at the edge
        raise DataError(f"{getattr(exchange, 'id', exchange)} has no market {symbol!r}") from exc


def _instrument(exchange: Any, market: dict[str, Any]) -> str:
    return f"{venue_of(exchange, market)}:{market['id']}"


def _timeframe_ms(timeframe: str) -> int:
    unit = timeframe[-1:]
    count = timeframe[:-1]
    if unit not in _TIMEFRAME_MS or not count.isdigit() or int(count) <= 0:
        raise ValidationError(f"timeframe={timeframe!r} is not like '1m', '5m', '1h', '1d'")
    return int(count) * _TIMEFRAME_MS[unit]


def _pages(
    call: Callable[[int, int], list[Any]], ts_of: Callable[[Any], int], start_ms: int, end_ms: int, limit: int
) -> list[Any]:
    """Page through ``call(since, limit)`` from ``start_ms`` to ``end_ms`` (the caller retries each call)."""
    rows: list[Any] = []
    seen: set[int] = set()
    since = start_ms
    while since <= end_ms:
        page = call(since, limit)
        fresh = [r for r in page if ts_of(r) not in seen and start_ms <= ts_of(r) <= end_ms]
        for r in fresh:
            seen.add(ts_of(r))
        rows.extend(fresh)
        if not page:
            break
        last = max(ts_of(r) for r in page)
        if last < since:
            break
        since = last + 1
        if len(page) < limit and last >= end_ms:
            break
    return sorted(rows, key=ts_of)


def _ms(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{name}={value!r} must be int nanoseconds UTC >= 0")
    return value // _MS


def fetch_ohlcv(
    exchange: Any,
    symbol: str,
    timeframe: str,
    *,
    start: int,
    end: int,
    limit: int = 1000,
    price_type: PriceType = PriceType.TRADE,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Sleep = time.sleep,
    rng: np.random.Generator | None = None,
) -> pl.DataFrame:
    """Fetch candles (bar open times in ``[start, end]``, ns) as canonical ``bars``.

    ``price_type`` MARK or INDEX asks ccxt for mark/index candles
    (``params={'price': 'mark'|'index'}``) where the exchange has them.
    Each page is retried on ``ccxt.NetworkError`` under ``retry`` (waits
    passed to ``sleep``, jitter drawn from ``rng``).
    """
    ex = _exchange(exchange)
    call = _caller(ex, retry, sleep, rng)
    market = _market(ex, symbol, call)
    step = _timeframe_ms(timeframe)
    params = {} if price_type is PriceType.TRADE else {"price": PriceType(price_type).value}
    rows = _pages(
        lambda since, lim: call(
            f"fetch_ohlcv({symbol!r}, since={since})",
            lambda: ex.fetch_ohlcv(symbol, timeframe, since, lim, params),
        ),
        lambda r: int(r[0]),
        _ms(start, "start"),
        _ms(end, "end"),
        limit,
    )
    inst = _instrument(ex, market)
    frame = pl.DataFrame(
        {
            "ts_event": [int(r[0]) * _MS for r in rows],
            "ts_recv": [(int(r[0]) + step) * _MS for r in rows],
            "instrument_id": [inst] * len(rows),
            "open": [float(r[1]) for r in rows],
            "high": [float(r[2]) for r in rows],
            "low": [float(r[3]) for r in rows],
            "close": [float(r[4]) for r in rows],
            "volume": [float(r[5]) if r[5] is not None else None for r in rows],
            "interval_ns": [step * _MS] * len(rows),
            "price_type": [PriceType(price_type).value] * len(rows),
        },
        schema_overrides={"volume": pl.Float64},
    )
    return _canonical(frame, "bars")


def fetch_funding_history(
    exchange: Any,
    symbol: str,
    *,
    start: int,
    end: int,
    limit: int = 1000,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Sleep = time.sleep,
    rng: np.random.Generator | None = None,
) -> pl.DataFrame:
    """Fetch realised funding rates (settlement times in ``[start, end]``, ns) as canonical ``funding``.

    Each page is retried on ``ccxt.NetworkError`` as in :func:`fetch_ohlcv`.
    """
    ex = _exchange(exchange)
    call = _caller(ex, retry, sleep, rng)
    market = _market(ex, symbol, call)
    if not market.get("swap"):
        raise ValidationError(f"{symbol!r} is not a perpetual swap: it has no funding")
    rows = _pages(
        lambda since, lim: call(
            f"fetch_funding_rate_history({symbol!r}, since={since})",
            lambda: ex.fetch_funding_rate_history(symbol, since, lim),
        ),
        lambda r: int(r["timestamp"]),
        _ms(start, "start"),
        _ms(end, "end"),
        limit,
    )
    inst = _instrument(ex, market)
    ts = [int(r["timestamp"]) * _MS for r in rows]
    frame = pl.DataFrame(
        {
            "ts_event": ts,
            "ts_recv": ts,
            "instrument_id": [inst] * len(rows),
            "rate": [float(r["fundingRate"]) for r in rows],
            "funding_time_ns": ts,
        }
    )
    return _canonical(frame, "funding")


def fetch_book_snapshot(
    exchange: Any,
    symbol: str,
    *,
    depth: int | None = None,
    ts_recv: int,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Sleep = time.sleep,
    rng: np.random.Generator | None = None,
) -> pl.DataFrame:
    """Fetch the current order book as one canonical ``book_snapshots`` row.

    ``ts_recv`` is the local receive time (ns), passed in: time is injected.
    The request is retried on ``ccxt.NetworkError`` as in :func:`fetch_ohlcv`.
    """
    ex = _exchange(exchange)
    call = _caller(ex, retry, sleep, rng)
    market = _market(ex, symbol, call)
    ob = call(f"fetch_order_book({symbol!r})", lambda: ex.fetch_order_book(symbol, depth))
    bids = [(float(p), float(s)) for p, s, *_ in ob.get("bids", [])]
    asks = [(float(p), float(s)) for p, s, *_ in ob.get("asks", [])]
    if bids and asks and bids[0][0] > asks[0][0]:
        raise DataError(f"{symbol}: the venue returned a crossed book ({bids[0][0]} > {asks[0][0]})")
    ts = ob.get("timestamp")
    frame = pl.DataFrame(
        {
            "ts_event": [int(ts) * _MS if ts is not None else ts_recv],
            "ts_recv": [ts_recv],
            "instrument_id": [_instrument(ex, market)],
            "bid_prices": [[p for p, _ in bids]],
            "bid_sizes": [[s for _, s in bids]],
            "ask_prices": [[p for p, _ in asks]],
            "ask_sizes": [[s for _, s in asks]],
            "sequence": [int(ob["nonce"]) if ob.get("nonce") is not None else None],
        },
        schema_overrides={"sequence": pl.Int64},
    )
    return _canonical(frame, "book_snapshots")


def fetch_option_chain(
    exchange: Any,
    currency: str,
    *,
    ts_recv: int,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Sleep = time.sleep,
    rng: np.random.Generator | None = None,
) -> pl.DataFrame:
    """Fetch an option chain (Deribit, OKX, Bybit) as canonical ``option_quotes``.

    Uses ccxt's unified ``fetch_option_chain(currency)``; strike, expiry and
    call/put come from the markets. IVs are decimals as ccxt reports them.
    The requests are retried on ``ccxt.NetworkError`` as in :func:`fetch_ohlcv`.
    """
    ex = _exchange(exchange)
    if not getattr(ex, "has", {}).get("fetchOptionChain"):
        raise DataError(f"{getattr(ex, 'id', ex)} has no option-chain endpoint in ccxt")
    call = _caller(ex, retry, sleep, rng)
    call("load_markets()", ex.load_markets)
    chain = call(f"fetch_option_chain({currency!r})", lambda: ex.fetch_option_chain(currency))
    rows = []
    for sym, opt in chain.items():
        market = dict(ex.market(sym))
        ts = opt.get("timestamp")

        def num(key: str, o: dict[str, Any] = opt) -> float | None:
            v = o.get(key)
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

        rows.append(
            {
                "ts_event": int(ts) * _MS if ts is not None else ts_recv,
                "ts_recv": ts_recv,
                "instrument_id": _instrument(ex, market),
                "bid": num("bidPrice"),
                "ask": num("askPrice"),
                "mark": num("markPrice"),
                "underlying_price": num("underlyingPrice"),
                "mark_iv": num("impliedVolatility"),
                "open_interest": num("openInterest"),
                "last_price": num("lastPrice"),
                "volume": num("baseVolume"),
                "strike": float(market["strike"]) if market.get("strike") is not None else None,
                "expiry_ns": int(market["expiry"]) * _MS if market.get("expiry") is not None else None,
                "option_kind": market.get("optionType"),
            }
        )
    if not rows:
        return pl.DataFrame(schema=canonical_schema("option_quotes"))
    return _canonical(pl.DataFrame(rows, infer_schema_length=None), "option_quotes")


def _canonical(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    schema = canonical_schema(kind)
    return frame.select(
        [
            pl.col(c).cast(t) if c in frame.columns else pl.lit(None, dtype=t).alias(c)
            for c, t in schema.items()
        ]
    )
