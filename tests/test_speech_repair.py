"""Repairing transcripts with the command vocabulary (agent.speech.repair) and tidying Whisper's candidates.

Pure logic on a small vocabulary first (the router's understanding, the template matcher and the acoustic score are
plain functions here: `repair_transcript` is pure over them); then the real tiny.en model, the real router and real
synthesized speech (slow)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from agent.config import load_settings
from agent.speech.audio import SAMPLE_RATE, read_audio
from agent.speech.repair import (
    Lexicon,
    join_compounds,
    repair_candidates,
    repair_transcript,
    sound_key,
    spoken_for,
)
from agent.speech.stt import WhisperTranscriber, is_degenerate, tidy
from agent.speech.vocab import command_phrases

SENTENCES = ["show me my notes", "launch Firefox", "open Firefox", "search for the budget spreadsheet",
             "what's a good tool for editing videos", "recommend an app to compress images", "turn the volume up",
             "set a timer for ten minutes", "what is my battery level"]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.from_sentences(SENTENCES)


@pytest.mark.parametrize(("a", "b"), [("notes", "notice"), ("firefox", "fire fucks"), ("tool", "deal"),
                                      ("volume", "vowel em"), ("phone", "fone")])
def test_words_that_sound_alike_share_a_sound_key(a, b):
    assert sound_key(a) == sound_key(b)


def test_sound_key_keeps_different_words_apart():
    assert sound_key("notes") != sound_key("timer")
    assert sound_key("sky") != sound_key("volume")
    assert sound_key("") == ""


def test_lexicon_finds_words_and_pairs_that_sound_alike(lexicon):
    assert (0, "notes") in lexicon.sounding_like("notice")
    assert (0, "firefox") in lexicon.sounding_like("fire fucks")
    assert any(p == "an app" for _d, p in lexicon.sounding_like("and app"))
    assert lexicon.sounding_like("x") == []
    assert lexicon.spell("firefox") == "Firefox"  # a name keeps its capital
    assert "notes" in lexicon
    assert "zebra" not in lexicon


@pytest.mark.parametrize(("heard", "joined"), [
    ("Launch fire fox.", "Launch Firefox."),
    ("Search for the budget spread sheet.", "Search for the budget spreadsheet."),
    ("Launch fire, fox.", "Launch fire, fox."),  # punctuation between: two words
    ("Turn the volume up.", "Turn the volume up."),
])
def test_split_command_words_are_joined(lexicon, heard, joined):
    assert join_compounds(heard, lexicon) == joined


@pytest.mark.parametrize(("heard", "fixed"), [
    ("Time 4 3 minutes for the eggs.", "Time for 3 minutes for the eggs."),
    ("Count 2 10.", "Count to 10."),
    ("What is 4 plus 3?", "What is 4 plus 3?"),
    ("Call 4 2 4 2.", "Call for 2 4 2."),
])
def test_for_and_to_written_as_digits_before_a_number(heard, fixed):
    assert spoken_for(heard) == fixed


def test_repair_candidates_replace_a_sound_alike_span(lexicon):
    candidates = repair_candidates("Show me my notice.", lexicon)
    assert "Show me my notes." in candidates
    assert len(candidates) <= 24
    assert "Show me my notice." not in candidates
    assert "Launch Firefox." in repair_candidates("Launch fire, fucks.", lexicon)


def test_repair_transcript_only_touches_what_the_router_does_not_understand(lexicon):
    understood = {"Show me my notes.": 1.0, "Remind me to buy notice paper.": 1.0}.get

    def judge(text: str) -> float:
        return understood(text) or 0.0

    def matches(text: str) -> bool:
        return judge(text) > 0

    assert repair_transcript("Show me my notice.", lexicon, understood=judge, matches=matches) == "Show me my notes."
    # already understood (a reminder's free text): kept as heard
    kept = "Remind me to buy notice paper."
    assert repair_transcript(kept, lexicon, understood=judge, matches=matches) == kept
    # no repair a template matches: kept
    assert repair_transcript("Why is the sky blue?", lexicon, understood=judge, matches=matches) == \
        "Why is the sky blue?"


def test_repair_transcript_needs_the_audio_to_agree(lexicon):
    def judge(text: str) -> float:
        return 1.0 if "notes" in text else 0.0

    def far(texts: list[str]) -> list[float]:
        return [-0.2] + [-2.0] * (len(texts) - 1)

    def near(texts: list[str]) -> list[float]:
        return [-0.2] + [-0.6] * (len(texts) - 1)

    heard = "Show me my notice."
    assert repair_transcript(heard, lexicon, understood=judge, matches=lambda t: judge(t) > 0, acoustic=far,
                             margin=0.9) == heard
    assert repair_transcript(heard, lexicon, understood=judge, matches=lambda t: judge(t) > 0, acoustic=near,
                             margin=0.9) == "Show me my notes."


def test_two_spans_are_repaired_in_turn(lexicon):
    def judge(text: str) -> float:
        return 1.0 if text == "Launch Firefox." else 0.0

    assert repair_transcript("Lunch fire, fucks.", lexicon, understood=judge, matches=lambda t: judge(t) > 0) == \
        "Launch Firefox."


@pytest.mark.parametrize(("heard", "tidied"), [
    ("$ $ 30 dollars for gas. $ $ $ $", "30 dollars for gas."),
    ("Turn the volume up. Turn the volume up. Turn the volume up.", "Turn the volume up."),
    ("Add $5 for lunch.", "Add $5 for lunch."),
    ("$ $ $", ""),
    ("Search my files for the budget spreadsheety. Search my files for the budget spreadsheet.",
     "Search my files for the budget spreadsheety."),
    ("Time for 3 minutes for the eggus. Time for three minutes for the eggus.", "Time for 3 minutes for the eggus."),
    ("Stop the timer. What time is it?", "Stop the timer. What time is it?"),
    ("Set a timer. Set an alarm.", "Set a timer. Set an alarm."),
    ("What's a square root of 144 144 44", "What's a square root of 144"),
    ("What's the square root of 144 144.", "What's the square root of 144."),
    ("Calculate 12 times 12.", "Calculate 12 times 12."),  # another number after it: said, not looped
    ("Add 4 4 dollars.", "Add 4 4 dollars."),  # one digit: left alone
])
def test_tidy_drops_symbol_runs_and_repeats(heard, tidied):
    assert tidy(heard) == tidied


def test_a_symbol_loop_is_degenerate():
    assert is_degenerate("$ $ $ $ $ $ $ $ $ $ $ $")
    assert is_degenerate("Lock $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $")
    assert not is_degenerate("Log $30 for gas.")


def test_the_installed_vocabulary_has_template_words():
    lex = Lexicon.from_sentences(command_phrases())
    for word in ("timer", "notes", "volume", "firefox", "battery"):
        assert word in lex


# -- the real model, the real router, synthesized speech -----------------------------------------------------------
def _flite(tmp_path, text: str, voice: str) -> np.ndarray:
    if shutil.which("flite") is None:
        pytest.fail("flite is missing (scripts/setup.sh installs it)")
    wav = tmp_path / f"{voice}.wav"
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(wav)], check=True, timeout=60)
    pad = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)
    return np.concatenate([pad, read_audio(wav), pad])


@pytest.mark.slow
def test_a_misheard_command_word_is_repaired_and_a_question_is_not(tmp_path, services):
    stt = WhisperTranscriber.from_settings(load_settings(), registry=services.registry)
    stt.attach_router(services)
    assert stt.lexicon is not None
    # tiny.en hears "Show me my notice." in flite's awb voice
    audio = _flite(tmp_path, "Show me my notes.", "awb")
    stt.matches = None
    assert "notes" not in stt.transcribe(audio).text.lower()  # the mishearing this repairs (if tiny.en changes: see)
    stt.attach_router(services)
    heard = stt.transcribe(audio)
    assert "notes" in heard.text.lower(), heard
    assert services.router().route(heard.text).skill == "notes.list"
    question = stt.transcribe(_flite(tmp_path, "Why is the sky blue?", "slt"))
    assert "sky" in question.text.lower(), question
    assert services.router().route(question.text).skill == "chat", question

