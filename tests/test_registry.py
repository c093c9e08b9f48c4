from __future__ import annotations

import pytest

from agent.errors import AgentError
from agent.events import SkillResult
from agent.skills.base import Args, NoArgs, Skill, SkillContext
from agent.skills.registry import Registry, load_registry

CATALOGUE = {
    "system.status", "system.top", "process.kill", "command.run", "command.fix", "apps.open", "files.search",
    "files.index", "time.now", "math.calc", "timer.set", "reminder.add", "notes.add", "notes.search",
    "timetrack.start", "timetrack.stop", "timetrack.report", "password.generate", "password.get",
    "password.save", "finance.expense_add", "finance.report", "music.control", "security.scan", "health.alerts",
    "tools.recommend", "agent.help", "agent.stop", "agent.mute", "chat",
}


def test_builtins_load_through_the_entry_point() -> None:
    from importlib.metadata import entry_points

    eps = {ep.value for ep in entry_points(group="agent.skills")}
    assert "agent.skills.builtin:register_skills" in eps
    reg = load_registry()
    assert CATALOGUE <= set(reg.names())
    for name in ("system.status", "time.now", "math.calc", "agent.help", "chat", "command.run"):
        skill = reg.get(name)
        assert skill is not None, name
        assert skill.run is not None, name
        assert skill.plugin == "builtin"
        assert skill.examples, f"{name} has no examples for the router"


def test_an_external_plugin_registers_the_same_way() -> None:
    class EchoArgs(Args):
        word: str

    def run(args: EchoArgs, ctx: SkillContext) -> SkillResult:
        return SkillResult.ok(args.word)

    def register_skills(register: object) -> None:
        register(Skill("demo.echo", "say a word back", ("echo hello",), EchoArgs, False, run))  # type: ignore[operator]

    reg = load_registry()
    reg.load_plugin("demo", register_skills)
    skill = reg.get("demo.echo")
    assert skill is not None
    assert skill.plugin == "demo"
    assert skill.args is EchoArgs


def test_a_handler_replaces_a_catalogue_entry_but_two_handlers_clash() -> None:
    reg = Registry()
    reg.register(Skill("x.y", "catalogue only"))
    reg.register(Skill("x.y", "real", run=lambda a, c: SkillResult.ok("hi")))
    assert reg.get("x.y") is not None
    assert reg.get("x.y").description == "real"
    reg.register(Skill("x.y", "catalogue again"))  # ignored: the real one stays
    assert reg.get("x.y").description == "real"  # type: ignore[union-attr]
    with pytest.raises(AgentError, match="registered twice"):
        reg.register(Skill("x.y", "another", run=lambda a, c: SkillResult.ok("no")))


@pytest.mark.parametrize("name", ["System.Status", "system status", "system..status", ""])
def test_skill_names_are_dotted_lowercase(name: str) -> None:
    with pytest.raises(ValueError, match="dotted"):
        Skill(name, "bad", args=NoArgs)
