"""End to end: a spoken request into a PulseAudio null sink used as the microphone, the running agent
(`agent listen`, a subprocess) transcribes, routes, executes and speaks the answer into another sink, and the
test records that sink and transcribes the answer back.

The test starts its own PulseAudio server (private runtime directory, no default.pa) with two null sinks:
`mic` (the test plays into it; the agent records `mic.monitor`) and `spk` (the agent plays into it; the test
records `spk.monitor`). Nothing is faked: real PortAudio, real models, real pipeline.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import load_settings
from agent.speech.audio import read_audio
from agent.speech.stt import WhisperTranscriber

from .conftest import run_cli


class _Lines:
    """Collects a subprocess's stdout lines in a thread, so the test can wait for one without blocking."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._proc = proc
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if line.startswith(prefix):
                    return line
            if self._proc.poll() is not None and not self._thread.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line starting with {prefix!r}; got {self.lines}")


@pytest.fixture
def pulse() -> Iterator[dict[str, str]]:
    """A private PulseAudio server with the null sinks `mic` and `spk`; yields the environment to reach it."""
    for tool in ("pulseaudio", "pactl", "paplay", "parecord"):
        assert shutil.which(tool), f"{tool} is missing (scripts/setup.sh installs pulseaudio and pulseaudio-utils)"
    runtime = Path(tempfile.mkdtemp(prefix="pa-"))  # short: the socket path must fit in 108 bytes
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "PULSE_RUNTIME_PATH": str(runtime / "pulse"),
           "PULSE_STATE_PATH": str(runtime / "state"), "PULSE_SERVER": f"unix:{runtime}/pulse/native"}
    env.pop("DISPLAY", None)
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "--log-target=stderr",
         "-L", "module-native-protocol-unix", "-L", "module-null-sink sink_name=mic",
         "-L", "module-null-sink sink_name=spk"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(["pactl", "list", "short", "sinks"], env=env, capture_output=True,
                             text=True).stdout.count("null-sink") < 2:
            assert server.poll() is None, f"pulseaudio exited: {server.stderr.read() if server.stderr else ''}"
            assert time.monotonic() < deadline, "pulseaudio did not come up"
            time.sleep(0.1)
        yield env
    finally:
        server.terminate()
        try:
            server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.mark.slow
def test_spoken_request_through_the_microphone_answered_on_the_speaker(pulse, tmp_path, agent_home):
    env = {**pulse, "AGENT_HOME": str(agent_home), "AGENT_VOICE__INPUT_DEVICE": "pulse:mic.monitor",
           "AGENT_VOICE__OUTPUT_DEVICE": "pulse:spk", "AGENT_VOICE__CHIME": "false"}
    agent = subprocess.Popen([sys.executable, "-m", "agent", "listen", "--hands-free", "--no-ptt"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = _Lines(agent)
    recorder = None
    try:
        request = tmp_path / "request.wav"  # synthesized while the agent loads its models
        said = run_cli("say", "What is six times seven?", "--out", str(request), env=env)
        assert said.returncode == 0, said.stderr
        out.wait_for("listening:", timeout=180)
        answer = tmp_path / "answer.wav"
        recorder = subprocess.Popen(["parecord", "--device=spk.monitor", "--rate=16000", "--channels=1",
                                     "--format=s16le", "--file-format=wav", str(answer)], env=pulse)
        subprocess.run(["paplay", "--device=mic", str(request)], env=pulse, check=True, timeout=60)
        heard_request = out.wait_for("you:", timeout=60)
        assert "6" in heard_request or "six" in heard_request.lower()
        assert "42" in out.wait_for("agent:", timeout=60)
        timings = out.wait_for("timings ms:", timeout=60)
        out.wait_for("(done speaking)", timeout=60)
    finally:
        if recorder is not None:
            recorder.send_signal(signal.SIGINT)  # parecord finishes the WAV header on SIGINT
            recorder.wait(10)
        agent.send_signal(signal.SIGINT)
        try:
            _stdout, errors = agent.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            agent.kill()
            _stdout, errors = agent.communicate()
    assert agent.returncode == 0, errors
    for stage in ("stt=", "route=", "skill=", "tts_first_audio=", "eos_to_first_audio="):
        assert stage in timings
    settings = load_settings(env={"AGENT_HOME": str(agent_home)})
    heard = WhisperTranscriber.from_settings(settings).transcribe(read_audio(answer))
    assert "42" in heard.text or "forty" in heard.text.lower(), heard


def test_no_microphone_means_one_message_and_text_only(services, caplog):
    from agent.speech.service import start_voice

    services.settings.voice.input_device = "no-such-microphone-xyz"
    with caplog.at_level(logging.INFO, logger="agent.speech.service"):
        stop = start_voice(services)  # never raises
    messages = [r for r in caplog.records if r.name == "agent.speech.service"]
    assert len(messages) == 1
    assert "text only" in messages[0].getMessage()
    assert stop is None
    assert services.voice is None


@pytest.mark.slow
def test_wake_word_through_the_microphone_gets_a_spoken_reply(pulse, tmp_path, agent_home):
    """The default wake path: `agent listen` (no hands-free) hears speech without the wake word and transcribes
    nothing, then "Hey Jarvis, what is six times seven?" (flite's rms voice, not the agent's) and answers aloud."""
    for tool in ("flite",):
        assert shutil.which(tool), f"{tool} is missing (scripts/setup.sh installs it)"
    env = {**pulse, "AGENT_HOME": str(agent_home), "AGENT_VOICE__INPUT_DEVICE": "pulse:mic.monitor",
           "AGENT_VOICE__OUTPUT_DEVICE": "pulse:spk", "AGENT_VOICE__CHIME": "false"}
    other, request = tmp_path / "other.wav", tmp_path / "request.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", "What is twelve times fifteen?", "-o", str(other)], check=True)
    subprocess.run(["flite", "-voice", "rms", "-t", "Hey Jarvis, what is six times seven?", "-o", str(request)],
                   check=True)
    agent = subprocess.Popen([sys.executable, "-m", "agent", "listen", "--no-ptt"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = _Lines(agent)
    recorder = None
    try:
        ready = out.wait_for("listening:", timeout=180)
        assert "hey jarvis" in ready.lower()
        subprocess.run(["paplay", "--device=mic", str(other)], env=pulse, check=True, timeout=60)
        time.sleep(2.0)  # the endpointer closes it; nothing must be heard
        assert not [line for line in out.lines if line.startswith(("you:", "agent:"))], out.lines
        answer = tmp_path / "answer.wav"
        recorder = subprocess.Popen(["parecord", "--device=spk.monitor", "--rate=16000", "--channels=1",
                                     "--format=s16le", "--file-format=wav", str(answer)], env=pulse)
        subprocess.run(["paplay", "--device=mic", str(request)], env=pulse, check=True, timeout=60)
        heard = out.wait_for("you:", timeout=60)
        assert "jarvis" not in heard.lower()
        assert "6" in heard or "six" in heard.lower()
        assert "42" in out.wait_for("agent:", timeout=60)
        out.wait_for("(done speaking)", timeout=60)
    finally:
        if recorder is not None:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(10)
        agent.send_signal(signal.SIGINT)
        try:
            _stdout, errors = agent.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            agent.kill()
            _stdout, errors = agent.communicate()
    assert agent.returncode == 0, errors
    assert len([line for line in out.lines if line.startswith("you:")]) == 1
    settings = load_settings(env={"AGENT_HOME": str(agent_home)})
    heard_back = WhisperTranscriber.from_settings(settings).transcribe(read_audio(answer))
    assert "42" in heard_back.text or "forty" in heard_back.text.lower(), heard_back
