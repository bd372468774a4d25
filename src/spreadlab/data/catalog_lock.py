"""Concurrency of a catalog: one writer at a time, readers never fail on a busy database.

Two locks are involved:

- The *writer lock*, ``catalog.lock`` in the catalog folder: an advisory
  ``flock`` held by an import or a delete from start to end, so writers run
  one after another. A second writer waits for it up to a bounded timeout,
  then fails with a message naming the process that holds it (pid, host,
  command, since when: the holder writes these into the lock file once it has
  the lock). The operating system releases the lock when its holder dies, so
  a killed import never leaves the catalog locked.
- *DuckDB's own file lock* on ``catalog.duckdb``: one process may open it for
  writing, or any number for reading, not both. Writers hold their
  connection only for short stretches (:class:`DbLease` gives it up between
  files and between chunks once held for :data:`_MAX_HOLD_S`), and every open
  retries on a lock conflict until a deadline, so a ``data list`` or a query
  during an import waits a fraction of a second instead of failing.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

import duckdb

from spreadlab.core.time import ns_to_iso
from spreadlab.errors import DataError

__all__ = ["DEFAULT_LOCK_TIMEOUT_S", "CatalogBusyError", "DbLease", "WriterLock", "open_db", "retry_locked"]

T = TypeVar("T")

DEFAULT_LOCK_TIMEOUT_S = 600.0
"""How long a writer waits for another writer, and anyone for the database, by default (s)."""

_POLL_S = 0.05
_MAX_HOLD_S = 2.0  # a writer gives the database up for readers after holding it this long (a close
# checkpoints the database: ~50 ms, so not after every file)

try:  # POSIX; elsewhere the writer lock is a no-op and DuckDB's lock alone serialises writers
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class CatalogBusyError(DataError):
    """Another process held the catalog for longer than the timeout."""


class WriterLock:
    """The catalog's writer lock (``catalog.lock``), waited for up to ``timeout`` seconds.

    Parameters
    ----------
    root
        The catalog folder.
    timeout
        Seconds to wait for another writer before :class:`CatalogBusyError`.
    what
        What this writer does (written for a waiting process to read).
    """

    def __init__(self, root: Path, *, timeout: float, what: str) -> None:
        self._path = root / "catalog.lock"
        self._timeout = float(timeout)
        self._what = what
        self._fh: IO[str] | None = None

    def acquire(self, *, wait: bool = True) -> bool:
        """Take the lock; return False when ``wait`` is False and another writer has it."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fh = self._path.open("a+")
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                if fcntl is not None:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait or time.monotonic() >= deadline:
                    holder = _read_holder(self._path)
                    fh.close()
                    if not wait:
                        return False
                    raise CatalogBusyError(
                        f"the catalog is busy: another writer holds its lock ({holder}); waited "
                        f"{self._timeout:g} s (CLI: raise it with --wait SECONDS)",
                        path=str(self._path.parent),
                    ) from None
                time.sleep(_POLL_S)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(), "what": self._what,
            "command": " ".join(sys.argv)[:300], "since_ns": time.time_ns(),
        }))  # fmt: skip
        fh.flush()
        self._fh = fh
        return True

    def release(self) -> None:
        """Give the lock up (the holder note stays; it is only read while the lock is held)."""
        if self._fh is not None:
            if fcntl is not None:
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "holder unknown"
    since = info.get("since_ns")
    when = ns_to_iso(int(since))[:19] + "Z" if isinstance(since, int) else "?"
    return (
        f"pid {info.get('pid')} on {info.get('host')}, {info.get('what')}, since {when}, "
        f"command {info.get('command')!r}"
    )


def open_db(path: Path, *, write: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    """Open the catalog database, retrying while another process holds DuckDB's lock on it."""
    return retry_locked(lambda: duckdb.connect(str(path), read_only=not write), path=path, timeout=timeout)


def retry_locked(fn: Callable[[], T], *, path: Path, timeout: float) -> T:
    """Call ``fn`` (an open or an ATTACH of ``path``), retrying while DuckDB reports a lock conflict."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise DataError(f"cannot open the catalog database: {exc}", path=str(path)) from exc
            if time.monotonic() >= deadline:
                raise CatalogBusyError(
                    f"the catalog database stayed locked for {timeout:g} s: {exc}", path=str(path)
                ) from exc
            time.sleep(_POLL_S)
        except duckdb.Error as exc:
            raise DataError(f"cannot open the catalog database: {exc}", path=str(path)) from exc


class DbLease:
    """A writer's connection to the catalog database, given up for readers between short stretches.

    Parameters
    ----------
    path
        ``catalog.duckdb``.
    timeout
        Seconds an open may wait for readers to let go.
    setup
        Called with the connection once, on the first open (schema, migrations).
    """

    def __init__(
        self, path: Path, *, timeout: float, setup: Callable[[duckdb.DuckDBPyConnection], None]
    ) -> None:
        self._path = path
        self._timeout = timeout
        self._setup: Callable[[duckdb.DuckDBPyConnection], None] | None = setup
        self._con: duckdb.DuckDBPyConnection | None = None
        self._since = 0.0

    def con(self) -> duckdb.DuckDBPyConnection:
        """Return the open connection, opening it when needed."""
        if self._con is None:
            self._con = open_db(self._path, write=True, timeout=self._timeout)
            if self._setup is not None:
                self._setup(self._con)
                self._setup = None
            self._since = time.monotonic()
        return self._con

    def pause(self) -> None:
        """Close the connection if it has been held for a while, so waiting readers get in."""
        if self._con is not None and time.monotonic() - self._since >= _MAX_HOLD_S:
            self.close()

    def close(self) -> None:
        """Close the connection."""
        if self._con is not None:
            self._con.close()
            self._con = None
