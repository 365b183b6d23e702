"""One verified action: run the command(s) under the timeout, then poll the state until it follows."""

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
_PAST = {"start": "started", "stop": "stopped", "restart": "restarted"}
POLL_DELAYS_S = (0.005, 0.01, 0.02, 0.04)  # after the immediate first read; then every POLL_MAX_S
POLL_MAX_S = 0.05


def wait_for_state(read: Callable[[], ServiceState], expected: ServiceState, deadline: float) -> ServiceState:
    """Read the state now, then at growing short intervals, until it is `expected` or `deadline` passes."""
    state = read()
    delays = iter(POLL_DELAYS_S)
    while state != expected:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(next(delays, POLL_MAX_S), left))
        state = read()
    return state


def _message(
    action: Action,
    unit: str,
    timeout: float,
    run: RunResult,
    argv: list[str],
    *,
    state: ServiceState,
    ok: bool,
) -> str:
    if ok:
        return f"{unit} {_PAST[action]}"
    if run.timed_out:
        return f"{action} timed out after {timeout:g}s; process group killed; {unit} is {state.value}"
    if run.missing_binary:
        return f"`{argv[0]}` not found"
    if run.exit_code is None:
        return run.output  # could not be started, e.g. permission denied
    if run.exit_code != 0:
        return f"{action} failed with exit code {run.exit_code}; {unit} is {state.value}"
    return (
        f"{action} exited 0 but {unit} is {state.value} after {timeout:g}s, expected {EXPECTED[action].value}"
    )


def perform(
    name: str, action: Action, backend: Backend, timeout: float, runner: CommandRunner
) -> ActionResult:
    """Run `action` on one service and verify it; the whole action is bounded by `timeout`."""
    at = datetime.now(UTC)
    started = time.monotonic()
    deadline = started + timeout
    argvs = backend.action_argvs(action)
    if not argvs:
        return ActionResult(
            service=name,
            action=action,
            ok=False,
            state=safe_state(backend),
            exit_code=None,
            output="",
            duration_ms=_ms(started),
            at=at,
            status=502,
            message=f"no `{action}` command configured for {name}",
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
    expected = EXPECTED[action]
    # Verify only what could have worked; a failed command gets one read to report.
    read = functools.partial(safe_state, backend)
    state = wait_for_state(read, expected, deadline) if run.exit_code == 0 else read()
    ok = run.exit_code == 0 and state == expected
    return ActionResult(
        service=name,
        action=action,
        ok=ok,
        state=state,
        exit_code=run.exit_code,
        output="".join(outputs)[-OUTPUT_LIMIT:],
        duration_ms=_ms(started),
        at=at,
        status=200 if ok else 504 if run.timed_out else 502,
        message=_message(action, backend.unit, timeout, run, argv, state=state, ok=ok),
    )


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
