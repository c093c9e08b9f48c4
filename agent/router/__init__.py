"""The router: sentence templates (hassil), the semantic tier and the LLM tier (see router.py)."""

__all__: list[str] = []  # import from the modules (agent.router.router, ...)
