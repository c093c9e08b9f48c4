"""tools.recommend: the curated knowledge file, ranking (keywords, and keywords + the real MiniLM embedder),
the OS family, installed marking, and installing only after confirmation.

PATH is pointed at a tmp folder so "installed" is deterministic; the only stand-in is an executable stub
named like a tool that needs hardware this machine lacks (nvidia-smi), and it is never run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent.config import ArgSpec, CommandSpec
from agent.events import ResultState, SkillResult
from agent.pipeline import Pipeline
from agent.safety.validate import validate_args
from agent.services import Services
from agent.skills import tools_advice
from agent.skills.tools_advice import install_argv, load_knowledge, os_family, rank

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nID=debian\n'
UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\n'
MANJARO = 'NAME="Manjaro Linux"\nID=manjaro\nID_LIKE=arch\n'
SUSE = 'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n'


@pytest.fixture
def debian_empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This machine reads as Debian (whatever CI runs on) and PATH has nothing but what a test puts there."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(tools_advice, "read_os_release", lambda: DEBIAN)
    return bin_dir


def _stub(bin_dir: Path, name: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\nexit 1\n")
    path.chmod(0o755)


def _ask(services: Services, need: str, utterance: str = "") -> SkillResult:
    skill = services.registry.get("tools.recommend")
    assert skill is not None
    assert skill.run is not None
    return skill.run(skill.args.model_validate({"need": need}), services.context(utterance or need))


def _events(services: Services) -> list[str]:
    if not services.paths.audit_log.exists():
        return []
    return [json.loads(x)["event"] for x in services.paths.audit_log.read_text().splitlines()]


def test_the_knowledge_file_is_valid_and_every_package_is_installable() -> None:
    knowledge = load_knowledge()
    assert len(knowledge.needs) >= 30
    assert len({n.id for n in knowledge.needs}) == len(knowledge.needs)
    for need in knowledge.needs:
        for tool in need.tools:
            assert tool.bin, tool.name
            assert tool.install, tool.name
            for manager, package in tool.install.items():
                spec = CommandSpec(id="t", argv=install_argv(manager),
                                   args={"package": ArgSpec(type="choice", choices=[package])})
                assert validate_args(spec, {"package": package}) == {"package": package}
    ids = {n.id for n in knowledge.needs}
    assert {"gpu-nvidia", "network-monitoring", "disk-usage", "system-monitoring", "screenshots",
            "screen-recording", "pdf-editing", "password-managers", "backups", "temperature",
            "disk-benchmark"} <= ids


def test_os_family() -> None:
    assert os_family(DEBIAN, "linux") == "apt"
    assert os_family(UBUNTU, "linux") == "apt"
    assert os_family(FEDORA, "linux") == "dnf"
    assert os_family(MANJARO, "linux") == "pacman"
    assert os_family(SUSE, "linux") is None
    assert os_family("", "darwin") == "brew"
    assert os_family("", "win32") == "winget"


@pytest.mark.parametrize(("query", "need"), [
    ("nvidia monitoring tools", "gpu-nvidia"),
    ("monitor my network", "network-monitoring"),
    ("find big files eating my storage", "disk-usage"),
    ("record my screen", "screen-recording"),
    ("edit pdfs", "pdf-editing"),
    ("monitoring temperatures", "temperature"),
    ("benchmark my disk", "disk-benchmark"),
    ("something like task manager", "system-monitoring"),
    ("manage my passwords", "password-managers"),
    ("open a rar file", "archives"),
])
def test_keyword_ranking(query: str, need: str) -> None:
    best = rank(query, load_knowledge())[0]
    assert best.need.id == need
    assert best.keyword_hits
    assert best.cosine is None


@pytest.mark.slow
def test_embedder_ranking_finds_needs_without_keywords(shared_services: Services) -> None:
    knowledge = load_knowledge()
    embedder = shared_services.embedder()
    vectors = embedder.embed([n.text for n in knowledge.needs])
    for query, need in (("check if my ssd is dying", "disk-health"), ("speed of my internet", "network-speed"),
                        ("what's using my cpu", "system-monitoring"), ("watch gpu usage", "gpu-nvidia")):
        ranked = rank(query, knowledge, vectors, embedder.embed([query])[0])
        assert ranked[0].need.id == need, (query, ranked[:2])
        assert ranked[0].cosine is not None
        assert ranked[0].cosine > 0.42
    unrelated = rank("bake a cake", knowledge, vectors, embedder.embed(["bake a cake"])[0])[0]
    assert not unrelated.keyword_hits
    assert unrelated.cosine is not None
    assert unrelated.cosine < 0.42


def test_reply_names_tools_and_marks_installed_ones(services: Services, debian_empty_path: Path) -> None:
    services.settings.embedder.model_path = debian_empty_path / "missing.onnx"  # keywords only in this test
    result = _ask(services, "nvidia monitoring tools")
    assert result.state is ResultState.OK
    assert result.reply == ("For NVIDIA GPU monitoring: nvitop (interactive GPU process viewer), nvtop, "
                            "nvidia-smi.")
    assert result.data["embedder"] is False
    assert result.data["os_family"] == "apt"
    nvtop = next(t for t in result.data["tools"] if t["name"] == "nvtop")
    assert nvtop["install"]["command"].endswith("apt-get install -y nvtop")
    nvitop = next(t for t in result.data["tools"] if t["name"] == "nvitop")
    assert nvitop["install"] == {"manager": "pipx", "package": "nvitop", "command": "pipx install nvitop"}

    _stub(debian_empty_path, "nvidia-smi")  # stands in for the driver's tool: this machine has no NVIDIA GPU
    again = _ask(services, "nvidia monitoring tools")
    assert again.reply.endswith("nvtop, nvidia-smi (installed).")


def test_tools_for_other_systems_are_left_out(services: Services, debian_empty_path: Path) -> None:
    services.settings.embedder.model_path = debian_empty_path / "missing.onnx"
    result = _ask(services, "disk usage")
    assert result.reply == "For disk usage: ncdu (interactive disk usage browser in the terminal), baobab, duf."
    assert "windirstat" in {t["name"] for t in result.data["tools"]}  # still in the data, for other systems


def test_an_unknown_need_gets_an_honest_answer(services: Services, debian_empty_path: Path) -> None:
    services.settings.embedder.model_path = debian_empty_path / "missing.onnx"
    result = _ask(services, "knitting patterns")
    assert result.reply == "I don't have a tool recommendation for knitting patterns yet."
    assert result.data["matched"] is None


def test_install_needs_confirmation_and_runs_nothing_without_it(
        services: Services, debian_empty_path: Path) -> None:
    result = _ask(services, "nvtop", utterance="install nvtop")
    assert result.state is ResultState.NEEDS_CONFIRMATION
    assert result.confirmation
    assert result.reply == "This will install nvtop with apt. Should I go ahead?"
    assert (result.data["manager"], result.data["package"]) == ("apt", "nvtop")
    assert re.search(r"\bapt-get install -y nvtop\b", result.data["summary"])
    assert "exec.run" not in _events(services)
    pending = services.confirmations.get(result.confirmation)
    assert pending is not None
    assert pending.intent["args"] == {"need": "install nvtop"}

    refused = Pipeline(services).confirm(result.confirmation, granted=False)
    assert refused.result.state is ResultState.REFUSED
    assert "exec.run" not in _events(services)


def test_install_only_known_packages(services: Services, debian_empty_path: Path) -> None:
    unknown = _ask(services, "install totally-unknown-tool")
    assert unknown.state is ResultState.REFUSED
    assert unknown.confirmation is None
    direct = services.executor.run("tools_install_apt", {"package": "nvtop; rm -rf /"}, yes=True)
    assert direct.state is ResultState.REFUSED
    assert "must be one of" in direct.message
    assert "exec.run" not in _events(services)
    assert "exec.refused" in _events(services)


def test_install_of_an_installed_tool_does_nothing(services: Services, debian_empty_path: Path) -> None:
    _stub(debian_empty_path, "htop")  # a stub on the tmp PATH: the tool counts as installed
    result = _ask(services, "htop", utterance="please install htop")
    assert result.state is ResultState.OK
    assert result.reply == "htop is already installed."
    windows_only = _ask(services, "install windirstat")
    assert windows_only.state is ResultState.UNSUPPORTED
    assert "exec.run" not in _events(services)
