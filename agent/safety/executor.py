"""The one executor for anything that changes the system (and every command the agent runs).

- argv lists only, never a shell; the program is resolved on PATH.
- an allow-list by command id: configured argv templates, plus in-process actions registered by id
  (signal a process, write the clipboard) that go through the same checks;
- per-command argument validation;
- destructive actions need a confirmation bound to the exact action, which expires;
- a timeout and an output cap;
- an audit record for every run, read-only ones included, and every confirmation event.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.config import CommandSpec, ExecutorSettings
from agent.errors import ConfirmationError, NotAllowedError
from agent.events import ResultState
from agent.safety import spawn
from agent.safety.audit import AuditLog
from agent.safety.confirm import ConfirmationStore
from agent.safety.validate import render_argv, validate_args

__all__ = ["ActionOutput", "ExecResult", "Executor", "PreparedAction"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionOutput:
    """What an in-process action returns."""

    ok: bool
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Action:
    id: str
    fn: Callable[[dict[str, Any]], ActionOutput]
    destructive: bool
    describe: Callable[[dict[str, Any]], str]
    secret_args: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PreparedAction:
    """A validated action, ready to run: what exactly will happen, and its digest."""

    command: str
    args: dict[str, Any]
    argv: tuple[str, ...]  # empty for in-process actions
    destructive: bool
    summary: str
    digest: str
    public_args: dict[str, Any]  # args with secrets masked, for the audit log


@dataclass(frozen=True)
class ExecResult:
    state: ResultState
    command: str
    summary: str
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    duration_ms: float = 0.0
    confirmation: str | None = None
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state is ResultState.OK


def _digest(command: str, args: dict[str, Any], argv: tuple[str, ...]) -> str:
    blob = json.dumps({"c": command, "a": args, "v": argv}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class Executor:
    def __init__(
        self,
        settings: ExecutorSettings,
        commands: list[CommandSpec],
        audit: AuditLog,
        confirmations: ConfirmationStore,
    ) -> None:
        self.settings = settings
        self.audit = audit
        self.confirmations = confirmations
        self._commands: dict[str, CommandSpec] = {}
        self._actions: dict[str, _Action] = {}
        for spec in commands:
            self._commands[spec.id] = spec

    # -- the allow-list ------------------------------------------------------------------------------
    def add_command(self, spec: CommandSpec) -> None:
        self._commands[spec.id] = spec

    def register_action(
        self,
        action_id: str,
        fn: Callable[[dict[str, Any]], ActionOutput],
        *,
        destructive: bool,
        describe: Callable[[dict[str, Any]], str],
        secret_args: frozenset[str] = frozenset(),
    ) -> None:
        """Allow an in-process action (e.g. signal a process) under `action_id`."""
        self._actions[action_id] = _Action(action_id, fn, destructive, describe, secret_args)

    def commands(self) -> list[CommandSpec]:
        return sorted(self._commands.values(), key=lambda c: c.id)

    def command(self, command_id: str) -> CommandSpec | None:
        return self._commands.get(command_id)

    def is_allowed(self, command_id: str) -> bool:
        return command_id in self._commands or command_id in self._actions

    # -- preparing -----------------------------------------------------------------------------------
    def prepare(self, command_id: str, args: dict[str, Any] | None = None) -> PreparedAction:
        """Validate and render; raise `NotAllowedError` if the action is not allowed as given."""
        args = dict(args or {})
        if command_id in self._actions:
            action = self._actions[command_id]
            public = {k: ("***" if k in action.secret_args else v) for k, v in args.items()}
            return PreparedAction(
                command_id, args, (), action.destructive, action.describe(args),
                _digest(command_id, public, ()), public,
            )
        spec = self._commands.get(command_id)
        if spec is None:
            self.audit.append("exec.refused", command=command_id, reason="not in the allow-list")
            raise NotAllowedError("not in the allow-list", command=command_id)
        try:
            values = validate_args(spec, args)
        except NotAllowedError as exc:
            self.audit.append("exec.refused", command=command_id, reason=str(exc))
            raise
        argv = tuple(render_argv(spec, values))
        public = {k: ("***" if spec.args[k].secret else v) for k, v in values.items()}
        shown = " ".join(
            "***" if any(spec.args[k].secret and str(values[k]) in a for k in values) else a for a in argv
        )
        summary = spec.description or shown
        return PreparedAction(
            command_id, values, argv, spec.destructive, f"{summary} ({shown})" if spec.description else summary,
            _digest(command_id, public, argv), public,
        )

    # -- running -------------------------------------------------------------------------------------
    def run(
        self,
        command_id: str,
        args: dict[str, Any] | None = None,
        *,
        confirmation: str | None = None,
        yes: bool = False,
        intent: dict[str, Any] | None = None,
    ) -> ExecResult:
        """Run an allow-listed action. Destructive ones need `yes` or a matching `confirmation` token."""
        try:
            prepared = self.prepare(command_id, args)
        except NotAllowedError as exc:
            return ExecResult(ResultState.REFUSED, command_id, "", message=str(exc))
        if prepared.destructive:
            if confirmation is not None:
                try:
                    self.confirmations.grant(confirmation, prepared.digest)
                except ConfirmationError as exc:
                    return ExecResult(ResultState.REFUSED, command_id, prepared.summary, message=str(exc))
            elif yes:
                p = self.confirmations.ask(command_id, prepared.digest, prepared.summary, intent)
                self.confirmations.grant(p.token, prepared.digest, by="yes-flag")
            else:
                p = self.confirmations.ask(command_id, prepared.digest, prepared.summary, intent)
                return ExecResult(
                    ResultState.NEEDS_CONFIRMATION, command_id, prepared.summary, confirmation=p.token,
                    message=f"Confirm: {prepared.summary}",
                )
        return self._execute(prepared)

    def _execute(self, prepared: PreparedAction) -> ExecResult:
        if not prepared.argv:
            return self._execute_action(prepared)
        spec = self._commands[prepared.command]
        timeout = spec.timeout_s or self.settings.timeout_s
        program = spawn.resolve(prepared.argv[0])
        if program is None:
            self.audit.append("exec.failed", command=prepared.command, argv=list(prepared.argv), reason="not installed")
            return ExecResult(
                ResultState.ERROR, prepared.command, prepared.summary,
                message=f"{prepared.argv[0]} is not installed on this machine",
            )
        started = time.perf_counter()
        done = spawn.run([program, *prepared.argv[1:]], timeout_s=timeout, cap=self.settings.output_cap_bytes,
                         env={"LC_ALL": "C.UTF-8"})
        stdout, stderr = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
        timed_out, truncated = done.timed_out, done.truncated
        ms = (time.perf_counter() - started) * 1000
        self.audit.append(
            "exec.run", command=prepared.command, argv=list(prepared.argv) if not any(
                spec.args[k].secret for k in spec.args) else "(contains a secret)",
            args=prepared.public_args, returncode=done.returncode, timed_out=timed_out,
            duration_ms=round(ms, 1), stdout_bytes=len(stdout), truncated=truncated,
        )
        if timed_out:
            return ExecResult(
                ResultState.ERROR, prepared.command, prepared.summary, done.returncode, stdout, stderr,
                truncated, ms, message=f"timed out after {timeout:g} s and was stopped",
            )
        state = ResultState.OK if done.returncode == 0 else ResultState.ERROR
        return ExecResult(
            state, prepared.command, prepared.summary, done.returncode, stdout, stderr,
            truncated, ms,
            message="" if state is ResultState.OK else f"exited with status {done.returncode}",
        )

    def _execute_action(self, prepared: PreparedAction) -> ExecResult:
        action = self._actions[prepared.command]
        started = time.perf_counter()
        try:
            out = action.fn(prepared.args)
        except Exception as exc:
            _LOGGER.exception("action %s failed", prepared.command)
            out = ActionOutput(False, f"failed: {exc.__class__.__name__}: {exc}")
        ms = (time.perf_counter() - started) * 1000
        self.audit.append(
            "exec.action", command=prepared.command, args=prepared.public_args, ok=out.ok,
            message=out.message, duration_ms=round(ms, 1),
        )
        return ExecResult(
            ResultState.OK if out.ok else ResultState.ERROR, prepared.command, prepared.summary,
            duration_ms=ms, message=out.message, data=out.data,
        )
