"""HTTP shapes of what issue 12 adds to a v2 check: inodes, network and disk I/O, endpoint checks."""

from __future__ import annotations

from pydantic import BaseModel, Field

from checkd.probes import DiskIO, DiskUsage, EndpointResult, NetUsage

_PER_S = "per second since the previous check; null on a device's first check or after a counter reset"


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


class DiskV2Out(BaseModel):
    """Usage of one configured disk path, in bytes, and of its inodes."""

    path: str
    total: int
    used: int
    free: int
    percent: float
    inodes_percent: float | None = Field(None, description="inodes used; null where not reported")

    @classmethod
    def of(cls, d: DiskUsage) -> DiskV2Out:
        """The v2 shape of one disk reading."""
        return cls(
            path=d.path,
            total=d.total,
            used=d.used,
            free=d.free,
            percent=d.percent,
            inodes_percent=d.inodes_percent,
        )


class NetOut(BaseModel):
    """One network interface's traffic, per second since the previous check."""

    iface: str
    rx_bytes_per_s: float | None = Field(description=f"bytes received {_PER_S}")
    tx_bytes_per_s: float | None = Field(description=f"bytes sent {_PER_S}")
    rx_packets_per_s: float | None
    tx_packets_per_s: float | None
    rx_errors_per_s: float | None
    tx_errors_per_s: float | None
    rx_drops_per_s: float | None
    tx_drops_per_s: float | None

    @classmethod
    def of(cls, n: NetUsage) -> NetOut:
        """The v2 shape of one interface's rates."""
        r = n.rates
        return cls(
            iface=n.iface,
            **{f"{name}_per_s": _rate(r.get(name)) for name in _NET},
        )


_NET = ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets", "rx_errors", "tx_errors", "rx_drops", "tx_drops")


class DiskIOOut(BaseModel):
    """One block device's I/O, per second since the previous check."""

    device: str
    read_bytes_per_s: float | None = Field(description=f"bytes read {_PER_S}")
    write_bytes_per_s: float | None = Field(description=f"bytes written {_PER_S}")
    busy_percent: float | None = Field(
        description="share of the interval with I/O in flight (iostat's %util)"
    )

    @classmethod
    def of(cls, io: DiskIO) -> DiskIOOut:
        """The v2 shape of one block device's rates."""
        read, write = io.rates.get("read_bytes"), io.rates.get("write_bytes")
        return cls(
            device=io.device,
            read_bytes_per_s=_rate(read),
            write_bytes_per_s=_rate(write),
            busy_percent=io.busy_percent,
        )


class ProbeResultOut(BaseModel):
    """An endpoint check's latest result as of the check."""

    name: str
    kind: str = Field(description="http or tcp")
    up: bool
    latency_ms: float | None = Field(description="null when it never answered")

    @classmethod
    def of(cls, e: EndpointResult) -> ProbeResultOut:
        """The v2 shape of one endpoint check's result."""
        latency = None if e.latency_ms is None else round(e.latency_ms, 3)
        return cls(name=e.name, kind=e.kind, up=e.up, latency_ms=latency)
