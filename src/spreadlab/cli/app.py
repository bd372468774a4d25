"""The ``spreadlab`` command tree: every command registered on one typer app, loaded on first use.

Startup cost is what a user feels on every call, so the root group knows each
command only by name, the module that defines it and one line of help. The
module is imported when the command runs or shows its own ``--help``:
``spreadlab --help`` and ``spreadlab instrument ...`` never import numba,
scipy, polars, pyarrow or duckdb (``tests/cli/test_startup.py`` holds this).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from spreadlab import __version__

__all__ = ["COMMANDS", "app", "load_command"]

#: name -> (module, attribute, one line of help). The attribute is a typer app or a command function.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": (
        "spreadlab.cli.demo", "demo",
        "Build the built-in market, trade the perpetual-spot basis, write a report.",
    ),
    "instrument": (
        "spreadlab.cli.instrument", "instrument",
        "Parse a venue symbol and print the contract specification it names.",
    ),
    "data": ("spreadlab.cli.data", "app", "Import, list, show and fetch market data in a catalog."),
    "options": (
        "spreadlab.cli.options", "app", "Option chains: IVs, greeks, surface residuals, parity forwards."
    ),
    "market": ("spreadlab.cli.market", "app", "Build and write the built-in simulated market."),
    "scan": ("spreadlab.cli.scan", "scan", "Rank every candidate spread at a time by net edge after costs."),
    "pairs": (
        "spreadlab.cli.pairs", "pairs",
        "Select cointegrated pairs (Engle-Granger + Benjamini-Hochberg, half-life, Hurst).",
    ),
    "trials": (
        "spreadlab.cli.trials", "trials",
        "List the logged trials: config hash, parameters, data range, metrics, time, run id.",
    ),
    "backtest": (
        "spreadlab.cli.backtest", "backtest",
        "Backtest spread strategies on a catalog's data with the event-driven engine (L2, latency, fees).",
    ),
    "validate": (
        "spreadlab.cli.validate", "validate",
        "Walk-forward or CPCV validation of a study on a catalog: HTML report ending in a verdict.",
    ),
    "optimize": (
        "spreadlab.cli.validate", "optimize",
        "Search a study's parameters (grid or TPE, local or Ray); every trial is logged.",
    ),
}  # fmt: skip


def load_command(name: str) -> TyperCommand | TyperGroup:
    """Import the module of command ``name`` and return its command (help text shown literally)."""
    module, attr, short = COMMANDS[name]
    obj = getattr(importlib.import_module(module), attr)
    if name == "data":
        obj = _with_fetch(obj)
    cmd: Any
    if isinstance(obj, typer.Typer):
        obj.info.help = obj.info.help or short
        cmd = typer.main.get_group(obj)  # a group even with one command (`market build`)
    else:
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
        single.command(name)(obj)
        cmd = typer.main.get_command(single)
    cmd.name = name
    _plain_help(cmd)
    return cmd  # type: ignore[no-any-return]


def _with_fetch(data_app: typer.Typer) -> typer.Typer:
    """``data`` with ``data fetch`` under it (registered once per process)."""
    if not any(g.name == "fetch" for g in data_app.registered_groups):
        from spreadlab.cli.fetch import app as fetch_app

        data_app.add_typer(
            fetch_app, name="fetch", help="Download market data (Tardis.dev, Binance archives, ccxt REST)."
        )
    return data_app


def _plain_help(cmd: Any) -> None:
    """Show help text literally: ``[demo]`` in a help string is a TOML table, not rich markup."""
    if hasattr(cmd, "rich_markup_mode"):
        cmd.rich_markup_mode = None
    for sub in getattr(cmd, "commands", {}).values():
        _plain_help(sub)


class _LazyCommand(TyperCommand):
    """A command known by name and help only; the real one is built when it is invoked."""

    def __init__(self, name: str, short_help: str) -> None:
        super().__init__(name, help=short_help, short_help=short_help)
        self._real: TyperCommand | TyperGroup | None = None

    def real(self) -> TyperCommand | TyperGroup:
        if self._real is None:
            self._real = load_command(self.name or "")
        return self._real

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        return self.real().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        return self.real().invoke(ctx)


class _LazyRoot(TyperGroup):
    """The root group: every command of :data:`COMMANDS` as a :class:`_LazyCommand`.

    A bad option (unknown, missing, not a number, out of range) is one line on
    stderr and exit code 2, like every error a command raises itself; click's
    usage block is left for ``--help`` and for a group called without a command.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_module, _attr, short) in COMMANDS.items():
            self.add_command(_LazyCommand(name, short), name)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:  # typer >= 0.20 vendors click
            from typer._click import exceptions as click
        except ImportError:  # pragma: no cover - older typer on click itself
            from click import exceptions as click  # type: ignore[no-redef]

        def run() -> Any:
            return super(_LazyRoot, self).main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )

        if not standalone_mode:
            return run()
        try:
            rv = run()
        except click.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            sys.stderr.write(f"error: {' '.join(exc.format_message().split())}{where}\n")
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            sys.stderr.write(f"error: {' '.join(exc.format_message().split())}\n")
            sys.exit(exc.exit_code)
        except typer.Abort:
            sys.stderr.write("Aborted.\n")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    name="spreadlab",
    cls=_LazyRoot,
    help=(
        "Spread-convergence trading for crypto derivatives: market data, pricing, spread scanning, "
        "pair selection and backtests."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
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
