"""deploy/: the systemd unit, checked by systemd's own tools, and its ExecStart run as written.

systemd is not PID 1 here, so the unit cannot be started by systemd: `systemd-analyze verify` and
`systemd-analyze security --offline=yes` check it, `systemd-sysusers --root` creates its user in a
scratch root, and the ExecStart line runs with the two variables systemd would set. The one change
to the shipped unit: ExecStart's /opt/checkd/bin/checkd becomes this venv's checkd (verify
requires the program to exist).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from checkd_process import CheckdProcess, free_port

DEPLOY = Path(__file__).parents[1] / "deploy"
UNIT = DEPLOY / "checkd.service"
INSTALLED_CHECKD = "/opt/checkd/bin/checkd"
VENV_CHECKD = str(Path(sys.executable).parent / "checkd")
MAX_EXPOSURE = 3.0  # systemd-analyze security: below 4.0 is "OK"; this unit is well under


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(
            f"{name} is not installed (Debian package systemd; scripts/system-deps.sh installs it as root)"
        )
    return path


def _directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.fixture
def unit_here(tmp_path: Path) -> Path:
    """The shipped unit with only ExecStart's program pointed at this venv."""
    text = UNIT.read_text()
    assert text.count(INSTALLED_CHECKD) == 1
    path = tmp_path / "checkd.service"
    path.write_text(text.replace(INSTALLED_CHECKD, VENV_CHECKD))
    return path


def test_the_unit_has_the_promised_hardening() -> None:
    d = _directives(UNIT.read_text())
    expected = {
        "User": "checkd",
        "StateDirectory": "checkd",
        "ProtectSystem": "strict",
        "ProtectHome": "read-only",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }
    assert {k: d.get(k, ["<unset>"])[-1] for k in expected} == expected
    assert "ProtectProc" not in d and "PrivateUsers" not in d  # states read other users' /proc entries


def test_systemd_analyze_verify_is_clean(unit_here: Path) -> None:
    proc = subprocess.run(
        [_tool("systemd-analyze"), "verify", str(unit_here)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc
    ours = [line for line in (proc.stdout + proc.stderr).splitlines() if "checkd" in line]
    assert ours == [], ours  # an unknown key or bad value is only a warning: none allowed


def test_systemd_analyze_security_exposure(unit_here: Path) -> None:
    proc = subprocess.run(
        [_tool("systemd-analyze"), "security", "--offline=yes", "--no-pager", str(unit_here)],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Overall exposure level for checkd\.service: (\d+\.\d+) (\w+)", proc.stdout)
    assert found, proc
    assert float(found.group(1)) <= MAX_EXPOSURE, proc.stdout


def test_sysusers_file_creates_the_checkd_system_user(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    proc = subprocess.run(
        [_tool("systemd-sysusers"), f"--root={tmp_path}", str(DEPLOY / "checkd.sysusers")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and "Creating user 'checkd'" in proc.stderr, proc
    assert "warn" not in proc.stderr.lower() and "ignor" not in proc.stderr.lower(), proc
    user = next(p for p in (tmp_path / "etc/passwd").read_text().splitlines() if p.startswith("checkd:"))
    _, _, uid, _, _, home, shell = user.split(":")
    assert int(uid) < 1000 and home == "/var/lib/checkd" and shell == "/usr/sbin/nologin"


def test_exec_start_serves_with_an_empty_config_and_the_state_directory(tmp_path: Path) -> None:
    """ExecStart as systemd runs it: ${CONFIGURATION_DIRECTORY} and ${STATE_DIRECTORY} expanded."""
    config_dir, state_dir = tmp_path / "etc-checkd", tmp_path / "var-lib-checkd"
    config_dir.mkdir()
    state_dir.mkdir(mode=0o700)
    (config_dir / "checkd.toml").write_text("")  # what the README's install step creates
    exec_start = _directives(UNIT.read_text())["ExecStart"][0]
    expanded = exec_start.replace("${CONFIGURATION_DIRECTORY}", str(config_dir)).replace(
        "${STATE_DIRECTORY}", str(state_dir)
    )
    argv = shlex.split(expanded)
    assert argv[0] == INSTALLED_CHECKD and "$" not in expanded
    port = free_port()
    server = CheckdProcess(
        state_dir, port=port, env={"CHECKD_SERVER__PORT": str(port)}, command=(VENV_CHECKD, *argv[1:])
    )
    try:
        server.start()
        assert server.get("/api/v2/sampler").json()["running"] is True
        token = state_dir / "api-token"
        assert stat.S_IMODE(token.stat().st_mode) == 0o600
        assert (state_dir / "checkd.db").exists()
    finally:
        assert server.stop() == 0
        server.close()


POLKIT_HARNESS = """
const fs = require("fs"), vm = require("vm");
const rules = [];
const polkit = {addRule: (f) => rules.push(f), Result: {YES: "yes", NO: "no"}};
vm.runInNewContext(fs.readFileSync(process.argv[1], "utf8"), {polkit});
const answers = JSON.parse(process.argv[2]).map(([id, user, unit, verb]) => {
  const action = {id, lookup: (key) => ({unit, verb})[key]};
  const answer = rules.map((rule) => rule(action, {user})).find((r) => r !== undefined);
  return answer === undefined ? null : answer;
});
console.log(JSON.stringify(answers));
"""


def test_polkit_rule_lets_checkd_control_only_the_listed_units() -> None:
    """The rule's logic, run by node (polkit runs rules in its own ES5 engine; the file is plain ES5)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the polkit rule's JavaScript cannot be run here")
    manage = "org.freedesktop.systemd1.manage-units"
    cases = {
        (manage, "checkd", "apache2.service", "start"): "yes",
        (manage, "checkd", "apache2.service", "stop"): "yes",
        (manage, "checkd", "apache2.service", "restart"): "yes",
        (manage, "checkd", "apache2.service", "reload-or-restart"): None,
        (manage, "checkd", "ssh.service", "stop"): None,
        (manage, "www-data", "apache2.service", "start"): None,
        ("org.freedesktop.systemd1.manage-unit-files", "checkd", "apache2.service", "start"): None,
    }
    proc = subprocess.run(
        [node, "-e", POLKIT_HARNESS, str(DEPLOY / "checkd.polkit.rules"), json.dumps(list(cases))],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert proc.returncode == 0, proc
    assert dict(zip(cases, json.loads(proc.stdout), strict=True)) == cases


AGENT_UNIT = DEPLOY / "checkd-agent.service"


def test_the_agent_unit_verifies_and_is_as_sandboxed(tmp_path: Path) -> None:
    text = AGENT_UNIT.read_text()
    assert text.count(INSTALLED_CHECKD) == 1
    unit = tmp_path / "checkd-agent.service"
    unit.write_text(text.replace(INSTALLED_CHECKD, VENV_CHECKD))
    analyze = _tool("systemd-analyze")
    proc = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc
    assert [line for line in (proc.stdout + proc.stderr).splitlines() if "checkd" in line] == []
    proc = subprocess.run(
        [analyze, "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Overall exposure level for checkd-agent\.service: (\d+\.\d+) (\w+)", proc.stdout)
    assert found and float(found.group(1)) <= MAX_EXPOSURE, proc.stdout
    d = _directives(text)
    assert (
        d["User"] == ["checkd"]
        and d["StateDirectory"] == ["checkd-agent"]
        and d["ProtectSystem"] == ["strict"]
    )


def test_the_agent_exec_start_runs_and_pushes(tmp_path: Path) -> None:
    """ExecStart as systemd runs it, with the variables of agent.env and the unit expanded."""
    from agent_process import ingest_token

    config_dir, state_dir = tmp_path / "etc-checkd", tmp_path / "var-lib-checkd-agent"
    config_dir.mkdir()
    state_dir.mkdir(mode=0o700)
    collector = CheckdProcess(tmp_path / "collector", interval=60).start()
    try:
        (config_dir / "agent-token").write_text(ingest_token("edge1", "--data-dir", str(collector.data_dir)))
        (config_dir / "checkd.toml").write_text("")
        exec_start = _directives(AGENT_UNIT.read_text())["ExecStart"][0]
        for name, value in (
            ("CONFIGURATION_DIRECTORY", str(config_dir)),
            ("STATE_DIRECTORY", str(state_dir)),
            ("COLLECTOR", collector.url("")),
            ("INTERVAL", "0.5"),
        ):
            exec_start = exec_start.replace("${" + name + "}", value)
        argv = shlex.split(exec_start)
        assert argv[0] == INSTALLED_CHECKD and "$" not in exec_start
        agent = subprocess.Popen([VENV_CHECKD, *argv[1:], "--host-name", "edge1"])
        try:
            collector.wait_for(
                lambda: collector.get("/api/v2/checks/latest", params={"host": "edge1"}).status_code == 200
            )
            assert (state_dir / "status.json").exists()  # the state directory is the agent's
        finally:
            agent.terminate()
            assert agent.wait(30) == 0
        # Its sequence number is kept there; the spool is opened only when checks must wait.
        assert (state_dir / "next_seq").read_text().strip().isdigit()
    finally:
        collector.close()
