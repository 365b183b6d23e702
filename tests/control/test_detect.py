"""Machine detection: the init system (PID 1's comm) and the `httpd` alias (httpd or apache2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkd.control._detect import detect_init_system, has_unit, resolve_unit


def _proc_with_pid1(tmp_path: Path, comm: str) -> Path:
    (tmp_path / "proc/1").mkdir(parents=True)
    (tmp_path / "proc/1/comm").write_text(comm + "\n")
    return tmp_path / "proc"


def test_detect_init_system(tmp_path: Path) -> None:
    assert detect_init_system(_proc_with_pid1(tmp_path / "a", "systemd")) == "systemd"
    assert detect_init_system(_proc_with_pid1(tmp_path / "b", "init")) == "sysv"
    assert detect_init_system(tmp_path / "nowhere") == "sysv"


def test_detect_init_system_on_this_machine() -> None:
    comm = Path("/proc/1/comm").read_text().strip()
    assert detect_init_system() == ("systemd" if comm == "systemd" else "sysv")


def test_httpd_alias_defaults_to_apache2(tmp_path: Path) -> None:
    assert resolve_unit("httpd", None, tmp_path) == "apache2"


@pytest.mark.parametrize(
    "path", ["etc/init.d/httpd", "usr/lib/systemd/system/httpd.service", "etc/systemd/system/httpd.service"]
)
def test_httpd_alias_when_the_machine_has_httpd(tmp_path: Path, path: str) -> None:
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text("")
    assert has_unit("httpd", tmp_path)
    assert resolve_unit("httpd", None, tmp_path) == "httpd"


def test_configured_unit_wins_and_other_names_map_to_themselves(tmp_path: Path) -> None:
    assert resolve_unit("httpd", "nginx", tmp_path) == "nginx"
    assert resolve_unit("cron", None, tmp_path) == "cron"
