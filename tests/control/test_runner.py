"""CommandRunner: argv only, clean env, own process group, timeout kill, bounded UTF-8 output."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from checkd.control import CommandRunner
from checkd.control._runner import OUTPUT_LIMIT, decode_output
from checkd.control._states import pid_alive

from .helpers import PY


def test_runs_argv_and_merges_stderr() -> None:
    result = CommandRunner().run(
        [PY, "-c", "import sys; print('out'); sys.stdout.flush(); print('err', file=sys.stderr)"], 5
    )
    assert result.exit_code == 0
    assert result.output == "out\nerr\n"
    assert not result.timed_out and not result.missing_binary
    assert result.pid is not None and result.duration_s < 5


def test_no_shell_metacharacters_are_interpreted() -> None:
    result = CommandRunner().run(["echo", "$(id)", ";", "id", "|", "`id`"], 5)
    assert result.output == "$(id) ; id | `id`\n"


def test_clean_environment() -> None:
    result = CommandRunner().run(["env"], 5)
    assert sorted(result.output.splitlines()) == ["LANG=C.UTF-8", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]


def test_injected_environment(tmp_path: Path) -> None:
    result = CommandRunner(env={"PATH": str(tmp_path), "X": "1"}).run(["env"], 5)
    assert result.missing_binary  # `env` is not in the injected PATH
    assert result.output == "`env` not found"
    result = CommandRunner(env={"PATH": str(tmp_path), "X": "1"}).run(["/usr/bin/env"], 5)
    assert sorted(result.output.splitlines()) == [f"PATH={tmp_path}", "X=1"]


def test_stdin_is_devnull() -> None:
    started = time.monotonic()
    result = CommandRunner().run(["cat"], 5)
    assert result.exit_code == 0 and result.output == ""
    assert time.monotonic() - started < 1


def test_stdin_bytes_reach_the_command() -> None:
    res = CommandRunner().run(["cat"], 5, stdin=b'{"alert": "cpu-busy"}')
    assert (res.exit_code, res.output) == (0, '{"alert": "cpu-busy"}')


def test_a_command_that_never_reads_stdin_is_still_killed_at_the_timeout() -> None:
    started = time.monotonic()
    res = CommandRunner().run(["sleep", "30"], 0.5, stdin=b"x" * 1_000_000)  # more than a pipe holds
    assert res.timed_out and res.exit_code is None
    assert time.monotonic() - started < 3


def test_own_session_and_process_group() -> None:
    code = "import os; print(os.getsid(0) == os.getpid(), os.getpgid(0) == os.getpid())"
    assert CommandRunner().run([PY, "-c", code], 5).output == "True True\n"


def test_exit_code() -> None:
    assert CommandRunner().run([PY, "-c", "raise SystemExit(3)"], 5).exit_code == 3


def test_missing_binary() -> None:
    result = CommandRunner().run(["checkd-no-such-binary"], 5)
    assert result.missing_binary and result.exit_code is None and result.pid is None
    assert result.output == "`checkd-no-such-binary` not found"


def test_not_executable(tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\necho hi\n")
    result = CommandRunner().run([str(script)], 5)
    assert result.exit_code is None and not result.missing_binary
    assert result.output.startswith(f"cannot run `{script}`")


def test_invalid_utf8_is_replaced() -> None:
    code = "import sys; sys.stdout.buffer.write(b'caf\\xc3\\xa9 \\xff\\xfe bad \\x00 nul\\n')"
    result = CommandRunner().run([PY, "-c", code], 5)
    assert result.output == "café \ufffd\ufffd bad \ufffd nul\n"
    result.output.encode("utf-8")  # always encodable: safe for a DB write or a JSON response


def test_output_keeps_last_4_kib() -> None:
    code = "import sys; sys.stdout.write('a' * 100000 + 'b' * 10 + 'END')"
    result = CommandRunner().run([PY, "-c", code], 5)
    assert len(result.output.encode()) == OUTPUT_LIMIT
    assert result.output.endswith("a" * 10 + "b" * 10 + "END")


def test_truncation_does_not_start_mid_character() -> None:
    assert decode_output("é".encode()[1:] + b"xyz", truncated=True) == "xyz"
    assert decode_output(b"\x80xyz", truncated=False) == "\ufffdxyz"


def test_large_output_does_not_block() -> None:
    code = "import sys; [sys.stdout.write('x' * 1000 + '\\n') for _ in range(20000)]"
    result = CommandRunner().run([PY, "-c", code], 10)
    assert result.exit_code == 0 and len(result.output) == OUTPUT_LIMIT


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    """The child spawns a grandchild in its group; on timeout both get SIGKILL."""
    pidfile = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print('waiting', flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    result = CommandRunner().run([PY, "-c", code], 1.0)
    elapsed = time.monotonic() - started
    assert result.timed_out and result.exit_code is None
    assert result.output == "waiting\n"
    assert 1.0 <= elapsed < 2.0
    assert result.pid is not None and not pid_alive(result.pid)
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 2
    while pid_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not pid_alive(grandchild)


def test_daemon_holding_the_pipe_does_not_block(tmp_path: Path) -> None:
    """A child that leaves a background process with our stdout: run returns when the child exits."""
    pidfile = tmp_path / "bg.pid"
    code = (
        "import subprocess\n"
        "p = subprocess.Popen(['sleep', '30'], start_new_session=True)\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print('started', flush=True)\n"
    )
    started = time.monotonic()
    result = CommandRunner().run([PY, "-c", code], 10)
    try:
        assert time.monotonic() - started < 2
        assert result.exit_code == 0 and result.output == "started\n"
    finally:
        os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_empty_argv_is_refused() -> None:
    with pytest.raises(ValueError, match="argv"):
        CommandRunner().run([], 1)
