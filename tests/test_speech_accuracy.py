"""Hearing commands right: the command-vocabulary prompt, choosing between Whisper's candidates, and the guards
against degenerate decodes. Pure logic first; then the real tiny.en model on real synthesized speech (slow)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from agent.config import load_settings
from agent.skills.base import Skill
from agent.speech.audio import SAMPLE_RATE, read_audio
from agent.speech.stt import Hypothesis, WhisperTranscriber, choose_hypothesis, collapse_repeats
from agent.speech.understand import router_judge, understanding
from agent.speech.vocab import command_sentences, decoding_prompt


@pytest.mark.parametrize(("heard", "said"), [
    ("What were my expenses last month? What were my expenses last month?", "What were my expenses last month?"),
    ("Pause the music. Pause the music. Pause the", "Pause the music."),
    ("Set a timer for one hour. Set a timer for one hour.", "Set a timer for one hour."),
    ("Kill the fire fox process. Kill the fire fox process. Kill the fire fox process",
     "Kill the fire fox process."),
    ("no no", "no no"),  # one word said twice is speech, not a loop
    ("Remind me to remind me", "Remind me to remind me"),
    ("Add a note that says add a note", "Add a note that says add a note"),
])
def test_a_phrase_decoded_twice_is_cut_to_one(heard, said):
    assert collapse_repeats(heard) == said


def test_choose_hypothesis_prefers_what_the_router_understands_among_likely_ones():
    understood = {"Make a note to water the plants": 1.0, "Make a nut to water the plants": 0.0}
    hyps = [Hypothesis("Make a nut to water the plants", -0.30), Hypothesis("Make a note to water the plants", -0.40)]
    assert choose_hypothesis(hyps, understood.get).text == "Make a note to water the plants"
    # too unlikely acoustically: the best one stays
    far = [hyps[0], Hypothesis("Make a note to water the plants", -0.90)]
    assert choose_hypothesis(far, understood.get).text == "Make a nut to water the plants"
    # no judge: the acoustically best one
    assert choose_hypothesis(hyps, None).text == "Make a nut to water the plants"


def test_choose_hypothesis_keeps_free_text_as_heard_when_both_are_understood():
    hyps = [Hypothesis("Remind me to water the plants", -0.2), Hypothesis("Remind me to water the plant", -0.3)]
    assert choose_hypothesis(hyps, lambda _t: 1.0).text == "Remind me to water the plants"


def test_choose_hypothesis_never_picks_a_loop():
    hyps = [Hypothesis("stop stop stop stop stop stop", -0.1), Hypothesis("Stop talking", -0.3)]
    assert choose_hypothesis(hyps, None).text == "Stop talking"


def test_understanding_ranks_routing_decisions():
    template = understanding("timer.set", "template", 0.95, None)
    semantic = understanding("timer.set", "semantic", 0.7, None)
    unclear = understanding("timer.set", "template", 0.95, "How long?")
    assert template > semantic > 0
    assert template > unclear > 0
    assert understanding("chat", "fallback", 0.3, None) == 0.0


def test_decoding_prompt_covers_every_skill_within_whispers_budget():
    skills = [Skill(f"family{i}.action", "d", (f"do thing number {i} now", f"please do thing {i}", "x" * 30))
              for i in range(40)]
    skills.append(Skill("chat", "talk", ("tell me a joke",)))
    sentences = command_sentences(skills)
    assert set(sentences) == {s.name for s in skills}
    prompt = decoding_prompt(sentences, max_chars=900)
    assert len(prompt) <= 900
    assert "joke" not in prompt.lower()  # the catch-all says nothing about command words
    assert all(f"thing number {i} now" in prompt.lower() or f"thing {i}." in prompt.lower() for i in range(25))
    assert prompt.split(". ")[0][0].isupper()


def test_decoding_prompt_from_the_installed_registry_names_command_words():
    prompt = decoding_prompt(command_sentences()).lower()
    for word in ("timer", "note", "password", "remind"):
        assert word in prompt


@pytest.mark.slow
def test_router_judge_understands_commands_and_has_no_side_effects(services):
    judge = router_judge(services)
    assert judge("set a timer for ten minutes") > judge("set a timer for one other") or \
        judge("set a timer for ten minutes") == 1.0
    assert judge("make a note to buy milk") > judge("make a nut to buy milk")
    assert judge("tell me about the roman empire") == 0.0
    router = services.router()
    assert getattr(router.context, "last", None) is None  # the agent's own follow-up context is untouched


# -- the real model on real synthesized speech ----------------------------------------------------------------
def _flite(tmp_path, text: str, voice: str = "slt") -> np.ndarray:
    if shutil.which("flite") is None:
        pytest.fail("flite is missing (scripts/setup.sh installs it)")
    wav = tmp_path / f"{voice}.wav"
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(wav)], check=True, timeout=60)
    pad = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)
    return np.concatenate([pad, read_audio(wav), pad])


@pytest.mark.slow
def test_prompted_whisper_hears_commands_in_a_voice_it_never_saw(tmp_path, services):
    stt = WhisperTranscriber.from_settings(load_settings(), registry=services.registry)
    stt.attach_router(services)
    assert stt.prompt
    assert stt.hypotheses > 1
    heard = stt.transcribe(_flite(tmp_path, "Delete the note about batteries.", "awb"))
    assert "note" in heard.text.lower(), heard
    assert "batteries" in heard.text.lower(), heard
    assert heard.text.lower().count("note") == 1  # no repeated decode
    silence = stt.transcribe(np.zeros(2 * SAMPLE_RATE, dtype=np.float32))
    assert silence.text == ""


@pytest.mark.slow
def test_whisper_base_option_is_assembled_loaded_and_shown_by_doctor(tmp_path, agent_home, monkeypatch):
    from agent.speech.models import speech_checks, whisper_model_dir

    monkeypatch.setenv("AGENT_VOICE__WHISPER_MODEL", "base")
    settings = load_settings()
    folder = whisper_model_dir(settings)
    assert (folder / "model.bin").stat().st_size > 100_000_000
    stt = WhisperTranscriber.from_settings(settings)
    assert stt.multilingual
    heard = stt.transcribe(_flite(tmp_path, "Remind me to water the plants tomorrow.", "awb"))
    assert "water the plants" in heard.text.lower(), heard
    rows = {name: (ok, detail) for name, ok, detail, _fix in speech_checks(settings)}
    assert rows["speech to text"][0]
    assert "Whisper base" in rows["speech to text"][1]
    assert "hey_jarvis" in rows["wake word"][1]
    doctor = subprocess.run([sys.executable, "-m", "agent", "doctor"], capture_output=True, text=True, timeout=300,
                            check=False)
    assert "Whisper base (multilingual)" in doctor.stdout, doctor.stdout
