"""The desktop face of the resident agent: tray icon + menu, the hotkey prompt window, confirmations.

It listens on the bus (activity, replies, alerts, mute) to draw the icon, runs every request on one worker
thread (`ui-worker`) under the agent's pipeline lock, and hands results back to the Tk thread. Nothing here
runs a model or a skill on a UI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from agent.events import (
    Activity,
    Alert,
    Event,
    MuteListening,
    Notice,
    Reply,
    ResultState,
    SkillResult,
    Speak,
    UnmuteListening,
    Utterance,
)
from agent.notify import Notification
from agent.pipeline import Outcome
from tray.icons import draw_icon
from tray.prompt import PromptWindow
from tray.state import TrayModel, menu_entries

if TYPE_CHECKING:
    from agent.services import Services
    from tray.hotkeys import Hotkeys
    from tray.icon import TrayIcon

__all__ = ["DesktopUI"]

_LOGGER = logging.getLogger(__name__)


class DesktopUI:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings.ui
        self.model = TrayModel(self.settings.recent)
        self.pipeline = services.pipeline()
        self.prompt = PromptWindow(self.submit, self.answer, self.on_action)
        self.icon: TrayIcon | None = None
        self.hotkeys: Hotkeys | None = None
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="ui-worker")
        self._detach: list[Callable[[], None]] = []
        self._hotkey_lock = threading.Lock()

    # -- start and stop ---------------------------------------------------------------------------------------
    def attach(self) -> None:
        """Follow the bus: icon state, recent items, confirmations raised elsewhere, rule reloads."""
        bus = self.services.bus
        for kind in (Activity, Utterance, Reply, Alert, MuteListening, UnmuteListening):
            self._detach.append(bus.subscribe(kind, self._on_event))
        self._detach.append(bus.subscribe(SkillResult, self._on_result))
        self._detach.append(bus.subscribe(Notice, self._on_notice))

    def start(self) -> None:
        """Attach to the bus, then show the tray icon and grab the hotkeys (either may fail, not both)."""
        self.attach()
        try:
            from tray.icon import TrayIcon

            self.icon = TrayIcon(draw_icon(self.model.icon_state()), self.model.tooltip(), self._entries,
                                 self.on_action, self._on_icon_click)
        except Exception as exc:
            _LOGGER.warning("no tray icon (%s); the hotkey prompt still works", exc)
        self._bind_hotkeys()
        if self.icon is None and self.hotkeys is None:
            raise RuntimeError("neither a tray icon nor a global hotkey could start on this display")
        if self.settings.preload:
            self._worker.submit(self._preload)

    def run_main(self, stop: threading.Event) -> None:
        """The tray's event loop on the calling (main) thread, until `stop` is set."""
        if self.icon is None:
            return
        icon, done = self.icon, threading.Event()

        def stopper() -> None:
            stop.wait()
            while not done.is_set():  # the loop may not be running yet: stop() is a no-op until it is
                try:
                    icon.stop()
                except Exception:  # pystray, halfway through starting its loop
                    _LOGGER.debug("tray stop retried", exc_info=True)
                done.wait(0.2)

        if stop.is_set():
            return
        threading.Thread(target=stopper, name="tray-stopper", daemon=True).start()
        try:
            icon.run()
        except Exception:
            _LOGGER.exception("the tray icon stopped; the agent runs on without it")
        finally:
            done.set()
        if not stop.is_set():
            _LOGGER.warning("the tray icon's loop ended (display gone?); the agent runs on without it")

    def stop(self) -> None:
        for detach in self._detach:
            detach()
        self._detach.clear()
        with self._hotkey_lock:
            if self.hotkeys is not None:
                self.hotkeys.stop()
                self.hotkeys = None
        self.prompt.stop()
        self._worker.shutdown(wait=True, cancel_futures=True)

    # -- hotkeys ----------------------------------------------------------------------------------------------
    def _bind_hotkeys(self) -> None:
        bindings: dict[str, Callable[[], None]] = {self.settings.hotkey: self.prompt.show}
        automation = self.services.automation
        engine = automation.engine if automation is not None else None
        if engine is not None:
            for combo in engine.hotkeys():
                if combo != self.settings.hotkey:
                    bindings[combo] = self._rule_hotkey(engine, combo)
        with self._hotkey_lock:
            if self.hotkeys is not None:
                self.hotkeys.stop()
                self.hotkeys = None
            try:
                from tray.hotkeys import Hotkeys

                self.hotkeys = Hotkeys(bindings)
            except Exception as exc:
                _LOGGER.warning("no global hotkeys (%s); open the prompt from the tray menu", exc)

    def _rule_hotkey(self, engine: Any, combo: str) -> Callable[[], None]:
        def fire() -> None:
            if not self.model.paused:
                self._submit_work(lambda: engine.fire_hotkey(combo))

        return fire

    # -- the bus ----------------------------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if self.model.apply(event):
            self._refresh()

    def _on_notice(self, event: Event) -> None:
        if self.model.apply(event):  # a background index job's progress: the tooltip
            self._refresh()
        if isinstance(event, Notice) and event.name == "rules.reloaded":
            self._submit_work(self._bind_hotkeys)

    def _on_result(self, event: Event) -> None:
        """A confirmation raised away from the prompt and the terminal (voice, API, a rule's skill): ask with
        notification buttons, or in the prompt window where the server has none."""
        if not (isinstance(event, SkillResult) and event.state is ResultState.NEEDS_CONFIRMATION
                and event.confirmation) or self.pipeline.interactive:
            return
        token = event.confirmation
        notifier = self.services.notifier
        if notifier is not None and notifier.supports_actions():
            notifier.notify(Notification("Confirm?", event.reply, "critical", (("yes", "Yes"), ("no", "No")),
                                         source="confirmation"),
                            on_action=lambda key: self._submit_turn(
                                lambda: self.pipeline.confirm(token, granted=key == "yes"), notify=True, record=True))
        else:
            self.prompt.ask(event.reply, token)

    def _refresh(self) -> None:
        if self.icon is not None:
            self.icon.update(draw_icon(self.model.icon_state()), self.model.tooltip())

    # -- the prompt -------------------------------------------------------------------------------------------
    def submit(self, text: str) -> None:
        """Enter in the prompt window (Tk thread): the turn runs on the worker."""
        self._submit_turn(lambda: self.pipeline.handle(text, source="prompt", interactive=True))

    def answer(self, token: str, granted: bool) -> None:
        self._submit_turn(lambda: self.pipeline.confirm(token, granted=granted, interactive=True), record=True)

    def _submit_turn(self, call: Callable[[], Outcome], *, notify: bool = False, record: bool = False) -> None:
        self._submit_work(lambda: self._turn(call, notify, record))

    def _submit_work(self, work: Callable[[], Any]) -> None:
        try:
            self._worker.submit(self._guarded, work)
        except RuntimeError:  # shutting down
            _LOGGER.info("the agent is stopping: request dropped")

    @staticmethod
    def _guarded(work: Callable[[], Any]) -> None:
        try:
            work()
        except Exception:
            _LOGGER.exception("desktop work failed")

    def _turn(self, call: Callable[[], Outcome], notify: bool, record: bool) -> None:
        try:
            outcome = call()
        except Exception as exc:
            _LOGGER.exception("prompt request failed")
            self.prompt.reply(f"Sorry, that failed: {exc.__class__.__name__}.")
            return
        result = outcome.result
        token = result.confirmation if result.state is ResultState.NEEDS_CONFIRMATION else None
        self.prompt.reply(result.reply, token)
        if record:  # a confirmation's reply comes without an utterance: the model would not list it
            self.model.add_recent("reply", result.reply)
            self._refresh()
        notifier = self.services.notifier
        if notify and notifier is not None:
            notifier.notify(Notification("Agent", result.reply, "low", source="confirmation"))
        if self.settings.speak_replies and not self.services.settings.speak_replies:
            self.services.bus.publish(Speak(result.reply, source="prompt"))

    def _preload(self) -> None:
        """Load the router's models now, so the first hotkey request answers at once."""
        try:
            self.pipeline.warm()
        except Exception:
            _LOGGER.exception("preloading the router failed; it loads on the first request")
        _LOGGER.info("models loaded: the prompt answers at once")

    # -- the tray menu ----------------------------------------------------------------------------------------
    def _entries(self) -> list[Any]:
        return menu_entries(self.model, rules=self.services.automation is not None)

    def _on_icon_click(self) -> None:
        """A left click on the Xlib tray icon: our own menu, at the pointer. New alerts count as seen."""
        if self.model.seen():
            self._refresh()
        self.prompt.popup_menu(self._entries())

    def on_action(self, action: str) -> None:
        """A menu choice (from the Tk or the pystray thread); anything slow goes to the worker."""
        _LOGGER.info("tray menu: %s", action)
        if action == "prompt":
            self.prompt.show()
        elif action.startswith("recent:"):
            items = self.model.recent_items()
            index = int(action.split(":", 1)[1])
            if index < len(items):
                self.prompt.show_text(items[index].text)
        elif action in ("mute", "unmute"):
            self.services.bus.publish(MuteListening(source="tray") if action == "mute"
                                      else UnmuteListening(source="tray"))
        elif action in ("pause", "resume"):
            self._submit_work(lambda: self._pause_rules(action == "pause"))
        elif action == "reload":
            self._submit_work(self._reload_rules)
        elif action in ("config", "log"):
            paths = self.services.paths
            target = paths.config if action == "config" else paths.logs / "agent.log"
            self._submit_work(lambda: self._open(str(target)))
        elif action == "quit":
            shutdown = self.services.shutdown
            if shutdown is not None:
                shutdown("quit from the tray")

    def _open(self, uri: str) -> None:
        result = self.services.executor.run("open_uri", {"uri": uri})
        if not result.ok:
            self._tell("Could not open it", result.message or result.summary)

    def _pause_rules(self, pause: bool) -> None:
        service = self.services.automation
        if service is None:
            return
        scheduler = service.scheduler
        if pause and not self.model.paused:
            scheduler.pause()
            service.engine.pause()  # event, hotkey and voice triggers too
        elif not pause and self.model.paused:
            service.engine.resume()
            scheduler.resume()
        self.model.paused = pause
        _LOGGER.info("rules %s from the tray", "paused" if pause else "resumed")
        self._refresh()

    def _reload_rules(self) -> None:
        service = self.services.automation
        if service is None:
            return
        result = service.engine.reload()
        errors = result.errors
        if errors:
            self._tell("Some rules could not load", f"{len(errors)} problem(s); first: {errors[0]}", "normal")
        else:
            self._tell("Rules reloaded", f"{len(service.engine.rules)} rules running.")

    def _tell(self, title: str, body: str, urgency: str = "low") -> None:
        notifier = self.services.notifier
        if notifier is not None:
            notifier.notify(Notification(title, body, urgency, source="tray"))
        else:
            _LOGGER.info("%s: %s", title, body)
