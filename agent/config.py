"""Typed settings: defaults < the YAML config file < `AGENT_*` environment variables.

Nested fields use `__` in variables: `AGENT_LLM__CONTEXT_SIZE=4096`. Unknown keys are an error that
names the key and the file and line it came from.
"""

from __future__ import annotations

import contextvars
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from agent.errors import ConfigError
from agent.paths import Paths, get_paths
from agent.yamlmarks import MarkedYaml, error_mark, load_marked

__all__ = [
    "APISettings",
    "ArgSpec",
    "AutomationSettings",
    "CommandSpec",
    "EmbedderSettings",
    "ExecutorSettings",
    "HistorySettings",
    "FilesSettings",
    "LLMSettings",
    "RouterSettings",
    "Settings",
    "UISettings",
    "VaultSettings",
    "VoiceSettings",
    "load_settings",
]

_LOGGER = logging.getLogger(__name__)
_ENV: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("agent_env", default=None)


class _EnvSource(EnvSettingsSource):
    """`AGENT_*` variables from the mapping `load_settings` was given (the process environment by default)."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = _ENV.get()
        if env is None:
            return super()._load_env_vars()
        return parse_env_vars(env, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LLMSettings(_Strict):
    """The llama.cpp model used for routing help, argument extraction and chat."""

    enabled: bool = True
    model_path: Path | None = Field(None, description="Any GGUF file; default: the embedded model")
    context_size: int = Field(2048, ge=256, le=131072)
    threads: int | None = Field(None, ge=1, description="Default: the number of physical cores")
    gpu_layers: int = Field(0, ge=-1)
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(256, ge=1, le=8192)
    server_url: str | None = Field(None, description="OpenAI-compatible server (llama.cpp server, Ollama)")
    server_model: str | None = None
    history_turns: int = Field(6, ge=0, le=100)


class EmbedderSettings(_Strict):
    model_path: Path | None = Field(None, description="ONNX sentence-embedding model; default: embedded MiniLM")
    tokenizer_path: Path | None = None
    threads: int | None = Field(None, ge=1, le=256, description="ONNX threads; default: the physical cores")


RouterTier = Literal["context", "template", "semantic", "llm"]
_ALL_TIERS: tuple[RouterTier, ...] = ("context", "template", "semantic", "llm")


class RouterSettings(_Strict):
    """The semantic tier decides when `score + margin >= semantic_threshold` and `score >= semantic_floor`
    (score: similarity to the best skill's examples; margin: lead over the runner-up). Otherwise it is unsure
    and hands its short list to the LLM tier (or to chat when no LLM is available)."""

    semantic_threshold: float = Field(0.55, ge=0.0, le=2.0)
    semantic_floor: float = Field(0.35, ge=0.0, le=1.0)
    llm_candidates: int = Field(3, ge=1, le=10)
    tiers: list[RouterTier] = Field(
        default_factory=lambda: list(_ALL_TIERS),
        description="which router tiers run (chat is always the last resort); for measurement and debugging")
    use_llm: bool = Field(True, description="let the LLM fill arguments the rules could not extract")
    llm_rerank: bool = Field(False, description="let the LLM pick among the unsure short list (off: measured "
                             "less accurate than the semantic tier with the embedded models; see BENCHMARKS.md)")
    home_assistant_sentences: bool = Field(True, description="also match Home Assistant's English sentences "
                                           "(home-assistant-intents) for timers, media, volume, time, shopping list")


class HistorySettings(_Strict):
    enabled: bool = True
    max_turns: int = Field(1000, ge=10, le=1_000_000)
    follow_up_s: float = Field(300.0, ge=0, description="how long a follow-up may refer to the previous turn")


class ArgSpec(_Strict):
    """How one argument of an allow-listed command is validated."""

    type: Literal["str", "int", "path", "choice"] = "str"
    pattern: str | None = Field(None, description="Full-match regular expression for str arguments")
    choices: list[str] = Field(default_factory=list)
    min: int | None = None
    max: int | None = None
    max_length: int = 256
    must_exist: bool = False
    default: str | int | None = None
    secret: bool = False


class CommandSpec(_Strict):
    """One allow-listed command: an argv template, never a shell line."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_.-]*$")
    argv: list[str] = Field(min_length=1, description="e.g. ['du', '-sh', '{path}']")
    args: dict[str, ArgSpec] = Field(default_factory=dict)
    destructive: bool = False
    description: str = ""
    timeout_s: float | None = Field(None, gt=0)


class ExecutorSettings(_Strict):
    timeout_s: float = Field(15.0, gt=0)
    output_cap_bytes: int = Field(64 * 1024, ge=1024)
    confirmation_ttl_s: float = Field(120.0, gt=0)


class FilesSettings(_Strict):
    """File indexing and search (`files.index`, `files.search`)."""

    chroma_url: str | None = Field(None, description="A Chroma server (http://host:port); default: a local store")
    chunk_chars: int = Field(800, ge=100, le=20_000)
    chunk_overlap: int = Field(120, ge=0, le=5_000)
    max_file_mb: float = Field(20.0, gt=0)
    exclude: list[str] = Field(default_factory=list, description="Glob patterns of files or folders to skip, "
                               "besides the secret-bearing ones always skipped (agent/files/secrets.py)")
    watch_debounce_s: float = Field(2.0, ge=0.05, le=600)


class VaultSettings(_Strict):
    """The password vault (`password.*`)."""

    clipboard_clear_s: int = Field(30, ge=1, le=3600, description="clear a copied password after this long")
    generated_ttl_s: int = Field(60, ge=0, le=3600, description="how long a generated password can still be saved")


class AutomationSettings(_Strict):
    """The rule engine (`agent/automation`): rules from the shipped `rules/` folder and `<config>/rules/`."""

    enabled: bool = True
    tick_s: float = Field(10.0, ge=0.1, le=3600, description="how often metric, process and schedule triggers run")
    default_rules: bool = Field(True, description="load the rules shipped with the agent")
    rule_dirs: list[Path] = Field(default_factory=list, description="more folders of rule files")
    desktop_notify: bool = Field(True, description="notify actions also show a desktop notification (notify-send)")


class APISettings(_Strict):
    """The local HTTP API (`agent/api`), served by `agent run` and `agent api`."""

    enabled: bool = True
    host: str = Field("127.0.0.1", max_length=255, description="a loopback address (127.0.0.1, 127.0.0.2, ::1, "
                      "localhost); any other address is refused unless allow_non_loopback is true")
    port: int = Field(8765, ge=0, le=65535, description="0: pick a free port (written to <data>/api/server.json)")
    allow_non_loopback: bool = Field(False, description="serve on a non-loopback address (other machines can "
                                     "reach it; the token is still required)")
    max_body_bytes: int = Field(256 * 1024, ge=1024, le=64 * 1024 * 1024)


class UISettings(_Strict):
    """The desktop face of `agent run`: tray icon, hotkey prompt window, desktop notifications."""

    tray: bool = Field(True, description="show the tray icon and the hotkey prompt when a display is available")
    hotkey: str = Field("<ctrl>+<alt>+<space>", pattern=r"^(<[a-z0-9_]+>|[^+<>\s])(\+(<[a-z0-9_]+>|[^+<>\s]))*$",
                        description="global hotkey that opens the prompt window (pynput syntax, e.g. <cmd>+j)")
    notifications: bool = Field(True, description="show alerts (rules, reminders) as desktop notifications")
    notification_timeout_s: float = Field(10.0, ge=0, le=3600, description="0: the notification server decides")
    speak_replies: bool = Field(False, description="also speak the prompt window's replies")
    recent: int = Field(5, ge=0, le=20, description="how many recent replies and alerts the tray menu lists")
    preload: bool = Field(True, description="load the router's models right after start (a fast first answer)")


class VoiceSettings(_Strict):
    """Speech in and out (`agent/speech`): microphone, wake phrase, push-to-talk, Whisper, Piper. See README "Voice"."""

    enabled: bool = Field(True, description="listen and speak when a microphone is available (else text-only)")
    input_device: str | int | None = Field(None, description="microphone: index, name (or a unique part of it), "
                                           "or pulse:SOURCE; default: the system default (see `agent devices`)")
    output_device: str | int | None = Field(None, description="speaker: index, name, or pulse:SINK")
    wake_word: bool | str = Field("hey_jarvis", description="how the agent wakes: an openWakeWord model (hey_jarvis, "
                                  "hey_mycroft, alexa, okay_nabu, hey_rhasspy, or a .tflite path; nothing is "
                                  "transcribed before it fires), 'phrase' (Whisper listens for wake_phrase), or "
                                  "'off' (push-to-talk / hands-free only); true: hey_jarvis, false: off")
    wake_word_threshold: float = Field(0.5, ge=0.05, le=0.99, description="openWakeWord probability that wakes")
    wake_phrase: str = Field("hey computer", min_length=2, max_length=60, description="the custom phrase for "
                             "wake_word: phrase")
    wake_threshold: float = Field(0.75, ge=0.3, le=1.0, description="fuzzy match needed to accept the wake phrase")
    hands_free: bool = Field(False, description="every utterance is a request, no wake phrase (quiet rooms, tests); "
                             "a tap on the push-to-talk key toggles it")
    ptt_key: str | None = Field("<ctrl>+<alt>+v", pattern=r"^(<[a-z0-9_]+>|[^+<>\s])(\+(<[a-z0-9_]+>|[^+<>\s]))*$",
                                description="push-to-talk: hold to talk, tap to toggle hands-free; null: off")
    tap_s: float = Field(0.35, ge=0.05, le=2.0, description="a press shorter than this is a tap")
    follow_up_s: float = Field(6.0, ge=0, le=120, description="after a reply, accept a request without the wake phrase")
    speak_replies: bool = Field(True, description="speak the replies to voice requests")
    chime: bool = Field(True, description="a short chime when the agent starts listening")
    whisper_model: Path | None = Field(None, description="any CTranslate2 Whisper model folder, or 'base' for the "
                                       "embedded multilingual Whisper base; default: embedded tiny.en")
    whisper_compute_type: str = Field("int8", description="int8, int8_float32, float32, ...")
    whisper_beam_size: int = Field(1, ge=1, le=10)
    whisper_hypotheses: int = Field(5, ge=1, le=10, description="candidate transcripts per command (beam search); "
                                    "the one the router understands best wins among the acoustically likely ones")
    whisper_bias: bool = Field(True, description="prompt Whisper with the skills' example commands, so command "
                               "words are expected")
    whisper_threads: int | None = Field(None, ge=1, le=64, description="default: the number of cores (max 4)")
    whisper_window_s: float = Field(10.0, ge=1.0, le=30.0, description="encoder window for short commands (30: "
                                    "standard Whisper; 10 measured 4x faster with the same words)")
    piper_voice: Path | None = Field(None, description="any Piper voice (.onnx with its .onnx.json); default: "
                                     "embedded en_US-joe-medium")
    vad_threshold: float = Field(0.5, gt=0.0, lt=1.0, description="Silero speech probability that starts speech")
    vad_neg_threshold: float = Field(0.35, gt=0.0, lt=1.0, description="probability below which it is silence")
    vad_min_speech_ms: int = Field(200, ge=32, le=5000, description="shorter bursts are ignored")
    vad_min_silence_ms: int = Field(500, ge=100, le=5000, description="silence that ends an utterance")
    early_end_ms: int = Field(100, ge=0, le=5000, description="what was heard is transcribed from the first silent "
                              "window on; a complete request (\"what time is it\") ends the turn once the silence "
                              "lasts this long; open requests (\"set a timer for ...\") wait for "
                              "vad_min_silence_ms; 0: off")
    max_utterance_s: float = Field(15.0, ge=2.0, le=60.0)


class Settings(BaseSettings):
    """Every setting the agent reads. See README "Configuration"."""

    model_config = SettingsConfigDict(env_prefix="AGENT_", env_nested_delimiter="__", extra="forbid")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    console_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    log_text: bool = Field(False, description="debugging only: write what is said and argument values to the log "
                                              "(at DEBUG level; the log says so when this is on)")
    speak_replies: bool = False
    llm: LLMSettings = Field(default_factory=LLMSettings)
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    router: RouterSettings = Field(default_factory=RouterSettings)
    history: HistorySettings = Field(default_factory=HistorySettings)
    executor: ExecutorSettings = Field(default_factory=ExecutorSettings)
    commands: list[CommandSpec] = Field(default_factory=list, description="User allow-listed commands")
    automation: AutomationSettings = Field(default_factory=AutomationSettings)
    files: FilesSettings = Field(default_factory=FilesSettings)
    vault: VaultSettings = Field(default_factory=VaultSettings)
    ui: UISettings = Field(default_factory=UISettings)
    api: APISettings = Field(default_factory=APISettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest first: environment, then the YAML file (passed as init kwargs), then defaults.
        return (_EnvSource(settings_cls), init_settings)


def _read_text(path: Path) -> str:
    """The file as UTF-8 text; bytes that are not UTF-8 are a `ConfigError` naming the line."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"byte 0x{raw[exc.start]:02x} at column {column} is not UTF-8 text (save the file as "
                          "UTF-8)", file=path, line=line) from None


def _load_yaml_with_marks(path: Path) -> tuple[dict[str, Any], MarkedYaml]:
    try:
        doc = load_marked(_read_text(path))
    except yaml.YAMLError as exc:
        mark = error_mark(exc)
        raise ConfigError(f"not valid YAML: {exc}", file=path, line=mark[0] if mark else None) from exc
    if doc.duplicates:  # YAML would keep the last silently
        loc, (line, _), (first, _) = doc.duplicates[0]
        dotted = ".".join(str(p) for p in loc)
        raise ConfigError(f"key '{dotted}' is given twice (first on line {first}); keep one", file=path, line=line)
    data = {} if doc.data is None else doc.data
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping of settings", file=path, line=1)
    return data, doc


def _config_path(paths: Paths, env: dict[str, str]) -> Path:
    explicit = env.get("AGENT_CONFIG")
    return Path(explicit).expanduser() if explicit else paths.config_file


def load_settings(paths: Paths | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read the YAML file (if any) and the environment into `Settings`, or raise `ConfigError`."""
    env = dict(os.environ) if env is None else env
    paths = paths or get_paths(env)
    path = _config_path(paths, env)
    data: dict[str, Any] = {}
    marks = MarkedYaml()
    if path.exists():
        data, marks = _load_yaml_with_marks(path)
    elif "AGENT_CONFIG" in env:
        raise ConfigError("config file not found", file=path)
    token = _ENV.set(env)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise _config_error(exc, path, data, marks) from None
    finally:
        _ENV.reset(token)


def _config_error(exc: ValidationError, path: Path, data: dict[str, Any], marks: MarkedYaml) -> ConfigError:
    messages = []
    first_line: int | None = None
    for err in exc.errors():
        loc = tuple(err["loc"])
        dotted = ".".join(str(p) for p in loc)
        line = marks.mark(loc, key=True)[0]
        from_file = bool(loc) and loc[0] in data
        if err["type"] == "extra_forbidden":
            text = f"unknown key '{dotted}'"
        else:
            text = f"'{dotted}': {err['msg']}"
        if from_file:
            first_line = first_line or line
            messages.append(f"{text} (line {line})" if line else text)
        else:
            env_name = "AGENT_" + "__".join(str(p).upper() for p in loc)
            messages.append(f"{text} (from environment variable {env_name})")
    return ConfigError("; ".join(messages), file=path, line=first_line)
