"""Text clean-up before routing, and money amounts. Numbers, durations and times: `agent.values`.

`clean` lower-cases, drops fillers and polite openings and tidies punctuation; it never rewrites a word
(number words stay words, so a note's "test one" stays "test one"). Extractors that need numbers read them
through `agent.values`.
"""

from __future__ import annotations

import re

__all__ = ["clean", "tidy"]

# "you know" is a filler in "set a, you know, timer", not in "do you know of a good editor"
_FILLERS = re.compile(r"\b(?:um+|uh+|er+m?|hmm+|ah+|okay so|ok so|so um|well|actually|basically|literally|"
                      r"(?<!do )(?<!did )(?<!if )(?<!don't )you know(?! (?:of|any|a|an|some|the|how|what|where|when|"
                      r"why|who|if|whether|about|that|it|this|my)\b)|you know what(?=,)"
                      # a hedge before an amount: "to like 70", "for like five minutes"
                      r"|(?:(?<=\bto )|(?<=\bfor )|(?<=\bat )|(?<=\bin )|(?<=\babout )|(?<=\baround )|(?<=\bmaybe ))"
                      r"like(?= (?:\d|an? |one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|"
                      r"thirty|forty|fifty|sixty|seventy|eighty|ninety|half)))\b[,]?\s*",
                      re.I)
_POLITE = re.compile(r"^(?:(?:hey|hi|okay|ok|yo)\b[,]?)?\s*(?:(?:agent|computer|assistant|google|alexa|siri|jarvis|"
                     r"cortana|mycroft|nabu|rhasspy)\b)?[,]?\s*"
                     r"(?:(?:(?:can|could|would|will) you(?: (?:please|pls|plz|kindly))?|please|pls|plz|kindly|"
                     r"i'd like you to|i want you to|i need you to)\b)?\s*", re.I)


# thanks at the end of a request is no part of it ("set a timer for 10 minutes thanks"), but "say thanks" is
_COURTESY = re.compile(r"(?<!\bsay)(?<!\bsend)(?<!\bwrite)(?<!\btell)(?<!\bgive)(?<!\ba)(?<!\bno)(?<!\bwith)"
                       r"[\s,.!]+(?:thanks|thank you|thanks a lot|thank you very much|thx|ty|cheers|please|pls|plz|"
                       r"lol|haha|rn)[\s.!]*$", re.I)


def tidy(text: str) -> str:
    """What the sentence templates read: fillers and polite openings gone, the user's words and case kept."""
    s = text.strip().replace("’", "'").replace("“", '"').replace("”", '"')
    s = _FILLERS.sub("", s)
    s = _COURTESY.sub("", s)
    s = _POLITE.sub("", s, count=1)
    return re.sub(r"\s+", " ", s).strip(" ,")


def clean(text: str) -> str:
    """Lower-case, drop fillers and polite openings, tidy punctuation. Words are kept as said."""
    s = text.strip().lower()
    s = s.replace("’", "'").replace("“", '"').replace("”", '"')
    s = _FILLERS.sub("", s)
    s = _COURTESY.sub("", s)
    s = re.sub(r"[!?]+", " ", s)
    s = re.sub(r"\.(?=\s|$)", " ", s)
    s = re.sub(r"\s+,", ",", s)
    s = _POLITE.sub("", s, count=1)
    s = re.sub(r"\b(?:please|pls|plz)\b", "", s)
    return re.sub(r"\s+", " ", s).strip(" ,")
