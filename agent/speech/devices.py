"""Which microphone and speaker: the PortAudio device list, a configured device (index, name or `pulse:NAME`)
resolved against it, and the pure choice of backend from what is available.

`open_input` / `open_output` put the three together for the voice service; `agent devices` shows the list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from agent.config import Settings
from agent.errors import AudioError
from agent.speech.audio import (
    AudioInput,
    AudioOutput,
    DeviceChoice,
    Kind,
    SoundDeviceInput,
    SoundDeviceOutput,
    sounddevice_module,
)

__all__ = [
    "BackendChoice",
    "DeviceInfo",
    "choose_backend",
    "list_devices",
    "open_input",
    "open_output",
    "resolve_device",
]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    inputs: int
    outputs: int
    default_rate: float
    is_default_input: bool = False
    is_default_output: bool = False


@dataclass(frozen=True)
class BackendChoice:
    """`backend` is "sounddevice" or "none"; `reason` says why (shown once to the user when it is "none")."""

    backend: Literal["sounddevice", "none"]
    reason: str


def choose_backend(kind: Kind, *, portaudio: bool, devices: int, device_error: str | None = None) -> BackendChoice:
    """Pick the audio backend from what is available: PortAudio loaded, how many devices of `kind` exist,
    and whether the configured device resolved (`device_error`). Pure: tested with nothing installed."""
    what = "microphone" if kind == "input" else "speaker"
    if not portaudio:
        return BackendChoice("none", "PortAudio is not available (install libportaudio2)")
    if devices <= 0:
        hint = "plug one in or start PulseAudio" if kind == "input" else "connect one or start PulseAudio"
        return BackendChoice("none", f"no {what} found ({hint})")
    if device_error:
        return BackendChoice("none", device_error)
    return BackendChoice("sounddevice", f"{what} on PortAudio")


def list_devices(*, refresh: bool = False) -> list[DeviceInfo]:
    """Every PortAudio device. `refresh` re-scans (PortAudio caches the list from its first use)."""
    sd = sounddevice_module()
    if refresh:
        sd._terminate()
        sd._initialize()
    default_in, default_out = (int(x) if x is not None else -1 for x in sd.default.device)
    out = []
    for i, d in enumerate(sd.query_devices()):
        out.append(DeviceInfo(i, str(d["name"]), int(d["max_input_channels"]), int(d["max_output_channels"]),
                              float(d["default_samplerate"]), i == default_in, i == default_out))
    return out


def _channels(d: DeviceInfo, kind: Kind) -> int:
    return d.inputs if kind == "input" else d.outputs


def resolve_device(spec: str | int | None, devices: list[DeviceInfo], kind: Kind) -> DeviceChoice:
    """Turn a configured device (index, name, `pulse:NAME`, or None for the default) into a `DeviceChoice`,
    or raise `AudioError` naming the device and the ones that exist. Pure."""
    usable = [d for d in devices if _channels(d, kind) > 0]
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return DeviceChoice()
    if isinstance(spec, int) or spec.strip().isdigit():
        index = int(spec)
        for d in usable:
            if d.index == index:
                return DeviceChoice(index)
        raise AudioError(f"no {kind} device with index {index}; {_names(usable)}", device=str(spec))
    text = spec.strip()
    if text.lower().startswith("pulse:"):
        name = text.split(":", 1)[1].strip()
        for d in usable:
            if d.name.lower() == "pulse":
                return DeviceChoice(d.index, name or None)
        raise AudioError(f"{text} needs the PortAudio 'pulse' device (is PulseAudio running?); {_names(usable)}",
                         device=text)
    exact = [d for d in usable if d.name.lower() == text.lower()]
    partial = [d for d in usable if text.lower() in d.name.lower()]
    found = exact or partial
    if len(found) == 1 or exact:
        return DeviceChoice(found[0].index)
    if not found:
        raise AudioError(f"no {kind} device named {text!r}; {_names(usable)}", device=text)
    raise AudioError(f"{text!r} matches several {kind} devices: {', '.join(d.name for d in found)}; use an index",
                     device=text)


def _names(devices: list[DeviceInfo]) -> str:
    if not devices:
        return "there are none (see `agent devices`)"
    return "available: " + ", ".join(f"{d.index}: {d.name}" for d in devices)


def open_input(settings: Settings) -> AudioInput:
    """The configured microphone, or `AudioError` with the one reason there is none."""
    try:
        devices = list_devices(refresh=True)
        portaudio, error = True, None
    except AudioError as exc:
        devices, portaudio, error = [], False, str(exc)
    ins = [d for d in devices if d.inputs > 0]
    choice = None
    if ins:
        try:
            choice = resolve_device(settings.voice.input_device, devices, "input")
        except AudioError as exc:
            error = str(exc)
    picked = choose_backend("input", portaudio=portaudio, devices=len(ins), device_error=error)
    if picked.backend == "none" or choice is None:
        raise AudioError(picked.reason if portaudio else error or picked.reason, device="microphone")
    return SoundDeviceInput(choice)


def open_output(settings: Settings) -> AudioOutput | None:
    """The configured speaker, or None (logged) when there is none."""
    try:
        devices = list_devices()
    except AudioError as exc:
        _LOGGER.warning("replies will not be spoken: %s", exc)
        return None
    outs = [d for d in devices if d.outputs > 0]
    error = None
    choice = None
    try:
        choice = resolve_device(settings.voice.output_device, devices, "output")
    except AudioError as exc:
        error = str(exc)
    picked = choose_backend("output", portaudio=True, devices=len(outs), device_error=error)
    if picked.backend == "none" or choice is None:
        _LOGGER.warning("replies will not be spoken: %s", picked.reason)
        return None
    return SoundDeviceOutput(choice)
