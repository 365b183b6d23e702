"""`checkd token create|list|revoke`: one-line errors, the secret printed once and never listed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checkd_process import run_cli


def test_create_list_revoke_round_trip(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    created = run_cli("token", "create", "--scope", "operate", "--name", "deploy", "--data-dir", data)
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_\-]{40,}", secret)

    listed = run_cli("token", "list", "--data-dir", data)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^deploy\s+operate\s+-\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", listed.stdout, re.M), (
        listed.stdout
    )
    assert secret not in listed.stdout + listed.stderr

    revoked = run_cli("token", "revoke", "deploy", "--data-dir", data)
    assert revoked.returncode == 0, revoked.stderr
    assert run_cli("token", "list", "--data-dir", data).stdout.startswith("no named tokens")


def test_options_before_the_subcommand_apply_to_it(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    assert run_cli("token", "--data-dir", data, "create", "--scope", "read", "--name", "r1").returncode == 0
    listed = run_cli("token", "--data-dir", data, "list")
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].startswith("r1 "), listed.stdout


def test_the_admin_token_command_is_unchanged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = run_cli("token", "--data-dir", str(data))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (data / "api-token").read_text().strip()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("create", "--scope", "root", "--name", "x"), "--scope"),
        (("create", "--scope", "read", "--name", "bad name"), "--name"),
        (("create", "--scope", "ingest", "--name", "feeder"), "--host"),
        (("create", "--scope", "read", "--name", "r", "--host", "web-1"), "--host"),
        (("revoke", "nobody"), "NAME"),
    ],
)
def test_bad_arguments_are_one_line_naming_the_option(
    tmp_path: Path, args: tuple[str, ...], named: str
) -> None:
    proc = run_cli("token", *args, "--data-dir", str(tmp_path / "data"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_name_is_taken_once(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    assert run_cli("token", "create", "--scope", "read", "--name", "dash", "--data-dir", data).returncode == 0
    again = run_cli("token", "create", "--scope", "admin", "--name", "dash", "--data-dir", data)
    assert again.returncode == 2
    assert "exists already" in again.stderr
