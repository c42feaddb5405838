"""A small thread-safe LRU map for validated chains (DESIGN.md §9: 0.85-1.5 ms a chain).

The cache knows nothing about certificates: safety comes from the key ``paths.py`` builds,
which holds every input the result depends on but the instant, and from the time window
``cache_window.py`` computes for each entry (see docs/trust.md "The cache").
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["CacheInfo", "IdentityMemo", "LRUCache", "WindowCache"]

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class CacheInfo:
    """Counters for tests and benchmarks."""

    hits: int
    """Lookups answered from the cache."""
    misses: int
    """Lookups that were not."""
    size: int
    """Entries held now."""
    maxsize: int
    """The bound."""


class LRUCache(Generic[V]):
    """Least-recently-used map bounded to ``maxsize`` entries; every method takes one lock."""

    def __init__(self, maxsize: int = 1024) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def get(self, key: Hashable) -> V | None:
        """The value for ``key`` (marking it recently used), or ``None``."""
        with self._lock:
            try:
                value = self._data[key]
            except KeyError:
                self._misses += 1
                return None
            self._data.move_to_end(key)
            self._hits += 1
            return value

    def get_or_load(self, key: K, load: Callable[[K], V]) -> V:
        """The value for ``key``, else ``load(key)`` stored (a failing load stores nothing).

        ``load`` runs outside the lock: two threads may load the same key; both values are
        equal, the later one stays.
        """
        value = self.get(key)
        if value is None:
            value = load(key)
            self.put(key, value)
        return value

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value``; evicts the least recently used entry beyond ``maxsize``."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        with self._lock:
            self._data.clear()
            self._hits = self._misses = 0

    def info(self) -> CacheInfo:
        """Current counters."""
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._data), self._maxsize)


class WindowCache(LRUCache[tuple[dt.datetime, dt.datetime, V]]):
    """An :class:`LRUCache` of ``(start, end, value)``: a value holds for instants in
    ``[start, end)`` only, and a lookup at any other instant is a miss (counted as one)."""

    def get_at(self, key: Hashable, at: dt.datetime) -> tuple[dt.datetime, dt.datetime, V] | None:
        """The entry for ``key`` if ``start <= at < end`` (marking it recently used)."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None or not entry[0] <= at < entry[1]:
                self._misses += 1
                return None
            self._data.move_to_end(key)
            self._hits += 1
            return entry


class IdentityMemo(Generic[K, V]):
    """``compute(obj)`` for immutable objects, memoised on the object's identity (``id``).

    For objects that are expensive to hash or re-encode (a ``cryptography`` certificate's
    ``public_bytes`` costs about 10 us). Each entry holds the object itself, so its ``id``
    cannot be reused by another object while the entry lives; an ``is`` check turns a
    stale id into a miss. Only for immutable objects: a value is never recomputed.

    A hit is one ``dict.get`` without the lock (atomic: the dict is only changed under the
    lock, and a hit changes nothing); the bound evicts the oldest entry first, since a
    recomputed value is always the same value.
    """

    def __init__(self, compute: Callable[[K], V], maxsize: int = 4096) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._compute = compute
        self._maxsize = maxsize
        self._data: dict[int, tuple[K, V]] = {}
        self._lock = threading.Lock()

    def __call__(self, obj: K) -> V:
        hit = self._data.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = self._compute(obj)
        with self._lock:
            data = self._data
            data[id(obj)] = (obj, value)
            while len(data) > self._maxsize:
                del data[next(iter(data))]
        return value
