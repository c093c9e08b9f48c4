"""Models: found in one place (`catalog`), loaded once and kept resident (`llm`, `embedder`)."""

__all__: list[str] = []  # import from the modules (agent.models.*)
