"""The ``spreadlab`` command tree: every command and sub-app registered on one typer app."""

from __future__ import annotations

import typer

from spreadlab import __version__
from spreadlab.cli.data import app as data_app
from spreadlab.cli.demo import demo
from spreadlab.cli.fetch import app as fetch_app
from spreadlab.cli.instrument import instrument
from spreadlab.cli.market import app as market_app
from spreadlab.cli.options import app as options_app
from spreadlab.cli.pairs import pairs
from spreadlab.cli.scan import scan
from spreadlab.cli.trials import trials

__all__ = ["app"]

app = typer.Typer(
    name="spreadlab",
    help=(
        "Spread-convergence trading for crypto derivatives: market data, pricing, spread scanning, "
        "pair selection and backtests."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"spreadlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Spread-convergence trading for crypto derivatives."""


app.command("demo")(demo)
app.command("instrument")(instrument)
data_app.add_typer(
    fetch_app, name="fetch", help="Download market data (Tardis.dev, Binance archives, ccxt REST)."
)
app.add_typer(data_app, name="data", help="Import, list, show and fetch market data in a catalog.")
app.add_typer(
    options_app, name="options", help="Option chains: IVs, greeks, surface residuals, parity forwards."
)
app.add_typer(market_app, name="market", help="Build and write the built-in simulated market.")
app.command("scan")(scan)
app.command("pairs")(pairs)
app.command("trials")(trials)
