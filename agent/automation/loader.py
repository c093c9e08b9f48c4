"""Load rule files: YAML with line/column marks → validated `Rule`s, every problem as `file:line:col: path: message`.

The same validator serves `agent rules check` and the engine. A rule that fails is reported and left out; the
other rules of the file load. Unknown keys, metrics, skills, commands and events get a did-you-mean suggestion.
Rule files that may change the system (a `command` action, or a skill that changes the system) must not be
writable by group or others, and must belong to you or root.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from agent.automation import schema as s
from agent.automation.catalog import Found, RuleCatalog
from agent.automation.metrics import is_known_metric, suggest_metric
from agent.yamlmarks import Loc, MarkedYaml, error_mark, load_marked

__all__ = ["LoadResult", "LoadedRule", "Problem", "find_rule_files", "load_rules"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    """One validation problem; `str()` gives `file:line:col: path: message`."""

    file: str
    line: int
    col: int
    path: str
    message: str
    rule_id: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}:{self.col}: {self.path}: {prefix}{self.message}"


@dataclass(frozen=True)
class LoadedRule:
    rule: s.Rule
    file: Path
    line: int
    digest: str  # of the rule's validated content: unchanged rules keep their state across reloads


@dataclass
class LoadResult:
    rules: list[LoadedRule] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    invalid: dict[str, list[Problem]] = field(default_factory=dict)  # rule id -> its errors
    kept: list[str] = field(default_factory=list)  # rule ids whose previous version keeps running (the engine's)

    @property
    def broken_files(self) -> set[str]:
        """Files that could not be read as a whole (unreadable, not valid YAML, not a list): none of their rules
        is known, so the engine keeps the previous version of all of them."""
        return {p.file for p in self.problems if p.severity == "error" and p.rule_id is None and p.path == "-"}

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _fmt_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _strip_tags(loc: Iterable[Any]) -> Loc:
    return tuple(p for p in loc if not (isinstance(p, str) and p in s.TAG_MODELS))


# -- suggestions ---------------------------------------------------------------------------------------------
def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_for(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the last key of a pydantic error location (tags included)."""
    model: type[BaseModel] | None = s.Rule
    for part in loc[:-1]:
        if isinstance(part, str) and part in s.TAG_MODELS:
            model = s.TAG_MODELS[part]
        elif isinstance(part, str) and model is not None:
            f = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
            sub = _submodel(f.annotation) if f is not None else None
            model = sub
    return model


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _submodel(arg)
        if found is not None:
            return found
    return None


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{found[0]}'?)" if found else ""


def _pydantic_message(err: Any, raw: Any) -> str:
    kind = err["type"]
    loc = tuple(err["loc"])
    if kind == "extra_forbidden":
        model = _model_for(loc)
        allowed = _field_names(model) if model else []
        hint = _did_you_mean(str(loc[-1]), allowed) or (f" (allowed: {', '.join(allowed)})" if allowed else "")
        return f"unknown key '{loc[-1]}'{hint}"
    if kind.startswith("unknown_"):
        family = kind[len("unknown_"):]
        keys = s.KIND_KEYS.get(family, ())
        given = [str(k) for k in err.get("input", {})] if isinstance(err.get("input"), dict) else []
        hint = next((_did_you_mean(k, keys) for k in given if _did_you_mean(k, keys)), "")
        return f"unknown {family} kind{hint}; use one of: {', '.join(keys)}"
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return f"missing key '{loc[-1]}'"
    return message


# -- loading -------------------------------------------------------------------------------------------------
def find_rule_files(paths: Iterable[Path]) -> list[Path]:
    """YAML files under the given files or folders (folders: `*.yaml` and `*.yml`, not recursive, sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif path.exists():
            out.append(path)
    return out


def load_rules(paths: Iterable[Path], catalog: RuleCatalog | None = None, *, missing_ok: bool = False) -> LoadResult:
    """Validate every rule of every file; collect all problems. Missing paths are reported unless `missing_ok`."""
    result = LoadResult()
    seen: dict[str, Problem] = {}
    paths = list(paths)
    for path in paths:
        if not path.exists() and not missing_ok:
            result.problems.append(Problem(str(path), 1, 1, "-", "no such file or folder"))
    for file in find_rule_files(paths):
        result.files.append(file)
        for item in _load_file(file, catalog):
            if isinstance(item, Problem):
                result.problems.append(item)
                continue
            first = seen.get(item.rule.id)
            if first is not None:
                problem = Problem(str(file), item.line, 1, item.rule.id,
                                  f"duplicate rule id (first defined at {first.file}:{first.line})", item.rule.id)
                result.problems.append(problem)
                result.invalid.setdefault(item.rule.id, []).append(problem)
                continue
            seen[item.rule.id] = Problem(str(file), item.line, 1, item.rule.id, "", item.rule.id)
            result.rules.append(item)
    for p in result.problems:
        if p.rule_id and p.severity == "error" and p not in result.invalid.get(p.rule_id, []):
            result.invalid.setdefault(p.rule_id, []).append(p)
    result.rules = [r for r in result.rules if r.rule.id not in result.invalid]
    return result


def _load_file(file: Path, catalog: RuleCatalog | None) -> Iterator[LoadedRule | Problem]:
    name = str(file)
    try:
        doc = load_marked(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        yield Problem(name, 1, 1, "-", f"cannot read: {exc}")
        return
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        yield Problem(name, *(error_mark(exc) or (1, 1)), "-", f"not valid YAML: {problem}")
        return
    data = doc.data
    if data is None:
        return
    if not isinstance(data, list):
        yield Problem(name, 1, 1, "-", "a rule file is a YAML list of rules ('- id: ...')")
        return
    risky_mode = _unsafe_permissions(file)
    for index, raw in enumerate(data):
        yield from _load_one(name, index, raw, doc, catalog, risky_mode)


def _load_one(name: str, index: int, raw: Any, doc: MarkedYaml, catalog: RuleCatalog | None,
              risky_mode: str | None) -> Iterator[LoadedRule | Problem]:
    rule_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
    label = rule_id or f"rule[{index}]"
    line, col = doc.mark((index,))
    if not isinstance(raw, dict):
        yield Problem(name, line, col, label, "a rule is a mapping with id, triggers and actions")
        return
    duplicates = [(loc, mark) for loc, mark, _ in doc.duplicates if loc[0] == index]
    for loc, mark in duplicates:
        yield Problem(name, *mark, _fmt_path((label, *loc[1:])), f"duplicate key '{loc[-1]}'", rule_id)
    if duplicates:
        return
    try:
        rule = s.Rule.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = _strip_tags(err["loc"])
            key = err["type"] in ("extra_forbidden",)
            mark = doc.mark((index, *loc), key=key)
            yield Problem(name, *mark, _fmt_path((label, *loc)), _pydantic_message(err, raw), rule_id)
        return
    problems = list(_semantic(rule, catalog))
    if risky_mode and any(_changes_system(rule, catalog)):
        problems.append(((), f"refusing a rule that runs commands from a file {risky_mode}", "error"))
    for loc, message, severity in problems:
        mark = doc.mark((index, *loc), key=message.startswith("unknown argument"))
        yield Problem(name, *mark, _fmt_path((label, *loc)), message, rule_id, severity)
    if any(sev == "error" for _, _, sev in problems):
        return
    digest = hashlib.sha256(json.dumps(rule.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:16]
    yield LoadedRule(rule, Path(name), line, digest)


def _unsafe_permissions(file: Path) -> str | None:
    """Why this file may not hold rules that change the system, or None when it may."""
    try:
        st = file.stat()
    except OSError:
        return None
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}; fix: chmod go-w {file})"
    if st.st_uid not in (0, os.getuid()):
        return f"owned by another user (uid {st.st_uid})"
    return None


# -- checks that need the catalogue: metrics, skills, commands, events, trigger references ------------------


def _semantic(rule: s.Rule, catalog: RuleCatalog | None) -> Iterator[Found]:
    trigger_names: set[str] = set()
    for i, trig in enumerate(rule.triggers):
        loc: Loc = ("triggers", i)
        trigger_names.add(_trigger_kind(trig))
        if trig.id:
            trigger_names.add(trig.id)
        if isinstance(trig, s.MetricTrigger):
            yield from _check_metric(trig.metric, (*loc, "metric"))
        elif isinstance(trig, s.EventTrigger) and catalog is not None:
            if not catalog.event_known(trig.event.type):
                hint = _did_you_mean(trig.event.type, catalog.events)
                yield ((*loc, "event"), f"unknown event '{trig.event.type}'{hint}; "
                                        f"known: {', '.join(sorted(catalog.events))}, or custom.<name>", "error")
        elif isinstance(trig, s.FileTrigger):
            if not Path(trig.file.path).expanduser().parent.exists():
                yield ((*loc, "file", "path"), f"{trig.file.path} is not in an existing folder", "warning")
    for i, cond in enumerate(rule.conditions):
        yield from _check_condition(cond, ("conditions", i), trigger_names)
    for key, actions in (("actions", rule.actions), ("on_clear", rule.on_clear)):
        for i, action in enumerate(actions):
            yield from _check_action(action, (key, i), catalog, trigger_names)


def _trigger_kind(trig: BaseModel) -> str:
    return next(tag.split(":")[1] for tag, m in s.TAG_MODELS.items() if tag.startswith("trigger:") and m is type(trig))


def _check_metric(name: str, loc: Loc) -> Iterator[Found]:
    if not is_known_metric(name):
        hint = suggest_metric(name)
        yield (loc, f"unknown metric '{name}'" + (f" (did you mean '{hint}'?)" if hint else ""), "error")


def _check_condition(cond: BaseModel, loc: Loc, triggers: set[str]) -> Iterator[Found]:
    if isinstance(cond, (s.AndCondition, s.OrCondition, s.NotCondition)):
        keys: dict[type[BaseModel], str] = {s.AndCondition: "and", s.OrCondition: "or", s.NotCondition: "not"}
        key = keys[type(cond)]
        children = cond.and_ if isinstance(cond, s.AndCondition) else (
            cond.or_ if isinstance(cond, s.OrCondition) else cond.not_)
        for j, child in enumerate(children):
            yield from _check_condition(child, (*loc, key, j), triggers)
    elif isinstance(cond, s.MetricCondition):
        yield from _check_metric(cond.metric, (*loc, "metric"))
    elif isinstance(cond, s.TriggerCondition):
        for j, name in enumerate(cond.trigger):
            if name not in triggers:
                yield ((*loc, "trigger", j), f"no trigger with id or kind '{name}' in this rule"
                       + _did_you_mean(name, triggers), "error")


def _check_action(action: BaseModel, loc: Loc, catalog: RuleCatalog | None, triggers: set[str]) -> Iterator[Found]:
    if isinstance(action, s.SkillAction) and catalog is not None:
        yield from catalog.check_skill(action.skill.name, action.skill.args, (*loc, "skill"))
    elif isinstance(action, s.CommandAction) and catalog is not None:
        yield from catalog.check_command(action.command.id, action.command.args, (*loc, "command"))
    elif isinstance(action, s.ChooseAction):
        for j, option in enumerate(action.choose):
            for k, cond in enumerate(option.conditions):
                yield from _check_condition(cond, (*loc, "choose", j, "conditions", k), triggers)
            for k, sub in enumerate(option.actions):
                yield from _check_action(sub, (*loc, "choose", j, "actions", k), catalog, triggers)
        for k, sub in enumerate(action.default):
            yield from _check_action(sub, (*loc, "default", k), catalog, triggers)
    elif isinstance(action, s.IfAction):
        for k, cond in enumerate(action.if_):
            yield from _check_condition(cond, (*loc, "if", k), triggers)
        for key, subs in (("then", action.then), ("else", action.else_)):
            for k, sub in enumerate(subs):
                yield from _check_action(sub, (*loc, key, k), catalog, triggers)


def iter_actions(actions: Iterable[BaseModel]) -> Iterator[BaseModel]:
    """Every action, nested ones included."""
    for action in actions:
        yield action
        if isinstance(action, s.ChooseAction):
            for option in action.choose:
                yield from iter_actions(option.actions)
            yield from iter_actions(action.default)
        elif isinstance(action, s.IfAction):
            yield from iter_actions(action.then)
            yield from iter_actions(action.else_)


def _changes_system(rule: s.Rule, catalog: RuleCatalog | None) -> Iterator[bool]:
    for action in iter_actions([*rule.actions, *rule.on_clear]):
        if isinstance(action, s.CommandAction):
            yield True
        elif isinstance(action, s.SkillAction) and (catalog is None or catalog.skill_changes_system(action.skill.name)):
            yield True
