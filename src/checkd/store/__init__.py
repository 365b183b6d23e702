"""Every query and write: functions taking a keyword-only `conn`; no web types here."""

from checkd.store.actions import AuditEntry, list_actions, record_action
from checkd.store.checks import (
    cpu_history,
    delete_checks_before,
    get_check,
    host_summaries,
    insert_checks,
    list_checks,
)
from checkd.store.dims import forget_ids, host_id
from checkd.store.state import load_sampler_state, save_sampler_state

__all__ = [
    "AuditEntry",
    "cpu_history",
    "delete_checks_before",
    "forget_ids",
    "get_check",
    "host_id",
    "host_summaries",
    "insert_checks",
    "list_actions",
    "list_checks",
    "load_sampler_state",
    "record_action",
    "save_sampler_state",
]
