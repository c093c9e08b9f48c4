"""The exception tree drawn in `agent/errors.py` is the one the code declares: every class in the drawing exists
and derives from the class drawn above it, and every error class of the modules imported here is in it."""

from __future__ import annotations

import re

import pytest

import agent.errors
from agent.components import Unavailable
from agent.errors import AgentError
from agent.files.indexer import IndexPathError
from agent.files.store import StoreError as FilesStoreError
from agent.instance import AlreadyRunningError
from agent.notify import NotifyError
from agent.scheduling.reminders import ReminderError
from agent.skills.calc import CalcError, evaluate
from agent.vault.errors import VaultError

CLASSES: dict[str, type[BaseException]] = {
    **{name: getattr(agent.errors, name) for name in agent.errors.__all__},
    "CalcError": CalcError, "ReminderError": ReminderError, "NotifyError": NotifyError,
    "AlreadyRunningError": AlreadyRunningError, "Unavailable": Unavailable, "IndexPathError": IndexPathError,
    "files.StoreError": FilesStoreError, "VaultError": VaultError,
}


def _drawn() -> list[tuple[int, str]]:
    """(depth, name) of each line of the drawing; AgentError is depth 0."""
    doc = agent.errors.__doc__ or ""
    out = []
    for line in doc.splitlines():
        m = re.match(r"^\s{4}([│ ]*)(?:[├└]── )?([A-Za-z][\w.]*)(?:\s|$)", line)
        if m:
            out.append((len(m.group(1)) // 4 + (1 if "──" in line else 0), m.group(2)))
    return out


def test_the_drawn_tree_is_the_declared_one() -> None:
    drawn = _drawn()
    assert drawn[0] == (0, "AgentError")
    parents: list[str] = []
    for depth, name in drawn:
        parents = parents[:depth]
        if parents:
            assert issubclass(CLASSES[name], CLASSES[parents[-1]]), (name, parents[-1])
        parents.append(name)
    assert {name for _, name in drawn} == set(CLASSES)
    declared = set(_subclasses(AgentError)) - set(_subclasses(VaultError))  # the vault draws its own subtree
    assert {cls for cls in declared if not cls.__name__.startswith("_")} <= set(CLASSES.values())


def _subclasses(cls: type[BaseException]) -> list[type[BaseException]]:
    direct: list[type[BaseException]] = cls.__subclasses__()
    return [cls, *(sub for child in direct for sub in _subclasses(child))]


def test_a_skill_error_keeps_the_reply_apart_from_the_skill_name() -> None:
    with pytest.raises(CalcError) as caught:
        evaluate("1/0")
    assert caught.value.skill == "math.calc"
    assert caught.value.reply == "division by zero"
    assert str(caught.value) == "math.calc: division by zero"
