"""Host probes (psutil and the standard library only) and the Check they build."""

from checkd.probes.check import CheckProbe, ProbeErrors, ProbeFailure
from checkd.probes.readings import Check, DiskUsage, LoadAverage, MemoryUsage

__all__ = ["Check", "CheckProbe", "DiskUsage", "LoadAverage", "MemoryUsage", "ProbeErrors", "ProbeFailure"]
