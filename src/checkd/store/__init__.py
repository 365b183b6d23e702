"""Every query and write: functions taking a keyword-only `conn`; no web types here."""

from checkd.store.actions import AuditEntry, list_actions, record_action
from checkd.store.checks import (
    cpu_history,
    delete_checks_before,
    get_check,
    host_summaries,
    list_checks,
)
from checkd.store.dims import forget as forget_ids
from checkd.store.dims import host_id, metric_id
from checkd.store.history import Retentions, Series, pick_qualifier, series
from checkd.store.ingest import CheckWriter, insert_checks
from checkd.store.legacy import imported_legacy_ids, mark_legacy_imported
from checkd.store.pacing import PIECES, Pacer
from checkd.store.rollups import delete_rollups_before, fold_new_checks, watermark
from checkd.store.state import load_sampler_state, save_sampler_state

__all__ = [
    "PIECES",
    "AuditEntry",
    "CheckWriter",
    "Pacer",
    "Retentions",
    "Series",
    "cpu_history",
    "delete_checks_before",
    "delete_rollups_before",
    "fold_new_checks",
    "forget_ids",
    "get_check",
    "host_id",
    "host_summaries",
    "imported_legacy_ids",
    "insert_checks",
    "list_actions",
    "list_checks",
    "load_sampler_state",
    "mark_legacy_imported",
    "metric_id",
    "pick_qualifier",
    "record_action",
    "save_sampler_state",
    "series",
    "watermark",
]
