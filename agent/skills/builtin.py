"""The built-in skills plugin, loaded through the `agent.skills` entry point like any other plugin."""

from __future__ import annotations

from agent.skills import (
    apps,
    automation,
    calc,
    chat,
    clock,
    commands,
    control,
    files,
    finance,
    fixcmd,
    help,
    music,
    notes,
    passwords,
    processes,
    system,
    timers,
    timetrack,
    tools_advice,
)
from agent.skills.base import Register

__all__ = ["register_skills"]


def register_skills(register: Register) -> None:
    for family in (system, commands, clock, calc, help, chat, timers, files):
        family.register(register)
    for family in (notes, timetrack, finance):
        family.register(register)
    for family in (processes, fixcmd, apps, control):
        family.register(register)
    for family in (passwords, music, tools_advice):
        family.register(register)
    automation.register(register)  # security.scan, health.alerts
