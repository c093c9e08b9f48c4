"""How long the desktop has been idle (seconds since the last keyboard or mouse input), or None when unknown.

Read in-process from the X server's screen-saver extension (libX11 + libXss through ctypes), a fresh connection
per reading: a few round trips to the X server (18-40 ms on a loaded two-core machine, most of it waiting for the
server; `xprintidle` as a process took 23 ms there), and a connection is never left open to a server that may go
away (Xlib ends the process when a held connection breaks). psutil cannot read desktop idle time, and a Wayland
session does not expose it to X clients (XWayland counts only input to X windows), so there it is unknown.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from collections.abc import Callable, Mapping
from functools import cache

__all__ = ["IdleReader", "idle_reader"]

_LOGGER = logging.getLogger(__name__)

IdleReader = Callable[[], float | None]


class _XScreenSaverInfo(ctypes.Structure):
    _fields_ = [("window", ctypes.c_ulong), ("state", ctypes.c_int), ("kind", ctypes.c_int),
                ("til_or_since", ctypes.c_ulong), ("idle", ctypes.c_ulong), ("event_mask", ctypes.c_ulong)]


class _Xlib:
    """libX11 and libXss with the signatures this module calls."""

    def __init__(self) -> None:
        x11, xss = ctypes.util.find_library("X11"), ctypes.util.find_library("Xss")
        if not x11 or not xss:
            raise OSError("libX11 or libXss is not installed")
        self.x = ctypes.cdll.LoadLibrary(x11)
        self.xss = ctypes.cdll.LoadLibrary(xss)
        self.x.XOpenDisplay.restype = ctypes.c_void_p
        self.x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x.XDefaultRootWindow.restype = ctypes.c_ulong
        self.x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.x.XFree.argtypes = [ctypes.c_void_p]
        self.xss.XScreenSaverAllocInfo.restype = ctypes.POINTER(_XScreenSaverInfo)
        self.xss.XScreenSaverQueryInfo.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XScreenSaverInfo)]

    def idle_seconds(self, display: str) -> float | None:
        dpy = self.x.XOpenDisplay(display.encode())
        if not dpy:
            return None
        try:
            info = self.xss.XScreenSaverAllocInfo()
            try:
                if not self.xss.XScreenSaverQueryInfo(dpy, self.x.XDefaultRootWindow(dpy), info):
                    return None
                return float(info.contents.idle) / 1000.0
            finally:
                self.x.XFree(info)
        finally:
            self.x.XCloseDisplay(dpy)


@cache
def _xlib() -> _Xlib:
    return _Xlib()


def idle_reader(env: Mapping[str, str] | None = None) -> tuple[IdleReader | None, str]:
    """(a reader of the idle seconds, how it reads them), or (None, why idle time is unknown here)."""
    env = os.environ if env is None else env
    display = env.get("DISPLAY", "")
    if not display:
        return None, "no X11 display"
    if env.get("WAYLAND_DISPLAY"):
        return None, "Wayland session (desktop idle time is not readable)"
    try:
        xlib = _xlib()
    except OSError as exc:
        _LOGGER.info("idle time unavailable: %s", exc)
        return None, str(exc)
    return (lambda: xlib.idle_seconds(display)), "X11 screen saver"
