"""SQLAlchemy tables only: numeric columns, scaled integers where that keeps rows small."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

# Percentages and load averages are stored as hundredths (2 bytes in SQLite instead of an
# 8-byte REAL); byte counts are stored in KiB (/proc/meminfo reports kB, so memory is exact).
# Times are integer Unix seconds (UTC). This keeps a check under 100 bytes on disk.
PCT_SCALE = 100
# Percentages read with 0.1 resolution (swap, inodes, busy; rounded so by the probes) are stored
# in tenths (permille): exact, and a byte less than hundredths below 12.8 %.
PERMILLE = 10
LOAD_SCALE = 100
KIB = 1024

# SQLite only makes "INTEGER PRIMARY KEY" a rowid alias, not BIGINT.
RowId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

hosts = Table(
    "hosts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    # Checks folded into rollups, kept by the fold and by retention (not by each write); /api/v2/hosts
    # adds the few not folded yet, so it never counts all rows.
    Column("checks_count", BigInteger, nullable=False, server_default="0"),
)

disk_paths = Table(
    "disk_paths",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", String(4096), nullable=False, unique=True),
)

service_names = Table(
    "service_names",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
)

checks = Table(
    "checks",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("host_id", Integer, ForeignKey("hosts.id"), nullable=False),
    Column("taken_at", BigInteger, nullable=False),
    Column("cpu_pct", SmallInteger),
    Column("load1", Integer),
    Column("load5", Integer),
    Column("load15", Integer),
    Column("mem_total_kib", BigInteger),
    Column("mem_available_kib", BigInteger),
    Column("mem_used_kib", BigInteger),
    Column("mem_pct", SmallInteger),
    Index("ix_checks_host_taken", "host_id", "taken_at"),
    # Migration 0007 (issue 12): swap used in tenths of a percent (its sizes are served live, in
    # /metrics, not stored), processes, logical CPUs (for load per core).
    Column("swap_permille", SmallInteger),
    Column("procs", Integer),
    Column("cpu_count", SmallInteger),
)

check_disks = Table(
    "check_disks",
    metadata,
    Column("check_id", RowId, primary_key=True),
    Column("path_id", Integer, primary_key=True),
    Column("total_kib", BigInteger),
    Column("used_kib", BigInteger),
    Column("free_kib", BigInteger),
    Column("pct", SmallInteger),
    Column("inodes_permille", SmallInteger),  # 0007; null: the filesystem reports no inode count
    sqlite_with_rowid=False,
)

check_services = Table(
    "check_services",
    metadata,
    Column("check_id", RowId, primary_key=True),
    Column("service_id", Integer, primary_key=True),
    Column("state", SmallInteger, nullable=False),
    sqlite_with_rowid=False,
)

# -- more of the host (migration 0007, issue 12) ------------------------------------------------
# Rates since the previous check, never counters: bytes and packets per second as integers,
# errors and drops per second in hundredths, busy in tenths of a percent. A rate is null when
# the device has none at this check (its first read, or a counter that went down: a wrap or reset).

device_names = Table(  # network interfaces and block devices
    "device_names",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
)

probe_names = Table(  # endpoint checks ([[probes.http]], [[probes.tcp]])
    "probe_names",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
)

check_net = Table(
    "check_net",
    metadata,
    Column("check_id", RowId, primary_key=True),
    Column("device_id", Integer, primary_key=True),
    Column("rx_bytes", BigInteger),
    Column("tx_bytes", BigInteger),
    Column("rx_packets", Integer),
    Column("tx_packets", Integer),
    sqlite_with_rowid=False,
)

check_net_faults = Table(  # only where an interface had errors or drops (a rare row: no bytes otherwise)
    "check_net_faults",
    metadata,
    Column("check_id", RowId, primary_key=True),
    Column("device_id", Integer, primary_key=True),
    Column("rx_errors", Integer),
    Column("tx_errors", Integer),
    Column("rx_drops", Integer),
    Column("tx_drops", Integer),
    sqlite_with_rowid=False,
)

check_disk_io = Table(
    "check_disk_io",
    metadata,
    Column("check_id", RowId, primary_key=True),
    Column("device_id", Integer, primary_key=True),
    Column("read_bytes", BigInteger),
    Column("write_bytes", BigInteger),
    Column("busy_permille", SmallInteger),
    sqlite_with_rowid=False,
)

check_probes = Table(  # each endpoint check's latest result as of the check
    "check_probes",
    metadata,
    Column("check_id", RowId, primary_key=True),
    Column("probe_id", Integer, primary_key=True),
    Column("up", SmallInteger, nullable=False),  # 1 up, 0 down
    Column("kind", SmallInteger, nullable=False),  # store.codec.PROBE_KINDS
    Column("latency_us", Integer),
    sqlite_with_rowid=False,
)

sampler_state = Table(
    "sampler_state",
    metadata,
    Column("host_id", Integer, ForeignKey("hosts.id"), primary_key=True),
    Column("running", Boolean, nullable=False),
    Column("interval_s", Integer, nullable=False),
)

actions = Table(
    "actions",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("host_id", Integer, ForeignKey("hosts.id"), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("service", String(300), nullable=False),
    Column("action", String(16), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("state", String(16)),
    Column("exit_code", Integer),
    Column("duration_ms", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("output", Text, nullable=False),
    Index("ix_actions_host_at", "host_id", "at_ms"),
)

# -- rollups (min/avg/max per bucket) -------------------------------------------------------------
# Tier 1 = 1-minute buckets, tier 2 = 1-hour buckets. Values are plain floats in the metric's unit
# (percent, or load); avg = total / count. Kept incrementally by checkd.rollups.

metric_names = Table(
    "metric_names",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(300), nullable=False, unique=True),
)

rollups = Table(
    "rollups",
    metadata,
    Column("tier", SmallInteger, primary_key=True),
    Column("host_id", Integer, primary_key=True),
    Column("metric_id", Integer, primary_key=True),
    Column("bucket", BigInteger, primary_key=True),
    Column("min", Float, nullable=False),
    Column("max", Float, nullable=False),
    Column("total", Float, nullable=False),
    Column("count", Integer, nullable=False),
    sqlite_with_rowid=False,
)

rollup_progress = Table(
    "rollup_progress",
    metadata,
    Column("host_id", Integer, ForeignKey("hosts.id"), primary_key=True),
    Column("last_check_id", BigInteger, nullable=False),
)

# Which rows of an exam-system database were imported, so a second import adds nothing.
legacy_imports = Table(
    "legacy_imports",
    metadata,
    Column("host_id", Integer, primary_key=True),
    Column("legacy_id", BigInteger, primary_key=True),
    sqlite_with_rowid=False,
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("scope", String(16), nullable=False),
    # Only for ingest tokens: the one host they may write checks for.
    Column("host", String(255), nullable=True),
    # Hex SHA-256 of the token; the token itself is never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

# -- alerts and their notifications ----------------------------------------------------------------
# Times are Unix seconds as floats: a notification's latency is well under a second.
alerts = Table(
    "alerts",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("host_id", Integer, ForeignKey("hosts.id"), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("value", Float),
    Column("summary", Text, nullable=False),
    Column("labels", Text, nullable=False),  # JSON object
    Column("started_at", Float, nullable=False),  # the condition first held (pending began)
    Column("fired_at", Float),
    Column("resolved_at", Float),
    Column("last_notified_at", Float),
    Column("silenced_until", Float),
    Column("restarts", Text, nullable=False, server_default="[]"),  # JSON list of restart times
    Column("gave_up_at", Float),
    Index("ix_alerts_host_state", "host_id", "state"),
    Index("ix_alerts_host_rule", "host_id", "rule"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("host_id", Integer, ForeignKey("hosts.id"), nullable=False),
    Column("alert_id", BigInteger),
    Column("target", String(64), nullable=False),
    Column("event", String(16), nullable=False),  # firing, resolved, gave-up, refresh, test
    Column("payload", Text, nullable=False),  # JSON snapshot of the alert when it was queued
    Column("status", String(16), nullable=False),  # pending, sent, failed (expired unsent)
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("sent_at", Float),
    Index("ix_notifications_host_status_target", "host_id", "status", "target", "id"),
)

# -- the fleet: agents pushing to collectors (migration 0008) -------------------------------------
# Each host's newest stored sequence number: an ingested batch stores only the checks above it
# and moves it in the same transaction, so a retried batch is stored once whichever collector
# takes it (collectors keep no state of their own).
ingest_progress = Table(
    "ingest_progress",
    metadata,
    Column("host_id", Integer, ForeignKey("hosts.id"), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)

# Service actions for a host whose agent runs them: queued by the service route, taken by the
# agent's long poll, answered with its result (times are Unix seconds as floats).
agent_actions = Table(
    "agent_actions",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("host_id", Integer, ForeignKey("hosts.id"), nullable=False),
    Column("service", String(100), nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("status", String(16), nullable=False),  # queued, taken, done, expired
    Column("queued_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),  # not taken by then: expired (504)
    Column("taken_at", Float),
    Column("result", Text),  # the agent's ActionOut JSON, with its HTTP status
    Index("ix_agent_actions_host_status", "host_id", "status", "id"),
)
