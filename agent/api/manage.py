"""Models (list, load, unload), skills, rules (list, reload, traces), the security scan and alerts."""

from __future__ import annotations

import logging
import time
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from agent.api.schemas import (
    RULE_ID,
    AlertOut,
    AlertsResponse,
    AskResponse,
    ErrorResponse,
    ModelLoadRequest,
    ModelLoadResponse,
    ModelOut,
    ModelsResponse,
    ReloadResponse,
    RulesResponse,
    SkillOut,
    SkillsResponse,
    TraceResponse,
    UnloadResponse,
)
from agent.api.state import ERRORS, ApiState, bearer, outcome_json, require_token, state_of
from agent.errors import ModelError
from agent.models.catalog import list_models

if TYPE_CHECKING:
    from agent.automation.engine import Engine

__all__ = ["router"]

_LOGGER = logging.getLogger(__name__)
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "not found"}}

router = APIRouter(dependencies=[Depends(bearer), Depends(require_token)], responses=ERRORS)


# -- models -------------------------------------------------------------------------------------------------
@router.get("/api/models", response_model=ModelsResponse, summary="the models this agent can use")
def models(request: Request) -> ModelsResponse:
    manager = state_of(request).services.models
    rows = [ModelOut(kind=m.kind, name=m.name, path=str(m.path) if m.path else None, source=m.source,
                     available=m.available, size_mb=m.size_mb) for m in list_models(manager.settings)]
    error = manager.last_error
    return ModelsResponse(loaded=manager.loaded(), error=str(error) if error else None, models=rows)


def _check_model(name: str, embedded: dict[str, FsPath | None]) -> None:
    """An embedded model's name, or the absolute path of an existing GGUF file (the schema's pattern already
    allows only those two shapes); anything else is refused before the current model is unloaded."""
    if not name.startswith("/"):
        if name not in embedded:
            raise HTTPException(404, f"no embedded model {name!r} (there are: {', '.join(sorted(embedded))}; "
                                     "or give the absolute path of a .gguf file)")
        if embedded[name] is None:
            raise HTTPException(404, f"the embedded model {name!r} is not installed (run `make run` once)")
        return
    try:
        with FsPath(name).open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise HTTPException(404, f"cannot read {name!r}: {exc.strerror or exc}") from None
    if magic != b"GGUF":
        raise HTTPException(422, f"{name!r} is not a GGUF model file")


@router.post("/api/models/load", response_model=ModelLoadResponse, responses=_NOT_FOUND,
             summary="switch the language model (an embedded name or a GGUF path)")
def load_model(request: Request, body: ModelLoadRequest) -> ModelLoadResponse:
    state = state_of(request)
    manager = state.services.models
    _check_model(body.model, manager.embedded())
    with state.models_lock:
        started = time.perf_counter()
        try:
            llm = manager.load(body.model)
        except ModelError as exc:
            raise HTTPException(422, f"could not load {body.model!r}: {exc}") from None
    return ModelLoadResponse(loaded=llm.name, ms=round((time.perf_counter() - started) * 1000, 2))


@router.post("/api/models/unload", response_model=UnloadResponse, summary="free the language model's memory")
def unload_model(request: Request) -> UnloadResponse:
    state = state_of(request)
    with state.models_lock:
        name = state.services.models.loaded()
        state.services.models.unload()
    return UnloadResponse(unloaded=name)


# -- skills -------------------------------------------------------------------------------------------------
@router.get("/api/skills", response_model=SkillsResponse, summary="every skill: name, examples, argument schema")
def skills(request: Request) -> SkillsResponse:
    out = []
    for skill in state_of(request).services.registry:
        try:
            schema = skill.args.model_json_schema()
        except Exception:  # an argument type without a JSON schema
            _LOGGER.exception("no JSON schema for the arguments of %s", skill.name)
            schema = {}
        out.append(SkillOut(name=skill.name, description=skill.description, examples=list(skill.examples),
                            changes_system=skill.changes_system, implemented=skill.run is not None,
                            plugin=skill.plugin, args=schema))
    return SkillsResponse(count=len(out), skills=out)


# -- rules --------------------------------------------------------------------------------------------------
def _engine(state: ApiState) -> tuple[Engine, bool]:
    """The resident engine (running), or rules loaded for listing only when it is not running (`agent api`)."""
    engine = state.services.automation.engine if state.services.automation is not None else None
    if engine is not None:
        return engine, True
    with state.rules_lock:
        if state.standby_engine is None:
            from agent.automation.engine import Engine

            standby = Engine(state.services)
            standby.load()
            state.standby_engine = standby
        return state.standby_engine, False


@router.get("/api/rules", response_model=RulesResponse, summary="the automation rules and their state")
def rules(request: Request) -> RulesResponse:
    engine, running = _engine(state_of(request))
    invalid = sorted({p.rule_id for p in engine.problems if p.rule_id and p.severity == "error"}
                     - set(engine.rules))
    return RulesResponse(running=running, rules=engine.status(), invalid=invalid,
                         problems=[str(p) for p in engine.problems])


@router.post("/api/rules/reload", response_model=ReloadResponse, summary="read the rule files again")
def reload_rules(request: Request) -> ReloadResponse:
    state = state_of(request)
    engine, running = _engine(state)
    with state.rules_lock:
        result = engine.reload() if running else engine.load()
    return ReloadResponse(running=running, rules=len(engine.rules), errors=[str(p) for p in result.errors])


@router.get("/api/rules/{id}/trace", response_model=TraceResponse, responses=_NOT_FOUND,
            summary="the latest runs of a rule: trigger, conditions, steps")
def trace(request: Request, id: Annotated[str, Path(pattern=RULE_ID, max_length=100)],
          n: Annotated[int, Query(ge=1, le=20)] = 5) -> TraceResponse:
    from agent.automation.store import AutomationStore

    state = state_of(request)
    store = AutomationStore.for_data_dir(state.services.paths.data)
    try:
        traces = store.traces(id, n)
    finally:
        store.close()
    if not traces and id not in _engine(state)[0].rules:
        raise HTTPException(404, f"no rule {id!r} (see GET /api/rules)")
    return TraceResponse(rule=id, traces=traces)


# -- security scan and alerts -------------------------------------------------------------------------------
@router.post("/api/scan", response_model=AskResponse, summary="run the security scan now (read-only checks)")
def scan(request: Request) -> dict[str, Any]:
    state = state_of(request)
    with state.scan_lock:  # one scan at a time (read-only checks: terminal turns need not wait for it)
        outcome = state.pipeline.run_skill("security.scan", {}, source="api")
    return outcome_json(outcome)


@router.get("/api/alerts", response_model=AlertsResponse, summary="recent alerts and open security findings")
def alerts(request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 20,
           since: Annotated[float, Query(ge=0, le=1e11, allow_inf_nan=False, description="unix time")] = 0.0,
           ) -> AlertsResponse:
    from agent.automation.store import AutomationStore

    store = AutomationStore.for_data_dir(state_of(request).services.paths.data)
    try:
        rows = store.alerts(limit=limit, since=since)
        findings = store.findings()
    finally:
        store.close()
    return AlertsResponse(alerts=[AlertOut(**row) for row in rows], findings=findings)
