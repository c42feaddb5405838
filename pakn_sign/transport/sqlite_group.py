"""Group commit for one SQLite connection shared by threads.

With ``synchronous=FULL`` every COMMIT waits for an fsync, and one connection commits one
transaction at a time, so a node's message rate is bounded by the disk's fsync latency.
Here each logical transaction runs inside a SAVEPOINT of a shared physical transaction;
a caller that finishes while other callers are queued to join leaves the COMMIT to the last
of them, and no caller returns before the COMMIT that covers its changes has succeeded.
Durability per caller is unchanged (the same rule PostgreSQL's commit_delay applies); only
the fsyncs are shared. A failed COMMIT fails every transaction it covered.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["GroupCommit"]


class GroupCommit:
    """Transactions on ``db`` (autocommit mode) guarded by ``lock`` (the connection's lock)."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock):
        self._db = db
        self._lock = lock
        self._cv = threading.Condition(lock)
        self._queued = 0
        self._queued_lock = threading.Lock()
        self._open = False
        self._epoch = 0
        self._committed = 0
        self._failed: dict[int, sqlite3.Error] = {}
        self._batching = False
        self._batch_failed = False

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One logical transaction; returns only once it is committed (or raises)."""
        with self._queued_lock:
            self._queued += 1
        with self._lock:
            with self._queued_lock:
                self._queued -= 1
            cur = self._db.cursor()
            if not self._open:
                if self._batching and self._batch_failed:
                    # This batch already lost a transaction: its callers are all told it
                    # failed, so nothing more of it may be committed (it would be, unreported).
                    raise sqlite3.OperationalError("an earlier transaction of the batch failed")
                if self._db.in_transaction:  # left by a failed end (its epoch already failed)
                    cur.execute("ROLLBACK")
                cur.execute("BEGIN IMMEDIATE")
                self._open = True
                self._epoch += 1
            epoch = self._epoch
            cur.execute("SAVEPOINT pakn_tx")
            try:
                yield cur
            except BaseException:
                if not self._db.in_transaction:
                    # SQLite rolled the whole shared transaction back (I/O error, full disk).
                    self._close_epoch(epoch, sqlite3.OperationalError("transaction rolled back"))
                    raise
                try:
                    cur.execute("ROLLBACK TO pakn_tx")
                    cur.execute("RELEASE pakn_tx")
                except sqlite3.Error as exc:
                    # This call's changes could not be undone alone: none of the shared
                    # transaction may be committed then (every caller in it fails).
                    self._abort(epoch, exc)
                    raise
                self._finish(cur, epoch)
                raise
            cur.execute("RELEASE pakn_tx")
            self._finish(cur, epoch)
            error = self._failed.get(epoch)
            if error is not None:
                raise error

    @contextmanager
    def batch(self) -> Iterator[list[sqlite3.Error]]:
        """Run several transactions in this thread under one COMMIT at the end of the block.

        Inside, ``transaction`` returns BEFORE its work is committed: the caller (the store
        worker) hands results out only after the block, and only if the yielded list is
        still empty then (it receives the error of a failed COMMIT or a rolled-back epoch).
        """
        errors: list[sqlite3.Error] = []
        with self._queued_lock:
            self._queued += 1  # a finishing caller of another thread leaves its COMMIT to us
        with self._lock:
            with self._queued_lock:
                self._queued -= 1
            first = self._epoch if self._open else self._epoch + 1
            self._batching, self._batch_failed = True, False
            try:
                yield errors
            finally:
                self._batching = False
                if self._open:
                    epoch = self._epoch
                    try:
                        self._db.execute("COMMIT")
                    except sqlite3.Error as exc:
                        self._abort(epoch, exc)
                    else:
                        self._close_epoch(epoch, None)
                errors += [e for n in range(first, self._epoch + 1) if (e := self._failed.get(n))]

    def _finish(self, cur: sqlite3.Cursor, epoch: int) -> None:
        """Commit now, or wait for a queued caller to commit this epoch (lock held)."""
        if self._batching:
            return  # the batch commits at its end (``batch``)
        with self._queued_lock:
            others = self._queued
        if others == 0 and self._open:
            try:
                cur.execute("COMMIT")
            except sqlite3.Error as exc:
                self._abort(epoch, exc)
                return
            self._close_epoch(epoch, None)
            return
        while self._committed < epoch:
            self._cv.wait()

    def _abort(self, epoch: int, error: sqlite3.Error) -> None:
        """End the shared transaction as failed for everyone in it (lock held).

        If even the ROLLBACK fails, the next transaction rolls back before its BEGIN; the
        epoch's callers are failed either way, never left waiting.
        """
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # reported through ``error``; the next BEGIN cleans up
        self._close_epoch(epoch, error)

    def _close_epoch(self, epoch: int, error: sqlite3.Error | None) -> None:
        """The shared transaction ended (committed, or failed for everyone in it)."""
        if error is not None:
            self._failed[epoch] = error
            self._batch_failed = self._batching
        self._open = False
        self._committed = epoch
        for old in [e for e in self._failed if e < epoch - 64]:
            del self._failed[old]  # only recent epochs can still have waiters
        self._cv.notify_all()
