"""A real agent loads only what its configuration needs, and its spool only while checks wait on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_process import AgentProcess, ingest_token
from checkd_process import CheckdProcess
from tls_site import self_signed

# Loaded on demand only: the spool (sqlite3) while no collector answers, control and the TOML
# reader with --config, ssl for https collectors; never http.client (email) or gzip's layers.
NOT_WHILE_PUSHING = (
    "sqlite3",
    "_sqlite3",
    "checkd.control",
    "tomllib",
    "ssl",
    "http.client",
    "email",
    "gzip",
)


def _loaded(status: dict[str, object], names: tuple[str, ...]) -> list[str]:
    modules = status["modules"]
    assert isinstance(modules, list)
    return [m for m in modules if m in names or m.split(".")[0] in names]


def test_a_pushing_agent_loads_no_spool_and_a_spool_comes_and_goes_with_an_outage(tmp_path: Path) -> None:
    collector = CheckdProcess(tmp_path / "collector", interval=60).start()
    token = ingest_token("lean", "--data-dir", str(collector.data_dir))
    agent = AgentProcess(tmp_path, host="lean", token=token, collectors=[collector.url("")], interval=0.2)
    spool = agent.spool_dir
    assert isinstance(spool, Path)
    try:
        agent.start()
        pushing = agent.wait_for(lambda s: s["pushed_total"] >= 3)
        assert _loaded(pushing, NOT_WHILE_PUSHING) == []
        assert "checkd.agent.http_connection" in pushing["modules"]
        assert not (spool / "spool.db").exists()

        collector.stop()  # the collector goes away: checks wait in the spool, which opens now
        spooling = agent.wait_for(lambda s: s["waiting_in_spool"] > 0, timeout=60)
        assert (spool / "spool.db").exists() and "sqlite3" in spooling["modules"]

        collector.start()  # back on the same port: the spool drains
        agent.wait_for(lambda s: s["waiting_in_spool"] == 0 and s["last_error"] is None, timeout=60)
        final = agent.stop()
        assert final["waiting_in_memory"] == 0 and final["dropped_total"] == 0, final
        stored = collector.get("/api/v2/hosts").json()
        assert "lean" in {h["name"] for h in stored}
        # Nothing waits: the next start does not open (or load) a spool; the numbering carries on.
        assert not (spool / "spool.db").exists()
        assert int((spool / "next_seq").read_text()) == final["next_seq"]
    finally:
        agent.close()
        collector.close()


def test_an_https_collector_loads_ssl_and_is_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = self_signed(tmp_path)
    collector = CheckdProcess(
        tmp_path / "collector",
        interval=60,
        env={"CHECKD_SERVER__TLS_CERT": str(pair.cert), "CHECKD_SERVER__TLS_KEY": str(pair.key)},
        tls_ca=pair.cert,
    ).start()
    token = ingest_token("tls", "--data-dir", str(collector.data_dir))
    agent = AgentProcess(tmp_path, host="tls", token=token, collectors=[collector.url("")], interval=0.2)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(pair.cert))  # the agent trusts the test's certificate
        agent.start()
        status = agent.wait_for(lambda s: s["pushed_total"] >= 3)
        assert "ssl" in status["modules"] and status["push_errors_total"] == 0
        monkeypatch.delenv("SSL_CERT_FILE")
        untrusting = AgentProcess(
            tmp_path / "untrusting", host="tls", token=token, collectors=[collector.url("")], interval=0.2
        )
        try:  # without the certificate trusted, the handshake fails: kept, counted, said
            untrusting.start()
            refused = untrusting.wait_for(lambda s: s["push_errors_total"] > 0)
            assert refused["pushed_total"] == 0 and "CERTIFICATE_VERIFY_FAILED" in refused["last_error"]
        finally:
            untrusting.close()
    finally:
        agent.close()
        collector.client.close()  # an idle kept-alive TLS connection would hold the shutdown
        collector.close()
