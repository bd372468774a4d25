"""Parse real venue symbols into instruments, and format them back.

Grammar by venue (expiries are at 08:00 UTC on every venue listed):

- Deribit: ``BTC-PERPETUAL`` (inverse, 10 USD contracts for BTC, 1 USD
  otherwise), ``BTC_USDC-PERPETUAL`` (linear), ``BTC-27JUN25`` (inverse
  future), ``BTC-27JUN25-100000-C`` (coin-settled option), ``XRP_USDC-30JUN25-0d625-C``
  (linear option; ``d`` is the decimal point). Days carry no leading zero.
- Binance spot (``BINANCE``) and USDⓈ-M (``BINANCE_USDM``): ``BTCUSDT``;
  USDⓈ-M quarterlies ``BTCUSDT_250627``. COIN-M (``BINANCE_COINM``):
  ``BTCUSD_PERP`` and ``BTCUSD_250627`` (inverse, 100 USD contracts for BTC,
  10 USD otherwise).
- Bybit spot (``BYBIT``) and linear (``BYBIT_LINEAR``): ``BTCUSDT``,
  ``BTCPERP`` (USDC perpetual), ``BTC-27JUN25`` (USDC future),
  ``BTCUSDT-27JUN25`` (USDT future); inverse (``BYBIT_INVERSE``): ``BTCUSD``
  and ``BTCUSDZ25`` (month code, expiry on the last Friday of the month);
  options (``BYBIT_OPTION``): ``BTC-27JUN25-100000-C`` with an optional
  ``-USDT`` suffix, linear.
- OKX: ``BTC-USDT`` (spot), ``BTC-USDT-SWAP`` (linear, 0.01 BTC contracts),
  ``BTC-USD-SWAP`` (inverse, 100 USD contracts for BTC), ``BTC-USD-250627``
  and ``BTC-USDT-250627`` (futures), ``BTC-USD-250627-100000-C`` (coin-settled option).
- Hyperliquid: a coin name such as ``BTC`` or ``kPEPE``: a USDC-margined
  linear perpetual with hourly funding.

Tick and lot sizes are the venues' usual values for the contract class; load
exact specifications from the venue where they matter.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from spreadlab.core.enums import OptionKind, Settlement, Venue
from spreadlab.core.ids import InstrumentId
from spreadlab.core.time import NS_PER_HOUR, datetime_to_ns, ns_to_datetime
from spreadlab.errors import UnknownSymbolError, ValidationError
from spreadlab.instruments.base import Future, Instrument, Option, Perpetual, Spot

__all__ = ["format_symbol", "parse_instrument_id", "parse_symbol"]

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTH_CODES = "FGHJKMNQUVXZ"
_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "DAI", "USD", "EUR", "TRY", "BTC", "ETH", "BNB")
_EXPIRY_HOUR = 8


def _expiry_ns(year: int, month: int, day: int) -> int:
    return datetime_to_ns(datetime(year, month, day, _EXPIRY_HOUR, tzinfo=UTC))


def _parse_dmy(text: str, symbol: str) -> int:
    """``27JUN25`` -> expiry ns (08:00 UTC)."""
    m = re.fullmatch(r"(\d{1,2})([A-Z]{3})(\d{2})", text)
    if not m or m.group(2) not in _MONTHS:
        raise UnknownSymbolError(f"symbol={symbol!r}: {text!r} is not a date like '27JUN25'")
    try:
        return _expiry_ns(2000 + int(m.group(3)), _MONTHS.index(m.group(2)) + 1, int(m.group(1)))
    except ValueError as exc:
        raise UnknownSymbolError(f"symbol={symbol!r}: {text!r} is not a valid date") from exc


def _format_dmy(expiry_ns: int) -> str:
    dt = ns_to_datetime(expiry_ns)
    return f"{dt.day}{_MONTHS[dt.month - 1]}{dt.year % 100:02d}"


def _parse_yymmdd(text: str, symbol: str) -> int:
    m = re.fullmatch(r"(\d{2})(\d{2})(\d{2})", text)
    if not m:
        raise UnknownSymbolError(f"symbol={symbol!r}: {text!r} is not a date like '250627'")
    try:
        return _expiry_ns(2000 + int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise UnknownSymbolError(f"symbol={symbol!r}: {text!r} is not a valid date") from exc


def _format_yymmdd(expiry_ns: int) -> str:
    return ns_to_datetime(expiry_ns).strftime("%y%m%d")


def _last_friday(year: int, month: int) -> int:
    last = calendar.monthrange(year, month)[1]
    day = datetime(year, month, last, tzinfo=UTC)
    while day.weekday() != 4:
        day -= timedelta(days=1)
    return _expiry_ns(year, month, day.day)


def _parse_strike(text: str, symbol: str) -> float:
    if not re.fullmatch(r"\d+(d\d+)?", text):
        raise UnknownSymbolError(f"symbol={symbol!r}: strike {text!r} is not a number")
    return float(text.replace("d", "."))


def _format_strike(strike: float, *, decimal: str = "d") -> str:
    if float(strike).is_integer():
        return str(int(strike))
    return repr(float(strike)).replace(".", decimal)


def _kind(text: str, symbol: str) -> OptionKind:
    if text == "C":
        return OptionKind.CALL
    if text == "P":
        return OptionKind.PUT
    raise UnknownSymbolError(f"symbol={symbol!r}: option type {text!r} must be 'C' or 'P'")


def _split_pair(symbol: str) -> tuple[str, str]:
    for q in _QUOTES:
        if symbol.endswith(q) and len(symbol) > len(q):
            return symbol[: -len(q)], q
    raise UnknownSymbolError(
        f"symbol={symbol!r}: cannot split into base and quote (known quotes: {', '.join(_QUOTES)})"
    )


def _inverse_multiplier(base: str, *, btc: float, other: float) -> float:
    return btc if base == "BTC" else other


# --------------------------------------------------------------------------- Deribit


def _deribit(symbol: str) -> Instrument:
    iid = InstrumentId(Venue.DERIBIT.value, symbol)
    parts = symbol.split("-")
    coin = parts[0]
    linear = coin.endswith("_USDC") or coin.endswith("_USDT")
    base, _, quote = coin.partition("_") if linear else (coin, "", "USD")
    if not re.fullmatch(r"[A-Z0-9]+", base):
        raise UnknownSymbolError(f"symbol={symbol!r}: {base!r} is not a Deribit currency")
    settle = Settlement.LINEAR if linear else Settlement.INVERSE
    settle_ccy = quote if linear else base
    if len(parts) == 2 and parts[1] == "PERPETUAL":
        if linear:
            return Perpetual(
                id=iid,
                base=base,
                quote=quote,
                settlement_currency=settle_ccy,
                settlement=settle,
                tick_size=0.1,
                lot_size=0.001,
            )
        mult = _inverse_multiplier(base, btc=10.0, other=1.0)
        return Perpetual(
            id=iid,
            base=base,
            quote=quote,
            settlement_currency=settle_ccy,
            settlement=settle,
            tick_size=0.5 if base == "BTC" else 0.05,
            lot_size=mult,
            multiplier=1.0,
        )
    if len(parts) == 2:
        expiry = _parse_dmy(parts[1], symbol)
        mult = _inverse_multiplier(base, btc=10.0, other=1.0)
        return Future(
            id=iid,
            base=base,
            quote=quote,
            settlement_currency=settle_ccy,
            settlement=settle,
            tick_size=2.5 if base == "BTC" else 0.25,
            lot_size=mult if not linear else 0.001,
            multiplier=1.0,
            expiry_ns=expiry,
        )
    if len(parts) == 4:
        expiry = _parse_dmy(parts[1], symbol)
        return Option(
            id=iid,
            base=base,
            quote=quote,
            settlement_currency=settle_ccy,
            settlement=settle,
            tick_size=0.0001,
            lot_size=0.1 if base == "BTC" else 1.0,
            multiplier=1.0,
            strike=_parse_strike(parts[2], symbol),
            expiry_ns=expiry,
            kind=_kind(parts[3], symbol),
            underlying=base,
        )
    raise UnknownSymbolError(
        f"symbol={symbol!r} is not a Deribit name like 'BTC-PERPETUAL', 'BTC-27JUN25' "
        "or 'BTC-27JUN25-100000-C'"
    )


def _format_deribit(inst: Instrument) -> str:
    coin = inst.base if inst.is_inverse else f"{inst.base}_{inst.quote}"
    if isinstance(inst, Perpetual):
        return f"{coin}-PERPETUAL"
    if isinstance(inst, Future):
        return f"{coin}-{_format_dmy(inst.expiry_ns)}"
    if isinstance(inst, Option):
        k = "C" if inst.kind is OptionKind.CALL else "P"
        return f"{coin}-{_format_dmy(inst.expiry_ns)}-{_format_strike(inst.strike)}-{k}"
    raise ValidationError(f"Deribit has no {type(inst).__name__} instruments")


# --------------------------------------------------------------------------- Binance


def _binance_spot(symbol: str) -> Instrument:
    base, quote = _split_pair(symbol)
    return Spot(
        id=InstrumentId(Venue.BINANCE.value, symbol),
        base=base,
        quote=quote,
        settlement_currency=quote,
        tick_size=0.01,
        lot_size=0.00001,
        min_notional=5.0,
    )


def _binance_usdm(symbol: str) -> Instrument:
    iid = InstrumentId(Venue.BINANCE_USDM.value, symbol)
    pair, _, date = symbol.partition("_")
    base, quote = _split_pair(pair)
    if quote not in ("USDT", "USDC"):
        raise UnknownSymbolError(f"symbol={symbol!r}: USDⓈ-M contracts quote in USDT or USDC")
    common = dict(
        id=iid,
        base=base,
        quote=quote,
        settlement_currency=quote,
        settlement=Settlement.LINEAR,
        tick_size=0.1,
        lot_size=0.001,
        min_notional=100.0,
    )
    if date:
        return Future(**common, expiry_ns=_parse_yymmdd(date, symbol))  # type: ignore[arg-type]
    return Perpetual(**common)  # type: ignore[arg-type]


def _binance_coinm(symbol: str) -> Instrument:
    iid = InstrumentId(Venue.BINANCE_COINM.value, symbol)
    m = re.fullmatch(r"([A-Z0-9]+)USD_(PERP|\d{6})", symbol)
    if not m:
        raise UnknownSymbolError(
            f"symbol={symbol!r} is not a COIN-M name like 'BTCUSD_PERP' or 'BTCUSD_250627'"
        )
    base = m.group(1)
    mult = _inverse_multiplier(base, btc=100.0, other=10.0)
    common = dict(
        id=iid,
        base=base,
        quote="USD",
        settlement_currency=base,
        settlement=Settlement.INVERSE,
        tick_size=0.1 if base == "BTC" else 0.01,
        lot_size=1.0,
        multiplier=mult,
    )
    if m.group(2) == "PERP":
        return Perpetual(**common)  # type: ignore[arg-type]
    return Future(**common, expiry_ns=_parse_yymmdd(m.group(2), symbol))  # type: ignore[arg-type]


def _format_binance(inst: Instrument) -> str:
    venue = inst.id.venue
    if venue == Venue.BINANCE_COINM:
        tail = "PERP" if isinstance(inst, Perpetual) else _format_yymmdd(inst.expiry_ns)  # type: ignore[attr-defined]
        return f"{inst.base}USD_{tail}"
    if isinstance(inst, Future):
        return f"{inst.base}{inst.quote}_{_format_yymmdd(inst.expiry_ns)}"
    return f"{inst.base}{inst.quote}"


# --------------------------------------------------------------------------- Bybit


def _bybit_spot(symbol: str) -> Instrument:
    base, quote = _split_pair(symbol)
    return Spot(
        id=InstrumentId(Venue.BYBIT.value, symbol),
        base=base,
        quote=quote,
        settlement_currency=quote,
        tick_size=0.01,
        lot_size=0.000001,
    )


def _bybit_linear(symbol: str) -> Instrument:
    iid = InstrumentId(Venue.BYBIT_LINEAR.value, symbol)
    common = dict(settlement=Settlement.LINEAR, tick_size=0.1, lot_size=0.001)
    m = re.fullmatch(r"([A-Z0-9]+)PERP", symbol)
    if m:
        return Perpetual(id=iid, base=m.group(1), quote="USDC", settlement_currency="USDC", **common)  # type: ignore[arg-type]
    m = re.fullmatch(r"([A-Z0-9]+?)(USDT)?-(\d{1,2}[A-Z]{3}\d{2})", symbol)
    if m:
        quote = m.group(2) or "USDC"
        return Future(
            id=iid,
            base=m.group(1),
            quote=quote,
            settlement_currency=quote,
            expiry_ns=_parse_dmy(m.group(3), symbol),
            **common,  # type: ignore[arg-type]
        )  # type: ignore[arg-type]
    base, quote = _split_pair(symbol)
    if quote not in ("USDT", "USDC"):
        raise UnknownSymbolError(f"symbol={symbol!r}: Bybit linear contracts quote in USDT or USDC")
    return Perpetual(id=iid, base=base, quote=quote, settlement_currency=quote, **common)  # type: ignore[arg-type]


def _bybit_inverse(symbol: str) -> Instrument:
    iid = InstrumentId(Venue.BYBIT_INVERSE.value, symbol)
    m = re.fullmatch(r"([A-Z0-9]+?)USD(?:([FGHJKMNQUVXZ])(\d{2}))?", symbol)
    if not m:
        raise UnknownSymbolError(
            f"symbol={symbol!r} is not a Bybit inverse name like 'BTCUSD' or 'BTCUSDZ25'"
        )
    base = m.group(1)
    common = dict(
        id=iid,
        base=base,
        quote="USD",
        settlement_currency=base,
        settlement=Settlement.INVERSE,
        tick_size=0.5 if base == "BTC" else 0.05,
        lot_size=1.0,
        multiplier=1.0,
    )
    if m.group(2) is None:
        return Perpetual(**common)  # type: ignore[arg-type]
    month = _MONTH_CODES.index(m.group(2)) + 1
    return Future(**common, expiry_ns=_last_friday(2000 + int(m.group(3)), month))  # type: ignore[arg-type]


def _bybit_option(symbol: str) -> Instrument:
    iid = InstrumentId(Venue.BYBIT_OPTION.value, symbol)
    m = re.fullmatch(r"([A-Z0-9]+)-(\d{1,2}[A-Z]{3}\d{2})-(\d+(?:d\d+)?)-([CP])(-USDT)?", symbol)
    if not m:
        raise UnknownSymbolError(f"symbol={symbol!r} is not a Bybit option name like 'BTC-27JUN25-100000-C'")
    quote = "USDT" if m.group(5) else "USDC"
    return Option(
        id=iid,
        base=m.group(1),
        quote=quote,
        settlement_currency=quote,
        settlement=Settlement.LINEAR,
        tick_size=5.0,
        lot_size=0.01,
        strike=_parse_strike(m.group(3), symbol),
        expiry_ns=_parse_dmy(m.group(2), symbol),
        kind=_kind(m.group(4), symbol),
        underlying=m.group(1),
    )


def _format_bybit(inst: Instrument) -> str:
    venue = inst.id.venue
    if venue == Venue.BYBIT_INVERSE:
        if isinstance(inst, Future):
            dt = ns_to_datetime(inst.expiry_ns)
            return f"{inst.base}USD{_MONTH_CODES[dt.month - 1]}{dt.year % 100:02d}"
        return f"{inst.base}USD"
    if isinstance(inst, Option):
        k = "C" if inst.kind is OptionKind.CALL else "P"
        tail = "-USDT" if inst.quote == "USDT" else ""
        return f"{inst.base}-{_format_dmy(inst.expiry_ns)}-{_format_strike(inst.strike)}-{k}{tail}"
    if isinstance(inst, Future):
        prefix = inst.base if inst.quote == "USDC" else f"{inst.base}{inst.quote}"
        return f"{prefix}-{_format_dmy(inst.expiry_ns)}"
    if isinstance(inst, Perpetual) and inst.quote == "USDC" and inst.id.symbol.endswith("PERP"):
        return f"{inst.base}PERP"
    return f"{inst.base}{inst.quote}"


# --------------------------------------------------------------------------- OKX


def _okx(symbol: str) -> Instrument:
    iid = InstrumentId(Venue.OKX.value, symbol)
    parts = symbol.split("-")
    if len(parts) < 2 or not all(re.fullmatch(r"[A-Z0-9]+", p) for p in parts[:2]):
        raise UnknownSymbolError(f"symbol={symbol!r} is not an OKX name like 'BTC-USDT-SWAP'")
    base, quote = parts[0], parts[1]
    inverse = quote == "USD"
    settle = Settlement.INVERSE if inverse else Settlement.LINEAR
    mult = _inverse_multiplier(base, btc=100.0, other=10.0) if inverse else (0.01 if base == "BTC" else 0.1)
    common = dict(
        id=iid,
        base=base,
        quote=quote,
        settlement_currency=base if inverse else quote,
        settlement=settle,
        tick_size=0.1,
        lot_size=1.0,
        multiplier=mult,
    )
    if len(parts) == 2:
        return Spot(
            id=iid, base=base, quote=quote, settlement_currency=quote, tick_size=0.1, lot_size=0.00000001
        )
    if len(parts) == 3 and parts[2] == "SWAP":
        return Perpetual(**common)  # type: ignore[arg-type]
    if len(parts) == 3:
        return Future(**common, expiry_ns=_parse_yymmdd(parts[2], symbol))  # type: ignore[arg-type]
    if len(parts) == 5:
        return Option(
            id=iid,
            base=base,
            quote=quote,
            settlement_currency=base if inverse else quote,
            settlement=settle,
            tick_size=0.0005,
            lot_size=1.0,
            multiplier=0.01 if base == "BTC" else 0.1,
            strike=_parse_strike(parts[3], symbol),
            expiry_ns=_parse_yymmdd(parts[2], symbol),
            kind=_kind(parts[4], symbol),
            underlying=f"{base}-{quote}",
        )
    raise UnknownSymbolError(f"symbol={symbol!r} is not an OKX name like 'BTC-USDT-SWAP'")


def _format_okx(inst: Instrument) -> str:
    pair = f"{inst.base}-{inst.quote}"
    if isinstance(inst, Spot):
        return pair
    if isinstance(inst, Perpetual):
        return f"{pair}-SWAP"
    if isinstance(inst, Future):
        return f"{pair}-{_format_yymmdd(inst.expiry_ns)}"
    if isinstance(inst, Option):
        k = "C" if inst.kind is OptionKind.CALL else "P"
        return f"{pair}-{_format_yymmdd(inst.expiry_ns)}-{_format_strike(inst.strike)}-{k}"
    raise ValidationError(f"OKX has no {type(inst).__name__} instruments")


# --------------------------------------------------------------------------- Hyperliquid


def _hyperliquid(symbol: str) -> Instrument:
    if not re.fullmatch(r"k?[A-Z0-9]+", symbol):
        raise UnknownSymbolError(f"symbol={symbol!r} is not a Hyperliquid coin like 'BTC' or 'kPEPE'")
    return Perpetual(
        id=InstrumentId(Venue.HYPERLIQUID.value, symbol),
        base=symbol,
        quote="USDC",
        settlement_currency="USDC",
        tick_size=0.000001,
        lot_size=0.00001,
        funding_interval_ns=NS_PER_HOUR,
    )


_PARSERS: dict[str, Callable[[str], Instrument]] = {
    Venue.DERIBIT: _deribit,
    Venue.BINANCE: _binance_spot,
    Venue.BINANCE_USDM: _binance_usdm,
    Venue.BINANCE_COINM: _binance_coinm,
    Venue.BYBIT: _bybit_spot,
    Venue.BYBIT_LINEAR: _bybit_linear,
    Venue.BYBIT_INVERSE: _bybit_inverse,
    Venue.BYBIT_OPTION: _bybit_option,
    Venue.OKX: _okx,
    Venue.HYPERLIQUID: _hyperliquid,
}

_FORMATTERS: dict[str, Callable[[Instrument], str]] = {
    Venue.DERIBIT: _format_deribit,
    Venue.BINANCE: _format_binance,
    Venue.BINANCE_USDM: _format_binance,
    Venue.BINANCE_COINM: _format_binance,
    Venue.BYBIT: _format_bybit,
    Venue.BYBIT_LINEAR: _format_bybit,
    Venue.BYBIT_INVERSE: _format_bybit,
    Venue.BYBIT_OPTION: _format_bybit,
    Venue.OKX: _format_okx,
    Venue.HYPERLIQUID: lambda inst: inst.base,
}


def parse_symbol(venue: Venue | str, symbol: str) -> Instrument:
    """Build the instrument a venue symbol names.

    Parameters
    ----------
    venue
        A :class:`~spreadlab.core.enums.Venue` or its name.
    symbol
        The venue's symbol.

    Raises
    ------
    UnknownSymbolError
        If the venue is unknown or the symbol does not follow the venue's grammar.

    Examples
    --------
    >>> opt = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")
    >>> opt.strike, opt.kind.value, opt.settlement.value
    (100000.0, 'call', 'inverse')
    >>> parse_symbol("BINANCE_COINM", "BTCUSD_PERP").multiplier
    100.0
    """
    name = venue.value if isinstance(venue, Venue) else str(venue)
    parser = _PARSERS.get(name)
    if parser is None:
        raise UnknownSymbolError(
            f"venue={name!r} has no symbol parser (known: {', '.join(sorted(_PARSERS))})"
        )
    if not isinstance(symbol, str) or not symbol:
        raise UnknownSymbolError(f"symbol={symbol!r} must be a non-empty string")
    try:
        return parser(symbol)
    except UnknownSymbolError:
        raise
    except ValidationError as exc:
        raise UnknownSymbolError(f"symbol={symbol!r} on {name}: {exc}") from exc


def parse_instrument_id(text: str | InstrumentId) -> Instrument:
    """Parse ``"VENUE:SYMBOL"`` into an instrument."""
    iid = text if isinstance(text, InstrumentId) else InstrumentId.parse(text)
    return parse_symbol(iid.venue, iid.symbol)


def format_symbol(inst: Instrument) -> str:
    """Write the venue symbol of ``inst`` from its fields (inverse of :func:`parse_symbol`).

    Examples
    --------
    >>> format_symbol(parse_symbol("OKX", "BTC-USD-250627-100000-C"))
    'BTC-USD-250627-100000-C'
    """
    fmt = _FORMATTERS.get(inst.id.venue)
    if fmt is None:
        raise UnknownSymbolError(f"venue={inst.id.venue!r} has no symbol formatter")
    return fmt(inst)
