"""Command backend: the user's argv lists; state from a pidfile, a process match or a status command."""

from __future__ import annotations

from checkd.control._base import Action, configured_argv, status_timeout
from checkd.control._runner import CommandRunner
from checkd.control._spec import ServiceSpec
from checkd.control._states import match_state, pidfile_state, state_from_lsb
from checkd.vocabulary import ServiceState


class CommandService:
    """A daemon without an init script, run by configured commands (like Monit's "check process")."""

    kind = "command"
    # `unit` is only what the config names: the commands are what is controlled, not an init-system unit.

    def __init__(self, unit: str | None, settings: ServiceSpec, runner: CommandRunner) -> None:
        self.unit = unit
        self._settings = settings
        self._runner = runner

    def action_argvs(self, action: Action) -> list[list[str]]:
        """The configured argv; a missing `restart` becomes `stop` then `start` when both exist."""
        argv = configured_argv(self._settings, action)
        if argv:
            return [argv]
        if action == "restart":
            stop = configured_argv(self._settings, "stop")
            start = configured_argv(self._settings, "start")
            if stop and start:
                return [stop, start]
        return []

    def state(self) -> ServiceState:
        """From the pidfile plus /proc if set; else the `match` process scan; else the status command."""
        settings = self._settings
        if settings.pidfile is not None:
            return pidfile_state(settings.pidfile, settings.match)
        if settings.match:
            return match_state(settings.match)
        if settings.status:
            return state_from_lsb(self._runner.run(settings.status, status_timeout(settings)).exit_code)
        return ServiceState.UNKNOWN
