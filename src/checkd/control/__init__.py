"""Service control: the allow-list, systemd/SysV/command backends, cheap states and verified actions.

Imports only checkd.config from checkd. Every command goes through CommandRunner:
argv lists (never a shell), a clean environment, a timeout that kills the
child's whole process group, and output bounded to its last 4 KiB.
"""

from checkd.control._base import Action
from checkd.control._model import ActionInProgress, ActionResult, NotControllable, ServiceInfo, UnknownService
from checkd.control._registry import ServiceRegistry
from checkd.control._runner import CommandRunner, RunResult
from checkd.vocabulary import ServiceState

__all__ = [
    "Action",
    "ActionInProgress",
    "ActionResult",
    "CommandRunner",
    "NotControllable",
    "RunResult",
    "ServiceInfo",
    "ServiceRegistry",
    "ServiceState",
    "UnknownService",
]
