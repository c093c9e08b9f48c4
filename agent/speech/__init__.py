"""Speech in and out, every stage an interface with one module per backend.

    audio    AudioInput / AudioOutput: sounddevice (PortAudio), files, buffers
    devices  which microphone and speaker: list, resolve (index, name, pulse:NAME), choose_backend (pure)
    vad      VoiceActivity: Silero (from faster-whisper); Endpointer cuts the stream into utterances
    wake     WakeDetector: Whisper on VAD-gated utterances + fuzzy match of the wake phrase
    stt      Transcriber: faster-whisper, VAD-trimmed, never text from silence
    tts      Synthesizer: Piper, sentence by sentence; Speaker plays and stops at once (barge-in)
    ptt      PushToTalk: pynput global key, hold to talk, tap to toggle hands-free
    service  VoiceService: the live loop (listen → transcribe → pipeline → speak); start_voice (a component)
    cli      agent transcribe / say / listen / devices, and `agent ask --audio`

`service` and `cli` are imported by name (they pull in the pipeline); the stages are exported here.
"""

from agent.speech.audio import (
    BLOCK,
    SAMPLE_RATE,
    AudioInput,
    AudioOutput,
    BufferOutput,
    FileInput,
    SoundDeviceInput,
    SoundDeviceOutput,
    read_audio,
    resample,
    write_wav,
)
from agent.speech.devices import BackendChoice, DeviceInfo, choose_backend, list_devices, resolve_device
from agent.speech.ptt import PttEvent, PttStateMachine, PushToTalk
from agent.speech.stt import Transcriber, Transcription, WhisperTranscriber
from agent.speech.tts import PiperSynthesizer, Speaker, Synthesizer, speakable, split_sentences
from agent.speech.vad import Endpointer, SileroVad, Utterance, VadParams, VoiceActivity
from agent.speech.wake import WakeDetector, WhisperWake, is_stop, match_wake

__all__ = [
    "BLOCK",
    "SAMPLE_RATE",
    "AudioInput",
    "AudioOutput",
    "BackendChoice",
    "BufferOutput",
    "DeviceInfo",
    "Endpointer",
    "FileInput",
    "PiperSynthesizer",
    "PttEvent",
    "PttStateMachine",
    "PushToTalk",
    "SileroVad",
    "SoundDeviceInput",
    "SoundDeviceOutput",
    "Speaker",
    "Synthesizer",
    "Transcriber",
    "Transcription",
    "Utterance",
    "VadParams",
    "VoiceActivity",
    "WakeDetector",
    "WhisperTranscriber",
    "WhisperWake",
    "choose_backend",
    "is_stop",
    "list_devices",
    "match_wake",
    "read_audio",
    "resample",
    "resolve_device",
    "speakable",
    "split_sentences",
    "write_wav",
]
