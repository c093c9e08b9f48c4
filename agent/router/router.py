"""The tiered router: sentences → topic questions → semantic match → LLM → chat. Cheapest first.

Tier 1 matches whole sentences (each skill's hassil sentence file plus Home Assistant's community
sentences, `agent.router.sentences`). A question *about* a topic that no template matched goes to chat
(`agent.router.topic`). Then the MiniLM k-NN tier. Arguments come from the template's slots or the
skill's rule extractor; the LLM (under the skill's schema) may propose what is still missing, and every
value it proposes must be grounded in the utterance (`agent.router.grounding`) or it is dropped. Arguments
are validated by the skill's pydantic model; what is missing produces a clarifying question, never a guess.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from agent.config import Settings
from agent.errors import ModelError
from agent.events import Intent
from agent.models.catalog import embedder_files
from agent.models.llm import ModelManager
from agent.router.extract import extract_args
from agent.router.grounding import DERIVED_KEYS, grounded
from agent.router.llm_tier import LLMTier
from agent.router.semantic import SemanticIndex
from agent.router.sentences import SentenceMatch, SentenceMatcher
from agent.router.slots import clean, tidy
from agent.router.spelling import Speller, as_typed, load_english_words
from agent.router.topic import is_negated, is_topic_question
from agent.safety.refuse import refuses
from agent.skills.base import Skill, sentence_file
from agent.skills.registry import Registry
from agent.values import find_duration, parse_duration, parse_when

__all__ = ["Router", "clarifying_question"]

_LOGGER = logging.getLogger(__name__)

_QUESTIONS = {
    "seconds": "How long should the timer run?",
    "when": "When should I remind you?",
    "text": "What should it say?",
    "query": "What should I look for?",
    "target": "What should I open?",
    "path": "Which folder?",
    "project": "Which project?",
    "name": "Which one?",
    "amount": "How much was it?",
    "action": "Play, pause, next, previous, or volume?",
    "level": "What volume, from 0 to 100?",
    "label": "Which timer?",
    "expression": "What should I calculate?",
    "command": "Which command?",
    "need": "What do you need a tool for?",
}
_CANCEL_IT = re.compile(r"^(?:cancel|stop|delete|remove|never mind) (?:it|that|that one)$")
_CLAUSES = re.compile(r"\s*(?:[,;]|:(?=\s)|\s[-–—]\s|[.!?](?:\s|$)|\s(?:so|so that)\s(?=(?:i|we|you|it)\b)|\sbut\s)\s*",
                      re.I)
_AND = re.compile(r"\s*,?\s+(?:and then|and also|and|then|also|after that|plus)\s+", re.I)
_JOINT_TEXT = frozenset({"text", "note", "request", "expression", "query", "need"})  # free text may hold an "and"
_IDIOM = re.compile(r"\b(?:wait|hang on|hold on|just|give me|one|for)\s+(?:a|one|just a)\s+(?:sec|second|minute|moment|"
                    r"mo|tick)\b")
_WORDS_AS_SAID = frozenset({"request", "text", "note", "query", "name", "project", "target", "need", "label", "path"})
_PRONOUNS = frozenset({"it", "that", "this", "them", "these", "those", "me", "one", "that one", "this one"})
_THING_STATE = re.compile(r"^(?:ugh |oh |man |wow |hmm )*((?:this|that|the|my)\s+\w+(?:\s+\w+)?|\w+)"
                          r"(?:'s|\s+is|\s+keeps|\s+has)\s+(?:hung|frozen|stuck|terrible|awful|horrible|bad|annoying|"
                          r"boring|not responding|crashed|broken|lagging|too loud|so loud|done|finished)\b")
_NEEDS_A_THING = re.compile(r"^(?:(?:we|i) )?(?:need (?:to buy |to get |to pick up |some more |more |some )?|"
                            r"(?:we're|i'm|we are|i am) (?:out of|low on|running low on) )(?!to\b)(.+?)"
                            r"(?: for (?:the|my|our) .+)?$")
_NAMES_A_THING = re.compile(r"^(?:i (?:need|want|lost|had|have|wrote|made|saved|downloaded)|"
                            r"i'm (?:looking for|after)|i am looking for|i can't find|i cannot find|"
                            r"i've (?:got|lost|misplaced)|there(?:'s| is| was)|where(?:'s| is))"
                            r"\s+((?:the|that|this|a|an|my|some)\s+.+)$")
# a question asks to be answered: the semantic tier does not turn it into an action ("what's the pid of firefox")
_ASKS = re.compile(r"^(?:(?:what|what's|whats|which|who|who's|when|where|where's|why|how|how's|is|are|was|were|has|"
                   r"have)\b(?! (?:about|if) you\b)"
                   r"|(?:do|does|did) (?:i|you|we|they|it|my|the|this|that|these|those)\b)")
_ACTING_VERBS = frozenset({"set", "add", "delete", "cancel", "pause", "resume", "adjust", "start", "stop", "save",
                           "kill", "open", "expense_add", "control", "mute"})
_DELAY_AFTER = re.compile(r"^(?P<cmd>.+?)[\s,]+(?:in|after)\s+(?P<d>(?:an?|one|\d|a couple|a few|half|a quarter|"
                          r"\w+ (?:minutes?|mins?|hours?|seconds?|secs?))[\w\s.-]*?)[\s.!?]*$", re.I)
_DELAY_BEFORE = re.compile(r"^(?:in|after)\s+(?P<d>[\w\s.-]+?)\s*,\s*(?P<cmd>.+)$", re.I)
_BARE = frozenset({"it", "that", "this", "them", "these", "those", "that one", "this one"})  # a note may say "one"
_NAMING = re.compile(r"\b(?:call|name|label)\s+it\b|\blabell?ed\b|\bnamed\b|\bcalled\b", re.I)
_NO_OBJECT = re.compile(r"^((?:please )?(?:add|put|stick|pop|write|save|move|throw))\s+(?=(?:to|on|onto|in|into)\b)",
                        re.I)  # a verb with its object left out: "add to shopping list"
_PRONOUN = re.compile(r"\b(?:it|them|that one|that|those)\b", re.I)
_FOLLOW_UP = re.compile(r"^(?:and|what about|how about|also|ok and|then)\b\s*(?:the\s+|my\s+)?(.*)$")


@dataclass
class _Context:
    last: Intent | None = None
    history: list[Intent] = field(default_factory=list)


_FIT_CANDIDATES = 3  # how far down the semantic ranking a skill whose arguments the words fill may be
_FIT_MARGIN = 0.08  # ... and how much less similar it may be
_SIBLING_MARGIN = 0.06  # how much less similar a sibling skill whose own words were said may be


class Router:
    def __init__(self, settings: Settings, registry: Registry, models: ModelManager | None = None,
                 semantic: SemanticIndex | None = None) -> None:
        self.settings = settings
        self.registry = registry
        self.models = models
        self.semantic = semantic
        self._llm_tier: LLMTier | None = None
        self._sentences: SentenceMatcher | None = None
        self._spelling: Speller | Literal[False] | None = None
        self.context = _Context()
        self._own: dict[str, frozenset[str]] = {}

    @property
    def sentences(self) -> SentenceMatcher:
        """Every registered skill's sentence file plus Home Assistant's, compiled once."""
        if self._sentences is None:
            files = sorted({str(p) for s in self.registry for p in [sentence_file(s)] if p is not None})
            self._sentences = SentenceMatcher([Path(f) for f in files], skills=self.registry.names(),
                                              home_assistant=self.settings.router.home_assistant_sentences)
        return self._sentences

    def match_sentence(self, text: str) -> SentenceMatch | None:
        """The most literal whole-sentence match, unless it leaves a required argument unfilled and another
        match fills them all ("jot down that the key is under the pot" is a note, not an expense with no
        amount)."""
        if not text.strip():
            return None
        found = self.sentences.match_all(tidy(text))
        if not found:  # "let's pause the music for now": the request without the talk around it
            trimmed = _trim(tidy(text))
            found = self.sentences.match_all(trimmed) if trimmed and trimmed != tidy(text) else []
        if len(found) > 1 and not self._filled(found[0], text):
            return next((f for f in found[1:] if self._filled(f, text)), found[0])
        return found[0] if found else None

    def _filled(self, found: SentenceMatch, raw: str) -> bool:
        skill = self.registry.get(found.skill)
        if skill is None:
            return False
        args = self._arguments(skill, raw, clean(raw), found.args, True)
        return self._validate(skill.args, args) is None

    def restore_context(self, turns: list[Any]) -> None:
        """Resume follow-ups from stored history (another process may have asked the previous question)."""
        for turn in turns:
            if turn.skill != "chat" and turn.state != "error":
                self.context.last = Intent(turn.skill, dict(turn.args), "history", 1.0, turn.text, ts=turn.ts)

    # -- tiers ---------------------------------------------------------------------------------------
    def _llm(self) -> LLMTier | None:
        if self.models is None or not self.settings.router.use_llm:
            return None
        if self._llm_tier is None:
            try:
                self._llm_tier = LLMTier(self.models.get(), [s for s in self.registry])
            except ModelError:
                return None
        return self._llm_tier

    def route(self, text: str) -> Intent:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        t = clean(text)
        intent = self._route(text, t, timings)
        ms = (time.perf_counter() - started) * 1000
        intent = Intent(intent.skill, intent.args, intent.tier, intent.confidence, text, ms, intent.question,
                        timings, intent.then)
        if intent.skill != "chat":
            self.context.last = intent
        return intent

    def _route(self, raw: str, t: str, timings: dict[str, float]) -> Intent:
        if not t:
            return self._decide(raw, t, "chat", "fallback", 0.0, timings)
        tiers = self.settings.router.tiers
        t0 = time.perf_counter()
        follow = self._follow_up(t) if "context" in tiers else None
        if follow is not None:
            timings["context"] = (time.perf_counter() - t0) * 1000
            return self._decide(raw, follow[1], follow[0], "context", 0.9, timings, base=follow[2])
        found = self.match_sentence(raw) if "template" in tiers else None
        delayed = self._delayed(raw) if "template" in tiers and (found is None or not self._timed(found.skill)) \
            else None
        several = self._several(raw, found) if "template" in tiers and delayed is None else None
        timings["template"] = (time.perf_counter() - t0) * 1000
        if several is not None:  # "pause the music and set a timer for 10 minutes": each, in order
            first, *rest = (self._decide(part, clean(part), m.skill, "template", 0.95, timings, base=m.args,
                                         slots=True) for part, m in several)
            return Intent(first.skill, first.args, "several", first.confidence, raw, 0.0, first.question, timings,
                          tuple(rest))
        if delayed is not None:  # "stop the music in 10 minutes": a timer named for what to do then
            return self._decide(raw, t, "timer.set", "template", 0.9, timings, base=delayed, slots=True)
        if found is not None:
            return self._decide(raw, t, found.skill, "template", 0.95, timings, base=found.args, slots=True)
        clauses = _clauses(raw)
        pieces = [re.sub(r"^(?:and|then|also|so|but|plus)\s+", "", p, flags=re.I)  # "empty the trash, and delete ..."
                  for p in _pieces(clauses)]
        if refuses(t) or (len(pieces) > 1 and any(refuses(clean(p)) for p in pieces)):
            return self._decide(raw, t, "chat", "refuse", 0.9, timings)
        negated = is_negated(t)  # "don't cancel it, just pause it" still asks for something
        if is_topic_question(t) or (negated and len(clauses) < 2):
            return self._decide(raw, t, "chat", "topic", 0.8, timings)
        slips: dict[str, str] = {}
        typed = (raw, t)
        if "template" in tiers:
            t3 = time.perf_counter()
            part = self._clause(clauses)
            if part is None and len(clauses) == 1:  # speech has no commas: "cancel the pasta timer it's done"
                part = next((p for p in map(self._clause, _unpunctuated(clauses[0])) if p is not None), None)
            timings["clause"] = (time.perf_counter() - t3) * 1000
            if part is not None:
                return self._decide(raw, t, part[1].skill, "clause", 0.9, timings,
                                    base=self._clause_args(part[1], raw, t), slots=True)
        if negated:
            return self._decide(raw, t, "chat", "topic", 0.8, timings)
        if "template" in tiers:
            speller = self._speller()
            fixed = speller.correct(raw) if speller is not None else None
            found = self.match_sentence(fixed[0]) if fixed is not None else None
            if fixed is not None and found is not None:  # "remnd me to call mom", "opne firefox"
                spelled = self.registry.get(found.skill)
                verbatim = spelled is not None and spelled.verbatim  # command.fix: every value as typed
                said = {k: as_typed(v, fixed[1]) if isinstance(v, str) and (verbatim or k not in DERIVED_KEYS)
                        else v for k, v in found.args.items()}
                return self._decide(fixed[0], clean(fixed[0]), found.skill, "spelling", 0.9, timings, base=said,
                                    slots=True)
            if fixed is not None:  # no template even spelled right: the semantic tier reads it spelled right
                slips, typed, raw, t = fixed[1], (raw, t), fixed[0], clean(fixed[0])
        candidates: list[str] = []
        if self.semantic is not None and len(self.registry) > 1 and "semantic" in tiers:
            t1 = time.perf_counter()
            match = self.semantic.match(t)
            timings["semantic"] = (time.perf_counter() - t1) * 1000
            best, score = match.best
            rs = self.settings.router
            if score + match.margin >= rs.semantic_threshold and score >= rs.semantic_floor:
                best = self._fitting(self._telling(match.ranked, t), raw, t)
                if _ASKS.match(t) and self._acts(best):  # "what's the pid of firefox" opens nothing
                    best = next((s for s, x in match.ranked[1:_FIT_CANDIDATES]
                                 if score - x <= _FIT_MARGIN and not self._acts(s)), "chat")
                chosen = self.registry.get(best)
                if slips and (chosen is None or chosen.verbatim or best == "chat"):  # the slip is the point
                    raw, t = typed
                    slips = {}
                decided = self._decide(raw, t, best, "semantic", score, timings)
                if slips:  # a value keeps the user's own spelling ("calc 1500/12" is no "call")
                    decided.args.update({k: as_typed(v, slips) for k, v in decided.args.items()
                                         if isinstance(v, str) and k not in DERIVED_KEYS})
                return decided
            candidates = [s for s, _ in match.ranked[: rs.llm_candidates]]
        rerank = self.settings.router.llm_rerank and "llm" in tiers
        llm = self._llm() if rerank else None
        if llm is not None:
            t2 = time.perf_counter()
            try:
                pool = candidates or [s.name for s in self.registry]
                skill = llm.choose(t, pool)
                timings["llm"] = (time.perf_counter() - t2) * 1000
                return self._decide(raw, t, skill, "llm", 0.6, timings)
            except ModelError:
                _LOGGER.warning("LLM tier failed; falling back to chat")
        return self._decide(typed[0], typed[1], "chat", "fallback", 0.3, timings)  # chat reads what was typed

    def _speller(self) -> Speller | None:
        """Built on first use: the embedding model's English words and the templates' words."""
        if self._spelling is None:
            try:
                english = load_english_words(embedder_files(self.settings)[1])
            except (ModelError, OSError, ValueError) as exc:
                _LOGGER.info("no spelling correction: %s", exc)
                self._spelling = False
                return None
            self._spelling = Speller(english, self.sentences.vocabulary())
        return self._spelling or None

    def _several(self, raw: str, whole: SentenceMatch | None) -> list[tuple[str, SentenceMatch]] | None:
        """Two to four requests joined by "and", "then" or a comma, each a whole template match with what it
        needs ("open firefox and play some music"). Not when the whole sentence is one request whose free text
        holds the joint ("take a note: buy milk and open the window", "remind me to call mom and pay rent")."""
        if whole is not None and any(k in _JOINT_TEXT for k in whole.args):
            return None
        parts = _pieces(_clauses(raw))
        if not 2 <= len(parts) <= 4 or not _AND.search(raw):
            return None
        found: list[tuple[str, SentenceMatch]] = []
        for part in parts:
            match = self.match_sentence(part)
            if match is None or match.skill in ("chat", "agent.stop") or not self._filled(match, part):
                return None
            found.append((part, match))
        if len({(m.skill, repr(sorted(m.args.items()))) for _, m in found}) < len(found):
            return None  # the same request twice is one request said twice
        return found

    def _clause(self, parts: list[str]) -> tuple[str, SentenceMatch] | None:
        """One clause of a request that a sentence template matches whole, when the rest is only talk around
        it: "hang on, freeze the tea timer", "put on a timer for twenty minutes, the cookies just went in".
        Not when another clause names a time or a duration the skill cannot take ("in 5 minutes, open the
        garage door" is not a request to open it now) or is a request of another skill (a destructive clause
        was refused before). A negated clause is a constraint ("pause it but don't cancel it")."""
        if len(parts) < 2:
            return None
        matched: list[tuple[str, SentenceMatch]] = []
        for part in parts:
            found = self.match_sentence(part)
            # "nevermind, ditch the tea timer", "ugh this song is terrible, skip it": a bare "never mind" or
            # "skip it" beside another clause is no request to stop speaking
            if found is not None and not (found.skill == "agent.stop" and not found.args):
                matched.append((part, found))
        if not matched:
            stops = [self.match_sentence(p) for p in parts]
            if all(s is not None and s.skill == "agent.stop" for s in stops):  # "enough thanks, you can stop now"
                first = stops[0]
                assert first is not None
                return parts[0], first
            return self._referent(parts)
        if len({f.skill for _, f in matched}) > 1:
            return None
        rest = [p for p in parts if p not in {m for m, _ in matched}]
        timed = self._timed(matched[0][1].skill)
        for other in rest:
            low = _IDIOM.sub(" ", clean(other))  # "wait a second" names no duration
            low = re.sub(r"\bfor (?:the|this|next) (?:weekend|week|holidays?|party|trip)\b", " ", low)  # a purpose
            if not timed and (find_duration(low) or parse_when(low)):  # the time is for something else
                return None
        return matched[0]

    @staticmethod
    def _thing(parts: list[str]) -> str | None:
        """The thing one clause names ("need to buy dish soap", "this song is terrible"), as said."""
        for part in parts:
            value = _named_thing(part)
            if value is not None:
                said = re.search(re.escape(value), part, re.I)
                return said.group(0) if said else value
        return None

    def _referent(self, parts: list[str]) -> tuple[str, SentenceMatch] | None:
        """"I need the slides I made on climate change, can you find them": one clause names the thing, another
        asks for it by a pronoun, or leaves it out ("we need bread, add to shopping list"); the request is the
        second with the first's thing in the pronoun's (or the object's) place."""
        for named in parts:
            thing = _named_thing(named)
            if thing is None:
                continue
            for part in parts:
                if part is named:
                    continue
                if _PRONOUN.search(part):
                    filled = _PRONOUN.sub(thing, part, count=1)
                elif verb := _NO_OBJECT.match(part):  # "add to shopping list": the object left out
                    filled = f"{verb.group(1)} {thing} {part[verb.end():]}"
                else:
                    continue
                found = self.match_sentence(filled)
                if found is not None:
                    return part, found
        return None

    def _clause_args(self, found: SentenceMatch, raw: str, t: str) -> dict[str, Any]:
        """The clause's slots, less pronouns ("save it for me"); when that leaves nothing, the other clauses'
        words may give the arguments ("I need a new password, 16 chars with symbols")."""
        said = {k: v for k, v in found.args.items() if not (isinstance(v, str) and v.lower() in _PRONOUNS)}
        skill = self.registry.get(found.skill)
        if skill is None:
            return said
        dropped = [k for k in found.args if k not in said and k in _WORDS_AS_SAID]
        thing = self._thing(_clauses(raw)) if dropped else None
        if thing is not None:  # "need to buy dish soap, add it to shopping": it is the soap
            said.update(dict.fromkeys(dropped, thing))
        whole = extract_args(skill, t, raw)
        if said and len(said) == len(found.args):  # options said in another clause ("..., no symbols") still count
            named = {k: v for k, v in whole.items() if k in ("label", "name") and k not in said
                     and _NAMING.search(raw)}  # "a timer for 40 mins, call it pizza"
            return {**{k: v for k, v in whole.items() if k not in _WORDS_AS_SAID and k not in said
                       and isinstance(v, bool | int | float) and k not in ("seconds", "amount")}, **named, **said}
        return {**whole, **said}

    def _follow_up(self, t: str) -> tuple[str, str, dict[str, Any]] | None:
        """"and memory?" after a CPU question → the same skill with the new detail."""
        last = self.context.last
        if last is not None and last.skill in ("timer.set", "reminder.add") and _CANCEL_IT.match(t):
            return "timer.cancel", t, {"kind": "timer" if last.skill == "timer.set" else "reminder"}
        m = _FOLLOW_UP.match(t)
        too_old = time.time() - last.ts > self.settings.history.follow_up_s if last else True
        if last is None or m is None or not m.group(1) or too_old:
            return None
        rest = m.group(1)
        args = extract_args(self.registry.get(last.skill), rest)
        other = self.match_sentence(rest)
        if not args or (other is not None and other.skill != last.skill):
            return None
        base = {k: v for k, v in last.args.items() if k not in args}
        return last.skill, rest, base

    # -- arguments -----------------------------------------------------------------------------------
    def _decide(self, raw: str, t: str, skill_name: str, tier: str, confidence: float,
                timings: dict[str, float], base: dict[str, Any] | None = None, slots: bool = False) -> Intent:
        skill = self.registry.get(skill_name)
        if skill is None:
            skill_name, skill = "chat", self.registry.get("chat")
        if skill_name == "chat":
            return Intent("chat", {"text": raw.strip() or t}, tier, confidence, raw, 0.0, None, timings)
        assert skill is not None
        args = self._arguments(skill, raw, t, base or {}, slots)
        # a pronoun names nothing by itself ("fix it", "find that"): ask rather than act on the word
        args = {k: v for k, v in args.items() if not (isinstance(v, str) and v.strip(" .,!?").lower() in _BARE)}
        error = self._validate(skill.args, args)
        if error is not None and not slots:  # a whole-sentence match: nothing else was said to fill it from
            args, error = self._llm_fill(skill, raw, t, args, error, timings)
        if error is not None:
            return Intent(skill_name, args, tier, confidence, raw, 0.0, error, timings)
        # what was said (or derived from it); defaults stay the skill's business, not a claim about the request
        validated = skill.args.model_validate(args).model_dump(exclude_none=True, exclude_unset=True)
        return Intent(skill_name, validated, tier, confidence, raw, 0.0, None, timings)

    def _telling(self, ranked: list[tuple[str, float]], t: str) -> list[tuple[str, float]]:
        """Skills of one family ("timetrack.stop", "timetrack.resume") lie close together in the embedding, which
        weighs the shared nouns ("tracking my hours") more than the verb that tells them apart ("continue"). When
        the nearest skill's own template words (those no sibling uses) are absent from the request and a sibling
        nearly as near has its own words there, the sibling goes first."""
        best, top = ranked[0]
        said = {_stem(w) for w in re.findall(r"[a-z0-9']+", t)}
        if self._own_words(best) & said:
            return ranked
        family = best.split(".")[0]
        for i, (name, score) in enumerate(ranked[1:], start=1):
            if top - score > _SIBLING_MARGIN:
                break
            if name.split(".")[0] == family and self._own_words(name) & said:
                return [ranked[i], *ranked[:i], *ranked[i + 1:]]
        return ranked

    def _timed(self, name: str) -> bool:
        skill = self.registry.get(name)
        return skill is not None and bool({"seconds", "when"} & set(skill.args.model_fields))

    def _delayed(self, raw: str) -> dict[str, Any] | None:
        """An action to do after a while ("open the garage door in 5 minutes", "in an hour, pause the music"):
        no skill runs an action later, so it becomes a timer named after the action, which says it when it
        rings (as Home Assistant's delayed commands do). Only for a request of a skill that acts now."""
        text = tidy(raw)
        m = _DELAY_AFTER.match(text) or _DELAY_BEFORE.match(text)
        if m is None:
            return None
        seconds = parse_duration(m.group("d"), whole=True)
        command = m.group("cmd").strip(" ,")
        if not seconds or not command:
            return None
        found = self.sentences.match(command)
        if found is None or found.skill == "timer.set" or not self._acts(found.skill) or self._timed(found.skill):
            return None
        return {"seconds": seconds, "label": command}

    def _acts(self, name: str) -> bool:
        """A skill that changes something (opens, kills, deletes, plays, sets, starts, saves) rather than answers.
        `command.run` answers questions too ("how long has it been up"); its destructive commands ask first."""
        skill = self.registry.get(name)
        if skill is None or name == "command.run":
            return False
        return skill.changes_system or name.rsplit(".", 1)[-1] in _ACTING_VERBS

    def _own_words(self, name: str) -> frozenset[str]:
        if name not in self._own:
            family = name.split(".")[0]
            others: set[str] = set()
            for other in self.registry.names():
                if other != name and other.split(".")[0] == family:
                    others |= {_stem(w) for w in self.sentences.keywords(other)}
            self._own[name] = frozenset(_stem(w) for w in self.sentences.keywords(name)) - others
        return self._own[name]

    def _fitting(self, ranked: list[tuple[str, float]], raw: str, t: str) -> str:
        """The nearest skill, unless a nearly as near one finds every argument it requires in the words, and
        the nearest one lacks what it requires or has no place for those values: "put on a twelve minute timer
        for the rice" is `timer.set` (twelve minutes fill its `seconds`; `timer.status` takes no duration)."""
        best = ranked[0][0]
        best_skill = self.registry.get(best)
        met = self._needs_met(best, raw, t)
        if met or best_skill is None:
            return best
        fields = set(best_skill.args.model_fields)
        for name, score in ranked[1:_FIT_CANDIDATES]:
            if ranked[0][1] - score > _FIT_MARGIN:
                break
            skill = self.registry.get(name)
            if skill is None or not self._needs_met(name, raw, t):
                continue
            required = {k for k, f in skill.args.model_fields.items() if f.is_required()}
            if met is False or not required <= fields:
                return name
        return best

    def _needs_met(self, name: str, raw: str, t: str) -> bool | None:
        """True: the words give every required argument; False: some are missing; None: it needs none."""
        skill = self.registry.get(name)
        if skill is None:
            return None
        required = {k for k, f in skill.args.model_fields.items() if f.is_required()}
        if not required:
            return None
        return required <= set(extract_args(skill, t, raw))

    @staticmethod
    def _arguments(skill: Skill, raw: str, t: str, base: dict[str, Any], slots: bool) -> dict[str, Any]:
        """Template slots first (a `request` slot goes through the skill's extractor), then the extractor on
        the whole request for whatever the template did not give. Unknown slots are dropped."""
        fields = set(skill.args.model_fields)
        if not slots:
            return {**base, **extract_args(skill, t, raw)}
        args = {k: v for k, v in base.items() if k in fields}
        request = base.get("request")
        if isinstance(request, str):
            args = {**extract_args(skill, clean(request), request), **args}
        required = {k for k, f in skill.args.model_fields.items() if f.is_required()}
        whole = extract_args(skill, t, raw)
        if required - set(args) or not args:  # the template decided the skill; the extractor finds the rest
            wanted = set(fields) if not args else required  # a template without slots: the extractor reads all
            args.update({k: v for k, v in whole.items() if k in wanted and k not in args})
        # options said anywhere count ("find docs mentioning kubernetes, top 3"; "..., no symbols")
        args.update({k: v for k, v in whole.items() if k in fields and k not in args and k not in required
                     and (k == "limit" or isinstance(v, bool))})
        return args

    def _llm_fill(self, skill: Skill, raw: str, t: str, args: dict[str, Any], error: str,
                  timings: dict[str, float]) -> tuple[dict[str, Any], str | None]:
        """Let the LLM propose missing arguments; keep only values the user actually said."""
        llm = self._llm()
        if llm is None:
            return args, error
        t0 = time.perf_counter()
        try:
            proposed = llm.fill_args(t, skill, args)
        except ModelError:
            return args, error
        finally:
            timings["llm_args"] = (time.perf_counter() - t0) * 1000
        trigger = self.sentences.keywords(skill.name)
        said = {k: v for k, v in proposed.items() if k not in args and grounded(v, raw, k)
                and not _only_trigger_words(v, trigger) and not _whole_request(k, v, raw)}
        dropped = sorted(set(proposed) - set(said) - set(args))
        if dropped:
            _LOGGER.info("LLM arguments dropped as not said (%s): %s", skill.name, ", ".join(dropped))
        merged = {**said, **args}
        if self._validate(skill.args, merged) is None:
            return merged, None
        return args, error

    @staticmethod
    def _validate(model: type[Any], args: dict[str, Any]) -> str | None:
        return clarifying_question(model, args)


def _clauses(raw: str) -> list[str]:
    """The clauses of a request, each tidied (its own polite opening dropped)."""
    parts = (tidy(p.strip(" ,;.-")) for p in _CLAUSES.split(tidy(raw)))
    return [p for p in parts if p]


# Words around a request that change nothing it asks for: a discourse opening ("alright, let's ..."), a wish
# ("I'd like to ..."), and a closing of manner or time ("... for now", "... if you can", "... real quick").
_OPENING = re.compile(
    r"^(?:(?:(?:listen|look|right|well|see),|quick question|actually|alright|all right|so|oh|and|also|btw|by the way|"
    r"one more thing|real quick|anyway|hmm|i was wondering if you could|i wonder if you could|is it possible to|"
    r"i wonder|i'm wondering|any idea|do you (?:happen to )?know|i'd (?:love|like) to know|i'm curious(?: about)?|"
    r"(?:can|could) you tell me|tell me|"
    r"(?:could|can|would) you (?:go ahead and|just)|go ahead and|you can|can we|could we|let's|lets|let us|help me|"
    r"i'd like to|i would like to|i want to|i wanna|i need to|time to|try to)\b[\s,]*)+", re.I)
_CLOSING = re.compile(
    r"(?:[\s,]+(?:where i left off|from where i (?:left off|stopped)|for (?:now|a bit|a while|a sec|a second|a moment|"
    r"the moment)|real quick|quickly|right (?:now|away)|asap|immediately|at once|straight away|"
    r"if you (?:can|could|would|don't mind)|if possible|when you (?:can|get a chance|have a (?:sec|second|moment|"
    r"minute))|as well|already|anyway|though|ok|okay|alright|yeah|mate|buddy|dude|my friend|"
    r"a (?:bit|little|notch|tad|touch|smidge)(?: more)?|"
    r"(?:would|will|could|can) you|for me))+[\s?.!]*$", re.I)


# words that begin a new clause when a transcript has no comma ("... timer it's done", "okay i'm back resume ...")
_CLAUSE_START = re.compile(r"^(?:i|i'm|im|i've|i'll|it's|its|it|we|we're|they|they're|he|she|you|because|since|cause|"
                           r"cuz|so|as|then|ok|okay|now|please|real|just)$", re.I)


def _pieces(clauses: list[str]) -> list[str]:
    """The clauses cut again at "and", "then", "also" ...: the requests a sentence may hold."""
    return [p for clause in clauses for p in _AND.split(clause) if p.strip(" ,.")]


def _unpunctuated(clause: str) -> list[list[str]]:
    """Two-part splits of a clause said without punctuation, at each word that may begin a new clause (and just
    after an opening such as "okay i'm back"), nearest the middle first; at most six."""
    words = clause.split()
    if not 3 <= len(words) <= 24:
        return []
    cuts = [k for k in range(1, len(words)) if _CLAUSE_START.match(words[k].strip(",.!?"))]
    cuts += [k + 1 for k in cuts if k + 1 < len(words)]  # "okay i'm back | resume the study timer"
    cuts += [k for k in range(2, len(words) - 1) if words[k - 1].lower() in ("back", "done", "here", "ready")]
    ordered = sorted(set(cuts), key=lambda k: abs(len(words) / 2 - k))[:6]
    return [[" ".join(words[:k]), " ".join(words[k:])] for k in ordered]


def _named_thing(part: str) -> str | None:
    """The thing a clause names, in cleaned words: "I need the slides ...", "zoom's hung", "we're out of milk"."""
    low = clean(part)
    m = _NAMES_A_THING.match(low) or _THING_STATE.match(low) or _NEEDS_A_THING.match(low)
    return m.group(m.lastindex or 1) if m is not None else None


def _trim(text: str) -> str:
    return _CLOSING.sub("", _OPENING.sub("", text)).strip(" ,")


def _stem(word: str) -> str:
    """A crude stem, enough to see "timers" and "timer", "remains" and "remaining" as one word."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _whole_request(key: str, value: Any, raw: str) -> bool:
    """A label or a name that is most of the request ("set an alarm for 7am" as a timer's label) is the model
    repeating the request, not an argument; free text (a note, a query) may be most of it."""
    if key in _FREE_TEXT_KEYS or not isinstance(value, str):
        return False
    said = re.findall(r"[a-z0-9']+", raw.lower())
    words = re.findall(r"[a-z0-9']+", value.lower())
    return len(said) >= 4 and len(words) >= 0.7 * len(said)


_FREE_TEXT_KEYS = frozenset({"text", "query", "need", "expression", "note", "request"})


def _only_trigger_words(value: Any, trigger: frozenset[str]) -> bool:
    """ "kill" is not a process name in "kill": a value made only of the words that name the skill is no value."""
    if not isinstance(value, str):
        return False
    words = re.findall(r"[a-z0-9']+", value.lower())
    return bool(words) and all(w in trigger or len(w) < 2 for w in words)


def clarifying_question(model: type[Any], args: dict[str, Any]) -> str | None:
    """None when `args` validate against the skill's argument model, else the question to ask the user."""
    try:
        model.model_validate(args)
    except ValidationError as exc:
        for err in exc.errors():
            field_name = str(err["loc"][0]) if err["loc"] else ""
            if field_name in _QUESTIONS:
                return _QUESTIONS[field_name]
            if err["type"] == "value_error":
                return str(err["msg"]).removeprefix("Value error, ").capitalize() + "?"
        return "Could you say that differently?"
    return None
