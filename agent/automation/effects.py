"""What rule actions do in the world (the engine's `Actuator`): speech and alerts on the bus, desktop
notifications and commands through the executor, skills through the pipeline. Dry runs only describe;
quiet runs (quiet hours, do-not-disturb) store alerts without showing them (critical ones still show)."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent.automation.actions import Run
from agent.automation.catalog import with_user
from agent.automation.store import AutomationStore
from agent.events import Alert, ResultState, Speak
from agent.safety.confirm import Conversation, conversation

if TYPE_CHECKING:
    from agent.pipeline import Pipeline
    from agent.services import Services

__all__ = ["Effects"]

_LOGGER = logging.getLogger(__name__)
_SEVERITY = {"low": "info", "normal": "warning", "critical": "critical"}


class Effects:
    def __init__(self, services: Services, store: AutomationStore, publish: Callable[[Any], None]) -> None:
        self.services = services
        self.store = store
        self.publish = publish
        self.settings = services.settings.automation

    def speak(self, text: str, run: Run) -> str:
        if run.dry_run:
            return f"(dry run) would say: {text}"
        if run.quiet:
            return f"quiet: not spoken: {text}"
        self.publish(Speak(text, source=f"rule:{run.rule_id}"))
        return f"said: {text}"

    def notify(self, title: str, body: str, urgency: str, run: Run) -> str:
        if run.dry_run:
            return f"(dry run) would notify: {title}"
        shown = not run.quiet or urgency == "critical"
        severity = _SEVERITY[urgency]
        self.store.add_alert(run.rule_id, title, body, severity, shown)
        if not shown:
            return f"quiet: stored, not shown: {title}"
        self.publish(Alert(title, body, severity, source=f"rule:{run.rule_id}"))
        return f"notified: {title}" + self._desktop_notify(title, body, urgency)

    def _desktop_notify(self, title: str, body: str, urgency: str) -> str:
        if not self.settings.desktop_notify or not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            return ""
        if shutil.which("notify-send") is None or not self.services.executor.is_allowed("notify_send"):
            return " (no notify-send)"

        def clean(text: str, limit: int) -> str:
            text = " ".join(text.split()).lstrip("-") or "-"
            return text[:limit]

        result = self.services.executor.run("notify_send", {"urgency": urgency, "title": clean(title, 200),
                                                            "body": clean(body, 250)})
        return " (desktop)" if result.ok else f" (desktop notification failed: {result.message})"

    def skill(self, name: str, args: dict[str, Any], run: Run) -> tuple[str, dict[str, Any]]:
        outcome = self.pipeline().run_skill(name, args, source="rule", dry_run=run.dry_run)
        result = outcome.result
        return result.state.value, {"reply": result.reply, "data": result.data}

    def command(self, command_id: str, args: dict[str, Any], run: Run) -> tuple[str, dict[str, Any]]:
        executor = self.services.executor
        spec = executor.command(command_id)
        if spec is None:  # only allow-listed argv commands; in-process actions go through their skills
            _LOGGER.warning("rule %s: %s is not an allow-listed command; refused", run.rule_id, command_id)
            executor.audit.append("exec.refused", command=command_id, reason="rules run allow-listed commands only",
                                  rule=run.rule_id)
            return "refused", {"summary": f"{command_id} is not an allow-listed command (rules cannot run "
                                          "in-process actions; use the skill)"}
        args = with_user(spec.args, args)
        if run.dry_run:
            from agent.errors import NotAllowedError

            try:
                prepared = executor.prepare(command_id, args)
            except NotAllowedError as exc:
                return "refused", {"summary": str(exc)}
            return "ok", {"summary": f"(dry run) would run: {prepared.summary}"}
        intent = {"skill": "command.run", "args": {"command": command_id, "args": args}}
        with conversation(Conversation("rule", run.rule_id)):  # a bare "yes" elsewhere cannot answer it
            result = executor.run(command_id, args, intent=intent)
        if result.state is ResultState.NEEDS_CONFIRMATION:
            message = f"Rule {run.rule_id} wants to {result.summary}. Confirm with: agent confirm {result.confirmation}"
            self.store.add_alert(run.rule_id, "Confirmation needed", message, "warning", True)
            self.publish(Alert("Confirmation needed", message, "warning", source=f"rule:{run.rule_id}"))
        return result.state.value, {"summary": result.message or result.summary, "stdout": result.stdout[:2000]}

    def pipeline(self) -> Pipeline:
        """The agent's one pipeline: a rule's skill waits for the turn in progress, like any other caller."""
        return self.services.pipeline()
