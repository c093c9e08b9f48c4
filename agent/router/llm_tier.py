"""Tier 3: the llama.cpp model picks among a short list of skills, then fills that skill's arguments.

Both calls are constrained by a JSON schema (a grammar), so the output always parses. The prompt starts
with an identical prefix (the full skill list) on every call so llama.cpp reuses its KV cache.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from agent.logs import said
from agent.models.llm import LLM
from agent.skills.base import Args, Skill

__all__ = ["LLMTier"]

_LOGGER = logging.getLogger(__name__)


def _args_schema(model: type[Args]) -> dict[str, Any]:
    """A grammar-friendly schema: plain types, no defaults, nulls dropped."""
    schema = model.model_json_schema()
    props: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if "anyOf" in prop:
            options = [p for p in prop["anyOf"] if p.get("type") != "null"]
            prop = options[0] if options else {"type": "string"}
        keep = {k: v for k, v in prop.items() if k in ("type", "enum", "minimum", "maximum", "items")}
        if keep.get("type") == "string" and "enum" not in keep:
            keep["maxLength"] = 40  # small models ramble: bound every free-text slot
        if keep.get("type") == "object" or "$ref" in prop:
            continue
        props[name] = keep or {"type": "string"}
    required = [r for r in schema.get("required", []) if r in props]
    return {"type": "object", "properties": props, "required": required or list(props)[:1]}


class LLMTier:
    def __init__(self, llm: LLM, skills: list[Skill]) -> None:
        self.llm = llm
        lines = [f"- {s.name}: {s.description}" for s in skills]
        self.prefix = (
            "You route a desktop assistant's requests to one skill.\nSkills:\n" + "\n".join(lines) +
            "\nAnswer with the single best skill for the request, as JSON.\n\n"
        )
        self._skills = {s.name: s for s in skills}

    def choose(self, text: str, candidates: list[str]) -> str:
        cands = [c for c in candidates if c in self._skills] or ["chat"]
        if "chat" not in cands:
            cands.append("chat")
        schema = {"type": "object", "properties": {"skill": {"type": "string", "enum": cands}},
                  "required": ["skill"]}
        out = self.llm.complete(f"{self.prefix}Request: {text}\nJSON:", schema=schema, max_tokens=24,
                                temperature=0.0)
        try:
            skill = json.loads(out)["skill"]
        except (json.JSONDecodeError, KeyError, TypeError):
            _LOGGER.warning("LLM tier: unparseable choice %s", said(out))
            return cands[0]
        return str(skill) if skill in cands else cands[0]

    def fill_args(self, text: str, skill: Skill, known: dict[str, Any]) -> dict[str, Any]:
        schema = _args_schema(skill.args)
        if not schema["properties"]:
            return {}
        prompt = (f"{self.prefix}Request: {text}\nSkill: {skill.name} ({skill.description})\n"
                  f"Known arguments: {json.dumps(known)}\nExtract the arguments from the request as JSON:")
        out = self.llm.complete(prompt, schema=schema, max_tokens=128, temperature=0.0)
        try:
            value = json.loads(out)
        except json.JSONDecodeError:
            _LOGGER.warning("LLM tier: unparseable arguments %s", said(out))
            return {}
        return {k: v for k, v in value.items() if v not in (None, "")} if isinstance(value, dict) else {}
