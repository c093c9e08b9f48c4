"""The machine's real disks, read with psutil: used by `system.status` and the health checks."""

from __future__ import annotations

from typing import Any

import psutil

__all__ = ["disk_mounts"]

_SKIP_FS = {"squashfs", "tmpfs", "devtmpfs", "overlay", "proc", "sysfs", "cgroup", "cgroup2", "autofs", "ramfs"}
_GB = 1024**3


def disk_mounts() -> list[dict[str, Any]]:
    """Real, writable mounts only: no snap/loop devices, pseudo or read-only file systems."""
    out = []
    seen = set()
    for part in psutil.disk_partitions(all=False):
        opts = set(part.opts.split(","))
        if (
            part.fstype in _SKIP_FS or "ro" in opts or part.device.startswith("/dev/loop")
            or part.mountpoint.startswith("/snap") or part.device in seen
        ):
            continue
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        seen.add(part.device)
        out.append({"mount": part.mountpoint, "device": part.device, "fstype": part.fstype,
                    "percent": usage.percent, "used_gb": round(usage.used / _GB, 1),
                    "total_gb": round(usage.total / _GB, 1), "free_gb": round(usage.free / _GB, 1)})
    if not out:  # containers: fall back to the root file system
        usage = psutil.disk_usage("/")
        out.append({"mount": "/", "device": "", "fstype": "", "percent": usage.percent,
                    "used_gb": round(usage.used / _GB, 1), "total_gb": round(usage.total / _GB, 1),
                    "free_gb": round(usage.free / _GB, 1)})
    return out
