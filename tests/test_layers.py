"""The layers of docs/architecture.md, read from every module's imports (no import runs).

A module imports only its own domain, lower layers, and another domain only through that
domain's public surface (`service`, `schemas`, or a sub-package's `service`/`schemas`).
Another domain's `models` are types only: named for the type checker (`if TYPE_CHECKING:`),
or by an entry point (routes declare `User` parameters; the thin-views test keeps them from
querying). No module imports another in a circle, at module level or inside a function.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "agentladder"

# Bottom to top. Top-level modules not named here are core.
# Core packages: toolkits any layer uses freely (the file-import pipeline).
CORE_PACKAGES = {"imports"}
DOMAIN_LAYERS = {
    "core": 0,
    "reports": 1,
    "org": 2,
    "ingest": 3,
    "metrics": 4,
    "training": 5,
    "quality": 5,
    "knowledge": 5,
    "external": 5,
    "ladder": 6,
    "cycle": 7,
    "operations": 7,
}
ENTRY = 8
ENTRY_DOMAINS = {
    "web",
    "demo",
    "migrations",
    "cli",
    "__main__",
    "cli_output",
    "cli_imports",
    "tables",
}
ENTRY_MODULE_NAMES = {"views", "cli"}  # a domain's routes and commands are entry points
PUBLIC_NAMES = {"service", "schemas"}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    type_only: bool
    module_level: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((SRC / PACKAGE).rglob("*.py"))}


def _type_checking_block(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, modules: set[str]) -> list[Import]:
    """The project modules a module imports, with where and how."""
    found: list[Import] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST, type_only: bool, module_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_block(child):
                for inner in child.body:
                    visit_statement(inner, True, module_level)
                for inner in child.orelse:
                    visit_statement(inner, type_only, module_level)
                continue
            visit_statement(child, type_only, module_level)

    def visit_statement(node: ast.AST, type_only: bool, module_level: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno, type_only, module_level)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                add(
                    candidate if candidate in modules else base,
                    node.lineno,
                    type_only,
                    module_level,
                )
        else:
            inner_level = module_level and not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            visit(node, type_only, inner_level)

    def add(target: str, line: int, type_only: bool, module_level: bool) -> None:
        if target == PACKAGE or target.startswith(PACKAGE + "."):
            found.append(Import(module, target, line, type_only, module_level))

    visit(ast.parse(path.read_text(encoding="utf-8")), False, True)
    return found


def domain_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "core"
    head = parts[1]
    if head in CORE_PACKAGES:
        return "core"
    if head in DOMAIN_LAYERS or head in ENTRY_DOMAINS:
        return head
    return "core" if len(parts) == 2 else head


def layer_of(module: str) -> int:
    domain = domain_of(module)
    name = module.split(".")[-1]
    # A second router of a domain (`analysis_views`) is an entry point as its `views` is.
    if domain in ENTRY_DOMAINS or name in ENTRY_MODULE_NAMES or name.endswith("_views"):
        return ENTRY
    return DOMAIN_LAYERS.get(domain, ENTRY)


def public(module: str) -> bool:
    return module.split(".")[-1] in PUBLIC_NAMES


def violation(imported: Import) -> str | None:
    """Why an import breaks the layers, or None."""
    source, target = imported.source, imported.target
    source_domain, target_domain = domain_of(source), domain_of(target)
    if source_domain == target_domain or target_domain == "core":
        return None
    if layer_of(target) > layer_of(source):
        return f"imports a higher layer ({target_domain})"
    if layer_of(target) == ENTRY:
        return None  # entry points among themselves: only cycles are wrong
    if layer_of(target) == layer_of(source) and layer_of(source) != ENTRY:
        same_tier_siblings = layer_of(source) == DOMAIN_LAYERS["training"]
        if not same_tier_siblings:
            return f"imports a domain of its own layer ({target_domain})"
    if public(target):
        return None
    if target.split(".")[-1] == "models" and (imported.type_only or layer_of(source) == ENTRY):
        return None
    return f"reaches into {target_domain}'s internals"


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


@lru_cache(maxsize=1)
def project_imports() -> tuple[Import, ...]:
    modules = all_modules()
    names = set(modules)
    return tuple(found for name, path in modules.items() for found in imports_of(name, path, names))


def test_every_import_respects_the_layers() -> None:
    offenders = [
        f"{found.source}:{found.line} imports {found.target}: {reason}"
        for found in project_imports()
        if (reason := violation(found)) is not None
    ]
    assert offenders == []


def test_no_module_imports_another_in_a_circle() -> None:
    edges: dict[str, set[str]] = {}
    for found in project_imports():
        if found.type_only or found.target == found.source:
            continue
        # A package's __init__ runs before its modules: importing one imports it too.
        edges.setdefault(found.source, set()).add(found.target)
    for module in list(edges):
        parent = module.rpartition(".")[0]
        if parent and parent != PACKAGE:
            edges.setdefault(module, set()).add(parent)
    assert _cycles(edges) == []


def test_the_rules_catch_what_they_should() -> None:
    # The checker itself: each kind of violation is found, and the allowed forms pass.
    higher = Import("agentladder.org.service", "agentladder.ladder.service", 1, False, True)
    internal = Import("agentladder.ladder.runs", "agentladder.metrics.engine", 1, False, True)
    typed_model = Import("agentladder.training.service", "agentladder.org.models", 1, True, True)
    route_model = Import("agentladder.training.views", "agentladder.org.models", 1, False, True)
    runtime_model = Import("agentladder.training.service", "agentladder.org.models", 1, False, True)
    facade = Import("agentladder.ladder.runs", "agentladder.metrics.service", 1, False, True)
    view = Import("agentladder.ladder.views", "agentladder.web.auth", 1, False, True)
    core_up = Import("agentladder.tabular", "agentladder.org.service", 1, False, True)
    assert violation(higher) == "imports a higher layer (ladder)"
    assert violation(internal) == "reaches into metrics's internals"
    assert violation(typed_model) is None
    assert violation(route_model) is None
    assert violation(runtime_model) == "reaches into org's internals"
    assert violation(facade) is None
    assert violation(view) is None
    assert violation(core_up) == "imports a higher layer (org)"
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_domain_has_a_layer() -> None:
    packages = {
        path.name
        for path in (SRC / PACKAGE).iterdir()
        if path.is_dir() and (path / "__init__.py").exists()
    }
    assert sorted(packages - set(DOMAIN_LAYERS) - ENTRY_DOMAINS - CORE_PACKAGES) == []
