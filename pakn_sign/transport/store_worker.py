"""One thread for a node's blocking store work, in batches.

``asyncio.to_thread`` per store call costs a thread hand-off each way, and the group
commit's threads then hand the connection lock and the COMMIT to each other. Here one
thread takes every call queued so far, runs them one after another inside a single
physical transaction (each in its own SAVEPOINT, so a failure rolls back only its own
changes), COMMITs once, and only then hands all the results back to the event loop in one
wake-up. Durability per caller is unchanged: no awaiting caller sees its result before the
COMMIT covering its changes has succeeded; if that COMMIT fails, every call in the batch
fails with ``StoreError`` (and is retried by its caller, as after any store failure).

Calls must be single store transactions (or reads): work that must follow a durable
commit (signing a receipt) is a separate call after the first one returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from ..errors import StoreError

__all__ = ["Batching", "StoreWorker", "run_store", "run_store_then"]

T = TypeVar("T")
_MAX_BATCH = 64


class Batching(Protocol):
    """A store that can defer its COMMITs to the end of a block (``SQLiteBase.batch``)."""

    def batch(self) -> AbstractContextManager[Sequence[Exception]]: ...


_Item = tuple[
    Callable[[], Any], Callable[[Any], Any] | None, asyncio.Future[Any], asyncio.AbstractEventLoop
]


class StoreWorker:
    """Runs store calls on one thread, a batch per COMMIT."""

    def __init__(self, store: Batching):
        self._store = store
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the store thread; returns once it is committed."""
        result: T = await self._submit(lambda: fn(*args, **kwargs), None)
        return result

    async def run_then(self, first: Callable[[], Any], then: Callable[[Any], T]) -> T:
        """``then(first())``, where ``then`` starts only after ``first``'s COMMIT succeeded
        (in the next batch, without a round trip through the event loop)."""
        result: T = await self._submit(first, then)
        return result

    def _submit(
        self, call: Callable[[], Any], then: Callable[[Any], Any] | None
    ) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._ensure_thread()
        self._queue.put((call, then, future, loop))
        return future

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._main, name="pakn-store", daemon=True
                    )
                    self._thread.start()

    def _main(self) -> None:
        carry: list[_Item] = []  # second steps, due in the batch after their first's COMMIT
        stopping = False
        while carry or not stopping:
            batch: list[_Item | None] = [] if carry or stopping else [self._queue.get()]
            batch += [] if stopping else self._drain()
            stopping = stopping or None in batch
            items = [*carry, *(item for item in batch if item is not None)]
            carry = []
            outcomes: list[tuple[bool, Any]] = []
            failure: StoreError | None = None
            try:
                with self._store.batch() as errors:
                    for call, _, _, _ in items:
                        try:
                            outcomes.append((True, call()))
                        except Exception as exc:  # handed to its caller, never lost
                            outcomes.append((False, exc))
                if errors:
                    failure = StoreError(f"store commit failed: {errors[0]}")
            except Exception as exc:  # the batch itself broke: its callers fail, the thread lives
                failure = StoreError(f"store batch failed: {exc}")
            if failure is not None:
                outcomes = [(False, failure) if ok else (ok, v) for ok, v in outcomes]
                outcomes += [(False, failure)] * (len(items) - len(outcomes))
            done: list[tuple[_Item, tuple[bool, Any]]] = []
            for item, (ok, value) in zip(items, outcomes, strict=True):
                then = item[1]
                if ok and then is not None:
                    carry.append((functools.partial(then, value), None, item[2], item[3]))
                else:
                    done.append((item, (ok, value)))
            for loop, group in _by_loop(done):
                with contextlib.suppress(RuntimeError):  # that event loop is already closed
                    loop.call_soon_threadsafe(_deliver, group)

    def _drain(self) -> list[_Item | None]:
        out: list[_Item | None] = []
        while len(out) < _MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            out.append(item)
            if item is None:
                break
        return out

    def close(self) -> None:
        """Finish queued calls and stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None


def _by_loop(
    done: list[tuple[_Item, tuple[bool, Any]]],
) -> Iterator[tuple[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]]]:
    groups: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
    for (_, _, future, loop), (ok, value) in done:
        groups.setdefault(loop, []).append((future, ok, value))
    yield from groups.items()


def _deliver(group: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in group:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


async def run_store(worker: StoreWorker | None, fn: Callable[..., T], /, *args: Any) -> T:
    """On the node's store worker, or (a Sender/Receiver built without one) a plain thread."""
    if worker is None:
        return await asyncio.to_thread(fn, *args)
    return await worker.run(fn, *args)


async def run_store_then(
    worker: StoreWorker | None, first: Callable[[], Any], then: Callable[[Any], T]
) -> T:
    """``then(first())`` with ``then`` only after ``first`` is committed (``run_then``)."""
    if worker is None:
        return await asyncio.to_thread(then, await asyncio.to_thread(first))
    return await worker.run_then(first, then)
