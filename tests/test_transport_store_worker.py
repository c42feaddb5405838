"""The store worker (transport/store_worker.py): one thread, a COMMIT per batch, results
handed back only once committed, failures isolated per call or shared by a failed COMMIT."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from pakn_sign.errors import StoreError
from pakn_sign.transport.store_sqlite import SQLiteStore
from pakn_sign.transport.store_worker import StoreWorker


def _insert(store: SQLiteStore, key: str, fail: bool = False) -> str:
    with store._tx() as cur:
        cur.execute(
            "INSERT INTO transitions(box, key, from_state, to_state, at)"
            " VALUES ('w', ?, NULL, 'x', '2026-01-01T00:00:00+00:00')",
            (key,),
        )
        if fail:
            raise StoreError("business rule says no")
    return key


def _committed(path: Path, key: str) -> bool:
    other = sqlite3.connect(path)  # another connection sees committed rows only
    try:
        n = other.execute("SELECT count(*) FROM transitions WHERE key=?", (key,)).fetchone()[0]
        return bool(n)
    finally:
        other.close()


def test_results_only_after_commit_and_failures_isolated(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    store = SQLiteStore(path)
    worker = StoreWorker(store)
    seen: list[tuple[str, bool]] = []

    async def one(i: int) -> None:
        key = f"k{i}"
        try:
            await worker.run(_insert, store, key, i % 5 == 2)
        except StoreError:
            seen.append((key, _committed(path, key)))
            return
        seen.append((key, _committed(path, key)))

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(60)))

    asyncio.run(main())
    worker.close()
    store.close()
    # Every successful call was visible to another connection when its result arrived; the
    # failed ones (i % 5 == 2) rolled back alone.
    assert sorted(seen) == sorted((f"k{i}", i % 5 != 2) for i in range(60))


def test_failed_commit_fails_every_call_of_the_batch(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "f.db")
    worker = StoreWorker(store)

    def boom() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    real = store._group._db

    class FailingCommit:
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(real, name)

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            if sql == "COMMIT":
                boom()
            return real.execute(sql, *args)

    store._group._db = FailingCommit()  # type: ignore[assignment]

    async def main() -> list[BaseException | str]:
        return await asyncio.gather(
            *(worker.run(_insert, store, f"c{i}") for i in range(5)), return_exceptions=True
        )

    results = asyncio.run(main())
    store._group._db = real
    worker.close()
    assert all(isinstance(r, StoreError) for r in results), results
    rows = real.execute("SELECT count(*) FROM transitions WHERE box='w'").fetchone()[0]
    assert rows == 0
    store.close()


def test_close_finishes_queued_work_and_stops_the_thread(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    worker = StoreWorker(store)

    async def main() -> list[str]:
        return list(await asyncio.gather(*(worker.run(_insert, store, f"q{i}") for i in range(9))))

    assert asyncio.run(main()) == [f"q{i}" for i in range(9)]
    thread = worker._thread
    assert thread is not None
    worker.close()
    assert not thread.is_alive()
    worker.close()  # idempotent
    assert asyncio.run(main()) == [f"q{i}" for i in range(9)]  # restarts on demand
    worker.close()
    store.close()


def test_second_step_starts_only_after_the_first_is_committed(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = SQLiteStore(path)
    worker = StoreWorker(store)
    calls: list[str] = []

    def then(key: str) -> bool:
        calls.append(key)
        return _committed(path, key)  # what a receipt signed now would stand on

    async def main() -> list[object]:
        return await asyncio.gather(
            *(worker.run_then(lambda i=i: _insert(store, f"t{i}", i == 3), then) for i in range(8)),
            return_exceptions=True,
        )

    results = asyncio.run(main())
    worker.close()
    store.close()
    assert [r for i, r in enumerate(results) if i != 3] == [True] * 7
    assert isinstance(results[3], StoreError)
    assert "t3" not in calls  # a failed first step never reaches the second


class _Failing:
    """The store's connection, failing the statements named in ``fail`` (disk I/O errors)."""

    def __init__(self, real: sqlite3.Connection, fail: set[str]):
        self.real = real
        self.fail = fail

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.real, name)

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql.split()[0] in self.fail:
            raise sqlite3.OperationalError(f"disk I/O error ({sql})")
        return self.real.execute(sql, *args)

    def cursor(self) -> _Failing:
        return self


def test_attack_commit_and_rollback_failing_fail_the_batch_without_wedging(
    tmp_path: Path,
) -> None:
    """A COMMIT that fails and a ROLLBACK that fails too: every call of the batch gets a
    StoreError (none waits forever), nothing of it is committed, and the worker and the
    store serve the next calls once the disk is back."""
    path = tmp_path / "r.db"
    store = SQLiteStore(path)
    worker = StoreWorker(store)
    real = store._group._db
    store._group._db = _Failing(real, {"COMMIT", "ROLLBACK"})  # type: ignore[assignment]

    async def batch(prefix: str) -> list[object]:
        calls = (worker.run(_insert, store, f"{prefix}{i}") for i in range(5))
        return await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)

    failed = asyncio.run(batch("x"))
    store._group._db = real
    assert all(isinstance(r, StoreError) for r in failed), failed
    assert asyncio.run(batch("y")) == [f"y{i}" for i in range(5)]
    worker.close()
    store.close()
    assert not any(_committed(path, f"x{i}") for i in range(5))
    assert all(_committed(path, f"y{i}") for i in range(5))


def test_attack_failed_savepoint_rollback_does_not_commit_half_a_call(tmp_path: Path) -> None:
    """A call fails and rolling back its SAVEPOINT fails too: its half-done changes must not
    reach the batch's COMMIT (the whole shared transaction is failed instead)."""
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    worker = StoreWorker(store)
    real = store._group._db

    def half_then_fail() -> None:
        store._group._db = _Failing(real, {"ROLLBACK"})  # type: ignore[assignment]
        _insert(store, "half", fail=True)

    async def main() -> list[object]:
        try:
            return [await asyncio.wait_for(worker.run(half_then_fail), 10)]
        except StoreError as exc:
            return [exc]
        finally:
            store._group._db = real

    (result,) = asyncio.run(main())
    assert isinstance(result, StoreError)
    assert asyncio.run(asyncio.wait_for(worker.run(_insert, store, "after"), 10)) == "after"
    worker.close()
    store.close()
    assert not _committed(path, "half")
    assert _committed(path, "after")


def test_attack_outcomes_after_a_rolled_back_batch_match_what_is_committed(
    tmp_path: Path,
) -> None:
    """SQLite rolls the whole shared transaction back (I/O error, full disk) in the middle of
    a batch: every caller is told exactly what is durable. A call after the rollback used to
    run in a fresh transaction, commit, and still be reported failed (a submit retried by
    the application then queues the message twice)."""
    import threading

    path = tmp_path / "b.db"
    store = SQLiteStore(path)
    worker = StoreWorker(store)
    gate = threading.Event()

    def rolled_back() -> None:
        with store._tx() as cur:
            cur.execute("ROLLBACK")  # what SQLite does itself on SQLITE_FULL / SQLITE_IOERR
            raise sqlite3.OperationalError("database or disk is full")

    async def main() -> list[object]:
        blocker = asyncio.ensure_future(worker.run(gate.wait))
        await asyncio.sleep(0.05)  # the worker is inside the first batch; queue one more
        calls = [
            worker.run(_insert, store, "before"),
            worker.run(rolled_back),
            worker.run(_insert, store, "after"),
        ]
        futures = [asyncio.ensure_future(c) for c in calls]
        await asyncio.sleep(0.05)
        gate.set()
        await blocker
        return list(await asyncio.gather(*futures, return_exceptions=True))

    results = asyncio.run(main())
    worker.close()
    store.close()
    told = {
        key: not isinstance(r, BaseException)
        for key, r in zip(["before", "x", "after"], results, strict=True)
    }
    assert told["x"] is False
    for key in ("before", "after"):
        assert told[key] == _committed(path, key), (key, results)
