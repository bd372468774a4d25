"""Where a search's evaluations run: local processes (default) or a Ray cluster.

An executor opens a *session* for one objective (``with ex.session(obj) as
run:``); ``run(params)`` evaluates a batch and returns the outcomes in input
order, so a search is the same whichever executor runs it. The workers (a
process pool, a Ray instance) live as long as the session, so a TPE search
that evaluates many batches starts them once. Work is cut into contiguous
chunks (about four per worker); the objective is shipped once per chunk
(processes) or once per session (Ray's object store).

- :class:`LocalExecutor`: ``workers=1`` evaluates in this process; more use a
  :class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start
  method (no inherited threads or database handles).
- :class:`RayExecutor`: starts a local Ray instance (``address=None``, with
  ``num_cpus`` CPUs) or joins an existing cluster (``address="host:port"`` or
  ``"auto"``); a Ray instance it started is shut down when the map ends.
  Ray is an optional dependency (``pip install 'spreadlab[opt]'``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from spreadlab.backtest.objective import Objective, Outcome
from spreadlab.errors import ConfigError, ValidationError

__all__ = ["Executor", "LocalExecutor", "RayExecutor", "evaluate_chunk"]

Params = Mapping[str, Any]
Runner = Callable[[Sequence[Params]], list[Outcome]]


class Executor(Protocol):
    """Evaluates parameter sets, returning outcomes in input order."""

    def session(self, objective: Objective) -> Any:
        """Context manager yielding ``run(params) -> outcomes`` for ``objective``."""
        ...

    def map(self, objective: Objective, params: Sequence[Params]) -> list[Outcome]:
        """Evaluate every parameter set in one session."""
        ...


def evaluate_chunk(objective: Objective, chunk: Sequence[Params]) -> list[Outcome]:
    """Evaluate a chunk of parameter sets in order (the unit of work shipped to a worker)."""
    return [objective(p) for p in chunk]


def _chunks(params: Sequence[Params], workers: int) -> list[Sequence[Params]]:
    n = len(params)
    k = max(1, min(n, 4 * workers))
    bounds = [round(i * n / k) for i in range(k + 1)]
    return [params[bounds[i] : bounds[i + 1]] for i in range(k) if bounds[i + 1] > bounds[i]]


def _check_workers(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError(f"{name}={value!r} must be an int >= 1 or None")


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalExecutor:
    """Local worker processes; ``workers=None`` uses every CPU, 1 runs in-process."""

    workers: int | None = None

    def __post_init__(self) -> None:
        _check_workers("workers", self.workers)

    @contextmanager
    def session(self, objective: Objective) -> Iterator[Runner]:
        """Yield ``run(params)``; a process pool (if ``workers > 1``) lives for the session."""
        workers = self.workers or os.cpu_count() or 1
        if workers == 1:
            yield lambda params: evaluate_chunk(objective, params)
            return
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:

            def run(params: Sequence[Params]) -> list[Outcome]:
                chunks = _chunks(params, workers)
                parts = list(pool.map(evaluate_chunk, [objective] * len(chunks), chunks))
                return [o for part in parts for o in part]

            yield run

    def map(self, objective: Objective, params: Sequence[Params]) -> list[Outcome]:
        """Evaluate every parameter set; outcomes in input order."""
        with self.session(objective) as run:
            return run(params)


@dataclass(frozen=True, slots=True, kw_only=True)
class RayExecutor:
    """Ray tasks: a local instance (``address=None``) or an existing cluster.

    Parameters
    ----------
    address
        ``None`` starts a local Ray instance; ``"auto"`` or ``"host:port"`` joins a cluster.
    num_cpus
        CPUs of a local instance (``None``: all); ignored when joining a cluster.
    """

    address: str | None = None
    num_cpus: int | None = None

    def __post_init__(self) -> None:
        _check_workers("num_cpus", self.num_cpus)
        if self.address is not None and not self.address.strip():
            raise ValidationError("address must be None, 'auto' or 'host:port', got an empty string")

    @contextmanager
    def session(self, objective: Objective) -> Iterator[Runner]:
        """Yield ``run(params)``; a Ray instance started here is shut down at the end."""
        ray = _import_ray()
        started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address is None:
                kwargs["num_cpus"] = self.num_cpus
            else:
                kwargs["address"] = self.address
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = "a local Ray instance" if self.address is None else f"Ray at {self.address!r}"
                raise ConfigError(f"cannot start or join {where}: {exc}") from exc
            started = True
        try:
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            ref = ray.put(objective)
            task = ray.remote(evaluate_chunk)

            def run(params: Sequence[Params]) -> list[Outcome]:
                parts = ray.get([task.remote(ref, chunk) for chunk in _chunks(params, cpus)])
                return [o for part in parts for o in part]

            yield run
        finally:
            if started:
                ray.shutdown()

    def map(self, objective: Objective, params: Sequence[Params]) -> list[Outcome]:
        """Evaluate every parameter set on Ray; outcomes in input order."""
        with self.session(objective) as run:
            return run(params)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            "the Ray executor needs Ray, which is not installed: pip install 'spreadlab[opt]'"
        ) from exc
    return ray
