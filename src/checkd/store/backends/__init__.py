"""Each database's hot paths behind one interface: writing checks, the fold's statements, upserts.

Everything else in store/ is plain SQLAlchemy Core and dialect-free; what one dialect does
faster its own way (the sampler's write, the rollup fold) lives in one file per dialect here,
chosen once per dialect by `backend_for`."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.sql.dml import Insert

from checkd.models import checks
from checkd.probes import Check
from checkd.store import codec

Row = Sequence[Any]
IdOf = Callable[[str], int]  # a disk path's, service's, device's or endpoint check's id
IdsOf = tuple[IdOf, IdOf, IdOf, IdOf]  # disk path, service, device, endpoint check
# The `checks` columns the fold reads after id and taken_at.
FOLDED_CHECK_COLUMNS = ("cpu_pct", "mem_pct", "load1", "swap_permille", "procs", "cpu_count")
# (tier, metric_id, bucket) -> [min, max, total, count]: the rollup buckets one fold adds to.
Buckets = dict[tuple[int, int, int], list[float]]

CHECK_COLUMNS = list(codec.CHECK_COLUMNS)
DISK_COLUMNS = ["check_id", "path_id", *codec.DISK_COLUMNS]
SERVICE_COLUMNS = ["check_id", "service_id", "state"]
NET_COLUMNS = ["check_id", "device_id", *codec.NET_COLUMNS]
NET_FAULT_COLUMNS = ["check_id", "device_id", *codec.NET_FAULT_COLUMNS]
DISK_IO_COLUMNS = ["check_id", "device_id", *codec.DISK_IO_COLUMNS]
PROBE_COLUMNS = ["check_id", "probe_id", *codec.PROBE_COLUMNS]
assert [c.name for c in checks.c] == ["id", "host_id", *CHECK_COLUMNS], "codec.CHECK_COLUMNS is stale"


class FoldStatements(Protocol):
    """The statements of one fold transaction (see `rollups.fold_new_checks`)."""

    def host_id(self, host: str) -> int | None:
        """The host's id, or None when it has no checks yet."""

    def watermark(self, host_id: int) -> int:
        """The newest folded check id, read under the host's fold lock (two folders take turns)."""

    def taken_at(self, check_id: int) -> int | None:
        """When check `check_id` was taken, or None if it is gone."""

    def new_checks(self, host_id: int, start: int, since: int, batch: int) -> Sequence[Row]:
        """Up to `batch` (id, taken_at, *FOLDED_CHECK_COLUMNS) rows after `start`, in time order."""

    def children(
        self, table: Table, columns: Sequence[str], host_id: int, start: int, span: tuple[int, int]
    ) -> Sequence[Row]:
        """(check_id, *columns) of `table`'s rows of the host's checks after `start` within `span`."""

    def names(self, table: Table, ids: set[int]) -> Sequence[Row]:
        """(id, name) of the disk paths or service names `ids`."""

    def write(self, host_id: int, buckets: Buckets, last: int, folded: int) -> None:
        """Merge `buckets` into rollups, move the watermark to `last`, count `folded` checks."""

    def close(self) -> None:
        """Release what the statements hold (a cursor)."""


class AgentsListening(Protocol):
    """A running listener for agents' wake-ups (see StoreBackend.listen_for_agents)."""

    listening: threading.Event  # set while notifications arrive

    def stop(self) -> None:
        """Stop listening."""


class StoreBackend(Protocol):
    """One dialect's hot paths."""

    # Whether a bulk writer pauses after each transaction so the sampler's write gets the lock.
    bulk_pauses: bool
    # Whether several processes may share the database (collectors on one PostgreSQL): then a
    # fleet host's alert rules are evaluated only by the collector holding the host's claim.
    shared: bool

    def begin_bulk(self, conn: Connection) -> None:
        """Begin a bulk writer's transaction on `conn` (see store.pacing.Pacer)."""

    def is_lock_wait(self, exc: BaseException) -> bool:
        """True when `exc` says another writer holds the lock: the write waits, and is no fault."""

    def insert_missing(self, table: Table, values: dict[str, Any]) -> Insert:
        """An INSERT of one row into `table` that does nothing when the row exists already."""

    def try_claim(self, conn: Connection, key: int) -> bool:
        """Take claim `key` for the session of `conn` unless another session holds it (True when
        `conn` holds it now); it lasts until `release_claim` or until that session ends."""

    def release_claim(self, conn: Connection, key: int) -> None:
        """Give back claim `key` held by the session of `conn`."""

    def wake_agents(self, conn: Connection, host: str) -> None:
        """Wake every collector's long polls waiting for `host`'s agent when `conn`'s transaction
        commits (an action queued, its token revoked); nothing where polls read on a timer."""

    def listen_for_agents(
        self, engine: Engine, woken: Callable[[str | None], None], fault: Callable[[str], None]
    ) -> AgentsListening | None:
        """Start hearing `wake_agents` of every process: `woken(host)` for each, `woken(None)` each
        time listening (re)starts, `fault(why)` when it fails; None where polls read on a timer."""

    def write_checks(
        self, conn: Connection, host_id: int, ids_of: IdsOf, items: Sequence[Check]
    ) -> list[int]:
        """Insert `items` in order inside the caller's transaction (`ids_of` names the child rows' ids);
        return their new ids."""

    def hold(self, engine: Engine) -> Connection:
        """A connection for `CheckWriter` to keep between batches."""

    def unhold(self, held: Connection) -> None:
        """Undo what `hold` set on `held` before it goes back to the pool."""

    def write_batch(self, held: Connection, host_id: int, ids_of: IdsOf, items: Sequence[Check]) -> list[int]:
        """Insert `items` on `held` as one atomic unit (committed, or nothing and raised)."""

    def fold_statements(self, conn: Connection) -> FoldStatements:
        """The fold's statements on `conn`, inside its transaction."""

    def make_partitions(self, conn: Connection, now: int) -> int:
        """Create the time partitions of today and a few days ahead that are missing; how many."""

    def drop_partition(self, conn: Connection, cutoff: int) -> int | None:
        """Drop the oldest whole time partition ending by `cutoff`; its checks, or None if none was."""

    def row_cutoff(self, conn: Connection, cutoff: int) -> int:
        """Before when retention deletes checks row by row (where no partition is dropped whole)."""


_MODULES = {"sqlite": "checkd.store.backends.sqlite", "postgresql": "checkd.store.backends.postgresql"}
_chosen: dict[str, StoreBackend] = {}
_lock = threading.Lock()


def backend_for(bind: Engine | Connection) -> StoreBackend:
    """The backend of `bind`'s dialect (its module is imported on first use, once)."""
    name = bind.dialect.name
    found = _chosen.get(name)
    if found is None:
        if name not in _MODULES:
            raise ValueError(f"database: checkd stores in SQLite or PostgreSQL, not {name!r}")
        with _lock:
            module = importlib.import_module(_MODULES[name])
            found = _chosen.setdefault(name, module.BACKEND)
    return found
