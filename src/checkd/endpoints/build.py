"""The endpoint checks a `[probes]` section configures, ready for the runner."""

from __future__ import annotations

from checkd.config_probes import ProbesSettings
from checkd.endpoints.http import HttpProbe, HttpTarget
from checkd.endpoints.runner import EndpointCheck, EndpointProbe
from checkd.endpoints.tcp import TcpProbe, TcpTarget


def build_checks(settings: ProbesSettings) -> list[EndpointCheck]:
    """One EndpointCheck per configured http and tcp check, http first, in config order."""
    checks: list[EndpointCheck] = []
    for http in settings.http:
        target = HttpTarget(
            name=http.name,
            url=http.url,
            timeout_s=http.timeout_s,
            expect_status=http.expect_status,
            contains=http.contains,
            ca_file=http.ca_file,
        )
        checks.append(_check(http.name, "http", http.url, http.interval_s, HttpProbe(target)))
    for tcp in settings.tcp:
        probe = TcpProbe(TcpTarget(name=tcp.name, host=tcp.host, port=tcp.port, timeout_s=tcp.timeout_s))
        where = f"[{tcp.host}]:{tcp.port}" if ":" in tcp.host else f"{tcp.host}:{tcp.port}"
        checks.append(_check(tcp.name, "tcp", where, tcp.interval_s, probe))
    return checks


def _check(name: str, kind: str, target: str, interval_s: float, probe: EndpointProbe) -> EndpointCheck:
    return EndpointCheck(name=name, kind=kind, target=target, interval_s=interval_s, probe=probe)
