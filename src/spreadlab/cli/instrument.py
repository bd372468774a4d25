"""``spreadlab instrument VENUE:SYMBOL``: parse a venue symbol and show its contract spec."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import typer
from rich.table import Table

from spreadlab.cli._common import console, print_json, run_or_exit
from spreadlab.core.time import ns_to_iso
from spreadlab.instruments import Instrument, format_symbol, parse_instrument_id

__all__ = ["instrument"]


def _spec(inst: Instrument) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(inst).__name__}
    for f in dataclasses.fields(inst):
        value = getattr(inst, f.name)
        if isinstance(value, Enum):
            value = value.value
        elif f.name.endswith("_ns") and isinstance(value, int) and f.name in ("expiry_ns", "listing_ns"):
            value = ns_to_iso(value)
        elif not isinstance(value, int | float | str | type(None)):
            value = str(value)
        out[f.name] = value
    out["formatted"] = format_symbol(inst)
    return out


def instrument(
    instrument_id: str = typer.Argument(..., help="VENUE:SYMBOL, e.g. DERIBIT:BTC-27JUN25-100000-C"),
    as_json: bool = typer.Option(False, "--json", help="Print the spec as JSON."),
) -> None:
    """Parse a venue symbol and print the contract specification it names."""
    spec = _spec(run_or_exit(lambda: parse_instrument_id(instrument_id)))
    if as_json:
        print_json(spec)
        return
    table = Table(title=instrument_id, show_header=False)
    table.add_column("field")
    table.add_column("value")
    for k, v in spec.items():
        table.add_row(k, str(v))
    console.print(table)
