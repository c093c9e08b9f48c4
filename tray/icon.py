"""The tray icon (pystray). On Linux it uses pystray's Xlib backend: any XEmbed system tray (panels like tint2,
xfce4-panel, the KDE/GNOME tray extensions) shows it. That backend has no native menu: a left click calls
`on_click` and the desktop pops up its own menu (tray/prompt.py). Elsewhere pystray's native menu lists the
same entries.

The Xlib backend docks once, at start; when the tray (panel) starts later or restarts, `_XWatcher` sees the new
tray announce itself (the XEmbed MANAGER message on the root window) and docks the icon again. It also takes the
icon's clicks, which that backend never asks X for.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from PIL import Image

from tray.icons import flatten
from tray.state import MenuEntry

__all__ = ["TrayIcon", "tray_host_present"]

_LOGGER = logging.getLogger(__name__)
APP_ID = "ambient-agent"


class _NoDockNoise(logging.Filter):
    """pystray logs a traceback each time it cannot dock (no tray yet); we say it once, in words."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to dock icon")


def _use_xlib_backend() -> None:
    if sys.platform.startswith("linux"):
        os.environ.setdefault("PYSTRAY_BACKEND", "xorg")
    logging.getLogger("pystray").addFilter(_NoDockNoise())
    logging.getLogger("pystray._base").addFilter(_NoDockNoise())


def tray_host_present(display: str | None = None) -> bool:
    """Whether an XEmbed system tray owns the `_NET_SYSTEM_TRAY_S<screen>` selection."""
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        atom = d.intern_atom(f"_NET_SYSTEM_TRAY_S{d.get_default_screen()}")
        return bool(d.get_selection_owner(atom) != X.NONE)
    finally:
        d.close()


class _XWatcher:
    """Its own X connection, blocked in the X event read (no polling), for two things pystray's Xlib backend
    lacks: docking again each time a system tray announces itself (the XEmbed MANAGER message on the root
    window), and clicks on the icon (pystray 0.19 never selects ButtonPress on its window, so its own click
    handler is never called; X lets one client select them, and that is this one)."""

    def __init__(self, icon_window: int | None, on_new_tray: Callable[[], None],
                 on_click: Callable[[], None]) -> None:
        from Xlib import X
        from Xlib import display as xdisplay

        self._display = xdisplay.Display()
        self._selection = self._display.intern_atom(f"_NET_SYSTEM_TRAY_S{self._display.get_default_screen()}")
        self._manager = self._display.intern_atom("MANAGER")
        self._display.screen().root.change_attributes(event_mask=X.StructureNotifyMask)
        if icon_window:
            window = self._display.create_resource_object("window", icon_window)
            window.change_attributes(event_mask=X.ButtonPressMask, onerror=self._no_clicks)
        self._display.flush()
        self._on_new_tray = on_new_tray
        self._on_click = on_click
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="tray-x-watch", daemon=True)
        self._thread.start()

    @staticmethod
    def _no_clicks(*_args: Any) -> None:
        _LOGGER.info("the tray icon's clicks are taken by pystray itself")

    def _run(self) -> None:
        from Xlib import X

        try:
            while not self._stopped:
                event = self._display.next_event()
                if event.type == X.ButtonPress and event.detail in (1, 3):  # left or right button
                    self._on_click()
                elif event.type == X.ClientMessage and event.client_type == self._manager:
                    _fmt, data = event.data
                    if len(data) > 1 and data[1] == self._selection:
                        _LOGGER.info("a system tray appeared: docking the icon")
                        self._on_new_tray()
        except Exception:
            if not self._stopped:
                _LOGGER.warning("the tray's X watcher stopped", exc_info=True)

    def stop(self) -> None:
        self._stopped = True
        try:
            self._display.close()
        except Exception:
            _LOGGER.debug("closing the X watcher's display failed", exc_info=True)


class TrayIcon:
    """A pystray icon whose picture, tooltip and menu follow the desktop's state. `run()` blocks (call it on
    the main thread) until `stop()`."""

    def __init__(self, image: Image.Image, title: str, entries: Callable[[], list[MenuEntry]],
                 on_action: Callable[[str], None], on_click: Callable[[], None]) -> None:
        _use_xlib_backend()
        import pystray

        self._entries = entries
        self._on_action = on_action
        self._ready = threading.Event()
        self._watcher: _XWatcher | None = None
        self._on_click = on_click
        icon = pystray.Icon(APP_ID, image, title)
        self.native_menu = bool(icon.HAS_MENU)
        self._source = image
        self._image, self._title = self._picture(image), title
        icon.icon = self._image
        if self.native_menu:
            icon.menu = pystray.Menu(lambda: self._native_items(pystray))
        else:  # the Xlib backend: a left click activates the default item, which opens our own menu
            icon.menu = pystray.Menu(pystray.MenuItem("Menu", lambda *_: on_click(), default=True, visible=False))
        self._icon: Any = icon
        self.backend = type(icon).__module__

    def _native_items(self, pystray: Any) -> list[Any]:
        items = [pystray.MenuItem("Open prompt…", lambda *_: self._on_action("prompt"), default=True,
                                  visible=False)]
        for entry in self._entries():
            if entry.action is None:
                items.append(pystray.Menu.SEPARATOR)
            else:
                items.append(pystray.MenuItem(entry.label, self._chooser(entry.action), enabled=entry.enabled))
        return items

    def _chooser(self, action: str) -> Callable[..., None]:
        return lambda *_: self._on_action(action)

    def _setup(self, icon: Any) -> None:
        icon.visible = True
        self._ready.set()
        if not self.native_menu:
            try:
                if not tray_host_present():
                    _LOGGER.warning("no system tray on this display yet: the icon appears when one starts; "
                                    "the hotkey prompt works anyway")
                window = getattr(getattr(icon, "_window", None), "id", None)  # pystray's own X window
                self._watcher = _XWatcher(window, self._redock, self._on_click)
            except Exception:
                _LOGGER.warning("cannot watch for a system tray", exc_info=True)

    def _redock(self) -> None:
        if self._ready.is_set():
            self._icon.icon = self._image  # the Xlib backend docks again when its picture is set

    def run(self) -> None:
        self._icon.run(setup=self._setup)

    def _picture(self, image: Image.Image) -> Image.Image:
        return image if self.native_menu else flatten(image)  # the Xlib backend ignores transparency

    def update(self, image: Image.Image, title: str) -> None:
        """New picture and tooltip (from any thread)."""
        changed_image, changed_title = image is not self._source, title != self._title
        if changed_image:
            self._source, self._image = image, self._picture(image)
        self._title = title
        image = self._image
        if not self._ready.is_set():
            self._icon.icon, self._icon.title = image, title
            return
        if changed_image:
            self._icon.icon = image
        if changed_title:
            self._icon.title = title
        if self.native_menu:
            self._icon.update_menu()

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        self._icon.stop()
