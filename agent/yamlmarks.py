"""YAML with positions: the plain data (PyYAML's safe loader, merge keys and anchors included) plus the line and
column of every key and value by path, and every key given twice (YAML itself keeps the last one silently).

The config file (`agent.config`) and the rule files (`agent.automation.loader`) read YAML through it, so that
their errors name file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["Loc", "Mark", "MarkedYaml", "error_mark", "load_marked"]

Loc = tuple[str | int, ...]
Mark = tuple[int, int]  # (line, column), both from 1

_MERGE = "tag:yaml.org,2002:merge"


@dataclass
class MarkedYaml:
    """`data`, and where each part of it stands in the text: `keys[path]`, `values[path]`, and `duplicates` as
    (path, mark of the repeated key, mark of its first appearance)."""

    data: Any = None
    keys: dict[Loc, Mark] = field(default_factory=dict)
    values: dict[Loc, Mark] = field(default_factory=dict)
    duplicates: list[tuple[Loc, Mark, Mark]] = field(default_factory=list)

    def mark(self, loc: Loc, *, key: bool = False) -> Mark:
        """Where `loc` stands (its key's mark when `key`), or its nearest ancestor's; (1, 1) when none is known."""
        for n in range(len(loc), -1, -1):
            part = loc[:n]
            if key and part in self.keys:
                return self.keys[part]
            if part in self.values:
                return self.values[part]
        return (1, 1)


def _mark(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _walk(doc: MarkedYaml, ctor: yaml.SafeLoader, node: yaml.Node, loc: Loc) -> None:
    doc.values[loc] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue
            key = ctor.construct_object(key_node)
            here = (*loc, key if isinstance(key, (str, int)) else str(key))
            if here in doc.keys:
                doc.duplicates.append((here, _mark(key_node), doc.keys[here]))
            else:
                doc.keys[here] = _mark(key_node)
            _walk(doc, ctor, value_node, here)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(doc, ctor, item, (*loc, i))


def load_marked(text: str) -> MarkedYaml:
    """The document in `text` with its marks (data None for an empty document); raises `yaml.YAMLError`."""
    ctor = yaml.SafeLoader(text)
    try:
        node = ctor.get_single_node()
        doc = MarkedYaml()
        if node is not None:
            _walk(doc, ctor, node, ())
            doc.data = ctor.construct_document(node)
        return doc
    finally:
        ctor.dispose()


def error_mark(exc: yaml.YAMLError) -> Mark | None:
    """Where PyYAML found the problem (`problem_mark`, else `context_mark`), if it says."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return (mark.line + 1, mark.column + 1) if mark is not None else None
