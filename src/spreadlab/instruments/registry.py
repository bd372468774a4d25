"""A registry of the instruments a run knows, keyed by :class:`InstrumentId`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spreadlab.core.ids import InstrumentId
from spreadlab.errors import UnknownSymbolError, ValidationError
from spreadlab.instruments.base import Instrument
from spreadlab.instruments.symbols import parse_symbol

__all__ = ["InstrumentRegistry"]


class InstrumentRegistry:
    """Instruments by id. Adding a different spec under an existing id is an error.

    Examples
    --------
    >>> reg = InstrumentRegistry()
    >>> perp = reg.resolve("DERIBIT:BTC-PERPETUAL")
    >>> reg[perp.id] is perp
    True
    """

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._by_id: dict[InstrumentId, Instrument] = {}
        for inst in instruments:
            self.add(inst)

    def add(self, inst: Instrument) -> None:
        """Register ``inst``; re-adding an identical spec is a no-op."""
        old = self._by_id.get(inst.id)
        if old is not None and old != inst:
            raise ValidationError(f"instrument {inst.id} is already registered with another spec")
        self._by_id[inst.id] = inst

    def resolve(self, key: str | InstrumentId) -> Instrument:
        """Return the registered instrument, parsing and registering it if unknown."""
        iid = key if isinstance(key, InstrumentId) else InstrumentId.parse(key)
        inst = self._by_id.get(iid)
        if inst is None:
            inst = parse_symbol(iid.venue, iid.symbol)
            self._by_id[iid] = inst
        return inst

    def __getitem__(self, iid: InstrumentId) -> Instrument:
        try:
            return self._by_id[iid]
        except KeyError:
            raise UnknownSymbolError(f"instrument {iid} is not registered") from None

    def __contains__(self, iid: object) -> bool:
        return iid in self._by_id

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)
