"""The README as a newcomer meets it: `make run`, then every command of the API tour and the CLI
examples, run exactly as written by bash from the clone's root against that real server.

The only thing the test chooses is the environment the README documents for a second port and a
scratch store: CHECKD_SERVER__PORT (a free port) and CHECKD_DATA_DIR. The tour restarts httpd, the
machine's real apache2: run under `flock /tmp/checkd-apache.lock` (its state is restored after).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apache import require_apache
from checkd_process import CheckdProcess, free_port

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"


def shell_lines(section: str) -> list[str]:
    """The command lines of the ```sh blocks under the README heading `## {section}`."""
    text = README.read_text()
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else len(text)]
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", body, flags=re.S):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                assert not line.rstrip().endswith("\\"), f"one command per line: {line}"
                lines.append(line)
    assert lines, f"no sh block under ## {section}"
    return lines


def run_steps(lines: list[str], env: dict[str, str], scratch: Path) -> list[dict[str, Any]]:
    """Run `lines` in ONE bash (assignments carry over), each line verbatim; its rc, stdout, stderr."""
    script = []
    for i, line in enumerate(lines):
        # The newline before `}` keeps a trailing README comment from swallowing the brace.
        script.append(
            f'{{ {line}\n}} >"{scratch}/{i}.out" 2>"{scratch}/{i}.err"; echo $? >"{scratch}/{i}.rc"'
        )
    proc = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        check=False,
        cwd=ROOT,
        env=env,
        timeout=300,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc
    return [
        {
            "line": line,
            "rc": int((scratch / f"{i}.rc").read_text()),
            "out": (scratch / f"{i}.out").read_text(),
            "err": (scratch / f"{i}.err").read_text(),
        }
        for i, line in enumerate(lines)
    ]


def apache_active() -> bool:
    """Whether the machine's apache2 runs (LSB status 0)."""
    return subprocess.run(["service", "apache2", "status"], capture_output=True, check=False).returncode == 0


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[tuple[CheckdProcess, dict[str, str]]]:
    """`make run` from the clone's root, on a free port and a scratch data dir given through the env."""
    require_apache()  # the tour restarts httpd: skip (saying why) before starting anything
    port = free_port()
    env = {"CHECKD_SERVER__PORT": str(port), "CHECKD_DATA_DIR": str(tmp_path / "data")}
    server = CheckdProcess(tmp_path / "data", port=port, env=env, command=("make", "run"), cwd=ROOT)
    try:
        server.start(timeout=120)  # `make run` may first bring .venv up to date
        yield server, server.env
    finally:
        server.close()
    assert server.proc is not None and server.proc.returncode == 0, server.log()[-2000:]


@pytest.mark.root
def test_every_readme_command_works_as_written(
    make_run: tuple[CheckdProcess, dict[str, str]], tmp_path: Path
) -> None:
    server, env = make_run
    server.wait_for(lambda: server.get("/api/v2/checks/latest").status_code == 200)
    was_active = apache_active()
    try:
        tour = run_steps(shell_lines("API tour"), env, tmp_path)
        cli = run_steps(shell_lines("CLI"), env, tmp_path)
    finally:
        if apache_active() != was_active:
            subprocess.run(["service", "apache2", "start" if was_active else "stop"], check=False)

    for step in tour + cli:
        assert step["rc"] == 0, step
        assert "Traceback" not in step["err"], step
    for step in tour:
        if step["line"].startswith("curl"):
            body = json.loads(step["out"])  # an error would be {"detail": "..."} (401, 422, ...)
            assert not (isinstance(body, dict) and body.get("detail")), step
    put, restart = (next(s for s in tour if f"-X {verb}" in s["line"]) for verb in ("PUT", "POST"))
    assert json.loads(put["out"])["interval_s"] == 10
    assert json.loads(restart["out"])["ok"] is True and json.loads(restart["out"])["state"] == "active"
    assert server.get("/api/v2/sampler").json()["interval_s"] == 10
    for step in cli:
        assert step["out"].strip(), step
    actions = server.get("/api/v2/actions").json()
    assert [(a["actor"], a["action"], a["ok"]) for a in actions[:2]] == [
        ("cli", "start", True),
        ("api", "restart", True),
    ]
