"""The ``spreadlab`` command: thin — parse, load config, call one library function, print."""

from __future__ import annotations

import typer

from spreadlab import __version__
from spreadlab.cli.data import app as data_app
from spreadlab.cli.demo import demo
from spreadlab.cli.instrument import instrument

__all__ = ["app", "main"]

app = typer.Typer(
    name="spreadlab",
    help="Spread-convergence trading for crypto derivatives: research, backtest, validation, execution.",
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
app.add_typer(data_app, name="data", help="Import, list and show market data in a catalog.")


def main() -> None:
    """Entry point of the ``spreadlab`` console script."""
    app()
