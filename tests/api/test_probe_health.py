"""A probe failing on every check makes a real server's /healthz degraded and shows in /api/v2/sampler."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from checkd_process import CheckdProcess


def test_a_missing_disk_path_is_degraded_naming_the_probe(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    mount = tmp_path / "mnt"
    config = tmp_path / "checkd.toml"
    config.write_text(f'[sampler]\ndisk_paths = ["/", "{mount}"]\n')
    server = make_server(tmp_path / "data", args=("--config", str(config)))  # mnt never existed
    health = server.wait_for(lambda: (h := server.get("/healthz").json())["status"] == "degraded" and h)
    assert health["sampler"] == "running" and health["database"] == "ok"
    assert f"disk:{mount}" in health["probes"] and "FileNotFoundError" in health["probes"]
    assert "failing since" in health["probes"]
    failures = server.get("/api/v2/sampler").json()["probe_failures"]
    assert [f["probe"] for f in failures] == [f"disk:{mount}"] and failures[0]["checks"] >= 3
    assert str(mount) in failures[0]["last_error"]
    mount.mkdir()  # the path comes back: healthy again at the next check
    healthy = {"status": "ok", "sampler": "running", "database": "ok", "probes": "ok"}
    server.wait_for(lambda: healthy.items() <= server.get("/healthz").json().items())
    assert server.get("/api/v2/sampler").json()["probe_failures"] == []
    assert server.log().count(f"probe disk:{mount} failed") == 1, "one warning per run of failures"
