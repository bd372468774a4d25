"""Cleaning up after a writer that did not finish (killed, power loss, an error mid-way).

Every writer lists each part file it creates in a manifest under
``pending/`` before creating it, and deletes the manifest once its metadata
commit is done. A manifest left behind therefore names every file the
unfinished writer may have left: each one that the ``files`` table does not
hold (and its ``.tmp``) is deleted, then every partition folder left empty,
then the manifest. This runs when a catalog is opened and no writer holds
its lock, so an interrupted import never lingers, and is reported
(:class:`Recovery`, and a warning on the ``spreadlab.data`` logger).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

__all__ = ["Recovery", "recover", "remove_files"]

_log = logging.getLogger("spreadlab.data")


@dataclass(frozen=True, slots=True, kw_only=True)
class Recovery:
    """What cleaning up interrupted writes did.

    Parameters
    ----------
    writes
        Ids of the interrupted writes (the manifests' names: an import id).
    files_removed
        Uncommitted part files (and temporary files) deleted.
    folders_removed
        Partition folders deleted because they were left empty.
    """

    writes: tuple[str, ...]
    files_removed: int
    folders_removed: int

    def message(self) -> str:
        """Return a one-line description."""
        return (
            f"cleaned up {len(self.writes)} interrupted import(s) or delete(s) ({', '.join(self.writes)}): "
            f"removed {self.files_removed} uncommitted part file(s) and {self.folders_removed} empty "
            "folder(s); committed data untouched"
        )


def recover(root: Path, con: duckdb.DuckDBPyConnection | None) -> Recovery | None:
    """Delete the leftovers of every manifest under ``root/pending`` (the caller holds the writer lock).

    ``con`` is a connection to the catalog database (None when it does not exist yet: nothing is
    committed). Return None when there was nothing to clean.
    """
    pending = root / "pending"
    manifests = sorted(pending.glob("*.txt")) if pending.is_dir() else []
    if not manifests:
        return None
    writes: list[str] = []
    removed = folders = 0
    for manifest in manifests:
        listed = [ln.strip() for ln in manifest.read_text().splitlines() if ln.strip()]
        committed: set[str] = set()
        if listed and con is not None:
            rows = con.execute(
                "SELECT path FROM files WHERE path IN (SELECT unnest(?::VARCHAR[]))", [listed]
            ).fetchall()
            committed = {r[0] for r in rows}
        n, f = remove_files(root, [p for p in listed if p not in committed])
        removed += n
        folders += f
        manifest.unlink()
        writes.append(manifest.stem)
    rec = Recovery(writes=tuple(writes), files_removed=removed, folders_removed=folders)
    _log.warning("catalog %s: %s", root, rec.message())
    return rec


def remove_files(root: Path, rels: Iterable[str]) -> tuple[int, int]:
    """Delete part files (relative to ``root``) and their ``.tmp``; prune folders left empty.

    Return (files deleted, folders deleted). Folders are pruned up to, not including, ``root/data``.
    """
    removed = 0
    parents: set[Path] = set()
    for rel in rels:
        target = root / rel
        for p in (target, target.with_name(target.name + ".tmp")):
            if p.is_file():
                p.unlink()
                removed += 1
        parents.add(target.parent)
    stop = root / "data"
    folders = 0
    for d in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        while d != stop and stop in d.parents:
            try:
                d.rmdir()  # only succeeds when empty
            except OSError:
                break
            folders += 1
            d = d.parent
    return removed, folders
