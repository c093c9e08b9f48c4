"""`password.generate`, `password.save`, `password.get`: passwords that are never spoken, shown or logged.

- generate: a `secrets` password goes to the clipboard (cleared after `vault.clipboard_clear_s` if it is
  still there) and stays in this process's memory for `vault.generated_ttl_s`, so it can be saved.
- save NAME: saves the password generated in the last `vault.generated_ttl_s` seconds if there is one,
  otherwise what is on the clipboard (the user copies the password first). The reply says which.
- get NAME: copies the saved password to the clipboard (cleared like a generated one).

The secret travels only through the vault, the clipboard actions (`clipboard.copy_secret` masks it in the
audit log) and the in-memory holder; it is never in a reply, in SkillResult.data or in a log line.
"""

from __future__ import annotations

import difflib
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from agent.events import ResultState, SkillResult
from agent.skills.base import Args, PerAgent, Register, Skill, SkillContext
from agent.vault import Vault, VaultError, generate_password, normalize_name, vault_path
from agent.vault.clipboard import register_actions as register_clipboard_actions

__all__ = ["register", "vault_for"]

_LOGGER = logging.getLogger(__name__)
_MAX_SECRET = 1024


class NameArgs(Args):
    name: str = Field(min_length=1, max_length=200)


class PasswordGenerateArgs(Args):
    length: int = Field(20, ge=8, le=256)
    symbols: bool = True
    digits: bool = True
    uppercase: bool = True


@dataclass
class _Recent:
    """The last generated password, in memory only, until `expires` (monotonic seconds)."""

    secret: str
    expires: float

    def __repr__(self) -> str:
        return "_Recent(secret=***)"


def vault_for(ctx: SkillContext) -> Vault:
    """The vault of this agent (under the data dir)."""
    return Vault(vault_path(ctx.paths.data))


def _clear_s(ctx: SkillContext) -> int:
    return int(ctx.settings.vault.clipboard_clear_s)


def _to_clipboard(ctx: SkillContext, secret: str) -> tuple[bool, str]:
    result = ctx.executor.run("clipboard.copy_secret", {"secret": secret, "clear_after_s": _clear_s(ctx)})
    return result.ok, result.message


_GENERATED: PerAgent[_Recent | None] = PerAgent(lambda services: None)


def _recent(ctx: SkillContext) -> str | None:
    held = _GENERATED.peek(ctx)
    if held is not None:
        if time.monotonic() < held.expires:
            return held.secret
        _GENERATED.clear(ctx)
    return None


def _generate(args: PasswordGenerateArgs, ctx: SkillContext) -> SkillResult:
    try:
        pw = generate_password(args.length, uppercase=args.uppercase, digits=args.digits, symbols=args.symbols)
    except ValueError as exc:
        return SkillResult.error(f"I can't make that password: {exc}.")
    data: dict[str, Any] = {"length": args.length, "classes": list(pw.classes), "entropy_bits": pw.entropy_bits}
    ok, message = _to_clipboard(ctx, pw.secret)
    if not ok:
        return SkillResult.error("No clipboard available, so I did not make a password: I never show or speak "
                                 "passwords.", error=message, **data)
    _GENERATED.set(ctx, _Recent(pw.secret, time.monotonic() + ctx.settings.vault.generated_ttl_s))
    clear = _clear_s(ctx)
    return SkillResult.ok(
        f"I generated a {args.length}-character password and copied it to the clipboard; it clears in {clear} "
        f"seconds. To keep it, say \"save the password for\" and a name.",
        clipboard_clear_s=clear, offer="password.save", **data)


def _secret_to_save(ctx: SkillContext) -> tuple[str | None, str, str]:
    """(secret, source, problem): the recent generated password, else the clipboard text."""
    recent = _recent(ctx)
    if recent is not None:
        return recent, "generated", ""
    result = ctx.executor.run("clipboard.read_secret", {})
    if not result.ok:
        return None, "clipboard", result.message
    text = str(result.data.get("text", "")).strip("\r\n")
    if not text.strip():
        return None, "clipboard", "the clipboard is empty"
    if "\n" in text or len(text) > _MAX_SECRET:
        return None, "clipboard", "the clipboard holds more than one line"
    return text, "clipboard", ""


def _error(exc: VaultError) -> SkillResult:
    return SkillResult(ResultState.ERROR, str(exc), {"error": exc.__class__.__name__})


def _save(args: NameArgs, ctx: SkillContext) -> SkillResult:
    name = normalize_name(args.name)
    secret, source, problem = _secret_to_save(ctx)
    if secret is None and problem.startswith("no clipboard available"):
        return SkillResult.error(f"No clipboard available, so I can't read a password to save for {name}.",
                                 name=name, source=source, error=problem)
    if secret is None:
        return SkillResult.error(f"I can't save a password for {name}: {problem}. Copy the password first, "
                                 "then ask again.", name=name, source=source, error=problem)
    try:
        replaced = vault_for(ctx).save(name, secret)
    except VaultError as exc:
        return _error(exc)
    _GENERATED.clear(ctx)
    ctx.executor.audit.append("vault.save", name=name, source=source, replaced=replaced)
    what = "the password I generated" if source == "generated" else "the password from your clipboard"
    verb = "Updated" if replaced else "Saved"
    extra = " The old one is kept in the vault history." if replaced else ""
    return SkillResult.ok(f"{verb} {what} as {name} in the encrypted vault.{extra}", name=name, source=source,
                          replaced=replaced)


def _get(args: NameArgs, ctx: SkillContext) -> SkillResult:
    name = normalize_name(args.name)
    vault = vault_for(ctx)
    try:
        secret = vault.get(name)
        if secret is None:
            names = [e["name"] for e in vault.names()]
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            return SkillResult.error(f"I have no saved password for {name}.{hint}", name=name, similar=close)
    except VaultError as exc:
        return _error(exc)
    ok, message = _to_clipboard(ctx, secret)
    ctx.executor.audit.append("vault.get", name=name, copied=ok)
    if not ok:
        return SkillResult.error(f"No clipboard available, so I can't hand you the {name} password; I never "
                                 "show or speak passwords.", name=name, error=message)
    clear = _clear_s(ctx)
    return SkillResult.ok(f"I copied the {name} password to the clipboard; it clears in {clear} seconds.",
                          name=name, clipboard_clear_s=clear)


# -- arguments from the words (the router's rule extractor for these skills) --------------------
def _extract_password_gen(t: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    m = re.search(r"\b(\d{1,3})[\s-]*(?:character|char|letter|digit)s?\b|\blength\s+(?:of\s+)?(\d{1,3})\b", t)
    if m:
        out["length"] = int(m.group(1) or m.group(2))
    m = m or re.search(r"\b(\d{1,3})\s+(?:long|chars? long|characters? long)\b", t)
    if m and "length" not in out:
        out["length"] = int(m.group(1))
    # "with numbers and symbols", "no symbols", "uppercase letters": each option said, on or off
    options = {"symbols": r"symbols?|special characters?|punctuation", "digits": r"numbers?|digits?",
               "uppercase": r"upper ?case(?: letters?)?|capitals?|capital letters?"}
    for key, words in options.items():
        if re.search(r"\b(?:without|no|minus|exclude|excluding)\s+(?:any\s+)?(?:\w+\s+(?:or|and)\s+)?"
                     r"(?:" + words + r")\b", t):
            out[key] = False
        elif re.search(r"\b(?:" + words + r")\b", t) and re.search(r"\b(?:with|including|include|and|plus|has|have)\b",
                                                                     t):
            out[key] = True
    return out


def _extract_password_name(t: str) -> dict[str, Any]:
    m = re.search(r"\b(?:my|the)\s+([\w.-]+)\s+password\s+(?:as|is|=)\s", t)  # "my wifi password as <secret>"
    if m and m.group(1) not in ("new", "this", "that"):
        return {"name": m.group(1)}
    m = re.search(r"\bpassword\s+(?:for|of|to)\s+(?:my\s+|the\s+)?([\w. -]+?)(?:\s+(?:account|login|site))?$", t)
    if m:  # "the login password for paypal": what it is for names it
        return {"name": m.group(1).strip()}
    m = re.search(r"\b(?:as|under(?: the name)?)\s+(?:my\s+)?([\w.-]+(?:\s+(?:login|account))?)$", t)
    if m:
        return {"name": re.sub(r"\s+(?:login|account)$", "", m.group(1))}
    m = re.search(r"\bmy\s+([\w.-]+)\s+(?:login|account|credentials)\b", t)
    if m:
        return {"name": m.group(1)}
    m = re.search(r"\b(?:my\s+|the\s+)?([\w.-]+)\s+password\b", t)
    if m and m.group(1) not in ("a", "new", "the", "my", "this", "that", "strong", "random", "secure", "save"):
        return {"name": m.group(1)}
    m = re.search(r"\bpassword\s+(?:for|of|to)\s+(?:my\s+|the\s+)?([\w. -]+?)$", t)
    if m:
        return {"name": m.group(1).strip()}
    m = re.search(r"\b(?:entry|login|credentials)\s+for\s+(?:my\s+|the\s+)?([\w. -]+?)$", t)
    return {"name": m.group(1).strip()} if m else {}


def register(reg: Register) -> None:
    reg(Skill("password.generate", "generate a strong password",
              args=PasswordGenerateArgs, run=_generate, extract=_extract_password_gen, numeric=True,
              actions=register_clipboard_actions))
    reg(Skill("password.save", "save a password in the encrypted vault",
              args=NameArgs, run=_save, extract=_extract_password_name, actions=register_clipboard_actions))
    reg(Skill("password.get", "copy a saved password to the clipboard",
              args=NameArgs, run=_get, extract=_extract_password_name, actions=register_clipboard_actions))
