"""Request and response models of the local API. Inputs forbid unknown fields and carry limits; text must be
valid Unicode without NUL characters (it ends up in logs, SQLite and the models)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AlertsResponse",
    "AskRequest",
    "AskResponse",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "ConfirmRequest",
    "ErrorResponse",
    "HealthResponse",
    "ModelLoadRequest",
    "ModelLoadResponse",
    "ModelOut",
    "ModelsResponse",
    "ReadyResponse",
    "ReloadResponse",
    "RulesResponse",
    "SkillOut",
    "SkillsResponse",
    "TraceResponse",
    "UnloadResponse",
]

TEXT_MAX = 2000
CHAT_TEXT_MAX = 4000
CHAT_TURNS_MAX = 20
CHAT_TOTAL_MAX = 8000  # characters in all turns together
RULE_ID = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"
CONFIRMATION_ID = r"^[0-9a-f]{32,64}$"
MODEL_NAME = r"^([a-z0-9][a-z0-9._-]*|/.*\.[gG][gG][uU][fF])$"  # an embedded model, or an absolute .gguf path
STATES = Literal["ok", "needs_confirmation", "refused", "unsupported", "error"]


def _clean(text: str) -> str:
    if "\x00" in text:
        raise ValueError("text may not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    if not text.strip():
        raise ValueError("text may not be blank")
    return text.strip()


Text = Annotated[str, Field(min_length=1, max_length=TEXT_MAX), AfterValidator(_clean)]
ChatText = Annotated[str, Field(min_length=1, max_length=CHAT_TEXT_MAX), AfterValidator(_clean)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """Every error: a clear message, and for invalid input the problems field by field."""

    error: str
    detail: list[ErrorDetail] | None = None


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str
    uptime_s: float


class ModelsReady(BaseModel):
    router_loaded: bool
    llm_loaded: str | None
    llm_error: str | None


class AudioReady(BaseModel):
    available: bool
    inputs: int
    outputs: int
    detail: str


class RulesReady(BaseModel):
    running: bool
    loaded: int
    firing: int


class ReadyResponse(BaseModel):
    """`ready`: the router's models are resident, so `/api/ask` answers without a load first."""

    ready: bool
    models: ModelsReady
    audio: AudioReady
    rules: RulesReady


class AskRequest(_In):
    text: Text  # no field skips a confirmation: the API answers one only through POST /api/confirm/{id}
    dry_run: bool = Field(False, description="route and validate, execute nothing")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "what is 6 times 7"}]})


class AskResponse(BaseModel):
    """The same object as `agent ask --json`. With state `needs_confirmation`, `confirmation` is the id to
    pass to `POST /api/confirm/{id}`."""

    input: str
    skill: str
    args: dict[str, Any]
    tier: str
    state: STATES
    reply: str
    timings_ms: dict[str, float]
    confirmation: str | None
    data: dict[str, Any]


class ConfirmRequest(_In):
    granted: bool = Field(True, description="false: refuse the action")


class ChatMessage(_In):
    role: Literal["user", "assistant"]
    content: ChatText


class ChatRequest(_In):
    """A conversation, oldest first, ending with the user's turn. The agent adds its own system prompt."""

    messages: list[ChatMessage] = Field(min_length=1, max_length=CHAT_TURNS_MAX)
    max_tokens: int | None = Field(None, ge=1, le=2048, description="capped by llm.max_tokens")

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"messages": [{"role": "user", "content": "Say hello in one sentence."}]}]})

    @model_validator(mode="after")
    def _ends_with_user(self) -> ChatRequest:
        if self.messages[-1].role != "user":
            raise ValueError("the last message must be the user's")
        if sum(len(m.content) for m in self.messages) > CHAT_TOTAL_MAX:
            raise ValueError(f"the conversation is over {CHAT_TOTAL_MAX} characters; send fewer or shorter turns")
        return self


class ChatResponse(BaseModel):
    reply: str
    model: str
    ms: float


class ModelOut(BaseModel):
    kind: str
    name: str
    path: str | None
    source: str
    available: bool
    size_mb: float


class ModelsResponse(BaseModel):
    loaded: str | None
    error: str | None = Field(description="why the language model is unavailable, if it is")
    models: list[ModelOut]


class ModelLoadRequest(_In):
    model: Annotated[str, Field(min_length=1, max_length=4096, pattern=MODEL_NAME,
                                description="an embedded model's name, or the absolute path of a .gguf file",
                                examples=["smollm2-135m-instruct"]), AfterValidator(_clean)]


class ModelLoadResponse(BaseModel):
    loaded: str
    ms: float


class UnloadResponse(BaseModel):
    unloaded: str | None
    loaded: None = None


class SkillOut(BaseModel):
    name: str
    description: str
    examples: list[str]
    changes_system: bool
    implemented: bool
    plugin: str
    args: dict[str, Any] = Field(description="the JSON schema of the skill's arguments")


class SkillsResponse(BaseModel):
    count: int
    skills: list[SkillOut]


class RulesResponse(BaseModel):
    """`running`: the resident engine runs them (`agent run`); otherwise they are only loaded and checked."""

    running: bool
    rules: list[dict[str, Any]]
    invalid: list[str]
    problems: list[str]


class ReloadResponse(BaseModel):
    running: bool
    rules: int
    errors: list[str]


class TraceResponse(BaseModel):
    rule: str
    traces: list[dict[str, Any]]


class AlertOut(BaseModel):
    ts: float
    rule: str | None
    title: str | None
    message: str | None
    severity: str | None
    shown: bool


class AlertsResponse(BaseModel):
    alerts: list[AlertOut]
    findings: list[dict[str, Any]]
