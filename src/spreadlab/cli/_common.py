"""Shared CLI plumbing: one-line errors with exit code 2, JSON output, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from spreadlab.errors import SpreadlabError, ValidationError

__all__ = ["check_out_dir", "console", "err_console", "fail", "print_json", "progress_bar", "run_or_exit"]

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


def fail(message: str) -> typer.Exit:
    """Print ``message`` as one line on stderr and return the exit (code 2) to raise."""
    sys.stderr.write(f"error: {' '.join(str(message).split())}\n")
    sys.stderr.flush()
    return typer.Exit(code=2)


def run_or_exit(fn: Callable[[], T]) -> T:
    """Call ``fn``; a spreadlab error, an OS error or a bad value becomes one line and exit code 2."""
    try:
        return fn()
    except SpreadlabError as exc:
        raise fail(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None


def check_out_dir(path: Path, option: str = "--out") -> Path:
    """Return ``path`` if it can be the output folder (missing, or a folder); else raise one line.

    A file at ``path`` or at one of its parents is a :class:`ValidationError`
    naming the option, so nothing is half-written.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValidationError(f"{option} {str(p)!r} is a file; give a folder (it is created if missing)")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValidationError(f"{option} {str(p)!r}: {str(parent)!r} is a file, not a folder")
            break
    return p


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (no rich markup)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")
    sys.stdout.flush()


@contextmanager
def progress_bar(
    description: str, *, total: float = 1.0, enabled: bool = True
) -> Iterator[Callable[[float], None]]:
    """Yield ``update(fraction_done)`` driving a rich progress bar on stderr."""
    if not enabled:
        yield lambda _done: None
        return
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)

        def update(done: float) -> None:
            progress.update(task, completed=min(total, done))

        yield update
