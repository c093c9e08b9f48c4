"""Questions about a topic are not requests: "how do egg timers work" is for `chat`, not `timer.set`.

Applied only when no sentence template matched the whole request (templates are requests by
construction). A question is *about a topic* when it asks how or why something works, what a thing is
or means, whether something is good or safe, or what people usually do, and does not point at the
user's own machine, data or moment ("my", "I", "right now", "left on the timer").
"""

from __future__ import annotations

import re

__all__ = ["is_negated", "is_topic_question"]

_GENERAL = re.compile(
    r"^(?:"
    r"how (?:do|does|did|can|could|would|should|is|are|come|often|many|far(?! along)|big|fast|safe|bad|hot|much do|"
    r"much does)\b"
    r"|why\b|explain\b|define\b|describe\b|what happens\b|what would happen\b|what makes\b|what causes\b"
    r"|tell me (?:about|how|why|what|a fact)\b|who (?:wrote|invented|is|was|were|composed|made|discovered|painted|"
    r"created|founded|directed|sang|won|built|designed)\b"
    r"|is it (?:bad|safe|ok|okay|normal|possible|true|worth|better|dangerous|healthy|wise|smart|legal|necessary|"
    r"a good idea|good|fine|harmful|risky)\b"
    r"|are (?:\w+ )?(?:bad|safe|dangerous|good|necessary|worth)\b"
    r"|should (?:i|you|we|people|one)\b|do (?:i|you|we) (?:need|have) to\b|is there a (?:way|reason)\b"
    r"|what(?:'s| is| are|'re) (?:a|an|the (?:difference|point|purpose|meaning|definition|best way|history|origin|"
    r"idea|reason|use)|normal|good|typical|usual|considered|so)\b"
    r"|what (?:is|are) (?!my\b|the\b|your\b|our\b|this\b|that\b|it\b)[a-z]+(?: [a-z]+)?$"
    r"|what does .+ (?:do|mean|stand for|say)\b|what do .+ (?:do|mean)\b"
    r"|(?:which|what) (?:is|are) (?:better|the best|best|safer|faster)\b"
    r"|what time zone\b|when (?:was|were|did|is the next)\b|where (?:is|are|was|do|does) (?!my\b)"
    r"|(?:in )?what (?:year|century|decade|country|city|language|planet) (?:was|were|did|is|are|does|do)\b"
    r")")
_GENERIC_ANYWHERE = re.compile(r"\b(?:usually|typically|typical|normally|in general|generally|on average|people|"
                               r"these days|nowadays|"
                               r"most people|someone|anyone|ideal|recommended|difference between)\b")
_QUESTION = re.compile(r"^(?:how|why|what|who|which|when|where|is|are|does|do|can|could|should|would|will)\b")
_PERSONAL = re.compile(
    r"\b(?:my|mine|me|i|i'm|i've|i'd|am i|our|us|we|have you|did you|you've|this (?:computer|machine|pc|laptop|system)|"
    r"right now|(?:are|is) (?:still )?left\b|left (?:for|on|in) (?:the|this)\b|"
    r"currently|at the moment|left on|remaining|still running|yet|so far|today|this week|this month)\b")
_ABOUT_CONCEPT = re.compile(r"\b(?:work|works|working|mean|means|do|does|happen|happens|for|in (?:linux|windows|"
                            r"mac|macos|general|python|bash)|on (?:linux|windows|a mac|mac|macos))\s*$")


# Forms that ask for knowledge, an opinion or advice whoever they mention: no skill acts on them.
_ALWAYS = re.compile(
    r"^(?:"
    r"is it (?:\w+ )?(?:bad|safe|ok|okay|normal|true|worth it|better|dangerous|healthy|unhealthy|wise|smart|"
    r"harmful|risky|a good idea|a bad idea|fine|wrong|weird|possible) (?:to|that|if|when|for)\b"
    r"|(?:are|is) (?:\w+ ){1,4}(?:actually |really |even |still )?(?:safe|bad|good|worth it|necessary|"
    r"dangerous|secure|reliable|healthy|harmful|a good idea|a scam|legit|overrated|worth the money)\??$"
    r"|how (\w+) is too \1\b|how (?:does|do|can|could) (?:a|an) \w+"
    r"|how should (?:i|we|one|you) (?:go about|approach|start|plan|think|handle|organi[sz]e|choose|pick)\b"
    r"|how (?:can|do|would|could|will|should) (?:i|you|we|one|people) (?:tell|know) (?:if|whether|when)\b"
    r"|explain (?:to me |me |us )?(?:what|how|why|the difference|a|an)\b"
    r"|how (?:do|can|should|could) (?:i|we|you|one|people) \w+ (?:\w+ )?(?:better|more (?:useful|effective|"
    r"efficient)|faster|more quickly)\b"
    r"|.*[,.;] *what (?:is|are|'s) (?:this|that|it|they|those|these)\W*$"
    r"|what are (?:the |some )?(?:\w+ )?(?:signs|symptoms|warning signs) (?:of|that)\b"
    r"|how (?:can|do|could|should) (?:i|we) (?:spend less|save|waste less|use less|stop wasting|be more|get more)\b"
    r"|what (?:kind|sort|type|types|kinds) of [\w ]+ (?:is|are) (?:good|best|better|bad|ideal|recommended)\b"
    r"|at what (?:\w+ )?(?:temperature|age|point|time of day|speed|rate) (?:does|do|is|are|should|can)\b"
    r"|what (?:\w+ )?(?:temperature|age|size|speed) (?:should|do|does|must)\b"
    r"|how (?:do|can|should|could) (?:i|you|we|people|one) (?:get better at|improve|avoid|keep (?:my|from)|learn|"
    r"become|reduce|save (?:money|on)|cut (?:down|back)|deal with|cope with|motivate)\b"
    r"|what(?:'s| is| are) (?!my\b|you\b|your\b)[\w' -]+ exactly\??$|what exactly (?:is|are|does|do) (?:a|an|the)\b"
    r"|.*\bwhy (?:is|would|does) that\??$|.*\b(?:am i right|right\?)$"
    r"|what(?:'s| is) the \w+(?: \w+)? (?:technique|method|rule|principle|theory|concept|law|effect|trick)\b"
    r"|tell me (?:a|an|some) (?:\w+ )?(?:fact|facts|joke|jokes|story|riddle|quote)\b"
    r"|(?!.*\b(?:tools?|apps?|programs?|software|editors?|players?|utility|utilities)\b)"
    r"(?:any|got any|have any|some|give me(?: some| a few)?|i need(?: some)?) (?:good |quick |practical )?"
    r"(?:tips|advice|pointers|ideas|suggestions|hints) (?:for|on|about|to|how)\b"
    r"|what are (?:some |the )?(?:good |best |easy |simple )?(?:ways|tips|tricks|habits) (?:to|for|of)\b"
    r"|.*\b(?:vs\.?|versus)\b.*\b(?:which|better|best|worse|difference|compared?)\b"
    r"|.*\bwhich (?:one )?(?:is|are) (?:better|best|faster|safer|healthier)\b"
    # advice on how much or how often, and whether something helps or harms, in general
    r"|how (?:long|often|much|many|far|hot|cold|loud|big|early|late) (?:should|must|ought) (?:i|you|we|one|people)\b"
    r"|(?:should|must) (?:i|we) (?:\w+ ){0,3}(?:use|get|buy|install|keep|turn|leave|switch|upgrade|worry|be|have|"
    r"trust|pay|replace|avoid|try|learn)\b"
    r"|(?:can|could|does|do|will|would) (?!you\b|u\b|i\b|we\b|it\b)(?:\w+ ){1,4}(?:help|cause|damage|hurt|improve|"
    r"affect|ruin|harm|slow|shorten|extend)\b"
    r"|is (?:\w+ ){1,4}(?:hot|cold|high|low|bad|good|normal|safe|ok|okay|too much|a lot|enough|fast|slow) "
    r"for (?:a|an|the)\b"
    r"|(?:is|are) (?!my\b|the\b|this\b)(?:\w+ ){1,5}enough (?:for|to)\b"
    # an opinion asked of the agent ("do you think ...", "..., in your opinion"), not a request it could act on
    r"|(?:do|would) you think\b(?! (?:you|u) (?:can|could|would|might|will)\b)|.*\bin your (?:opinion|view)\b"
    r"|what do you think\b|what(?:'s| is) your (?:opinion|take|view|favou?rite)\b"
    r"|(?:do|would) you (?:like|love|prefer|enjoy|hate|recommend)\b(?! (?:me|to)\b)"
    # what is normal or safe in general ("what CPU temperature is normal for a laptop")
    r"|(?:what|which|how much|how many) (?:\w+ ){1,4}(?:is|are) (?:considered )?(?:normal|typical|safe|healthy|"
    r"too high|too low|too hot|too much|average|reasonable|acceptable|ideal|dangerous)\b"
    r"|.*\b(?:better|worse) than\b.*\?$|(?:is|are) (?:\w+ ){1,5}(?:better|worse) than\b"
    r")")


_APOSTROPHE_S = re.compile(r"\b(what|how|who|where|when|that|it|there)s\b")
_APOSTROPHE_NT = re.compile(r"\b(is|are|do|does|did|was|were|can|could|should|would)nt\b")


def is_topic_question(t: str) -> bool:
    """True when cleaned, lower-case `t` asks about a topic rather than asking the agent to act."""
    t = _APOSTROPHE_NT.sub(r"\1n't", _APOSTROPHE_S.sub(r"\1's", t))  # typed "whats", "hows", "isnt"
    if _ALWAYS.search(t):
        return True
    if t.startswith("why ") and not re.search(r"\bmy\b", t):  # no skill answers "why does music help me focus"
        return True
    if _GENERAL.search(t):
        if not _PERSONAL.search(t):
            return True
        # "how do I kill a process in linux": about a concept even with "I" in it
        return bool(re.match(r"^(?:how|why|what|should)\b", t) and _ABOUT_CONCEPT.search(t)
                    and not re.search(r"\bmy\b", t))
    return bool(_QUESTION.match(t) and _GENERIC_ANYWHERE.search(t) and not re.search(r"\bmy\b", t))


_NEGATED = re.compile(r"^(?:(?:please|ok|okay|no|and|but|so)[\s,]+)*(?:don't|dont|do not|never(?! mind\b)|no need to|"
                      r"you don't "
                      r"(?:have|need) to)\s+(?!forget\b|let me forget\b|listen\b|talk\b|speak\b|disturb\b|bother\b)")


def is_negated(t: str) -> bool:
    """"don't remind me to water the plants", "never mind the volume": a request *not* to act. No skill
    acts on it (a template may still match a negated form it names, such as "don't let me forget")."""
    return bool(_NEGATED.search(t))
