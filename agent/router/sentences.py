"""Tier 1: whole-sentence templates on Home Assistant's intent engine (`hassil`).

Two sources, matched together:
- each skill's own sentence file (hassil YAML beside its module: intents named after skills, slot lists,
  expansion rules); slot names are argument names, with these conversions: `duration` → `seconds`,
  `duration_label` → `seconds` + `label` ("twenty minute laundry"), `neg_duration` → negative `seconds`,
  `when` → an ISO date-time; `lead` (words before the request) must be a time or polite words and is not an
  argument ("in an hour, remind me to ..."); every other wildcard is the user's words, verbatim;
- Home Assistant's community sentences (`home-assistant-intents`, English) for the domains we share
  (timers, media, volume, time and date, shopping list, never mind), mapped onto our skills by `ha_map`.
A template matches a whole request, never a keyword. Among several matches the one with the most literal
(non-wildcard) words wins; a slot that does not convert (a "duration" that is not one) drops its match.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hassil import Intents, recognize_all
from hassil.intents import TextSlotList, WildcardSlotList
from hassil.recognize import RecognizeResult

from agent.router.ha_map import HA_INTENTS, HA_SKIP_WORDS, from_home_assistant
from agent.values import parse_duration, parse_when, to_digits

__all__ = ["SentenceMatch", "SentenceMatcher", "load_sentence_file"]

_LOGGER = logging.getLogger(__name__)

_COMMON = Path(__file__).with_name("common.yaml")
_HA_CONTEXT = {"area": "desktop", "domain": "media_player"}  # the desktop is the one room, its player the one player
_SKIP_WORDS = ["please", "can you", "could you", "would you", "will you", "for me", "i'd like you to",
               "i want you to", "hey", "ok", "okay", "um", "uh", "so", "just", "quickly", "now"]
_HA_SKIP = HA_SKIP_WORDS + _SKIP_WORDS
_LEADING = re.compile(r"^[\s\-–—:,;.]+|[\s\-–—:,;.!?]+$")
_NOT_A_NAME = re.compile(r"^(?:a|an|another|some|one|any|new|fresh|random|strong|stronger|secure|safe|different|"
                        r"unique|better|good|long|longer|short|complex)\b", re.I)
_REASON = re.compile(r"\s*[,;]?\s+(?:it's|its|it is|because|since|cause|cuz|coz|as it|which is|that is|it keeps|"
                     r"it has|it won't|it wont|it isn't|it froze|already)\b.*$", re.I)
_MANNER = re.compile(r"(?:\s+(?:by force|forcefully|forcibly|for good|for real|properly|hard|right now|now|"
                     r"immediately|completely|already|asap))+$", re.I)
_AN_OS = re.compile(r"(?:the |my |a new |a )?(?:os|operating system|windows|linux|kernel|macos)", re.I)
_KIND_OF_PROJECT = frozenset({"side", "personal", "pet", "hobby", "school", "work", "own", "new", "group", "class",
                              "research", "final", "big", "main", "secret"})
_NOT_A_PROGRAM = frozenset({"window", "windows", "door", "doors", "tab", "tabs", "lid", "laptop", "computer", "blinds",
                            "music", "sound", "audio", "noise", "song", "lights", "light", "radio", "volume",
                            "curtains", "everything", "all", "it", "this", "that", "them"})
# an activity ("listening to me", "playing music", "tracking my time"): a verb's -ing form followed by more words,
# or a common activity alone; a program's name is a noun ("syncthing" stays a name)
_DOING = re.compile(r"^(?:\w{3,}ing\s+(?:to|me|you|us|for|on|at|with|about|so|the|my|a|this|that|it|music|songs?)\b"
                    r"|(?:listening|talking|speaking|playing|recording|tracking|working|typing|watching|reading|"
                    r"counting|timing|running|everything)$)", re.I)
_NOT_A_FOLDER = re.compile(r"^(?:the |my |this |whole )*(?:machine|computer|system|laptop|pc|disk|drive)\b|"
                           r"\b(?:to make sure|for (?:viruses|malware)|it's|is it)\b", re.I)
_NOT_A_PROJECT = frozenset({"time", "hours", "work", "work hours", "working hours", "day", "workday", "work day",
                            "time tracking", "tracking", "timer", "clock", "session"})
_NO_VALUE = frozenset({"the", "my", "a", "an", "our", "this", "that", "it", "your", "its", "their"})
_NAMES = frozenset({"query", "name", "project", "target", "need"})
_ARTICLE = re.compile(r"^(?:the|my|a|an|our|this|that)\s+", re.I)


@dataclass(frozen=True)
class SentenceMatch:
    skill: str
    args: dict[str, Any]
    literal: int  # characters matched by literal template text (more is more specific)
    source: str  # "skills" or "home-assistant"


def load_sentence_file(path: Path) -> dict[str, Any]:
    """One hassil YAML file as a dict; a broken file is a clear error naming the file."""
    from agent.errors import ConfigError

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read sentence file: {exc}", file=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("intents", {}), dict):
        raise ConfigError("a sentence file needs an 'intents' mapping", file=path)
    return data


def _merge(files: Iterable[Path]) -> dict[str, Any]:
    merged: dict[str, Any] = {"language": "en", "intents": {}, "lists": {}, "expansion_rules": {}}
    for path in [_COMMON, *files]:
        data = load_sentence_file(path)
        merged["lists"].update(data.get("lists") or {})
        merged["expansion_rules"].update({k: _apostrophe_optional(str(v))
                                          for k, v in (data.get("expansion_rules") or {}).items()})
        for name, intent in (data.get("intents") or {}).items():
            blocks = [{**b, "sentences": [_apostrophe_optional(x) for x in b.get("sentences", [])]}
                      for b in intent.get("data", [])]
            merged["intents"].setdefault(name, {"data": []})["data"].extend(blocks)
    return merged


_CONTRACTION = re.compile(r"(?<![{<\w'])([a-z]+)'([a-z]{1,2})\b(?![}>])")


def _apostrophe_optional(sentence: str) -> str:
    """Typed requests often drop the apostrophe ("dont let me forget", "whats the time"): a template word
    with one matches both spellings, and so does a suffix alternative ("what('s| is)")."""
    sentence = re.sub(r"\('([a-z]{1,2})\|", r"('\1|\1|", sentence)
    return _CONTRACTION.sub(lambda m: f"({m.group(1)}'{m.group(2)}|{m.group(1)}{m.group(2)})", sentence)


def _verbatim(text: str) -> str:
    return _LEADING.sub("", text).strip()


_ACTION_WORDS = re.compile(r"^(?:hold|pause|stop|cancel|set|start|resume|freeze|add|remove|take|put|give|check|"
                           r"restart|continue|delete|end|kill|reset|make|show|how|what|is|are)\b", re.I)


def _label(text: str) -> str | None:
    if _ACTION_WORDS.match(_verbatim(text)):  # "hold the oven timer a sec" names no timer "hold the oven"
        return None
    label = _ARTICLE.sub("", _verbatim(text))
    label = re.sub(r"\s+(?:timer|one)$", "", label, flags=re.I).strip()
    if re.search(r"\d|\b(?:timers?|countdown|alarm|reminder)\b", label, re.I):  # "timer 2" is a number, no label
        return None
    return label if label and len(label.split()) <= 4 and parse_duration(label) is None else None


def _duration_label(text: str) -> tuple[int, str | None] | None:
    words = _verbatim(text).split()
    for cut in range(len(words), 0, -1):
        seconds = parse_duration(" ".join(words[:cut]), whole=True)
        if seconds:
            rest = " ".join(words[cut:])
            if not rest:
                return seconds, None
            label = _label(rest)
            return (seconds, label) if label else None
    return None


_MATH_WORDS = re.compile(r"\b(?:plus|minus|times|multiplied|divided|over|percent|squared|cubed|square root|"
                         r"power|modulo|mod|sum|product|half|double|triple|x|share|split|each|per|average)\b|"
                         r"[-+*/^%×÷=]")


_OPERATOR = re.compile(r"\b(?:plus|minus|times|multiplied|divided|over|squared|cubed|square root|power|modulo|mod|sum|"
                       r"product|share|split|each|per|average)\b|[-+*/^×÷=]")
_GLUE = frozenset({"of", "the", "a", "an", "and", "by", "to", "from", "is", "what", "whats", "s", "how", "much",
                   "many", "equals", "equal", "into", "with", "than", "more", "less", "are", "if", "me", "out", "work",
                   "root", "square", "point", "dollars", "euros", "pounds", "bucks", "cents", "percent", "tip", "total",
                   "bill", "on", "people", "ways", "between", "among", "split", "i", "we", "calculate", "compute"})
_PROSE = re.compile(r"\b(?:it|mean|means|when|has|have|had|health|why|should|would|could|was|were|if|because|"
                    r"think|feel|happen|happens|good|bad|normal)\b")


def _arithmetic(text: str) -> bool:
    """An expression to calculate holds two numbers and an operator, or a number and a function of it; a
    sentence about something ("it mean when a battery has 80 percent health") is not one."""
    digits = to_digits(text.lower())
    if _PROSE.search(digits):
        return False
    numbers = re.findall(r"\d+(?:[.,]\d+)?", digits)
    words = [w for w in re.findall(r"[a-z]+", _MATH_WORDS.sub(" ", digits)) if w not in _GLUE]
    if len(words) >= 3 and not _OPERATOR.search(digits):  # "a safe volume for headphones like 60 percent"
        return False
    return bool(numbers) and bool(_MATH_WORDS.search(digits)) and (
        len(numbers) >= 2 or bool(re.search(r"square root|squared|cubed|percent|%|half|double|triple", digits)))


_POLITE_LEAD = re.compile(r"^(?:(?:hey|hi|ok|okay|so|and|also|oh|um|uh|please|can you|could you|would you|will you|"
                          r"would you mind|i want you to|i'd like you to|i need you to)\b[\s,]*)+", re.I)


_ASKED = re.compile(r"^(?:what|who|how|where|why|which)(?:'s|'re|\s+(?:is|are|was|were|does|do|did|was)\b)", re.I)
_FLAGS = re.compile(r"^(?:(?:-{1,2}[A-Za-z][\w-]*|~?/[\w./~-]*|~|\.{1,2}/?[\w./-]*|a|addr|address|brief)(?:\s+|$))+$")
_PRICE_LEAD = re.compile(r"^(?:[$€£¥]\s*\d+(?:[.,]\d{1,2})?\b|\d+(?:\.\d{1,2})?\s*(?P<cur>dollars?|bucks?|quid|pounds?|"
                         r"euros?|cents?|pence|usd|eur|gbp)?\s*(?P<after>\w+)?)", re.I)


def _priced(text: str) -> bool:
    """Words that begin with a price: a currency, or a number that something is for ("3.50 for coffee")."""
    m = _PRICE_LEAD.match(to_digits(text.strip()))
    if m is None or re.search(r"\b(?:timers?|countdown|alarm|reminders?|list)\b", text, re.I):
        return False
    return m.group(0).startswith(("$", "€", "£", "¥")) or bool(m.group("cur")) or (
        (m.group("after") or "").lower() in ("for", "on", "under", "in", "as", "at"))


def _lead(text: str) -> bool:
    """Words before a request: politeness and/or a time ("tomorrow", "in half an hour"), nothing else: a
    negation or another request before "remind me" is not a request to remind."""
    rest = _POLITE_LEAD.sub("", text.strip(" ,.")).strip(" ,.")
    if not rest:
        return True
    when = parse_when(rest)
    return when is not None and not when[1].strip(" ,.")


def _convert(result: RecognizeResult) -> dict[str, Any] | None:
    """Slots → arguments; None when a slot does not hold what its name promises."""
    args: dict[str, Any] = {}
    for name, entity in result.entities.items():
        text = str(entity.text if entity.is_wildcard else entity.value)
        if name in ("duration", "neg_duration"):
            seconds = parse_duration(text, whole=True)
            if not seconds:
                return None
            args["seconds"] = -seconds if name == "neg_duration" else seconds
        elif name == "duration_label":
            found = _duration_label(text)
            if found is None:
                return None
            args["seconds"] = found[0]
            if found[1]:
                args["label"] = found[1]
        elif name in ("when", "wake_when"):  # a wake-up time is in the morning unless said otherwise
            when = parse_when(f"wake {text}" if name == "wake_when" else text)
            if when is None or when[1].removeprefix("wake").strip(" ,."):
                return None
            args["when"] = when[0].isoformat(timespec="seconds")
        elif name == "lead":
            if not _lead(text):
                return None
        elif name == "flags":  # the rest of a typed command line: options and paths only ("-sh ~/logs")
            if not _FLAGS.match(text.strip()):
                return None
        elif name == "request" and _ASKED.match(text.strip(" ,")):  # "remind me, what's the difference ..."
            return None
        elif name == "priced":  # "log 3.50 for coffee", "add 30 quid under transport": an amount leads
            if not _priced(text):
                return None
            args["request"] = text
        elif name == "expression":
            if not _arithmetic(text):
                return None
            args["expression"] = to_digits(_verbatim(text))
        elif name == "label":
            label = _label(text)
            if label is None:
                return None
            args["label"] = label
        elif entity.is_wildcard:
            value = _verbatim(text)
            if name == "name" and _NOT_A_NAME.match(value):  # "I need a fresh password" names no stored one
                return None
            if name in ("name", "target"):  # "kill chrome it's frozen": the reason is no part of the name
                value = _MANNER.sub("", _REASON.sub("", value))
                if _ARTICLE.sub("", value).lower() in _NOT_A_PROGRAM:  # "close the window", "close the door"
                    return None
                if _DOING.match(value):  # "quit listening to me": stopping an activity, not a program
                    return None
            if name == "project" and _ARTICLE.sub("", value).lower() in _NOT_A_PROJECT:  # "start tracking my time"
                return None
            said = result.original_text or ""
            if name == "project" and value.lower() in _KIND_OF_PROJECT and re.search(
                    rf"\b{re.escape(value)}\s+project\b", said, re.I):  # "my side project" is no project "side"
                value += " project"
            if name == "need" and _AN_OS.fullmatch(value):  # "(re)install the operating system" is no tool to install
                return None
            if name == "path" and _NOT_A_FOLDER.search(value):  # "scan the machine to make sure it's safe"
                return None
            if name in _NAMES:  # "about the garage" searches for "garage"; a note's text stays as said
                value = _ARTICLE.sub("", value)
                if value.lower() in _NO_VALUE:  # "what's the password": the wildcard caught only "the"
                    return None
            if not value:
                return None
            args[name] = value
        else:
            args[name] = entity.value
    return args


_ROOMS = ["desktop", "computer", "office", "kitchen", "living room", "lounge", "bedroom", "master bedroom",
          "bathroom", "garage", "hallway", "hall", "dining room", "basement", "attic", "study", "den", "nursery",
          "patio", "garden", "porch", "laundry room", "guest room", "kids room", "playroom", "family room"]
_FLOORS = ["upstairs", "downstairs", "ground floor", "first floor", "second floor", "basement"]
_Compiled = dict[str, tuple[Intents, frozenset[str]]]
_CACHE: dict[tuple[str, ...], _Compiled] = {}
_CACHE_LOCK = threading.Lock()


def _compiled(files: tuple[Path, ...]) -> _Compiled:
    """Compiling sentences takes a while; a process compiles each set of files once (files are read-only)."""
    key = tuple(f"{p}:{p.stat().st_mtime_ns}" for p in files)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = _split(_merge(files))
        return _CACHE[key]


def _home_assistant() -> _Compiled:
    with _CACHE_LOCK:
        if ("home-assistant",) not in _CACHE:
            _CACHE[("home-assistant",)] = _load_home_assistant()
        return _CACHE[("home-assistant",)]


def _load_home_assistant() -> _Compiled:
    try:
        from home_assistant_intents import get_intents
    except ImportError:
        _LOGGER.warning("home-assistant-intents is not installed; only the skills' own sentences are used")
        return {}
    data = get_intents("en")
    if not data:
        return {}
    data = dict(data)
    data["intents"] = {k: v for k, v in data["intents"].items() if k in HA_INTENTS}
    return _split(data)


class SentenceMatcher:
    """All sentence files of the registered skills, plus the mapped Home Assistant sentences."""

    def __init__(self, files: Iterable[Path], *, skills: Iterable[str], home_assistant: bool = True) -> None:
        self._skills = set(skills)
        self._own = _compiled(tuple(files))
        self._ha = _home_assistant() if home_assistant else {}
        # a desktop has no rooms, but people name them out of habit ("pause the music in the kitchen"):
        # a room is matched and ignored; a device name ("the TV") is a wildcard and ignored too
        self._ha_lists: dict[str, Any] = {
            "area": TextSlotList.from_strings(_ROOMS), "floor": TextSlotList.from_strings(_FLOORS),
            "name": WildcardSlotList("name")}
        _LOGGER.info("sentences: %d skill intents, %d Home Assistant intents", len(self._own), len(self._ha))

    def keywords(self, skill: str) -> frozenset[str]:
        """The literal words of a skill's sentences ("kill", "terminate", "process" for process.kill)."""
        own = self._own.get(skill)
        return own[1] if own is not None else frozenset()

    def vocabulary(self) -> frozenset[str]:
        """Every literal word the sentences use (less the commonest), for spelling correction."""
        words: set[str] = set()
        for _, w in [*self._own.values(), *self._ha.values()]:
            words |= w
        return frozenset(words)

    def match(self, text: str) -> SentenceMatch | None:
        """The best whole-sentence match of `text`, converted to a skill and its arguments, or None."""
        found = self.match_all(text)
        return found[0] if found else None

    def match_all(self, text: str) -> list[SentenceMatch]:
        """Every whole-sentence match of `text`, the most literal first (on a tie, the skills' own first)."""
        said = set(_TOKEN.findall(text.lower()))
        found: list[SentenceMatch] = []
        for name, (intents, words) in self._own.items():
            if name in self._skills and (not words or words & said):
                for result in recognize_all(text, intents, skip_words=_SKIP_WORDS, language="en"):
                    args = _convert(result)
                    if args is not None:
                        args = {k: _as_said(v, text) if k in _FREE_TEXT and isinstance(v, str) else v
                                for k, v in args.items()}
                        args = _within_clause(args, text)
                        if args is None:
                            continue
                        found.append(SentenceMatch(result.intent.name, args, _literal(result), "skills"))
        for intents, words in self._ha.values():
            if not words or words & said:
                for result in recognize_all(text, intents, slot_lists=self._ha_lists, skip_words=_HA_SKIP,
                                            intent_context=_HA_CONTEXT, language="en"):
                    mapped = from_home_assistant(result)
                    if mapped is not None and mapped[0] in self._skills:
                        found.append(SentenceMatch(*mapped, _literal(result), "home-assistant"))
        # the most literal match wins; on a tie the first found (the skills' own sentences come first)
        return sorted(found, key=lambda m: -m.literal)


_TOKEN = re.compile(r"[a-z0-9']+")
_FREE_TEXT = frozenset({"text", "note", "target", "request"})
_ONE_CLAUSE = ("label", "name", "project", "query")


def _within_clause(args: dict[str, Any], text: str) -> dict[str, Any] | None:
    """A name does not run on past a comma into the next clause: "never mind the reminder about the plumber, he
    already called" names the plumber. None when nothing is left of it."""
    out = dict(args)
    for key in _ONE_CLAUSE:
        value = out.get(key)
        if isinstance(value, str) and " " in value:
            said = _as_said(value, text)
            start = text.lower().find(value.split()[0].lower())
            if said.lower() not in text.lower() and start >= 0:  # skip words ("now") were taken out between
                said = text[start:]
            cut = re.split(r"\s*[,;]\s+", said, maxsplit=1)[0]
            if cut != said and not text.rstrip(" .!?").lower().endswith(said.lower()):
                return None  # the template's own words lie on both sides of the comma: "hold on, pause the egg timer"
            if cut != said:
                cut = re.sub(r"(?:\s+(?:now|please|just|quickly))+$", "", cut, flags=re.I)
            if cut != said:
                if not cut.strip():
                    return None
                out[key] = cut.strip()
    return out
_PUNCT_GAP = r"[\s,:;.!?()\"'\u2013\u2014-]*"


def _as_said(value: str, original: str) -> str:
    """A free-text slot with the user's own punctuation and case: hassil matches without punctuation, so
    "ideas for the blog: home automation" came back as "ideas for the blog home automation"."""
    words = value.split()
    if not words:
        return value
    # inside a word, the punctuation hassil dropped may come back ("https//example.com" is "https://...")
    inner = [r"[:;,!?]*".join(re.escape(c) for c in w) for w in words]
    m = re.search(_PUNCT_GAP.join(inner), original, flags=re.I)
    return original[m.start():m.end()] if m else value
_STOP = frozenset({"the", "my", "a", "an", "our", "this", "that", "to", "of", "in", "on", "for", "is", "it", "i",
                   "me", "and", "or", "with", "at", "by", "be", "s", "some", "one", "your", "you", "what", "what's",
                   "whats", "are", "how", "do", "does", "did", "can", "could", "please", "all", "any", "get", "give",
                   "show", "tell", "make", "up", "off", "out", "now", "just", "from", "about", "there", "have",
                   "has", "was", "will", "would", "let", "know", "want", "need", "like", "i'd", "i'm", "it's",
                   "many", "much", "which", "when", "where", "who", "why", "again", "into", "onto", "so", "set",
                   "start", "new", "not", "don't", "more", "back"})


def _keywords(template: str, rules: dict[str, str], depth: int = 0) -> set[str]:
    """The literal words a template (with its expansion rules) can contain, minus the commonest."""
    text = re.sub(r"\{[^}]*\}", " ", template)
    words = set(_TOKEN.findall(re.sub(r"<[^>]*>", " ", text).lower()))
    if depth < 5:
        for ref in re.findall(r"<([^>]+)>", text):
            if ref in rules:
                words |= _keywords(rules[ref], rules, depth + 1)
    return words - _STOP


def _split(data: dict[str, Any]) -> dict[str, tuple[Intents, frozenset[str]]]:
    """One compiled `Intents` per intent, with the words any of its sentences needs (a quick pre-filter)."""
    rules = {k: str(v) for k, v in (data.get("expansion_rules") or {}).items()}
    out: dict[str, tuple[Intents, frozenset[str]]] = {}
    for name, intent in data["intents"].items():
        words: set[str] = set()
        always = False  # a sentence of nothing but common words and slots: no word can rule the intent out
        for block in intent.get("data", []):
            for sentence in block.get("sentences", []):
                found = _keywords(sentence, rules)
                always = always or not found
                words |= found
        one = {**data, "intents": {name: intent}}
        out[name] = (Intents.from_dict(one), frozenset() if always else frozenset(words))
    return out


def _literal(result: RecognizeResult) -> int:
    """Literal chunks matched first, then fewer characters taken by wildcards."""
    wild = sum(len(e.text) for e in result.entities.values() if e.is_wildcard)
    return int(result.text_chunks_matched or 0) * 1000 - wild
