"""A response cache for reads about the local host, emptied whenever a new check is stored."""

from __future__ import annotations

import threading

from checkd.probes import Check

_MAX_ENTRIES = 256


class ResponseCache:
    """Serialized bodies keyed by request; valid until the next stored check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bodies: dict[str, bytes] = {}
        self.generation = 0

    def get(self, key: str) -> bytes | None:
        """The cached body for `key`, if any."""
        return self._bodies.get(key)

    def put(self, key: str, generation: int, body: bytes) -> None:
        """Keep `body`, unless a check was stored since `generation` was read (it may be stale)."""
        with self._lock:
            if generation == self.generation and len(self._bodies) < _MAX_ENTRIES:
                self._bodies[key] = body

    def invalidate(self, _check: Check | None = None) -> None:
        """Drop everything (a sampler on_written listener)."""
        with self._lock:
            self.generation += 1
            self._bodies.clear()
