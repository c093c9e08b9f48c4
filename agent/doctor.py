"""`agent doctor`: what works on this machine, with the fix for each missing piece."""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agent.errors import ModelError
from agent.models.catalog import DEFAULT_LLM, embedded_llms, embedder_files, llm_path
from agent.services import Services
from agent.store.faults import disk_full
from agent.store.health import check_stores, repair_store

__all__ = ["Check", "repair_stores", "run_checks"]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    state: str = ""  # shown instead of ok/MISSING when set (a store: ok, new, damaged, full, unavailable)


def _store_checks(services: Services) -> list[Check]:
    """Each store with its state (`PRAGMA quick_check`), and the free space on the disk holding the data dir."""
    out = [Check(f"store: {s.name}", s.ok, s.detail, s.fix, s.state) for s in check_stores(services.paths.data)]
    data = services.paths.data
    full = disk_full(data)
    free_mb = shutil.disk_usage(data).free // 2**20 if data.exists() else 0
    out.append(Check("disk space", not full, f"{free_mb} MB free on the disk holding {data}",
                     f"the disk holding {data} is full: free some space (reads work, nothing new is saved)",
                     "full" if full else "ok"))
    return out


def repair_stores(services: Services, now: datetime | None = None) -> list[tuple[Path, Path]]:
    """Move every damaged store aside (dated name, never deleted) and start it fresh; [(store, moved to)]."""
    moved = []
    for state in check_stores(services.paths.data):
        if state.state == "damaged" or (state.state == "unavailable" and state.path.is_dir()):
            moved.append((state.path, repair_store(state.path, now)))
    return moved


def _model_checks(services: Services) -> list[Check]:
    out = []
    llm = services.settings.llm
    bigger = ("for real open-ended chat, set llm.model_path to a bigger GGUF or llm.server_url to an Ollama / "
              "llama.cpp server")
    if llm.server_url:
        out.append(Check("chat model", True, f"{llm.server_model or '(server default)'} at {llm.server_url}"))
    else:
        try:
            path = llm_path(services.settings)
            embedded = llm.model_path is None or str(llm.model_path) in embedded_llms()
            note = f" (the small embedded {llm.model_path or DEFAULT_LLM}; {bigger})" if embedded else ""
            out.append(Check("chat model", True, f"{path}{note}"))
        except ModelError as exc:
            out.append(Check("chat model", False, str(exc), exc.fix))
    try:
        onnx, _tok = embedder_files(services.settings)
        out.append(Check("embedding model", True, str(onnx)))
    except ModelError as exc:
        out.append(Check("embedding model", False, str(exc), exc.fix))
    return out


def _module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _audio_checks() -> list[Check]:
    out = []
    if not _module("sounddevice"):
        return [Check("audio in/out", False, "sounddevice not installed", "run `make run` (installs it)")]
    try:
        import sounddevice as sd

        devices = sd.query_devices()
        ins = [d for d in devices if d["max_input_channels"] > 0]
        outs = [d for d in devices if d["max_output_channels"] > 0]
        out.append(Check("microphone", bool(ins), f"{len(ins)} input device(s)",
                         "start PulseAudio, or plug in a microphone; the agent works text-only meanwhile"))
        out.append(Check("speaker", bool(outs), f"{len(outs)} output device(s)",
                         "start PulseAudio or connect an output; replies go to notifications meanwhile"))
    except Exception as exc:  # PortAudio missing or no server
        out.append(Check("audio in/out", False, f"{exc.__class__.__name__}: {exc}",
                         "install libportaudio2 and start PulseAudio (`make run` does both where apt exists)"))
    return out


def run_checks(services: Services) -> list[Check]:
    checks = _model_checks(services)
    checks.append(Check("llama.cpp", _module("llama_cpp"), "llama-cpp-python",
                        "run `make run` (builds llama-cpp-python with safe CPU flags)"))
    checks.extend(_audio_checks())
    from agent.speech.models import speech_checks

    checks.extend(Check(*row) for row in speech_checks(services.settings))
    display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    checks.append(Check("display", bool(display), f"DISPLAY={display}" if display else "no display",
                        "run inside a desktop session (or Xvfb); the agent runs text-only without one"))
    try:
        import keyring

        backend = keyring.get_keyring()
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        ok = "fail" not in name.lower() and "null" not in name.lower()
        checks.append(Check("keyring", ok, name, "install a keyring backend (gnome-keyring, KWallet, or "
                                                 "keyrings.cryptfile) for the password vault"))
    except ImportError:
        checks.append(Check("keyring", False, "keyring not installed", "run `make run`"))
    notify = shutil.which("notify-send")
    checks.append(Check("notifications", bool(notify and os.environ.get("DBUS_SESSION_BUS_ADDRESS")),
                        notify or "notify-send missing",
                        "install libnotify-bin and run a notification daemon on the session D-Bus"))
    checks.append(Check("data dir", os.access(services.paths.data, os.W_OK), str(services.paths.data),
                        "make the data directory writable or set AGENT_HOME"))
    checks.extend(_store_checks(services))
    return checks
