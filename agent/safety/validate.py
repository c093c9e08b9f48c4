"""Per-command argument validation for allow-listed commands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agent.config import ArgSpec, CommandSpec
from agent.errors import NotAllowedError

__all__ = ["render_argv", "validate_args"]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _check_one(cmd: str, name: str, spec: ArgSpec, value: Any) -> str | int:
    if spec.type == "int":
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise NotAllowedError(f"argument {name!r} must be a whole number", command=cmd) from None
        if (spec.min is not None and number < spec.min) or (spec.max is not None and number > spec.max):
            raise NotAllowedError(f"argument {name!r} must be between {spec.min} and {spec.max}", command=cmd)
        return number
    text = str(value)
    if not text or len(text) > spec.max_length or any(c in text for c in "\x00\n\r"):
        raise NotAllowedError(f"argument {name!r} is empty, too long or has control characters", command=cmd)
    if spec.type == "choice":
        if text not in spec.choices:
            raise NotAllowedError(f"argument {name!r} must be one of {', '.join(spec.choices)}", command=cmd)
        return text
    if spec.type == "path":
        path = Path(text).expanduser()
        path = path if path.is_absolute() else Path.home() / path
        if spec.must_exist and not path.exists():
            raise NotAllowedError(f"{path} does not exist", command=cmd)
        if spec.pattern and not re.fullmatch(spec.pattern, str(path)):
            raise NotAllowedError(f"argument {name!r} is not an allowed location", command=cmd)
        return str(path)
    if text.startswith("-"):
        raise NotAllowedError(f"argument {name!r} may not start with '-'", command=cmd)
    if spec.pattern and not re.fullmatch(spec.pattern, text):
        raise NotAllowedError(f"argument {name!r} does not match {spec.pattern}", command=cmd)
    return text


def validate_args(spec: CommandSpec, args: dict[str, Any]) -> dict[str, str | int]:
    """Validate `args` against the command's schema; unknown or missing arguments are refused."""
    unknown = set(args) - set(spec.args)
    if unknown:
        raise NotAllowedError(f"unknown argument(s): {', '.join(sorted(unknown))}", command=spec.id)
    out: dict[str, str | int] = {}
    for name, arg in spec.args.items():
        value = args.get(name, arg.default)
        if value is None:
            raise NotAllowedError(f"missing argument {name!r}", command=spec.id)
        out[name] = _check_one(spec.id, name, arg, value)
    return out


def render_argv(spec: CommandSpec, values: dict[str, str | int]) -> list[str]:
    """Fill the argv template. Each template element stays exactly one argv element."""
    argv = []
    for element in spec.argv:
        argv.append(_PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), element))
    return argv
