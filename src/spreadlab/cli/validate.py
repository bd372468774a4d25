"""``spreadlab validate`` and ``spreadlab optimize``: a TOML study run on a catalog's data.

Thin: load the study (:func:`spreadlab.config.load_study`), build the
executor, call :func:`spreadlab.backtest.study.run_validation` or
:func:`~spreadlab.backtest.study.run_optimize`, print a table (or JSON with
``--json``) and, for ``validate``, write the HTML report. Every evaluated
parameter set is logged in the catalog (``spreadlab trials``). Errors print
one line and exit with code 2.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from spreadlab.cli._common import console, print_json, run_or_exit
from spreadlab.errors import ValidationError

__all__ = ["optimize", "validate"]


def _executor(kind: str, workers: int, address: str | None) -> Any:
    from spreadlab.backtest.executors import LocalExecutor, RayExecutor

    if kind == "local":
        if address is not None:
            raise ValidationError("--ray-address needs --executor ray")
        return LocalExecutor(workers=workers)
    if kind == "ray":
        return RayExecutor(address=address, num_cpus=None if address else workers)
    raise ValidationError(f"--executor {kind!r} must be 'local' or 'ray'")


def _check_catalog(catalog: Path) -> None:
    if not catalog.is_dir():
        raise ValidationError(f"--catalog {str(catalog)!r} is not a folder")


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


_EXECUTOR_HELP = "Where evaluations run: local (processes) or ray."
_WORKERS_HELP = "Local worker processes (or CPUs of a local Ray instance)."
_ADDRESS_HELP = "Join this Ray cluster (host:port or auto) instead of starting one."


def validate(
    config: Path = typer.Argument(
        ..., help="Study TOML ([strategy], [search], [walk_forward], [cpcv], [report])."
    ),
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder (data and trial log)."),
    method: str = typer.Option("walk-forward", "--method", help="walk-forward or cpcv."),
    out: Path | None = typer.Option(
        None, "--out", help="HTML report path (default: the config's report.out)."
    ),
    executor: str = typer.Option("local", "--executor", help=_EXECUTOR_HELP),
    workers: int = typer.Option(1, "--workers", min=1, help=_WORKERS_HELP),
    ray_address: str | None = typer.Option(None, "--ray-address", help=_ADDRESS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the verdict, statistics and windows as JSON."),
) -> None:
    """Walk-forward or CPCV validation of a study on a catalog, with an HTML report ending in a verdict."""
    from spreadlab.backtest.study import run_validation
    from spreadlab.backtest.validation_report import write_validation_report
    from spreadlab.config import load_study

    def _prepare() -> tuple[Any, Any]:
        if method not in ("walk-forward", "cpcv"):
            raise ValidationError(f"--method {method!r} must be 'walk-forward' or 'cpcv'")
        _check_catalog(catalog)
        return load_study(config), _executor(executor, workers, ray_address)

    study, ex = run_or_exit(_prepare)
    res = run_or_exit(lambda: run_validation(study, catalog, method=method, executor=ex))  # type: ignore[arg-type]
    report = run_or_exit(lambda: write_validation_report(out or Path(study.report), res))
    if as_json:
        print_json(_clean({**res.to_dict(), "report": str(report)}))
        return
    table = Table(title=f"{res.method}: {res.objective}")
    for c in ("window", "test", "chosen", "fitted", "IS Sharpe", "OOS Sharpe"):
        table.add_column(c)
    for w in res.windows:
        d = w.to_dict()
        table.add_row(
            str(w.index), f"{d['test'][0][:16]} .. {d['test'][1][:16]}",
            ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in w.params.items()),
            ", ".join(f"{k}={v:.4g}" for k, v in w.fitted.items()),
            f"{w.is_metrics.get('sharpe', math.nan):.2f}", f"{w.oos_metrics.get('sharpe', math.nan):.2f}",
        )  # fmt: skip
    console.print(table)
    console.print(f"report: {report}", highlight=False)
    console.print(res.verdict.line, highlight=False, style="bold green" if res.verdict.passed else "bold red")


def optimize(
    config: Path = typer.Argument(..., help="Study TOML (its [strategy] and [search] tables)."),
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder (data and trial log)."),
    trials: int | None = typer.Option(None, "--trials", min=1, help="TPE trials (default: the config's)."),
    sampler: str | None = typer.Option(None, "--sampler", help="grid or tpe (default: the config's)."),
    executor: str = typer.Option("local", "--executor", help=_EXECUTOR_HELP),
    workers: int = typer.Option(1, "--workers", min=1, help=_WORKERS_HELP),
    ray_address: str | None = typer.Option(None, "--ray-address", help=_ADDRESS_HELP),
    top: int = typer.Option(10, "--top", min=0, help="Best trials to show (0 = all)."),
    as_json: bool = typer.Option(False, "--json", help="Print every trial, the best and its DSR as JSON."),
) -> None:
    """Search a study's parameter space on the whole history; log every trial; print the best and its DSR."""
    from spreadlab.backtest.study import run_optimize
    from spreadlab.config import load_study

    def _prepare() -> tuple[Any, Any]:
        if sampler is not None and sampler not in ("grid", "tpe"):
            raise ValidationError(f"--sampler {sampler!r} must be 'grid' or 'tpe'")
        _check_catalog(catalog)
        return load_study(config), _executor(executor, workers, ray_address)

    study, ex = run_or_exit(_prepare)
    res = run_or_exit(lambda: run_optimize(study, catalog, n_trials=trials, sampler=sampler, executor=ex))
    dsr = run_or_exit(res.deflated_sharpe)
    summary = {
        "run_id": res.run_id, "objective": res.objective, "data_key": res.data_key, "score": res.score,
        "n_evaluated": len(res.params), "n_trials_logged": res.n_trials_logged,
        "best": {"trial": res.best, "params": res.best_params, "metrics": res.metrics[res.best]},
        "deflated_sharpe": dsr,
    }  # fmt: skip
    if as_json:
        print_json(_clean({**summary, "trials": res.table()}))
        return
    order = sorted(range(len(res.params)), key=lambda i: -res.scores[i])
    table = Table(title=f"{len(res.params)} parameter sets on {res.data_key} (run {res.run_id[:8]})")
    for c in ("trial", "params", res.score, "total_return", "n_trades"):
        table.add_column(c)
    for i in order if top == 0 else order[:top]:
        m = res.metrics[i]
        table.add_row(
            str(i), ", ".join(f"{k}={v}" for k, v in res.params[i].items()), f"{res.scores[i]:.3f}",
            f"{m.get('total_return', math.nan):.4%}", f"{m.get('n_trades', math.nan):g}",
        )  # fmt: skip
    console.print(table)
    console.print(
        f"best {res.best_params}: DSR {dsr:.3f} over {res.n_trials_logged} configurations "
        "logged on this data",
        highlight=False,
    )
