"""The options of an import that change what is stored: checked before anything is written, and
part of the import's identity.

``--venue`` must be a venue whose symbols spreadlab parses (the ones
``spreadlab instrument`` accepts), unless ``any_venue`` says to store ids of
another venue unchecked (FTX history, say); ``--symbol`` must parse on that
venue. So an id that ``spreadlab instrument`` would reject never reaches the
catalog through an option.

An import is identified by the sha256 of the file's bytes, the format it was
read as, and the values of the options that format uses
(:attr:`~spreadlab.data.importers.base.ImporterSpec.options`): the same bytes
read as another format or with another ``--venue`` are a new import, while an
option the format ignores (``--venue`` on a Tardis file, which names its
exchange) does not make one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from spreadlab.core.enums import Venue
from spreadlab.core.ids import InstrumentId
from spreadlab.data.importers._common import normalise_venue
from spreadlab.data.importers.base import ImporterSpec
from spreadlab.errors import DataError, UnknownSymbolError, ValidationError
from spreadlab.instruments.symbols import parse_symbol

__all__ = ["PARSED_VENUES", "check_options", "import_identity"]

PARSED_VENUES = tuple(sorted(v.value for v in Venue if v not in (Venue.SIM, Venue.SIM2)))
"""Venues whose symbols spreadlab parses (``spreadlab instrument`` accepts their ids)."""


def check_options(
    venue: str | None, symbol: str | None, *, any_venue: bool, path: Path
) -> tuple[str | None, str | None]:
    """Return ``(venue, symbol)`` normalised, or raise DataError naming ``path`` and the bad value.

    Examples
    --------
    >>> check_options("binance_usdm", "BTCUSDT", any_venue=False, path=Path("f.csv"))
    ('BINANCE_USDM', 'BTCUSDT')
    """
    v: str | None = None
    if venue is not None and str(venue).strip():
        try:
            v = normalise_venue(str(venue))
        except ValidationError as exc:
            raise DataError(f"--venue {venue!r} is invalid: {exc}", path=str(path)) from exc
        if v not in PARSED_VENUES and not any_venue:
            raise DataError(
                f"--venue {venue!r} is not a venue spreadlab knows (known: {', '.join(PARSED_VENUES)}); "
                "to store ids of another venue unchecked pass any_venue=True (CLI: --any-venue)",
                path=str(path),
            )
    s: str | None = None
    if symbol is not None and str(symbol).strip():
        s = str(symbol).strip()
        if v is not None:
            try:
                InstrumentId(v, s)
                if v in PARSED_VENUES:
                    parse_symbol(v, s)
            except (UnknownSymbolError, ValidationError) as exc:
                raise DataError(f"--symbol {symbol!r} is not a {v} symbol: {exc}", path=str(path)) from exc
    return v, s


def import_identity(
    sha256: str, spec: ImporterSpec, venue: str | None, symbol: str | None
) -> tuple[str, str]:
    """Return (identity, options JSON) of importing bytes ``sha256`` with ``spec`` and these options.

    Examples
    --------
    >>> from spreadlab.data.importers.base import get_importer
    >>> a = import_identity("ab", get_importer("tardis"), "BYBIT", None)
    >>> a == import_identity("ab", get_importer("tardis"), None, None)  # Tardis files name their venue
    True
    >>> import_identity("ab", get_importer("ohlcv"), "BYBIT", None)[1]
    '{"symbol": null, "venue": "BYBIT"}'
    """
    used = {"venue": venue, "symbol": symbol}
    options = json.dumps({k: used[k] for k in sorted(spec.options)}, sort_keys=True)
    key = f"{sha256}|{spec.fmt.value}|{options}"
    return hashlib.sha256(key.encode()).hexdigest(), options
