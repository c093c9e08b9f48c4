"""The rule tier's argument extraction: each skill's own extractor (`Skill.extract`, in the skill's module) on the
cleaned request text, then the user's own spelling for free text. The LLM fills only what rules cannot."""

from __future__ import annotations

from typing import Any

from agent.skills.base import Skill
from agent.values import restore_case, to_digits

__all__ = ["extract_args"]

_FREE_TEXT = ("text", "query", "name", "target", "project", "need", "label", "note", "command", "expression")


def extract_args(skill: Skill | None, text: str, original: str = "") -> dict[str, Any]:
    """Best-effort arguments for `skill` from cleaned `text` (may be incomplete; validation decides).

    Free text (a note, a query, a name) is given back as the user spelled it in `original`.
    """
    if skill is None or skill.extract is None:
        return {}
    args = skill.extract(to_digits(text) if skill.numeric else text)
    if original and not skill.numeric:
        for key in _FREE_TEXT:
            if isinstance(args.get(key), str):
                args[key] = restore_case(args[key], original)
    if original and isinstance(args.get("args"), dict):  # a command's folder as typed ("~/Downloads")
        args["args"] = {k: restore_case(v, original) if isinstance(v, str) else v for k, v in args["args"].items()}
    return args
