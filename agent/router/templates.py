"""Tier 1: template patterns per skill. High precision: when one matches, it is almost surely right.

Patterns run on cleaned text (fillers gone, numbers as digits). Order matters: more specific first.
"""

from __future__ import annotations

import re

__all__ = ["TEMPLATES", "match_template"]

_R = re.compile
_FILE_WORDS = r"(?:files?|documents?|docs|pdfs?|spreadsheets?|presentations?|slides|reports?)"

# fmt: off
TEMPLATES: list[tuple[str, re.Pattern[str]]] = [
    ("music.control", _R(r"^(?:mute|silence) (?:the )?(?:music|song|player)\b")),
    ("agent.mute", _R(r"\bstop listening\b|^mute\b|\bmute (?:yourself|the mic(?:rophone)?|your mic)\b|"
                      r"\b(?:disable|turn off|switch off)\b.*\b(?:mic|microphone|voice input|listening)\b|"
                      r"\bdon't listen\b|^go to sleep$")),
    ("agent.stop", _R(r"^(?:stop|quiet|silence|enough|hush|shut up|cancel)$|\b(?:be quiet|shut up|stop talking|"
                      r"stop speaking|stop reading|that's enough|quiet please|cancel speech)\b")),
    ("agent.help", _R(r"^help$|\bwhat (?:else )?can you do\b|\bwhat are your (?:skills|commands|abilities|features)\b|"
                      r"\bwhat can i (?:ask|say)\b|\blist (?:your|all your) (?:skills|commands|features|abilities)\b|"
                      r"\bwhat commands do you\b|\bhow do i use you\b")),
    ("command.fix", _R(r"\b(?:fix|correct|autocorrect)\b.*\b(?:command|typo)\b|\bdid i mean\b|\bmistyped\b|"
                       r"\bwhat should i have typed\b|^fix:|\bi typed\b.*\b(?:wrong|fail|failed|didn't work|fix|"
                       r"correct)\b")),
    ("process.kill", _R(r"^(?:kill|terminate|force[- ]quit|end task)\b|\bkill (?:the )?process\b|\bkill it\b|"
                        r"\bforce[- ]quit\b")),
    ("timer.cancel", _R(r"\b(?:cancel|delete|remove|dismiss|call off)\b.*\b(?:timer|reminder|alarm|countdown)s?\b|"
                        r"\bnever mind the (?:timer|reminder)\b")),
    ("timer.set", _R(r"\btimer\b.*\b\d+(?:\.\d+)?\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?)\b|"
                     r"\b\d+(?:\.\d+)?[\s-]*(?:seconds?|minutes?|hours?)\s+(?:timer|countdown)\b|"
                     r"\bcount ?down\b|^(?:set|start) (?:a |the )?timer$")),
    ("reminder.add", _R(r"\bremind me\b|\bset (?:a |an )?reminder\b|^reminder\b|\bdon't let me forget\b")),
    ("timetrack.report", _R(r"\b(?:time|hours)\b.*\b(?:tracked|logged|report|summary|timesheet)\b|\btimesheet\b|"
                            r"\bhow (?:long|much time|many hours) (?:did|have) i (?:work|spend|spent|track|log)")),
    ("timetrack.pause", _R(r"\bpause\b.*\b(?:tracking|tracker|time entry|timing|work timer|clock)\b|"
                           r"\b(?:take|taking) a break\b|\bsuspend (?:time )?tracking\b")),
    ("timetrack.resume", _R(r"\b(?:resume|continue|unpause|carry on)\b.*\b(?:tracking|tracker|timer|timing)\b|"
                            r"^back to work$")),
    ("timetrack.stop", _R(r"\b(?:stop|end|finish)\b.*\b(?:tracking|tracker|time entry|timing|"
                          r"logging (?:my )?(?:hours|time))\b|\bclock (?:me )?out\b|\bstop the timer on\b")),
    ("timetrack.start", _R(r"\b(?:start|begin|resume)\b.*\b(?:tracking|timing|time log|time entry)\b|"
                           r"\bclock (?:me )?in\b|\btrack (?:my )?time\b|\bstart the clock on\b")),
    ("notes.delete", _R(r"\b(?:delete|remove|erase|forget|trash|get rid of)\b.*\bnotes?\b")),
    ("notes.list", _R(r"\b(?:list|show|read)(?: me)? (?:all |all of )?(?:my |the )?"
                      r"(?:latest |last \d+ |recent )?notes\b|"
                      r"\bhow many notes\b|^(?:my )?notes$|\bopen my notes\b")),
    ("notes.add", _R(r"^(?:take|make|add|save|create|new)\s+(?:a\s+)?(?:new\s+)?note\b|^note\b|^jot down\b|"
                     r"^write down\b")),
    ("notes.search", _R(r"\b(?:search|find|look up|show|read|look in)\b.*\b(?:my |the |a )?note\b|"
                        r"\b(?:search|look in|in) my notes\b|\b(?:what|which|any) notes\b|\bnotes? (?:i|i've) "
                        r"(?:made|took|wrote)\b|\bwhat did i (?:write|note|jot)\b|\bdid i (?:take|make) a note\b")),
    ("password.save", _R(r"^(?:save|store|keep) (?:it|that|this)(?: password)? (?:as|under|for)\b|"
                         r"\b(?:save|store|keep|add|remember)\b(?! that).*\bpassword\b(?!.*\b(?:changed|is)\b)")),
    ("password.generate", _R(r"\b(?:generate|create|make|give me|come up with|new|random)\b.*"
                             r"\b(?:password|passphrase)\b")),
    ("password.get", _R(r"\bpassword\b")),
    ("finance.expense_add", _R(r"\b(?:spent|paid|pay|expense|add|log|record|bought)\b.*\d.*\b(?:for|on|under)\b|"
                               r"\b\d+(?:\.\d+)?\s*(?:dollars|bucks|euros|pounds)\b|[$€£]\s*\d")),
    ("finance.report", _R(r"\bhow much (?:money )?(?:did|have) i (?:spend|spent)\b|\b(?:spending|expense|expenses)\s+"
                          r"(?:report|summary|breakdown)\b|\bshow (?:me )?my expenses\b|\bwhere is my money going\b")),
    ("music.control", _R(r"\b(?:music|song|songs|playback|playlist)\b|\b(?:next|previous|last) track\b|"
                         r"^(?:louder|quieter|pause|resume|next|previous|skip)\b|\bvolume\b|^play\b")),
    ("health.alerts", _R(r"\balerts?\b|\bwarnings?\b")),
    ("security.scan", _R(r"\bsecurity (?:scan|check|audit)\b|\bscan\b.*\b(?:security|vulnerab|malware|threats)|"
                         r"\bvulnerab|\bfirewall\b|\bmalware\b|\bis my (?:system|computer|pc|machine|laptop) "
                         r"(?:secure|safe)\b")),
    ("tools.recommend", _R(r"^(?:please )?install\b|\bcan you install\b|"
                           r"\b(?:recommend|suggest)\b.*\b(?:tools?|apps?|programs?|software|utility)\b|"
                           r"\bwhat (?:tool|app|program|software)\b.*\b(?:should|can|to)\b|\bi need\b.*\btools?\b|"
                           r"\b(?:good|best) (?:tool|app|program)\b")),
    ("system.top", _R(r"^(?=.*\b(?:processes|programs|apps|tasks)\b)(?=.*\b(?:top|most|hungry|heaviest|biggest|"
                      r"hogging|sorted|sort)\b)|\b(?:hogging|eating)\b")),
    ("files.index", _R(r"\b(?:index|reindex|re-index|crawl)\b")),
    ("files.search", _R(rf"\b(?:search|find|locate|look through|look for)\b.*\b{_FILE_WORDS}\b|"
                        rf"\bwhere(?:'s| is| did i (?:save|put))\b.*\b{_FILE_WORDS}\b|"
                        rf"\b(?:do i have|is there)\b.*\b{_FILE_WORDS}\b")),
    ("command.run", _R(r"^run\s+(?!a\b)|\bdisk usage\b|\buptime\b|\bbeen up\b|\bip address|\blist\b.*\b(?:files|"
                       r"folder|directory)\b|\btemp(?:orary)? files\b|\blogged in\b|\bkernel version\b|"
                       r"\bports?\b.*\blisten|\blistening\b.*\bports?\b|\bopen ports\b")),
    ("time.now", _R(r"\bwhat(?:'s| is)? (?:the )?(?:time|date)\b|\bwhat time\b|\bwhat day\b|\btoday's date\b|"
                    r"\bthe date today\b|^(?:time|date)$|\bcurrent (?:time|date)\b|\bwhat month\b|^time check$|"
                    r"\bhow late is it\b")),
    ("math.calc", _R(r"^(?:calculate|compute|evaluate)\b|\b(?:add|subtract|multiply|divide)\s+\d[\d.]*\s+"
                     r"(?:and|to|from|by|plus|times|with|into)\s+\d|\btake \d+ and subtract\b|"
                     r"\d\s*(?:[-+*/x^]|plus|minus|times|divided by|"
                     r"multiplied by|to the power of)\s*\d|\bsquare root of\b|\bpercent of\b|\d\s*% of\s*\d")),
    ("chat", _R(r"^(?:explain|define|describe|summari[sz]e|translate)\b(?!.*\b(?:my|this) (?:computer|disk|system)\b)|"
                r"^who (?:wrote|was|is|invented|painted|discovered|won)\b|^write (?:a|me|an)\b|"
                r"^tell me (?:a joke|a story|about)\b|^what(?:'s| is) the (?:capital|meaning|population) of\b|"
                r"^why (?:is|are|do|does|did)\b")),
    ("apps.open", _R(r"^(?:open|launch|start|fire up|bring up)\s+(?!.*\b(?:timer|tracking|music|song|playback)\b)")),
    ("system.status", _R(r"\b(?:cpu|memory|ram|disk space|battery|temperature|network status|system status)\b|"
                         r"\bhow is my (?:computer|machine|pc|laptop|system) doing\b")),
]
# fmt: on


def match_template(text: str) -> str | None:
    """The first skill whose template matches cleaned `text`, or None."""
    for skill, pattern in TEMPLATES:
        if pattern.search(text):
            return skill
    return None
