"""`tools.recommend`: which tool fits a need, from the curated `agent/data/tools.yaml`, and installing one.

- Matching: keywords (a keyword also matches with up to three more letters) plus, when the embedder loads,
  the cosine similarity of the need to each entry's title and description; keywords only otherwise.
- The OS family (from /etc/os-release ID and ID_LIKE, or the platform) picks the package manager; tools
  already on PATH are marked installed; tools with no package for this system are left out of the reply.
- "install nvtop": an allow-listed, destructive executor command `tools_install_<manager>` whose package
  argument must be one of the knowledge file's packages for that manager; it always asks first.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from agent.config import ArgSpec, CommandSpec
from agent.errors import ModelError
from agent.events import ResultState, SkillResult
from agent.skills.base import Args, PerAgent, Register, Skill, SkillContext

if TYPE_CHECKING:
    from agent.safety.executor import Executor

__all__ = [
    "Knowledge",
    "Match",
    "install_argv",
    "load_knowledge",
    "os_family",
    "rank",
    "register",
    "register_actions",
]

_LOGGER = logging.getLogger(__name__)

Manager = Literal["apt", "dnf", "pacman", "brew", "brew_cask", "winget", "pipx"]

# argv template per manager, and whether it needs root (pkexec asks for it on a desktop)
_MANAGERS: dict[str, tuple[tuple[str, ...], bool]] = {
    "apt": (("apt-get", "install", "-y", "{package}"), True),
    "dnf": (("dnf", "install", "-y", "{package}"), True),
    "pacman": (("pacman", "-S", "--needed", "--noconfirm", "{package}"), True),
    "brew": (("brew", "install", "{package}"), False),
    "brew_cask": (("brew", "install", "--cask", "{package}"), False),
    "winget": (("winget", "install", "--exact", "--id", "{package}", "--accept-package-agreements",
                "--accept-source-agreements"), False),
    "pipx": (("pipx", "install", "{package}"), False),
}
_FAMILIES: dict[str, str] = {
    "debian": "apt", "ubuntu": "apt", "linuxmint": "apt", "pop": "apt", "raspbian": "apt", "elementary": "apt",
    "fedora": "dnf", "rhel": "dnf", "centos": "dnf", "rocky": "dnf", "almalinux": "dnf", "nobara": "dnf",
    "arch": "pacman", "manjaro": "pacman", "endeavouros": "pacman", "garuda": "pacman", "cachyos": "pacman",
}
_INSTALL = re.compile(r"^\s*(?:(?:please|can you|could you|would you|go ahead and)\s+)*install\s+"
                      r"(?:the\s+|a\s+|an\s+)?(?P<tool>[\w.+-]+)", re.I)
_KW_WEIGHT = 0.45
_MIN_COSINE = 0.42
_SHOW = 3


class ToolsRecommendArgs(Args):
    need: str = Field(min_length=1, max_length=500)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tool(_Model):
    name: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    bin: tuple[str, ...] = ()
    install: dict[Manager, str] = Field(default_factory=dict)


class Need(_Model):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    keywords: tuple[str, ...]
    description: str
    tools: tuple[Tool, ...] = Field(min_length=1)

    @property
    def text(self) -> str:
        return f"{self.title}: {self.description}"


class Knowledge(_Model):
    version: int
    needs: tuple[Need, ...]

    def tool(self, name: str) -> Tool | None:
        """A tool by its name, a program name or a package name (case-insensitive)."""
        key = name.lower()
        for need in self.needs:
            for tool in need.tools:
                names = {tool.name.lower(), *(b.lower() for b in tool.bin),
                         *(p.lower() for p in tool.install.values())}
                if key in names:
                    return tool
        return None

    def packages(self, manager: str) -> list[str]:
        return sorted({t.install[manager] for n in self.needs for t in n.tools if manager in t.install})


@functools.lru_cache(maxsize=4)
def load_knowledge(path: Path | None = None) -> Knowledge:
    """The curated knowledge file (package data by default), validated."""
    text = path.read_text("utf-8") if path else (resources.files("agent") / "data" / "tools.yaml").read_text("utf-8")
    return Knowledge.model_validate(yaml.safe_load(text))


def read_os_release() -> str:
    for p in (Path("/etc/os-release"), Path("/usr/lib/os-release")):
        if p.exists():
            return p.read_text("utf-8", errors="replace")
    return ""


def os_family(os_release: str | None = None, platform: str = sys.platform) -> str | None:
    """The package manager of this system: apt, dnf, pacman, brew or winget; None if unknown."""
    if platform == "darwin":
        return "brew"
    if platform.startswith("win"):
        return "winget"
    text = read_os_release() if os_release is None else os_release
    fields = dict(re.findall(r"^([A-Z_]+)=\"?([^\"\n]*)\"?$", text, re.M))
    for word in [fields.get("ID", ""), *fields.get("ID_LIKE", "").split()]:
        if word.lower() in _FAMILIES:
            return _FAMILIES[word.lower()]
    return None


def _managers_for(family: str | None) -> list[str]:
    if family == "brew":
        return ["brew", "brew_cask", "pipx"]
    return [family, "pipx"] if family else ["pipx"]


def installed(tool: Tool, which: Callable[[str], str | None] = shutil.which) -> bool:
    return any(which(b) for b in tool.bin)


def install_target(tool: Tool, family: str | None) -> tuple[str, str] | None:
    """(manager, package) to install `tool` on this system, or None."""
    for manager in _managers_for(family):
        if manager in tool.install:
            return manager, tool.install[manager]
    return None


def install_argv(manager: str, root: bool | None = None) -> list[str]:
    """The argv template for `manager`; root-only managers run through pkexec unless already root."""
    template, needs_root = _MANAGERS[manager]
    if root is None:
        root = getattr(os, "geteuid", lambda: -1)() == 0
    return [*(["pkexec"] if needs_root and not root else []), *template]


# -- matching --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Match:
    need: Need
    score: float
    keyword_hits: tuple[str, ...]
    cosine: float | None


def _hits(query: str, need: Need) -> tuple[str, ...]:
    words = [*need.keywords, *(t.name.lower() for t in need.tools)]
    return tuple(w for w in words if re.search(rf"\b{re.escape(w.lower())}\w{{0,3}}\b", query))


def rank(query: str, knowledge: Knowledge, vectors: Any = None, query_vector: Any = None) -> list[Match]:
    """Needs best first. `vectors` (one row per need) and `query_vector` come from the embedder, or None."""
    q = " ".join(query.lower().split())
    cosines = (np.asarray(vectors) @ np.asarray(query_vector)) if vectors is not None else None
    out = []
    for i, need in enumerate(knowledge.needs):
        hits = _hits(q, need)
        weight = sum(2 if " " in h else 1 for h in hits)
        kw = 1 - 0.5**weight
        cos = float(cosines[i]) if cosines is not None else None
        score = kw if cos is None else (1 - _KW_WEIGHT) * cos + _KW_WEIGHT * kw
        out.append(Match(need, round(score, 4), hits, None if cos is None else round(cos, 4)))
    out.sort(key=lambda m: m.score, reverse=True)
    return out


_NEED_VECTORS: PerAgent[dict[int, Any]] = PerAgent(lambda services: {})  # per embedder


def _embeddings(ctx: SkillContext, knowledge: Knowledge) -> tuple[Any, Callable[[str], Any]] | None:
    try:
        embedder = ctx.services.embedder()
    except ModelError as exc:
        _LOGGER.info("tools.recommend: keywords only (%s)", exc)
        return None
    cache = _NEED_VECTORS.get(ctx)
    if id(embedder) not in cache:
        cache[id(embedder)] = embedder.embed([n.text for n in knowledge.needs])
    return cache[id(embedder)], lambda text: embedder.embed([text])[0]


def _matched(ranked: Sequence[Match]) -> Match | None:
    best = ranked[0] if ranked else None
    if best is None or not (best.keyword_hits or (best.cosine is not None and best.cosine >= _MIN_COSINE)):
        return None
    return best


# -- the skill -------------------------------------------------------------------------------------------
def _tool_row(tool: Tool, family: str | None) -> dict[str, Any]:
    target = install_target(tool, family)
    row: dict[str, Any] = {"name": tool.name, "summary": tool.summary, "installed": installed(tool),
                           "packages": dict(tool.install)}
    if target:
        argv = [a.replace("{package}", target[1]) for a in install_argv(target[0])]
        row["install"] = {"manager": target[0], "package": target[1], "command": " ".join(argv)}
    return row


def _recommend(args: ToolsRecommendArgs, ctx: SkillContext) -> SkillResult:
    knowledge = load_knowledge()
    emb = _embeddings(ctx, knowledge)
    ranked = rank(args.need, knowledge, *((emb[0], emb[1](args.need)) if emb else (None, None)))
    best = _matched(ranked)
    alternatives = [{"need": m.need.title, "score": m.score} for m in ranked[:3]]
    if best is None:
        return SkillResult.ok(f"I don't have a tool recommendation for {args.need} yet.", matched=None,
                              candidates=alternatives, embedder=emb is not None)
    family = os_family()
    rows = [_tool_row(t, family) for t in best.need.tools]
    shown = [r for r in rows if r["installed"] or "install" in r or family is None][:_SHOW] or rows[:_SHOW]
    parts = []
    for i, r in enumerate(shown):
        notes = ([r["summary"]] if i == 0 else []) + (["installed"] if r["installed"] else [])
        parts.append(r["name"] + (f" ({', '.join(notes)})" if notes else ""))
    return SkillResult.ok(f"For {best.need.title}: {', '.join(parts)}.", need=best.need.id, title=best.need.title,
                          os_family=family, tools=rows, keyword_hits=list(best.keyword_hits), score=best.score,
                          candidates=alternatives, embedder=emb is not None)


def _install(name: str, ctx: SkillContext) -> SkillResult:
    knowledge = load_knowledge()
    tool = knowledge.tool(name)
    if tool is None:
        return SkillResult.refused(f"{name} isn't in my list of known tools, so I won't install it.", tool=name)
    family = os_family()
    if installed(tool):
        return SkillResult.ok(f"{tool.name} is already installed.", tool=tool.name, installed=True)
    target = install_target(tool, family)
    if target is None:
        return SkillResult.unsupported(f"I don't know a package for {tool.name} on this system.", tool=tool.name,
                                       os_family=family, packages=dict(tool.install))
    manager, package = target
    result = ctx.executor.run(f"tools_install_{manager}", {"package": package}, yes=ctx.yes,
                              confirmation=ctx.confirmation,
                              intent={"skill": "tools.recommend", "args": {"need": f"install {tool.name}"}})
    data = {"tool": tool.name, "manager": manager, "package": package, "summary": result.summary,
            "returncode": result.returncode, "stderr": result.stderr[-2000:]}
    if result.state is ResultState.NEEDS_CONFIRMATION:
        return SkillResult(ResultState.NEEDS_CONFIRMATION, f"This will install {tool.name} with {manager}. "
                           "Should I go ahead?", data, confirmation=result.confirmation)
    if result.ok:
        return SkillResult.ok(f"Installed {tool.name}.", **data)
    return SkillResult(result.state, f"Installing {tool.name} failed: {result.message}.", data)


def _run(args: ToolsRecommendArgs, ctx: SkillContext) -> SkillResult:
    m = _INSTALL.match(args.need) or _INSTALL.match(ctx.utterance or "")
    if m:
        return _install(m.group("tool"), ctx)
    return _recommend(args, ctx)


def register_actions(executor: Executor) -> None:
    """Allow-list one install command per package manager, limited to the knowledge file's packages."""
    knowledge = load_knowledge()
    for manager in _MANAGERS:
        packages = knowledge.packages(manager)
        if not packages:
            continue
        executor.add_command(CommandSpec(
            id=f"tools_install_{manager}", argv=install_argv(manager),
            args={"package": ArgSpec(type="choice", choices=packages)}, destructive=True, timeout_s=900,
            description=f"install a known tool with {manager}",
        ))


# -- arguments from the words (the router's rule extractor for these skills) --------------------
_ASKING = re.compile(r"^(?:(?:what's|whats|what|which|is|are|there|do|you|know|of|got|have|any|a|an|the|some|me|good|"
                     r"best|decent|nice|solid|free|lightweight|simple|reliable|recommended|recommend|suggest)\s+)+")


# "for linux", "on my mac": the machine already says which system it is; the need is the rest
_PLATFORM = re.compile(r"\s+(?:for|on)\s+(?:linux|windows|mac|macos|osx|ubuntu|debian|fedora|arch|mint|a mac|a pc|"
                       r"my (?:mac|pc|laptop|computer|desktop|machine)|this (?:machine|computer|laptop|pc))\s*$")
_GENERIC_TOOL = re.compile(r"\b((?:\w+\s+){0,2}\w+)\s+(?:tool|tools|app|apps|program|programs|software|utility|"
                           r"utilities|application|applications)\b")


def _extract_need(t: str) -> dict[str, Any]:
    if re.search(r"\binstall\b", t):
        return {"need": t.strip()}
    t = _PLATFORM.sub("", t)
    kind = re.search(r"\b((?:\w+\s+){0,3}(?:editor|player|manager|viewer|client|reader|converter|recorder|tracker|"
                     r"planner|launcher)s?)\b", t)
    if kind:  # "a decent music player": the kind of tool is the need
        return {"need": _ASKING.sub("", kind.group(1)).strip()}
    m = re.search(r"\b(?:for|to)\s+(.+)$", t)
    generic = _GENERIC_TOOL.search(t)
    described = _ASKING.sub("", generic.group(1) + " ").strip() if generic else ""
    if m is None and described:  # "suggest a backup tool"
        return {"need": described}
    if m is not None and generic and described and generic.end() <= m.start():
        # "any good screen recording software for clips": what it does, and for whom or what
        return {"need": f"{described} {t[generic.end(1):].strip()}"}
    m = m or re.search(r"\bneed\s+(?:a\s+|an\s+|some\s+)?(.+)$", t)
    if m is None:
        m = re.search(r"\b(?:recommend|suggest)\s+(?:me\s+)?(?:a\s+|an\s+|some\s+)?(.+)$", t)
    return {"need": (m.group(1) if m else t).strip()}


def register(reg: Register) -> None:
    reg(Skill("tools.recommend", "recommend software tools for a need",
              args=ToolsRecommendArgs, run=_run, extract=_extract_need, actions=register_actions))
