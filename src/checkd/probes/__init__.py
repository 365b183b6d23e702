"""Host probes (psutil and the standard library only) and the Check they build."""

from checkd.probes.check import CheckProbe, ProbeErrors, ProbeFailure
from checkd.probes.readings import (
    Check,
    DiskIO,
    DiskUsage,
    EndpointResult,
    LoadAverage,
    MemoryUsage,
    NetUsage,
    SwapUsage,
)

__all__ = [
    "Check",
    "CheckProbe",
    "DiskIO",
    "DiskUsage",
    "EndpointResult",
    "LoadAverage",
    "MemoryUsage",
    "NetUsage",
    "ProbeErrors",
    "ProbeFailure",
    "SwapUsage",
]
