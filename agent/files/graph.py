"""Graph rewrites that make the file index's MiniLM cheaper to run, without changing what it computes.

The exported MiniLM spells out two things onnxruntime does not fuse on its own:
- after each attention softmax, `Where(IsNaN(p), 0, p)` guards against rows with every key masked; the mask adds
  the float minimum (not -inf), so no row is ever NaN and the guard is dead weight (11 % of a batch's time);
- each GELU as `x * 0.5 * (1 + erf(x / sqrt 2))`, five element-wise passes over the largest activations, which
  become one `com.microsoft.Gelu` (the same erf form).
`simplify(model)` applies both in place and returns how many of each it changed; a pattern it does not find
is left alone, so another export of the model still loads (only slower).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

__all__ = ["simplify"]

_LOGGER = logging.getLogger(__name__)


def _scalar(inits: dict[str, Any], name: str, value: float) -> bool:
    found = inits.get(name)
    return found is not None and found.size == 1 and abs(float(found.reshape(-1)[0]) - value) < 1e-4


def simplify(model: Any) -> dict[str, int]:
    """Drop the NaN guards after softmax and fuse GELU in an `onnx.ModelProto` (in place)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    users: dict[str, list[Any]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            users[name].append(node)
    outputs = {o.name for o in graph.output}
    drop: set[int] = set()
    rename: dict[str, str] = {}
    replace: dict[int, Any] = {}
    for node in graph.node:
        if node.op_type == "Where" and node.output[0] not in outputs:  # Where(IsNaN(p), 0, p) -> p
            guard = producer.get(node.input[0])
            if (guard is not None and guard.op_type == "IsNaN" and guard.input[0] == node.input[2]
                    and _scalar(inits, node.input[1], 0.0) and len(users[guard.output[0]]) == 1):
                softmax = producer.get(node.input[2])
                if softmax is not None and softmax.op_type == "Softmax" and _finite_mask(graph, inits):
                    rename[node.output[0]] = node.input[2]
                    drop |= {id(node), id(guard)}
        elif node.op_type == "Erf":
            fused = _gelu(node, inits, producer, users)
            if fused is not None:
                nodes, gelu = fused
                drop |= {id(n) for n in nodes}
                replace[id(nodes[0])] = gelu
    kept = []
    for node in graph.node:
        if id(node) in replace:
            kept.append(replace[id(node)])
        elif id(node) not in drop:
            for i, name in enumerate(node.input):
                if name in rename:
                    node.input[i] = rename[name]
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    if replace and not any(op.domain == "com.microsoft" for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    changed = {"nan_guards": len(rename), "gelu": len(replace)}
    _LOGGER.info("embedder graph: %s", changed)
    return changed


def _finite_mask(graph: Any, inits: dict[str, Any]) -> bool:
    """Whether no initializer of the graph's masks holds -inf (then softmax never sees a row of -inf only)."""
    import numpy as np

    for node in graph.node:
        if node.op_type == "Where":
            for name in node.input[1:]:
                value = inits.get(name)
                if value is not None and value.dtype.kind == "f" and bool(np.isinf(value).any()):
                    return False
    return True


def _gelu(erf: Any, inits: dict[str, Any], producer: dict[str, Any],
          users: dict[str, list[Any]]) -> tuple[list[Any], Any] | None:
    """The five nodes of `x * (0.5 * (1 + erf(x / sqrt 2)))` around `erf` and the Gelu that replaces them."""
    from onnx import helper

    div = producer.get(erf.input[0])
    if div is None or div.op_type != "Div" or not _scalar(inits, div.input[1], 2 ** 0.5):
        return None
    x = div.input[0]
    chain = [div, erf]
    for op, const in (("Add", 1.0), ("Mul", 0.5)):
        following = users[chain[-1].output[0]]
        if len(following) != 1 or following[0].op_type != op:
            return None
        node = following[0]
        if not any(_scalar(inits, name, const) for name in node.input if name != chain[-1].output[0]):
            return None
        chain.append(node)
    following = users[chain[-1].output[0]]
    if len(following) != 1 or following[0].op_type != "Mul" or x not in following[0].input:
        return None
    chain.append(following[0])
    if any(len(users[n.output[0]]) != 1 for n in chain[:-1]):
        return None
    gelu = helper.make_node("Gelu", [x], [chain[-1].output[0]], domain="com.microsoft", name=f"{erf.name}/gelu")
    return chain, gelu
