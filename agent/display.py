"""Whether this session has a display to put a tray icon and a prompt window on."""

from __future__ import annotations

__all__ = ["has_display"]


def has_display(system: str, env: dict[str, str]) -> bool:
    """A graphical session to put a tray icon in: always on macOS and Windows; X11 elsewhere (the tray and the
    hotkey use X; a Wayland session offers it through XWayland's DISPLAY)."""
    if system in ("Darwin", "Windows"):
        return True
    return bool(env.get("DISPLAY"))
