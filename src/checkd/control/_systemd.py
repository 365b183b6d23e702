"""systemd backend: actions through `systemctl`, states from ONE batched `systemctl show` per read."""

from __future__ import annotations

from collections.abc import Sequence

from checkd.control._base import Action, configured_argv
from checkd.control._runner import CommandRunner
from checkd.control._spec import ServiceSpec
from checkd.vocabulary import ServiceState

SHOW_PROPERTIES = "Id,ActiveState,LoadState"
SHOW_TIMEOUT_S = 5.0

_ACTIVE_STATES = {
    "active": ServiceState.ACTIVE,
    "reloading": ServiceState.ACTIVE,
    "refreshing": ServiceState.ACTIVE,
    "inactive": ServiceState.INACTIVE,
    "failed": ServiceState.FAILED,
    "activating": ServiceState.ACTIVATING,
    "deactivating": ServiceState.DEACTIVATING,
}


def show_argv(units: Sequence[str]) -> list[str]:
    """The argv of the one `systemctl show` that reads every unit in `units`."""
    return ["systemctl", "show", f"--property={SHOW_PROPERTIES}", *units]


def _block_state(props: dict[str, str]) -> ServiceState:
    if props.get("LoadState") == "not-found":
        return ServiceState.NOT_FOUND
    return _ACTIVE_STATES.get(props.get("ActiveState", ""), ServiceState.UNKNOWN)


def _unit_id(unit: str) -> str:
    return unit if "." in unit else f"{unit}.service"


def parse_show(text: str, units: Sequence[str]) -> dict[str, ServiceState]:
    """Map `systemctl show` output (one KEY=VALUE block per unit, blank-line separated) onto `units`.

    Blocks come in argument order, so they are matched by position; when the
    count does not match (unexpected output) they are matched by `Id` instead,
    and units without a block are UNKNOWN. Property order inside a block is
    not relied on (systemd prints D-Bus order, not the requested one).
    """
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key.strip()] = value.strip()
    if current:
        blocks.append(current)
    if len(blocks) == len(units):
        return {unit: _block_state(block) for unit, block in zip(units, blocks, strict=True)}
    by_id = {block.get("Id", ""): block for block in blocks}
    return {
        unit: _block_state(by_id[_unit_id(unit)]) if _unit_id(unit) in by_id else ServiceState.UNKNOWN
        for unit in units
    }


def systemd_states(runner: CommandRunner, units: Sequence[str]) -> dict[str, ServiceState]:
    """States of `units` from a single `systemctl show` spawn; all UNKNOWN when systemctl fails."""
    unique = list(dict.fromkeys(units))
    if not unique:
        return {}
    result = runner.run(show_argv(unique), SHOW_TIMEOUT_S)
    if result.exit_code != 0:
        return dict.fromkeys(unique, ServiceState.UNKNOWN)
    return parse_show(result.output, unique)


class SystemdService:
    """A service controlled with `systemctl start|stop|restart UNIT`."""

    kind = "systemd"

    def __init__(self, unit: str, settings: ServiceSpec, runner: CommandRunner) -> None:
        self.unit = unit
        self._settings = settings
        self._runner = runner

    def action_argvs(self, action: Action) -> list[list[str]]:
        """The configured argv for `action`, else `systemctl ACTION UNIT`."""
        return [configured_argv(self._settings, action) or ["systemctl", action, self.unit]]

    def state(self) -> ServiceState:
        """This unit's state (one spawn); the registry batches all systemd units instead."""
        return systemd_states(self._runner, [self.unit])[self.unit]
