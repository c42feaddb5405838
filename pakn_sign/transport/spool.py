"""Payload parts on disk: staged in a private directory, fsynced, then renamed into place.

A part is never buffered whole in memory; a crash leaves only a staging directory, which
the next start removes (nothing half-written is ever visible under the final name).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

__all__ = ["INLINE_MAX_MESSAGE", "INLINE_MAX_PART", "Spool", "Staging", "fsync_dir", "inline_plan"]

# Parts up to this size, while a message's inline parts stay under the second limit, are
# kept inside the store's transaction (PartRef.data) instead of a spool file: the COMMIT's
# one fsync makes them durable. The receiver holds a message's inline parts in memory until
# that COMMIT, so the total is bounded; larger parts stream through spool files as before.
INLINE_MAX_PART = 64 * 1024
INLINE_MAX_MESSAGE = 128 * 1024


def inline_plan(sizes: Sequence[int]) -> list[bool]:
    """Which parts of a manifest are kept inline (the receiver decides from signed sizes)."""
    plan, total = [], 0
    for size in sizes:
        small = size <= INLINE_MAX_PART and total + size <= INLINE_MAX_MESSAGE
        total += size if small else 0
        plan.append(small)
    return plan


def fsync_dir(path: Path) -> None:
    """Make a rename or create in ``path`` durable (POSIX: fsync the directory)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Staging:
    """One message's parts being written."""

    def __init__(self, spool: Spool, path: Path):
        self._spool = spool
        self.path = path
        path.mkdir(parents=True)

    def part_path(self, index: int) -> Path:
        return self.path / f"part-{index:03d}"

    @contextlib.contextmanager
    def open_part(self, index: int) -> Iterator[BinaryIO]:
        with open(self.part_path(index), "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())

    def commit(self, sender: str, message_id: str) -> Path:
        """Move the parts to their final place (replacing an uncommitted earlier copy)."""
        final = self._spool.final_path(sender, message_id)
        self._spool.bucket(final.parent)
        fsync_dir(self.path)
        if final.exists():
            # Left by an attempt that crashed before its inbox commit; same id, same digests.
            shutil.rmtree(final)
        os.rename(self.path, final)
        fsync_dir(final.parent)
        return final

    def discard(self) -> None:
        if self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)


class Spool:
    """The directory tree holding message parts (``tmp/`` staging, ``msg/`` final)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        (self.root / "msg").mkdir(parents=True, exist_ok=True)
        (self.root / "out").mkdir(exist_ok=True)
        (self.root / "parts").mkdir(exist_ok=True)  # cache copies of inline parts (PartRef.path)
        fsync_dir(self.root)  # once per start: the out/ directory's own name is durable
        self._buckets: set[Path] = set()
        tmp = self.root / "tmp"
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)  # leftovers of a crash: never committed
        tmp.mkdir(parents=True, exist_ok=True)

    def bucket(self, path: Path) -> None:
        """Create a ``msg/xx`` bucket durably (its name in ``msg/`` fsynced), once a process."""
        if path in self._buckets:
            return
        path.mkdir(exist_ok=True)
        fsync_dir(path.parent)  # also when it existed: a crash may have beaten that fsync
        self._buckets.add(path)

    def staging(self) -> Staging:
        return Staging(self, self.root / "tmp" / uuid.uuid4().hex)

    def inline_location(self, sha256: str) -> str:
        """Where an inline part's cache copy goes when a reader asks for a file."""
        return str(self.root / "parts" / sha256)

    def final_path(self, sender: str, message_id: str) -> Path:
        key = hashlib.sha256(f"{sender}/{message_id}".encode()).hexdigest()
        return self.root / "msg" / key[:2] / key

    def store_outgoing(
        self, message_id: str, index: int, source: BinaryIO
    ) -> tuple[Path, str, int]:
        """Copy an outgoing part into the spool (frozen bytes); returns path, sha256, size.

        One flat directory: fsyncing it makes the new name durable (a directory per message
        would need its parent fsynced too, and costs a mkdir per message).
        """
        target_dir = self.root / "out"
        target = target_dir / f"{message_id}.part-{index:03d}"
        h = hashlib.sha256()
        size = 0
        with open(target, "wb") as out:
            while chunk := source.read(1024 * 1024):
                h.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        fsync_dir(target_dir)
        return target, h.hexdigest(), size
