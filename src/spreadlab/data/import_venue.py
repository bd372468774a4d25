"""Which product line a file of a mixed folder belongs to (``data import auto``).

A folder of one exchange often mixes spot, perpetual and funding files whose
rows do not name their venue. With ``auto``, the venue of each such file is
read from its name and path (the last few path parts, split on ``_ - . /``
and spaces):

- An exchange token (``binance``, ``bybit``, ``hyperliquid``, ``okx``,
  ``deribit``) names the exchange when ``--venue`` is not given (an explicit
  ``--venue`` names the exchange otherwise).
- On Binance and Bybit, the product line comes from the tokens: ``spot`` ->
  spot (``BINANCE``, ``BYBIT``); ``cm``/``coinm``/``delivery``/``inverse``, or a
  USD-quoted symbol (``BTCUSD_PERP``, ``BTCUSD``) -> the coin-margined line
  (``BINANCE_COINM``, ``BYBIT_INVERSE``); ``perp``,
  ``perpetual``, ``swap``, ``futures``, ``um``, ``usdm``, ``linear``,
  ``funding``, ``fundingrate``, ``mark``, ``markprice``, ``premiumindex``,
  ``metrics``, ``bookticker`` -> the USDT-margined line (``BINANCE_USDM``,
  ``BYBIT_LINEAR``). A funding-rate column in the header says derivative too.
  With no such token the exchange's ``--venue`` is kept as given.

Binance's own archive names follow this (``.../futures/um/.../BTCUSDT-fundingRate-2024-01.zip``,
``.../spot/.../BTCUSDT-1m-2024-01-01.zip``). A file whose name and path say
nothing, in a format that needs a venue, is an error naming the file and
``--venue`` before anything is written.
"""

from __future__ import annotations

import re
from pathlib import Path

from spreadlab.core.enums import Venue

__all__ = ["file_venue"]

_EXCHANGES = {
    "binance": Venue.BINANCE.value,
    "bybit": Venue.BYBIT.value,
    "hyperliquid": Venue.HYPERLIQUID.value,
    "okx": Venue.OKX.value,
    "deribit": Venue.DERIBIT.value,
}
_FAMILY = {
    Venue.BINANCE.value: "binance", Venue.BINANCE_USDM.value: "binance", Venue.BINANCE_COINM.value: "binance",
    Venue.BYBIT.value: "bybit", Venue.BYBIT_LINEAR.value: "bybit", Venue.BYBIT_INVERSE.value: "bybit",
}  # fmt: skip
_LINES = {
    "binance": {
        "spot": Venue.BINANCE.value,
        "coin": Venue.BINANCE_COINM.value,
        "usdt": Venue.BINANCE_USDM.value,
    },
    "bybit": {"spot": Venue.BYBIT.value, "coin": Venue.BYBIT_INVERSE.value, "usdt": Venue.BYBIT_LINEAR.value},
}
_SPOT = frozenset({"spot"})
_COIN = frozenset({"cm", "coinm", "delivery", "inverse"})
_USDT = frozenset({
    "perp", "perps", "perpetual", "swap", "futures", "um", "usdm", "linear", "funding", "fundingrate",
    "mark", "markprice", "premiumindex", "metrics", "bookticker",
})  # fmt: skip
_PARTS = 6  # path parts looked at (the file name and the folders just above it)


def _tokens(part: str) -> set[str]:
    return {t for t in re.split(r"[_\-.\s]+", part.lower()) if t}


def file_venue(venue: str | None, path: Path, head: bytes = b"") -> str | None:
    """Return the venue of ``path`` in a mixed import: ``venue`` refined by the file's name and header.

    The file name is read first, then the folders above it, nearest first: the first part
    that names an exchange (or a product line) decides it.

    Examples
    --------
    >>> file_venue("BINANCE", Path("data/perp_BTCUSDT_1d.csv.gz"))
    'BINANCE_USDM'
    >>> file_venue(None, Path("binance_bybit_perps/bybit_linear_funding.csv.gz"))
    'BYBIT_LINEAR'
    >>> file_venue("BINANCE_USDM", Path("spot/BTCUSDT-1m-2024-01-01.zip"))
    'BINANCE'
    >>> file_venue(None, Path("BTCUSDT_1d.csv")) is None
    True
    """
    parts = [_tokens(p) for p in reversed(path.parts[-_PARTS:])]  # the file name first
    if venue is None:
        for toks in parts:
            named = {v for t, v in _EXCHANGES.items() if t in toks}
            if len(named) == 1:
                venue = named.pop()
                break
        else:
            return None
    family = _FAMILY.get(venue)
    if family is None:
        return venue
    for toks in parts:
        if toks & _COIN or any(len(t) > 3 and t.endswith("usd") for t in toks):  # BTCUSD_PERP, BTCUSD
            return _LINES[family]["coin"]
        if toks & _USDT:
            return _LINES[family]["usdt"]
        if toks & _SPOT:
            return _LINES[family]["spot"]
    if b"funding" in head.split(b"\n", 1)[0].lower():
        return _LINES[family]["usdt"]
    return venue
