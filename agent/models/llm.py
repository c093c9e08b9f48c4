"""Language models: llama.cpp in-process (kept resident), or an OpenAI-compatible server.

`ModelManager` loads a model once, on first use, and keeps it; models can be listed, loaded and
unloaded at run time. A missing or corrupt model raises `ModelError` (the router then keeps working on
its cheaper tiers).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from agent.config import LLMSettings, Settings
from agent.errors import ModelError
from agent.models.catalog import embedded_llms, llm_path

__all__ = ["LLM", "LocalLLM", "ModelManager", "ServerLLM"]

_LOGGER = logging.getLogger(__name__)

# Every loaded llama.cpp model, closed by an exit hook while the interpreter is still whole: freed later (during
# interpreter shutdown, when the ctypes bindings are gone) Llama.__del__ prints "Exception ignored ... TypeError".
_LOADED: weakref.WeakSet[Any] = weakref.WeakSet()


@atexit.register
def _close_loaded() -> None:
    for llm in list(_LOADED):
        try:
            llm.close()
        except Exception:  # exiting anyway: never a traceback at exit
            _LOGGER.debug("closing %s at exit failed", getattr(llm, "name", llm), exc_info=True)


class LLM(Protocol):
    name: str

    def complete(self, prompt: str, *, schema: dict[str, Any] | None = None, max_tokens: int = 64,
                 stop: list[str] | None = None, temperature: float | None = None) -> str: ...

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int | None = None) -> str: ...

    def close(self) -> None: ...


def _physical_cores() -> int:
    try:
        import psutil

        return max(1, psutil.cpu_count(logical=False) or os.cpu_count() or 1)
    except Exception:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


class LocalLLM:
    """A GGUF model in llama.cpp. Calls are serialised: one context, one prompt at a time."""

    def __init__(self, path: Path, settings: LLMSettings) -> None:
        self.path = path
        self.name = path.stem
        self.settings = settings
        self._lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError("llama-cpp-python is not installed", model=self.name,
                             fix="run `make run` once (it builds llama-cpp-python)") from exc
        if not path.is_file():
            raise ModelError(f"file not found: {path}", model=self.name, fix="check llm.model_path")
        with path.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelError(f"{path} is not a GGUF file", model=self.name,
                                 fix="point llm.model_path at a .gguf model")
        started = time.perf_counter()
        try:
            self._llama = Llama(
                model_path=str(path), n_ctx=settings.context_size,
                n_threads=settings.threads or _physical_cores(), n_gpu_layers=settings.gpu_layers,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"could not load {path}: {exc}", model=self.name,
                             fix="the file may be corrupt or truncated; download it again") from exc
        self.load_ms = (time.perf_counter() - started) * 1000
        _LOADED.add(self)
        _LOGGER.info("loaded %s in %.0f ms", path, self.load_ms)

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def complete(self, prompt: str, *, schema: dict[str, Any] | None = None, max_tokens: int = 64,
                 stop: list[str] | None = None, temperature: float | None = None) -> str:
        with self._lock:
            out = self._llama.create_completion(
                prompt, max_tokens=max_tokens, stop=stop or [],
                temperature=self.settings.temperature if temperature is None else temperature,
                grammar=self._grammar(schema) if schema else None,
            )
        return str(out["choices"][0]["text"])  # type: ignore[index]

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int | None = None) -> str:
        with self._lock:
            out = self._llama.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens or self.settings.max_tokens,
                temperature=self.settings.temperature,
                repeat_penalty=1.3,
            )
        return str(out["choices"][0]["message"]["content"] or "").strip()  # type: ignore[index]

    def chat_stream(self, messages: list[dict[str, str]], *, max_tokens: int | None = None) -> Iterator[str]:
        """`chat`, piece by piece as the model produces it. Holds the model until the iterator ends or is closed."""
        with self._lock:
            chunks = self._llama.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens or self.settings.max_tokens,
                temperature=self.settings.temperature,
                repeat_penalty=1.3,
                stream=True,
            )
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")  # type: ignore[index, union-attr]
                if piece:
                    yield str(piece)

    def close(self) -> None:
        with self._lock:
            self._llama.close()


class ServerLLM:
    """An OpenAI-compatible server on the user's machine or network (llama.cpp server, Ollama)."""

    def __init__(self, url: str, settings: LLMSettings) -> None:
        self.url = url.rstrip("/")
        self.settings = settings
        self.name = settings.server_model or "server"

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.settings.server_model:
            body["model"] = self.settings.server_model
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - user-configured URL
                return dict(json.loads(resp.read()))
        except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"server {self.url} failed: {exc}", model=self.name,
                             fix="start the server or fix llm.server_url") from exc

    def complete(self, prompt: str, *, schema: dict[str, Any] | None = None, max_tokens: int = 64,
                 stop: list[str] | None = None, temperature: float | None = None) -> str:
        body: dict[str, Any] = {"prompt": prompt, "max_tokens": max_tokens, "stop": stop or [],
                                "temperature": self.settings.temperature if temperature is None else temperature}
        if schema:
            body["json_schema"] = schema  # llama.cpp's server
            body["format"] = schema  # Ollama
            try:  # llama-cpp-python's server takes a GBNF grammar
                from llama_cpp.llama_grammar import json_schema_to_gbnf

                body["grammar"] = json_schema_to_gbnf(json.dumps(schema))
            except ImportError:
                pass
        return str(self._post("/v1/completions", body)["choices"][0]["text"])

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int | None = None) -> str:
        body = {"messages": messages, "max_tokens": max_tokens or self.settings.max_tokens,
                "temperature": self.settings.temperature}
        return str(self._post("/v1/chat/completions", body)["choices"][0]["message"]["content"]).strip()

    def chat_stream(self, messages: list[dict[str, str]], *, max_tokens: int | None = None) -> Iterator[str]:
        """`chat`, piece by piece: the server's server-sent events (`data: {...}` lines, then `data: [DONE]`)."""
        body: dict[str, Any] = {"messages": messages, "max_tokens": max_tokens or self.settings.max_tokens,
                                "temperature": self.settings.temperature, "stream": True}
        if self.settings.server_model:
            body["model"] = self.settings.server_model
        req = urllib.request.Request(self.url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - user-configured URL
                for raw in resp:
                    line = raw.decode("utf-8", "replace").strip()
                    if not line.startswith("data:") or line == "data: [DONE]":
                        continue
                    piece = json.loads(line[5:])["choices"][0].get("delta", {}).get("content")
                    if piece:
                        yield str(piece)
        except (urllib.error.URLError, OSError, json.JSONDecodeError, KeyError, IndexError) as exc:
            raise ModelError(f"server {self.url} failed: {exc}", model=self.name,
                             fix="start the server or fix llm.server_url") from exc

    def close(self) -> None:
        return None


class ModelManager:
    """Loads the configured model on first use and keeps it resident; list/load/unload at run time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._current: LLM | None = None
        self._error: ModelError | None = None

    @property
    def enabled(self) -> bool:
        return self.settings.llm.enabled

    @property
    def last_error(self) -> ModelError | None:
        return self._error

    def get(self) -> LLM:
        """The resident model, loading it if needed; raises `ModelError` (remembered, not retried)."""
        with self._lock:
            if self._current is not None:
                return self._current
            if self._error is not None:
                raise self._error
            if not self.enabled:
                self._error = ModelError("disabled in config", model="llm", fix="set llm.enabled: true")
                raise self._error
            try:
                if self.settings.llm.server_url:
                    self._current = ServerLLM(self.settings.llm.server_url, self.settings.llm)
                else:
                    self._current = LocalLLM(llm_path(self.settings), self.settings.llm)
            except ModelError as exc:
                _LOGGER.warning("language model unavailable: %s", exc)
                self._error = exc
                raise
            return self._current

    def available(self) -> bool:
        try:
            self.get()
        except ModelError:
            return False
        return True

    def load(self, name_or_path: str) -> LLM:
        """Switch to another model: an embedded name or a GGUF path."""
        self.unload()
        llm = self.settings.llm.model_copy(update={"model_path": Path(name_or_path), "server_url": None})
        self.settings = self.settings.model_copy(update={"llm": llm})
        return self.get()

    def unload(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.close()
            self._current = None
            self._error = None

    def loaded(self) -> str | None:
        return self._current.name if self._current is not None else None

    @staticmethod
    def embedded() -> dict[str, Path | None]:
        return embedded_llms()
