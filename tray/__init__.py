"""The desktop face of `agent run`: a tray icon whose picture follows the agent's state, a menu (recent replies
and alerts, mute, pause/reload rules, config folder, log, quit), and a small prompt window a global hotkey opens
near the mouse pointer.

    state    TrayModel (icon state from bus events, recent items) and the menu entries: plain data
    icons    the icon per state, drawn with PIL
    icon     pystray (the Xlib backend on Linux) and re-docking when a system tray appears
    prompt   the Tk prompt window and popup menu, on their own thread
    hotkeys  pynput global hotkeys (the prompt's, and rules' `hotkey` triggers)
    desktop  DesktopUI: wires the bus, the worker thread, the prompt and the tray together

`start_desktop` is the resident component (agent/app.py COMPONENTS). Without a display, or with
`ui.tray: false`, `start_desktop` does nothing and the agent runs headless.
"""

from __future__ import annotations

import logging
import os
import platform
from typing import TYPE_CHECKING

from agent.components import Stop
from agent.display import has_display
from tray.icons import ICON_STATES, draw_icon
from tray.state import MenuEntry, Recent, TrayModel, menu_entries

if TYPE_CHECKING:
    from agent.services import Services

__all__ = ["ICON_STATES", "MenuEntry", "Recent", "TrayModel", "draw_icon", "menu_entries", "start_desktop"]

_LOGGER = logging.getLogger(__name__)


def start_desktop(services: Services) -> Stop | None:
    """Component start: the tray icon and the hotkey prompt, as `services.desktop`, when there is a display to
    show them on; returns its stop."""
    if not services.settings.ui.tray:
        _LOGGER.info("desktop face off (ui.tray: false): headless")
        return None
    if not has_display(platform.system(), dict(os.environ)):
        _LOGGER.info("no display: headless (rules, scheduler, voice and the API still run)")
        return None
    from tray.desktop import DesktopUI

    ui = DesktopUI(services)
    ui.start()
    services.desktop = ui

    def stop() -> None:
        if services.desktop is ui:
            services.desktop = None
        ui.stop()

    return stop
