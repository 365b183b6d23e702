"""The one way the store tests write a check beside a bulk writer: as the sampler does, retried while
it waits for SQLite's lock (a wait is no error; anything else is)."""

from __future__ import annotations

from checkd import store
from checkd.probes import Check


def write_retrying(writer: store.CheckWriter, taken_at: float) -> None:
    """Write one check taken at `taken_at` with `writer`, retried while it waits for the lock."""
    while True:
        try:
            writer.write([Check(taken_at=taken_at, cpu=1.0, memory=None, load=None)])
            return
        except Exception as exc:
            assert writer.is_lock_wait(exc), exc
