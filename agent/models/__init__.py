"""Models: found in one place (`catalog`), loaded once and kept resident (`llm`, `embedder`)."""
