"""[[probes.http]] and [[probes.tcp]] from the config: the design example loads, each mistake is one
line naming the key, and `checkd serve` refuses one at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkd_process import run_cli
from config_text import assert_refused, load_text

GOOD = """
[[probes.http]]
name = "site"
url = "https://127.0.0.1/"
expect_status = 200
contains = ""
timeout = "5s"
interval = "30s"

[[probes.tcp]]
name = "db"
host = "127.0.0.1"
port = 5432
timeout = "3s"

[[alerts.rules]]
name = "site-down"
probe = "site"
"""


def test_the_design_example_loads(tmp_path: Path) -> None:
    s = load_text(tmp_path, GOOD)
    (http,) = s.probes.http
    (tcp,) = s.probes.tcp
    assert (http.url, http.expect_status, http.timeout_s, http.interval_s) == (
        "https://127.0.0.1/",
        200,
        5,
        30,
    )
    assert (tcp.host, tcp.port, tcp.timeout_s, tcp.interval_s) == ("127.0.0.1", 5432, 3, 30)
    assert s.probes.names() == ["site", "db"]
    assert [r.kind for r in s.alerts.rules] == ["probe"]


HTTP = '[[probes.http]]\nname = "site"\n'
TCP = '[[probes.tcp]]\nname = "db"\nhost = "127.0.0.1"\n'
BAD = [
    (HTTP + 'url = "ftp://127.0.0.1/"\n', "probes.http.0.url", "http:// or https://"),
    (HTTP + 'url = "127.0.0.1:80"\n', "probes.http.0.url", "http:// or https://"),
    (HTTP + 'url = "https:///path"\n', "probes.http.0.url", "with a host"),
    (
        HTTP + 'url = "http://127.0.0.1/"\ntimeout = "40s"\ninterval = "30s"\n',
        "probes.http.0.timeout",
        "longer",
    ),
    (HTTP + 'url = "http://127.0.0.1/"\ntimeout = "soon"\n', "probes.http.0.timeout", "duration"),
    (HTTP + 'url = "http://127.0.0.1/"\ninterval = "0s"\n', "probes.http.0.interval", "at least 1s"),
    (HTTP + 'url = "http://127.0.0.1/"\nexpect_status = 700\n', "probes.http.0.expect_status", "599"),
    (HTTP + 'url = "http://127.0.0.1/"\nca_file = "/no/such/ca.pem"\n', "probes.http.0.ca_file", "readable"),
    (TCP + "port = 0\n", "probes.tcp.0.port", "1..65535"),
    (TCP + "port = 65536\n", "probes.tcp.0.port", "1..65535"),
    (TCP + 'port = 22\ntimeout = "1m"\n', "probes.tcp.0.timeout", "longer than interval (30s)"),
    (TCP + "port = 22\n" + TCP + "port = 23\n", "probes.tcp.1.name", "duplicate name 'db'"),
    (
        HTTP + 'url = "http://127.0.0.1/"\n' + TCP.replace('"db"', '"site"') + "port = 22\n",
        "probes.tcp.0.name",
        "duplicate",
    ),
    ('[[probes.tcp]]\nname = "a b"\nhost = "h"\nport = 1\n', "probes.tcp.0.name", "letters"),
    ('[[probes.udp]]\nname = "x"\n', "probes.udp", "Extra inputs"),
]


@pytest.mark.parametrize(("text", "key", "why"), BAD, ids=[f"{k}:{w}" for _, k, w in BAD])
def test_each_mistake_is_one_line_naming_the_key(tmp_path: Path, text: str, key: str, why: str) -> None:
    assert_refused(tmp_path, text, key, why)


def test_serve_refuses_a_bad_probe_at_start(tmp_path: Path) -> None:
    path = tmp_path / "checkd.toml"
    path.write_text(TCP + "port = 70000\n")
    done = run_cli("serve", "--config", str(path), "--data-dir", str(tmp_path / "d"), timeout=30)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "checkd: config: probes.tcp.0.port: must be 1..65535 (got 70000)"
