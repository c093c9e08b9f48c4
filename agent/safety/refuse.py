"""Destructive requests that no skill covers ("erase my entire disk", "disable the firewall").

The router sends them to `chat`, and `chat` answers that the agent can't do that; nothing runs. This is a
plain-words check on the request, not a safety boundary: what changes the system still goes only through
the executor's allow-list.
"""

from __future__ import annotations

import re

__all__ = ["refuses"]

_DESTRUCTIVE = re.compile(
    r"^(?:(?:please|can you|could you|would you|go ahead and|just|now)\s+)*(?:"
    r"(?:erase|wipe|nuke|destroy|shred|zero out)\b(?!.*\b(?:note|notes|reminder|reminders|timer|timers|alarm|"
    r"expense|expenses|entry|entries|list|item|password for)\b)"
    r"|(?:re)?format\s+(?:my|the|this|a|all)?\s*(?:\w+\s+)?(?:disk|drive|hard drive|hdd|ssd|computer|partition|usb|"
    r"laptop|pc|system)\b"
    r"|(?:delete|remove|rm|trash|get rid of)\s+(?:all|everything|every|the whole|my whole|my entire|the entire|"
    r"the system|system32|my home|home)\b"
    r"|(?:disable|turn off|switch off|shut off|stop|uninstall|remove|deactivate|bypass)\s+(?:the\s+|my\s+|all\s+)?"
    r"(?:(?!and\b|then\b)[\w-]+\s+){0,2}(?:firewall|antivirus|anti-virus|defender|security updates|automatic updates|"
    r"updates|selinux|apparmor|password|login|encryption|secure boot|two-factor|2fa)\b"
    r"|(?:disable|turn off|switch off|shut off|shut down|deactivate|remove|stop)\s+(?:the\s+|my\s+|all\s+)*"
    r"(?:security|protection|virus protection)\b"
    r"|(?:uninstall|remove|(?:re)?install|wipe|replace)\s+(?:the\s+|my\s+|a\s+new\s+)?"
    r"(?:kernel|os|operating system|linux|windows)\b"
    r"|(?:uninstall|purge)\s+\w+|(?:apt|apt-get|dnf|yum|pacman|snap|flatpak|pip)\s+(?:remove|purge|uninstall|-r)\b"
    r"|(?:rm\s+-rf|sudo\s+rm|mkfs|dd\s+if=|chmod\s+-r\s+777)"
    r"|(?:factory reset|reset)\s+(?:my|the|this)\s+(?:computer|machine|pc|laptop|system)\b"
    r"|(?:shut|power|turn|switch)\s+(?:down|off)\s+(?:the\s+|my\s+|this\s+)?(?:computer|machine|pc|laptop|system)\b"
    r"|(?:shut|power|turn|switch)\s+(?:the\s+|my\s+|this\s+)?(?:computer|machine|pc|laptop|system)\s+(?:down|off)\b"
    r"|(?:reboot|restart)\s+(?:the\s+|my\s+|this\s+)?(?:computer|machine|pc|laptop|system)\b"
    r"|(?:kill|stop)\s+(?:all|every)\s+(?:process|processes|programs)\b"
    r"|(?:hack|crack|break into|brute[- ]?force|spy on|snoop on|steal|phish|ddos|dox)\b"
    r"|(?:overclock|overvolt|underclock|flash the bios|brick)\b"
    # secrets and files sent off the machine: nothing the agent stores ever leaves it
    r"|(?:send|email|e-mail|mail|upload|post|share|forward|text|export|copy|leak|publish|give)\s+(?:me\s+)?"
    r"(?:(?!to\b)[\w'-]+\s+){0,4}(?:passwords?|credentials|logins?|secrets?|keys?|vault|notes|files|documents|"
    r"expenses|history)\s+(?:(?!to\b)[\w'-]+\s+){0,2}(?:to|with|on|at)\s+(?!my clipboard\b|the clipboard\b|clipboard\b|"
    r"csv\b|a csv\b|a file\b|me\b)"
    r")", re.I)


def refuses(text: str) -> bool:
    """A destructive request that no skill covers: the agent says it can't; nothing runs."""
    return bool(_DESTRUCTIVE.search(text.strip()))


