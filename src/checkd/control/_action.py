"""One verified action: choose what to run from the state now, run it in the timeout, poll the state."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime

from checkd.control._base import Action, Backend, safe_state
from checkd.control._model import ActionResult
from checkd.control._runner import OUTPUT_LIMIT, CommandRunner, RunResult
from checkd.vocabulary import ServiceState

EXPECTED: dict[str, ServiceState] = {
    "start": ServiceState.ACTIVE,
    "stop": ServiceState.INACTIVE,
    "restart": ServiceState.ACTIVE,
}
# Not running, as LSB sees it: a stale pidfile (or a failed unit) is stopped, only reported as failed.
STOPPED = frozenset({ServiceState.INACTIVE, ServiceState.FAILED})
ACCEPTED: dict[str, frozenset[ServiceState]] = {
    "start": frozenset({ServiceState.ACTIVE}),
    "stop": STOPPED,
    "restart": frozenset({ServiceState.ACTIVE}),
}
_PAST = {"start": "started", "stop": "stopped", "restart": "restarted"}
POLL_DELAYS_S = (0.005, 0.01, 0.02, 0.04)  # after the immediate first read; then every POLL_MAX_S
POLL_MAX_S = 0.05


def wait_for_state(
    read: Callable[[], ServiceState], accepted: frozenset[ServiceState], deadline: float
) -> ServiceState:
    """Read the state now, then at growing short intervals, until it is in `accepted` or `deadline` passes."""
    state = read()
    delays = iter(POLL_DELAYS_S)
    while state not in accepted:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(next(delays, POLL_MAX_S), left))
        state = read()
    return state


def already_done(action: Action, state: ServiceState) -> bool:
    """True when `action` has nothing to do: start on an active service, stop on a stopped one."""
    return (action == "start" and state is ServiceState.ACTIVE) or (action == "stop" and state in STOPPED)


def _already(subject: str, action: Action, state: ServiceState) -> str:
    if action == "start":
        return f"{subject} already active"
    return f"{subject} already inactive" + (
        f" ({state.value}: not running)" if state is ServiceState.FAILED else ""
    )


def _message(
    action: Action,
    subject: str,
    timeout: float,
    run: RunResult,
    argv: list[str],
    *,
    state: ServiceState,
    ok: bool,
) -> str:
    if ok:
        return f"{subject} {_PAST[action]}"
    if run.timed_out:
        return f"{action} timed out after {timeout:g}s; process group killed; {subject} is {state.value}"
    if run.missing_binary:
        return f"`{argv[0]}` not found"
    if run.exit_code is None:
        return run.output  # could not be started, e.g. permission denied
    if run.exit_code != 0:
        return f"{action} failed with exit code {run.exit_code}; {subject} is {state.value}"
    expected = EXPECTED[action].value
    return f"{action} exited 0 but {subject} is {state.value} after {timeout:g}s, expected {expected}"


def perform(
    name: str, action: Action, backend: Backend, timeout: float, runner: CommandRunner
) -> ActionResult:
    """Run `action` on one service and verify it; the whole action is bounded by `timeout`.

    The same for every backend: start on an active service and stop on a stopped one run
    nothing and succeed ("already active"/"already inactive"); restart of a stopped service
    runs its start command when its restart is its own stop then start, and the native restart
    otherwise (which starts a stopped service and clears what a crashed one left).
    """
    at = datetime.now(UTC)
    started = time.monotonic()
    deadline = started + timeout
    subject = backend.unit or name
    done = functools.partial(ActionResult, service=name, action=action, at=at)
    read = functools.partial(safe_state, backend)
    before = read()
    if already_done(action, before):
        message = _already(subject, action, before)
        return done(
            ok=True,
            state=before,
            exit_code=None,
            output="",
            duration_ms=_ms(started),
            status=200,
            message=message,
        )
    argvs = backend.action_argvs(action)
    run_as: Action = action
    if action == "restart" and before in STOPPED and len(argvs) > 1:
        # A restart composed of the service's own stop and start: its stop may fail on a stopped
        # service, so only start. A native restart (`systemctl restart`, LSB `service X restart`,
        # a configured restart argv) is defined to start a stopped service, and also clears what a
        # crashed one left (a stale pidfile, a failed unit), so it runs as it is.
        run_as, argvs = "start", backend.action_argvs("start")
    if not argvs:
        message = f"no `{action}` command configured for {name}"
        return done(
            ok=False,
            state=before,
            exit_code=None,
            output="",
            duration_ms=_ms(started),
            status=502,
            message=message,
        )
    outputs: list[str] = []
    run: RunResult | None = None
    argv = argvs[0]
    for argv in argvs:
        run = runner.run(argv, max(deadline - time.monotonic(), 0.001))
        if run.pid is not None:  # it ran: keep its output (not our "not found" text)
            outputs.append(run.output)
        if run.exit_code != 0:
            break
    assert run is not None
    # Verify only what could have worked; a failed command gets one read to report.
    state = wait_for_state(read, ACCEPTED[action], deadline) if run.exit_code == 0 else read()
    ok = run.exit_code == 0 and state in ACCEPTED[action]
    message = _message(run_as, subject, timeout, run, argv, state=state, ok=ok)
    if ok and run_as != action:
        message = f"{subject} was {before.value}; started"
    return done(
        ok=ok,
        state=state,
        exit_code=run.exit_code,
        output="".join(outputs)[-OUTPUT_LIMIT:],
        duration_ms=_ms(started),
        status=200 if ok else 504 if run.timed_out else 502,
        message=message,
    )


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
