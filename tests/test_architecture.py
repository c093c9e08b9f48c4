"""The shape of the code, checked from the source: no import cycles, lower layers never import higher ones, and
each package's `__all__` is its real surface.

The import graph is read from the source with `ast` (every import a module runs, at the top or inside a
function; imports under `if TYPE_CHECKING:` are for the type checker only and do not count).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("agent", "tray")

# Low to high: a module may import its own layer and the layers below it, never one above. The README's
# architecture section draws the same table.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("agent", "agent._version", "agent.errors", "agent.events", "agent.bus", "agent.paths", "agent.values",
     "agent.logs", "agent.instance", "agent.display", "agent.per_agent", "agent.components", "agent.disks",
     "agent.yamlmarks", "agent.userdirs", "agent.idle"),
    ("agent.config", "agent.store"),
    ("agent.models", "agent.safety", "agent.vault", "agent.history"),
    ("agent.scheduling", "agent.files", "agent.automation", "agent.autostart"),
    ("agent.skills",),
    ("agent.router",),
    ("agent.services", "agent.pipeline"),  # the services make the one pipeline on first use
    ("agent.evaluate",),
    ("agent.notify", "agent.speech", "agent.api", "agent.doctor", "agent.personal_cli"),
    ("agent.app", "tray", "agent.cli", "agent.__main__"),
)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(name: str, path: Path) -> set[str]:
    """The project modules `name` imports when it runs (not those under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                out.update(t for a in child.names if (t := _resolve(a.name)))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[:len(package.split(".")) - child.level + 1]
                    base = ".".join([*parts, *([child.module] if child.module else [])])
                for alias in child.names:
                    target = _resolve(f"{base}.{alias.name}") if f"{base}.{alias.name}" in MODULES else _resolve(base)
                    if target:
                        out.add(target)
            visit(child)

    visit(tree)
    out.discard(name)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> int:
    best, level = "", -1
    for n, members in enumerate(LAYERS):
        for prefix in members:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, level = prefix, n
    if level < 0:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to the README's table)")
    return level


def test_there_is_no_import_cycle() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            strongconnect(module)
    assert cycles == []


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = sorted(f"{a} (layer {_layer(a)}) imports {b} (layer {_layer(b)})"
                   for a, targets in GRAPH.items() for b in targets if _layer(b) > _layer(a))
    assert wrong == []


def test_the_graph_sees_real_imports() -> None:
    """The checks above would pass on an empty graph: make sure it holds edges we know exist."""
    assert "agent.router.router" in GRAPH["agent.services"]
    assert "agent.pipeline" in GRAPH["agent.services"]  # the one pipeline, made on first use
    assert "agent.services" not in GRAPH["agent.pipeline"]  # only for the type checker
    assert sum(len(t) for t in GRAPH.values()) > 300


def _packages() -> list[str]:
    return sorted(n for n, p in MODULES.items() if p.name == "__init__.py")


@pytest.mark.parametrize("package", _packages())
def test_each_package_all_is_its_real_surface(package: str) -> None:
    """Every name in `__all__` exists, and every name other packages import from this one is in it."""
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{package} has no __all__"
    assert len(set(exported)) == len(exported), f"{package}.__all__ lists a name twice"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{package}.__all__ names what it does not define"
    used_from_outside: set[str] = set()
    for name, path in MODULES.items():
        if name == package or name.startswith(package + "."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == package and not node.level:
                used_from_outside.update(a.name for a in node.names if f"{package}.{a.name}" not in MODULES)
    assert sorted(used_from_outside - set(exported)) == [], f"imported from {package} but not in its __all__"
