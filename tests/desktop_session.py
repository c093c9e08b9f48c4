"""A private desktop session for tests and benchmarks: Xvfb on a display number it picks itself (-displayfd),
a session D-Bus of its own, and on request the dunst notification daemon, a `dbus-monitor` that records every
Notify call, and the tint2 panel as the system tray. Nothing touches the real user's desktop or files: HOME
and the XDG folders of these programs point into the given tmp folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["DesktopSession", "notify_calls", "wait_for"]

_TINT2RC = """# systray only, at the bottom
panel_items = S
panel_size = 100% 32
panel_position = bottom center horizontal
panel_background_id = 0
systray_padding = 4 4 4
systray_icon_size = 24
systray_sort = ascending
"""


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())


def notify_calls(monitor_log: Path) -> list[dict[str, object]]:
    """The Notify method calls dbus-monitor recorded: app, summary, body, actions, urgency, sender."""
    text = monitor_log.read_text(errors="replace") if monitor_log.exists() else ""
    calls = []
    for block in re.split(r"\n(?=method call )", text):
        if "member=Notify" not in block:
            continue
        strings = re.findall(r'^\s*string "(.*)"$', block, re.M)
        sender = re.search(r"sender=(\S+)", block)
        urgency = re.search(r'string "urgency"\s+variant\s+byte (\d)', block)
        calls.append({"app": strings[0] if strings else "", "summary": strings[2] if len(strings) > 2 else "",
                      "body": strings[3] if len(strings) > 3 else "", "actions": strings[4:],
                      "urgency": int(urgency.group(1)) if urgency else None,
                      "sender": sender.group(1) if sender else ""})
    return calls


class DesktopSession:
    def __init__(self, root: Path, size: str = "800x600") -> None:
        self.root = root
        self.size = size
        self.procs: list[subprocess.Popen[bytes]] = []
        self.display = ""
        self.bus = ""
        self.monitor_log = root / "dbus-monitor.log"
        self.log = root / "session.log"
        for d in ("home", "config", "runtime"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "runtime").chmod(0o700)

    @property
    def env(self) -> dict[str, str]:
        """The environment of a program in this session (its own HOME and XDG folders)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISPLAY", "DBUS_", "WAYLAND"))}
        env.update(DISPLAY=self.display, HOME=str(self.root / "home"), XDG_CONFIG_HOME=str(self.root / "config"),
                   XDG_RUNTIME_DIR=str(self.root / "runtime"))
        if self.bus:
            env["DBUS_SESSION_BUS_ADDRESS"] = self.bus
        return env

    def _spawn(self, argv: list[str], stdout: object = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as err:
            proc = subprocess.Popen(argv, env=self.env, stdout=stdout, stderr=err)
        self.procs.append(proc)
        return proc

    def start_x(self) -> DesktopSession:
        for tool in ("Xvfb", "dbus-daemon"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is needed (scripts/setup.sh installs it)")
        read_fd, write_fd = os.pipe()
        with self.log.open("ab") as err:
            argv = ["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp", "-noreset",  # keep root hints
                    "-screen", "0", f"{self.size}x24"]
            xvfb = subprocess.Popen(argv, pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=err)
        self.procs.append(xvfb)
        os.close(write_fd)
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()
        if not number:
            raise RuntimeError(f"Xvfb did not start: {self.log.read_text(errors='replace')}")
        self.display = f":{number}"
        self._announce_wm()
        bus = self._spawn(["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE)
        assert bus.stdout is not None
        self.bus = bus.stdout.readline().decode().strip()
        if not self.bus:
            raise RuntimeError("dbus-daemon did not start")
        return self

    def _announce_wm(self) -> None:
        """Set the root-window hints a NETWM window manager sets (nothing manages windows): without them tint2
        waits 15 s for a window manager before it starts its tray."""
        from Xlib import X, Xatom
        from Xlib import display as xdisplay

        d = xdisplay.Display(self.display)
        root = d.screen().root
        check = d.intern_atom("_NET_SUPPORTING_WM_CHECK")
        w = root.create_window(-10, -10, 1, 1, 0, X.CopyFromParent)
        for win in (root, w):
            win.change_property(check, Xatom.WINDOW, 32, [w.id])
        w.change_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"), 8, b"test-session")
        root.change_property(d.intern_atom("_NET_NUMBER_OF_DESKTOPS"), Xatom.CARDINAL, 32, [1])
        root.change_property(d.intern_atom("_NET_CURRENT_DESKTOP"), Xatom.CARDINAL, 32, [0])
        root.change_property(d.intern_atom("_NET_SUPPORTED"), Xatom.ATOM, 32, [check])
        d.set_close_down_mode(X.RetainPermanent)  # the hints outlive this connection
        d.close()

    def start_notifications(self) -> None:
        """dunst owns org.freedesktop.Notifications; dbus-monitor writes every Notify call to `monitor_log`."""
        rule = "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"
        with self.monitor_log.open("wb") as out:
            self._spawn(["dbus-monitor", "--address", self.bus, rule], stdout=out)
        self._spawn(["dunst"])
        if not wait_for(lambda: self._name_owned("org.freedesktop.Notifications"), 10):
            raise RuntimeError(f"dunst did not start: {self.log.read_text(errors='replace')}")

    def start_tray(self) -> None:
        """tint2 as the system tray (its own config: a systray-only panel at the bottom)."""
        rc = self.root / "tint2rc"
        rc.write_text(_TINT2RC)
        self._spawn(["tint2", "-c", str(rc)])
        if not wait_for(self.tray_owned, 15):
            raise RuntimeError(f"tint2 did not start a system tray: {self.log.read_text(errors='replace')[-2000:]}")

    def tray_owned(self) -> bool:
        from Xlib import X
        from Xlib import display as xdisplay

        d = xdisplay.Display(self.display)
        try:
            return bool(d.get_selection_owner(d.intern_atom("_NET_SYSTEM_TRAY_S0")) != X.NONE)
        finally:
            d.close()

    def _name_owned(self, name: str) -> bool:
        ask = ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
               "org.freedesktop.DBus.NameHasOwner", f"string:{name}"]
        out = subprocess.run(ask, env=self.env, capture_output=True, text=True, check=False).stdout
        return out.rstrip().endswith("true")

    def xdotool(self, *args: str) -> str:
        result = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, check=False)
        return result.stdout.strip()

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
            if p.stdout is not None:
                p.stdout.close()
        self.procs.clear()
