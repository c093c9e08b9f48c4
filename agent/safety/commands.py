"""The built-in allow-list of commands. Users add their own under `commands:` in the config file."""

from __future__ import annotations

from agent.config import ArgSpec, CommandSpec

__all__ = ["BUILTIN_COMMANDS"]

_HOME_PATH = ArgSpec(type="path", default="~", must_exist=True)

BUILTIN_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(id="disk_usage", argv=["df", "-h", "-x", "tmpfs", "-x", "devtmpfs", "-x", "squashfs", "-x", "overlay"],
                description="show disk usage per mounted file system"),
    CommandSpec(id="folder_size", argv=["du", "-sh", "{path}"], args={"path": _HOME_PATH},
                description="show the size of a folder"),
    CommandSpec(id="list_folder", argv=["ls", "-la", "--", "{path}"], args={"path": _HOME_PATH},
                description="list the files in a folder"),
    CommandSpec(id="uptime", argv=["uptime"], description="show how long the system has been up"),
    CommandSpec(id="network_addresses", argv=["ip", "-brief", "address"],
                description="show the network addresses of this machine"),
    CommandSpec(id="who", argv=["who"], description="show who is logged in"),
    CommandSpec(id="kernel_version", argv=["uname", "-a"], description="show the kernel version"),
    CommandSpec(id="listening_ports", argv=["ss", "-tulpn"], description="show the ports this machine listens on"),
    CommandSpec(id="memory_usage", argv=["free", "-h"], description="show memory usage"),
    CommandSpec(
        id="clear_old_temp",
        argv=["find", "{dir}", "-xdev", "-type", "f", "-user", "{user}", "-mtime", "+{days}", "-delete"],
        args={
            "dir": ArgSpec(type="path", default="/tmp", pattern=r"/tmp|/var/tmp", must_exist=True),
            "days": ArgSpec(type="int", default=7, min=1, max=3650),
            "user": ArgSpec(type="str", pattern=r"[a-z_][a-z0-9_.-]{0,31}", default=None),
        },
        destructive=True,
        description="delete your temporary files older than a number of days",
    ),
)
