"""The prompt window and the tray's popup menu, on their own Tk thread.

Tk is used from that thread only: every public method queues a call the Tk thread runs (it drains the queue
every 50 ms while it exists; the thread starts on first use). Enter hands the text to `on_submit` (the desktop
runs it on its worker, never here), Esc hides the window. A confirmation shows Yes/No buttons.

The window title mirrors the state ("Agent — thinking…", "Agent — <the reply>"): window titles are what
screen readers, window switchers and `xdotool`/`xprop` can read, so the reply is never only pixels.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from tray.state import MenuEntry

__all__ = ["TITLE", "WM_CLASS", "PromptWindow"]

_LOGGER = logging.getLogger(__name__)

TITLE = "Agent"
WM_CLASS = "AmbientAgent"
_POLL_MS = 50
_WIDTH = 440


def _title(text: str) -> str:
    one_line = " ".join(text.split())
    return f"{TITLE} — {one_line[:200]}" if one_line else TITLE


class PromptWindow:
    def __init__(self, on_submit: Callable[[str], None], on_confirm: Callable[[str, bool], None],
                 on_menu: Callable[[str], None]) -> None:
        self._on_submit = on_submit
        self._on_confirm = on_confirm
        self._on_menu = on_menu
        self._calls: queue.Queue[Callable[[], None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.error: Exception | None = None
        self._w: dict[str, Any] = {}
        self._token: str | None = None

    # -- thread-safe API -------------------------------------------------------------------------------------
    def show(self) -> None:
        """Open the window near the mouse pointer, ready to type."""
        self._post(self._show)

    def show_text(self, text: str) -> None:
        """Open the window showing `text` (a recent reply or alert from the menu)."""
        self._post(lambda: self._open_with(text, None))

    def thinking(self) -> None:
        self._post(lambda: self._set_reply("…", None, title="thinking…"))

    def reply(self, text: str, token: str | None = None) -> None:
        """Show the reply; with a confirmation `token`, also the Yes/No buttons."""
        self._post(lambda: self._set_reply(text, token))

    def ask(self, text: str, token: str) -> None:
        """Open the window with a confirmation question raised elsewhere (voice, API)."""
        self._post(lambda: self._open_with(text, token))

    def hide(self) -> None:
        self._post(self._hide)

    def popup_menu(self, entries: list[MenuEntry]) -> None:
        self._post(lambda: self._popup(entries))

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            return
        self._calls.put(lambda: self._w["root"].quit())
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _post(self, call: Callable[[], Any]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._main, name="tk", daemon=True)
                self._thread.start()
        self._calls.put(call)

    # -- the Tk thread ---------------------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self._build()
        except Exception as exc:  # no display, no Tk
            self.error = exc
            _LOGGER.warning("the prompt window cannot open: %s", exc)
            return
        root = self._w["root"]
        self._poll()
        try:
            root.mainloop()
        finally:
            root.destroy()

    def _build(self) -> None:
        import tkinter as tk

        root = tk.Tk(className=WM_CLASS)
        root.withdraw()
        root.title(TITLE)
        root.resizable(False, False)
        frame = tk.Frame(root, padx=10, pady=8)
        frame.pack(fill="both", expand=True)
        entry = tk.Entry(frame, width=48, font=("TkDefaultFont", 12))
        entry.pack(fill="x")
        asked = tk.Label(frame, text="", anchor="w", fg="#666666")
        asked.pack(fill="x", pady=(6, 0))
        answer = tk.Label(frame, text="Type a request, Enter to send, Esc to close.", anchor="w", justify="left",
                          wraplength=_WIDTH - 20)
        answer.pack(fill="x", pady=(2, 0))
        buttons = tk.Frame(frame)
        tk.Button(buttons, text="Yes", underline=0, width=8, command=lambda: self._answer(True)).pack(side="left")
        tk.Button(buttons, text="No", underline=0, width=8, command=lambda: self._answer(False)).pack(side="left",
                                                                                                    padx=6)
        root.bind("<Alt-y>", lambda _e: self._answer(True))  # the keyboard way to the buttons
        root.bind("<Alt-n>", lambda _e: self._answer(False))
        entry.bind("<Return>", lambda _e: self._enter())
        entry.bind("<KP_Enter>", lambda _e: self._enter())
        root.bind("<Escape>", lambda _e: self._hide())
        root.protocol("WM_DELETE_WINDOW", self._hide)
        self._w = {"tk": tk, "root": root, "entry": entry, "asked": asked, "answer": answer, "buttons": buttons}

    def _poll(self) -> None:
        while True:
            try:
                call = self._calls.get_nowait()
            except queue.Empty:
                break
            try:
                call()
            except Exception:
                _LOGGER.exception("prompt window call failed")
        self._w["root"].after(_POLL_MS, self._poll)

    def _show(self) -> None:
        root, entry = self._w["root"], self._w["entry"]
        root.update_idletasks()
        x, y = root.winfo_pointerxy()
        width, height = max(root.winfo_reqwidth(), _WIDTH), root.winfo_reqheight()
        sw, sh = root.winfo_screenwidth(), root.winfo_screenheight()
        left = min(max(0, x - width // 2), max(0, sw - width))
        top = y + 16 if y + 16 + height < sh else max(0, y - height - 16)
        root.geometry(f"+{left}+{top}")
        root.deiconify()
        root.lift()
        root.attributes("-topmost", True)
        entry.focus_force()
        root.after(60, entry.focus_force)  # again once mapped: some window managers map late
        _LOGGER.debug("prompt window shown at %d,%d", left, top)

    def _hide(self) -> None:
        self._w["root"].withdraw()

    def _open_with(self, text: str, token: str | None) -> None:
        self._set_reply(text, token)
        self._show()

    def _enter(self) -> None:
        entry = self._w["entry"]
        text = entry.get().strip()
        if not text:
            return
        entry.delete(0, "end")
        self._w["asked"].configure(text=f"› {text}")
        self._set_reply("…", None, title="thinking…")
        self._on_submit(text)

    def _set_reply(self, text: str, token: str | None, title: str | None = None) -> None:
        self._token = token
        self._w["answer"].configure(text=text)
        buttons = self._w["buttons"]
        if token:
            buttons.pack(anchor="w", pady=(8, 0))
        else:
            buttons.pack_forget()
        self._w["root"].title(_title(title or text))

    def _answer(self, granted: bool) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        self._set_reply("…", None, title="thinking…")
        self._on_confirm(token, granted)

    def _popup(self, entries: list[MenuEntry]) -> None:
        tk, root = self._w["tk"], self._w["root"]
        menu = tk.Menu(root, tearoff=0)
        for entry in entries:
            if entry.action is None:
                menu.add_separator()
            else:
                menu.add_command(label=entry.label, state="normal" if entry.enabled else "disabled",
                                 command=lambda a=entry.action: self._on_menu(a))
        x, y = root.winfo_pointerxy()
        try:
            menu.tk_popup(x, y)
        finally:
            menu.grab_release()
