"""Tier 1: template patterns per skill. High precision: when one matches, it is almost surely right.

Patterns run on cleaned text (fillers gone, numbers as digits). Order matters: more specific first.
"""

from __future__ import annotations

import re

__all__ = ["TEMPLATES", "match_template"]

_R = re.compile

TEMPLATES: list[tuple[str, re.Pattern[str]]] = [
    ("agent.stop", _R(r"^(?:stop|quiet|silence|enough|shut up|be quiet|stop (?:talking|speaking)|"
                      r"cancel speech|hush)$")),
    ("agent.mute", _R(r"^(?:stop listening|mute(?: yourself| the mic(?:rophone)?)?|don't listen|"
                      r"go to sleep|turn off the mic(?:rophone)?)\b")),
    ("agent.help", _R(r"^(?:help|what can you do|what are your (?:skills|commands|abilities)|"
                      r"what can i (?:ask|say)(?: you)?|list your (?:skills|commands))\b")),
    ("command.fix", _R(r"\b(?:fix|correct|autocorrect)\b.*\b(?:command|typo)\b|\bdid i mean\b|"
                       r"\bmistyped\b|\bwhat should i have typed\b|^fix:")),
    ("password.generate", _R(r"\b(?:generate|create|make|give me|new)\b.*\b(?:password|passphrase)\b(?!\s+for)")),
    ("password.save", _R(r"\b(?:save|store|remember|add)\b.*\bpassword\b")),
    ("password.get", _R(r"\bpassword\b")),
    ("timer.set", _R(r"\btimer\b.*\b\d+(?:\.\d+)?\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?)\b|"
                     r"\b\d+(?:\.\d+)?[\s-]*(?:seconds?|minutes?|hours?)\s+(?:timer|countdown)\b|"
                     r"\bcount ?down\b")),
    ("reminder.add", _R(r"\bremind me\b|\bset (?:a |an )?reminder\b|^reminder\b|\bdon't let me forget\b")),
    ("timetrack.report", _R(r"\b(?:time|hours)\b.*\b(?:track|tracked|log|logged|report|timesheet)\b|"
                            r"\btimesheet\b|\bhow (?:long|much time) did i (?:work|spend|track)\b")),
    ("timetrack.stop", _R(r"\b(?:stop|end|pause)\b.*\b(?:tracking|tracker|time entry|timing)\b|"
                          r"\bclock out\b|\bstop the timer on\b")),
    ("timetrack.start", _R(r"\b(?:start|begin|resume)\b.*\b(?:tracking|timing)\b|\bclock in\b|"
                           r"\btrack time\b|\bstart the clock on\b")),
    ("notes.search", _R(r"\b(?:search|find|look up|show)\b.*\bnotes?\b|\bwhat did i (?:write|note)\b|"
                        r"\bdid i (?:take|make) a note\b")),
    ("notes.add", _R(r"^(?:take|make|add|save|create|new)\s+(?:a\s+)?(?:new\s+)?note\b|^note\b|^jot down\b|"
                     r"^write down\b")),
    ("finance.report", _R(r"\bhow much (?:money )?did i spend\b|\b(?:spending|expense|expenses)\s+"
                          r"(?:report|summary)\b|\bmy expenses\b|\bwhere is my money going\b")),
    ("finance.expense_add", _R(r"\b(?:spent|paid|expense of|add (?:an )?expense|log (?:an )?expense|"
                               r"record (?:an )?expense)\b.*\d|\b\d+(?:\.\d+)?\s*(?:dollars|bucks|euros|pounds)\b"
                               r"|[$€£]\s*\d")),
    ("music.control", _R(r"\b(?:music|song|track|playback|playlist|spotify)\b|^(?:louder|quieter|pause|resume|"
                         r"next|previous|skip)\b|\bvolume\b")),
    ("security.scan", _R(r"\bsecurity\b|\bvulnerab|\bfirewall\b|\bmalware\b|\bis my (?:system|computer|pc|"
                         r"machine) (?:secure|safe)\b")),
    ("health.alerts", _R(r"\balerts?\b|\bwarnings?\b")),
    ("tools.recommend", _R(r"\b(?:recommend|suggest)\b.*\b(?:tool|app|program|software)s?\b|"
                           r"\bwhat (?:tool|app|program|software)\b.*\b(?:should|can|to)\b|\bi need\b.*\btools?\b|"
                           r"\b(?:good|best) (?:tool|app|program)\b")),
    ("system.top", _R(r"\b(?:top|which|what)\b.*\b(?:processes|programs|apps)\b|\bprocesses\b.*\b(?:most|top)\b|"
                      r"\b(?:hogging|eating)\b")),
    ("process.kill", _R(r"^(?:kill|terminate|force quit|end task)\b|\bkill (?:the )?process\b")),
    ("files.index", _R(r"\b(?:index|reindex|re-index)\b")),
    ("files.search", _R(r"\b(?:search|find|locate)\b.*\b(?:files?|documents?|docs)\b|\bwhere (?:is|did i save)\b.*"
                        r"\b(?:document|file|doc)\b")),
    ("command.run", _R(r"^run\s+(?!a\b)|\bdisk usage\b|\buptime\b|\bbeen up\b|\bip address|\blist\b.*\b(?:files|"
                       r"folder|directory)\b|\btemp(?:orary)? files\b|\blogged in\b|\bkernel version\b")),
    ("time.now", _R(r"\bwhat(?:'s| is)? (?:the )?(?:time|date)\b|\bwhat time\b|\bwhat day\b|\btoday's date\b|"
                    r"\bthe date today\b|^(?:time|date)$|\bcurrent (?:time|date)\b|\bwhat month\b")),
    ("math.calc", _R(r"^(?:calculate|compute|evaluate)\b|\d\s*(?:[-+*/x^]|plus|minus|times|divided by|"
                     r"multiplied by|to the power of)\s*\d|\bsquare root of\b|\bpercent of\b")),
    ("apps.open", _R(r"^(?:open|launch|start|fire up|bring up)\s+(?!tracking\b)")),
    ("system.status", _R(r"\b(?:cpu|memory|ram|disk space|battery|temperature|network status|system status)\b|"
                         r"\bhow is my (?:computer|machine|pc|laptop|system) doing\b")),
]


def match_template(text: str) -> str | None:
    """The first skill whose template matches cleaned `text`, or None."""
    for skill, pattern in TEMPLATES:
        if pattern.search(text):
            return skill
    return None
