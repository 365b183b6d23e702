"""Alert rules and notify targets from the config: good ones load, each mistake is one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkd_process import run_cli
from config_text import assert_refused, load_text

GOOD = """
[services.locked]
unit = "cron"
control = false

[[alerts.rules]]
name = "cpu-busy"
metric = "cpu_percent"
above = 90
for = "5m"
clear = 85
severity = "warning"

[[alerts.rules]]
name = "root-fills"
metric = "disk_percent"
path = "/"
fills_within = "24h"
window = "6h"
severity = "critical"

[[alerts.rules]]
name = "httpd-down"
service = "httpd"
restart = true
max_restarts = 3
restart_window = "10m"

[[alerts.rules]]
name = "no-checks"
stale = "3m"

[notify]
repeat = "4h"

[[notify.targets]]
name = "ops"
type = "webhook"
url = "http://127.0.0.1:9000/hook"
secret = "s3cret"

[[notify.targets]]
name = "am"
type = "alertmanager"
url = "http://127.0.0.1:9093"

[[notify.targets]]
name = "chat"
type = "apprise"
urls = ["json://127.0.0.1:9001/"]

[[notify.targets]]
name = "page"
type = "command"
argv = ["/bin/cat"]
"""


def test_the_design_example_loads(tmp_path: Path) -> None:
    s = load_text(tmp_path, GOOD)
    rules = s.alerts.rules
    assert [r.kind for r in rules] == ["threshold", "fill", "service", "stale"]
    assert rules[0].seconds("for_") == 300 and rules[0].clear == 85
    assert rules[1].seconds("fills_within") == 86400 and rules[1].seconds("window") == 6 * 3600
    assert rules[2].restart and rules[2].seconds("restart_window") == 600
    assert s.notify.repeat_s == 4 * 3600
    assert [t.type for t in s.notify.targets] == ["webhook", "alertmanager", "apprise", "command"]


SECOND = '[[alerts.rules]]\nname = "r"\n'
TARGET = '[[notify.targets]]\nname = "x"\n'
RULE = '[services.locked]\nunit = "cron"\ncontrol = false\n[[alerts.rules]]\nname = "r"\n'
BAD = [
    (RULE + 'metric = "cpu_percnt"\nabove = 1\n', "alerts.rules.0.metric", "cpu_percnt"),
    (RULE + 'metric = "cpu_percent"\nabove = 90\nbelow = 5\n', "alerts.rules.0.above", "exactly one"),
    (RULE + 'metric = "cpu_percent"\n', "alerts.rules.0.above", "exactly one"),
    (RULE + 'metric = "cpu_percent"\nabove = 90\nclear = 95\n', "alerts.rules.0.clear", "above"),
    (RULE + 'service = "locked"\nrestart = true\n', "alerts.rules.0.restart", "control = false"),
    (RULE + 'service = "nope"\n', "alerts.rules.0.service", "nope"),
    (RULE + 'stale = "2m"\n' + SECOND + 'stale = "1m"\n', "alerts.rules.1.name", "duplicate"),
    (RULE + 'metric = "cpu_percent"\nabove = 1\nfor = "5 minutes"\n', "alerts.rules.0.for", "duration"),
    (RULE + 'stale = "soon"\n', "alerts.rules.0.stale", "duration"),
    (RULE + 'metric = "disk_percent"\nabove = 90\n', "alerts.rules.0.path", "path"),
    (RULE + 'metric = "disk_percent"\npath = "/nope"\nabove = 90\n', "alerts.rules.0.path", "disk_paths"),
    ('[[alerts.rules]]\nname = "bad name!"\nstale = "1m"\n', "alerts.rules.0.name", "letters"),
    (RULE + 'stale = "1m"\nservice = "httpd"\n', "alerts.rules.0.metric", "exactly one"),
    ('[notify]\nrepeat = "often"\n', "notify.repeat", "duration"),
    (TARGET + 'type = "webhook"\nurl = "ftp://h/"\n', "notify.targets.0.url", "http"),
    (TARGET + 'type = "alertmanager"\n', "notify.targets.0.url", "http"),
    (TARGET + 'type = "pager"\n', "notify.targets.0.type", "webhook"),
    (TARGET + 'type = "command"\n', "notify.targets.0.argv", "argv"),
    (TARGET + 'type = "apprise"\nurls = ["nosuch://h/"]\n', "notify.targets.0.urls.0", "nosuch"),
    (2 * (TARGET + 'type = "command"\nargv = ["true"]\n'), "notify.targets.1.name", "duplicate"),
    (RULE + 'probe = "site"\n', "alerts.rules.0.probe", "not a configured endpoint check"),
    (RULE + 'probe = "site"\nstale = "1m"\n', "alerts.rules.0.metric", "exactly one"),
]


@pytest.mark.parametrize(("text", "key", "why"), BAD, ids=[f"{k}:{w}" for _, k, w in BAD])
def test_each_mistake_is_one_line_naming_the_key(tmp_path: Path, text: str, key: str, why: str) -> None:
    assert_refused(tmp_path, text, key, why)


def test_serve_refuses_an_unknown_apprise_scheme_at_start(tmp_path: Path) -> None:
    path = tmp_path / "checkd.toml"
    path.write_text('[[notify.targets]]\nname = "chat"\ntype = "apprise"\nurls = ["nosuch://h/"]\n')
    done = run_cli("serve", "--config", str(path), "--data-dir", str(tmp_path / "d"), timeout=30)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "checkd: config: notify.targets.0.urls.0: 'nosuch' is not a URL scheme Apprise knows"
    )
