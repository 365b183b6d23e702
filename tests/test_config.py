"""Configuration: bad values refuse start-up with one line naming the key; the file, CHECKD_* env and
flags combine with flags winning over env and env over the file.

The cases the issue lists run as real `checkd serve` subprocesses (started together, since each
costs a couple of seconds of imports); the wider matrix runs the same CLI in-process.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from checkd.cli import app
from checkd.config import load_settings
from checkd_process import CHECKD, CheckdProcess, free_port

IS_ROOT = os.geteuid() == 0
PROC_SYS_READ_ONLY = not os.access("/proc/sys", os.W_OK)


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any CHECKD_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKD_")}
    env.update(extra)
    return env


def assert_one_line_refusal(code: int | None, stdout: str, stderr: str, *must_name: str) -> str:
    """Non-zero exit, exactly one line on stderr naming every string in `must_name`, no traceback."""
    out = stdout + stderr
    assert code is not None, "checkd did not exit: it started despite the bad value"
    assert code > 0, f"exit {code}:\n{out}"
    assert "Traceback" not in out, out
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    for name in must_name:
        assert name in lines[0], f"{name!r} not named in: {lines[0]}"
    return lines[0]


# -- the cases, as real `checkd serve` subprocesses -----------------------------------------
@dataclass
class Case:
    """One `checkd serve` that must be refused, and what its one line must name."""

    args: list[str]
    names: tuple[str, ...]
    env: dict[str, str] | None = None


@dataclass
class Outcome:
    """How one case's `checkd serve` ended (`code` None: it kept running and was killed)."""

    case: Case
    code: int | None
    stdout: str
    stderr: str


def _serve_cases(tmp: Path) -> dict[str, Case]:
    data = str(tmp / "data")

    def serve(*extra: str) -> list[str]:
        return ["serve", "--data-dir", data, "--port", str(free_port()), *extra]

    (tmp / "interval0.toml").write_text("[sampler]\ninterval = 0\n")
    (tmp / "port70000.toml").write_text("[server]\nport = 70000\n")
    (tmp / "conf.d").mkdir()
    blocker = tmp / "a-file"
    blocker.write_text("a regular file, not a directory\n")
    cases = {
        "interval 0 file": Case(serve("--config", str(tmp / "interval0.toml")), ("sampler.interval",)),
        "port 70000 file": Case(
            ["serve", "--data-dir", data, "--config", str(tmp / "port70000.toml")], ("server.port",)
        ),
        # Unreadable even for root: a directory (root reads a mode-000 file anyway).
        "config is a directory": Case(
            serve("--config", str(tmp / "conf.d")), ("config", str(tmp / "conf.d"))
        ),
        "unknown db scheme flag": Case(serve("--database-url", "mysql://u@127.0.0.1/db"), ("database.url",)),
        # Root-proof "cannot write here": nobody can create anything below a regular file.
        "data dir under a file": Case(
            ["serve", "--data-dir", str(blocker / "data"), "--port", str(free_port())], (str(blocker),)
        ),
        "db dir under a file": Case(
            serve("--database-url", f"sqlite:///{blocker / 'sub' / 'checkd.db'}"), ("database", str(blocker))
        ),
    }
    if PROC_SYS_READ_ONLY:
        # /proc/sys is a directory no one, root included, may create files in: really read-only.
        cases["db in read-only /proc/sys"] = Case(
            serve("--database-url", "sqlite:////proc/sys/checkd-test.db"),
            ("database", "/proc/sys", "writable"),
        )
    if not IS_ROOT:
        ro = tmp / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        cases["data dir mode 0555"] = Case(
            ["serve", "--data-dir", str(ro), "--port", str(free_port())], (str(ro),)
        )
        unreadable = tmp / "unreadable.toml"
        unreadable.write_text("[sampler]\ninterval = 5\n")
        unreadable.chmod(0)
        cases["config mode 000"] = Case(serve("--config", str(unreadable)), ("config", str(unreadable)))
    return cases


SERVE_CASE_IDS = [
    "interval 0 file",
    "port 70000 file",
    "config is a directory",
    "unknown db scheme flag",
    "data dir under a file",
    "db dir under a file",
    "db in read-only /proc/sys",
    "data dir mode 0555",
    "config mode 000",
]


@pytest.fixture(scope="module")
def refused(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Outcome]]:
    """Every case's finished `checkd serve`, all launched at once; any that keeps running is killed."""
    tmp = tmp_path_factory.mktemp("refused")
    cases = _serve_cases(tmp)
    procs = {
        name: subprocess.Popen(
            [*CHECKD, *case.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(**(case.env or {})),
        )
        for name, case in cases.items()
    }
    results: dict[str, Outcome] = {}
    try:
        for name, proc in procs.items():
            try:
                out, err = proc.communicate(timeout=60)
                code: int | None = proc.returncode
            except subprocess.TimeoutExpired:
                proc.kill()  # it started although it should have refused
                out, err = proc.communicate()
                code = None
            results[name] = Outcome(cases[name], code, out, err)
        yield results
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for mode_dir in tmp.glob("ro"):
            mode_dir.chmod(0o755)


@pytest.mark.parametrize("case", SERVE_CASE_IDS)
def test_serve_refuses_bad_config_with_one_line_naming_the_key(
    refused: dict[str, Outcome], case: str
) -> None:
    if case not in refused:
        if case == "db in read-only /proc/sys":
            pytest.skip("/proc/sys is writable here")
        pytest.skip(
            "runs as root, where permission bits do not stop reads or writes (root-proof cases cover it)"
        )
    got = refused[case]
    assert_one_line_refusal(got.code, got.stdout, got.stderr, *got.case.names)


# -- the wider matrix, same CLI in-process -----------------------------------------------------------
runner = CliRunner()


def invoke(args: list[str], **env: str) -> tuple[int | None, str, str]:
    """Run the `checkd` CLI in this process with CHECKD_* cleared except `env`."""
    cleared: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHECKD_")}
    result = runner.invoke(app, args, env={**cleared, **env})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "env", "key"),
    [
        (["--interval", "0"], {}, "sampler.interval"),
        (["--interval", "-1"], {}, "sampler.interval"),
        ([], {"CHECKD_SAMPLER__INTERVAL": "0"}, "sampler.interval"),
        (["--port", "70000"], {}, "server.port"),
        ([], {"CHECKD_DATABASE__URL": "mongodb://127.0.0.1/x"}, "database.url"),
        (["--interval", "86401"], {}, "sampler.interval"),
        (["--port", "0"], {}, "server.port"),
        (["--port", "-1"], {}, "server.port"),
        ([], {"CHECKD_SERVER__PORT": "abc"}, "server.port"),
        ([], {"CHECKD_SERVER__PORT": "65536"}, "server.port"),
        ([], {"CHECKD_SAMPLER__INTERVAL": "x"}, "sampler.interval"),
        ([], {"CHECKD_SAMPLER__DISK_PATHS": '["relative/path"]'}, "sampler.disk_paths"),
        ([], {"CHECKD_RETENTION__RAW": "forever"}, "retention.raw"),
        ([], {"CHECKD_LOG_LEVEL": "LOUD"}, "log_level"),
        ([], {"CHECKD_SAMPLER__DISK_PATHS": "/var"}, "CHECKD_SAMPLER__DISK_PATHS"),
        (["--database-url", "nonsense"], {}, "database.url"),
        (["--database-url", "redis://127.0.0.1"], {}, "database.url"),
        ([], {"CHECKD_SERVER__MAX_BODY": "100"}, "server.max_body"),
        ([], {"CHECKD_SERVER__MAX_BODY": "true"}, "server.max_body"),
        ([], {"CHECKD_SERVER__TLS_CERT": "/etc/ssl/c.pem"}, "tls_key is missing"),
        ([], {"CHECKD_SERVER__TLS_KEY": "/etc/ssl/k.pem"}, "tls_cert is missing"),
        ([], {"CHECKD_SERVER__ALLOW_PLAINTEXT": "maybe"}, "server.allow_plaintext"),
        ([], {"CHECKD_SERVER__KEEP_ALIVE": "0"}, "server.keep_alive"),
        ([], {"CHECKD_AUTH__FAILURE_LIMIT": "0"}, "auth.failure_limit"),
    ],
)
def test_more_bad_values_are_refused_naming_the_key(
    tmp_path: Path, args: list[str], env: dict[str, str], key: str
) -> None:
    code, out, err = invoke(["serve", "--data-dir", str(tmp_path / "d"), *args], **env)
    assert_one_line_refusal(code, out, err, key)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[sampler\ninterval = = 5\n", "config"),
        ("[sampler]\nintervall = 5\n", "sampler.intervall"),
        ("[sampler]\ninterval = 'often'\n", "sampler.interval"),
        ('[database]\nurl = "oracle://scott@127.0.0.1/x"\n', "database.url"),
        ('[services.httpd]\nunit = "apache2; reboot"\n', "services.httpd.unit"),
        ('[services."bad name!"]\nunit = "x"\n', "services"),
    ],
)
def test_bad_file_contents_are_refused_naming_the_key(tmp_path: Path, toml: str, key: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    code, out, err = invoke(["serve", "--config", str(cfg), "--data-dir", str(tmp_path / "d")])
    assert_one_line_refusal(code, out, err, key)


def test_missing_config_file_is_refused_naming_config(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    code, out, err = invoke(["serve", "--config", str(missing), "--data-dir", str(tmp_path / "d")])
    assert_one_line_refusal(code, out, err, "config", str(missing))


def test_config_env_pointing_nowhere_is_refused_naming_config(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    code, out, err = invoke(["serve", "--data-dir", str(tmp_path / "d")], CHECKD_CONFIG=str(missing))
    assert_one_line_refusal(code, out, err, "config", str(missing))


def test_file_is_read_and_env_overrides_it(tmp_path: Path) -> None:
    """`checkd sampler status` names the address it tried: the file's port, or env's when set."""
    file_port, env_port = free_port(), free_port()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[server]\nport = {file_port}\n")
    args = ["sampler", "status", "--config", str(cfg), "--data-dir", str(tmp_path / "d")]
    code, _, err = invoke(args)
    assert code != 0
    assert f":{file_port}" in err
    code, _, err = invoke(args, CHECKD_SERVER__PORT=str(env_port))
    assert code != 0
    assert f":{env_port}" in err


# -- precedence on real servers ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def layered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Two servers sharing a config file (interval 9, port F) and env (interval 7, port E).

    `env_wins` passes only --port; `flag_wins` passes --port and --interval 3."""
    tmp = tmp_path_factory.mktemp("layered")
    file_port, env_port = free_port(), free_port()
    cfg = tmp / "c.toml"
    cfg.write_text(f"[server]\nport = {file_port}\n[sampler]\ninterval = 9\n")
    env = clean_env(CHECKD_SAMPLER__INTERVAL="7", CHECKD_SERVER__PORT=str(env_port))
    env_wins = CheckdProcess(tmp / "env", interval=None, args=("--config", str(cfg)), env=env)
    flag_wins = CheckdProcess(tmp / "flag", interval=3, args=("--config", str(cfg)), env=env)
    try:
        env_wins.start(wait=False)
        flag_wins.start(wait=False)
        env_wins.wait_healthy()
        flag_wins.wait_healthy()
        yield {"env_wins": env_wins, "flag_wins": flag_wins, "file_port": file_port, "env_port": env_port}
    finally:
        env_wins.close()
        flag_wins.close()


def test_env_sampler_interval_is_used_over_the_file(layered: dict[str, object]) -> None:
    server = layered["env_wins"]
    assert isinstance(server, CheckdProcess)
    assert server.get("/api/v2/sampler").json()["interval_s"] == 7


def test_interval_flag_wins_over_env_and_file(layered: dict[str, object]) -> None:
    server = layered["flag_wins"]
    assert isinstance(server, CheckdProcess)
    assert server.get("/api/v2/sampler").json()["interval_s"] == 3


def test_port_flag_wins_over_env_and_file(layered: dict[str, object]) -> None:
    server = layered["env_wins"]
    assert isinstance(server, CheckdProcess)
    assert server.port not in (layered["file_port"], layered["env_port"])
    assert server.get("/healthz").status_code == 200


def test_env_values_take_the_type_of_their_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """pydantic-settings reads CHECKD_* by field type: a numeric host name or database password
    stays a string, a JSON list fills a list, `__` reaches into sections."""
    for key in [k for k in os.environ if k.startswith("CHECKD_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CHECKD_HOST_NAME", "1234")
    monkeypatch.setenv("CHECKD_DATABASE__URL", "postgresql+psycopg://u:5432@127.0.0.1/db")
    monkeypatch.setenv("CHECKD_SERVER__ALLOWED_HOSTS", '["checkd.example", "10.0.0.1"]')
    monkeypatch.setenv("CHECKD_SAMPLER__AUTOSTART", "false")
    monkeypatch.setenv("CHECKD_SERVICES__APP__MATCH", "8080")  # a cmdline substring that looks like a number
    settings = load_settings(server={"port": 9001})
    assert settings.services["app"].match == "8080"
    assert settings.host_name == "1234"
    assert settings.database.url == "postgresql+psycopg://u:5432@127.0.0.1/db"
    assert settings.server.allowed_hosts == ["checkd.example", "10.0.0.1"]
    assert settings.server.port == 9001
    assert settings.sampler.autostart is False
    assert "interval" not in settings.sampler.model_fields_set
