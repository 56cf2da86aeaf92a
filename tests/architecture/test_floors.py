"""The house's floors run one way: the app's modules, read with `ast` (no import run), never
import each other in a circle, the service floor never reaches up to the web layer or a view,
and every import sits at a module's top, where a reader sees what the module depends on.

README's *Development* section draws the floors; `FLOORS` below is that drawing, checked."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("program", "reports")

# The one cycle kept: a person's memberships and a membership's person are one relationship,
# declared on both models (SQLAlchemy resolves it by name; the import is for typing).
ALLOWED_CYCLES = [{"program.people.models", "program.programs.models"}]
# Where an import may sit inside a function: the modules that put the app together, whose
# imports at the top would load every domain for a command that needs one.
ASSEMBLERS = {"program", "program.cli"}
# Modules that may import inside a function, with the one import each may make there.
INNER_IMPORT_ALLOWED = {("program.people.models", "program.programs.models")}

# From the ground up: a module may import its own floor or one below, never one above. The
# domains' services sit on the floors of `DOMAINS`, each of which may call only those before it.
GROUND = {
    "program.config",
    "program.db",
    "program.extensions",
    "program.version",
    "program.links",
    "program.forms",
    "program.kept",
    "program.changes",
    "program.matching",
}
# A domain's records and pure helpers (no services): any domain's may use them.
RECORDS = {
    "models",
    "stages",
    "names",
    "ics",
    "registry",
    "health",
    "parsing",
    "intros",
    "instrument",
    "cards",
}
# Read records of several domains: what a pairing is, who may do what, the settings.
ACROSS = {
    "program.models",
    "program.pairings",
    "program.permissions",
    "program.commands",
    "program.institution",
}
DOMAINS = [
    "audit",
    "people",
    "messages",
    "accounts",
    "programs",
    "roster",
    "admin",
    "surveys",
    "outcomes",
    "meetings",
    "coffee",
    "asks",
    "checkins",
    "formal",
    "chat",
    "reporting",
    "home",
]
SURFACE = (".views", ".forms", ".cli", ".pages")
TOP = {"program", "program.cli", "program.__main__", "program.worker", "program.wiring"}


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, ast.stmt, bool]]:
    """Each app module `name` imports: (module, the statement, whether inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    inner = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([base] if base else [])])
            # `from program import links` imports the module program.links, not the package.
            submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
            targets = submodules if len(submodules) == len(node.names) else [base]
        else:
            continue
        for target in targets:
            if target in known and target != name:
                yield target, node, id(node) in inner
            elif id(node) in inner and not target.startswith(PACKAGES):
                yield target, node, True


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    found = modules()
    g = nx.DiGraph()
    for name, path in found.items():
        g.add_node(name, path=path)
        for target, node, inner in imports(name, path, set(found)):
            if target in found:
                g.add_edge(name, target, line=node.lineno)
            g.nodes[name].setdefault("inner", []).append((target, node.lineno)) if inner else None
    return g


def test_the_app_imports_no_module_in_a_circle(graph):
    cycles = [
        sorted(c)
        for c in nx.strongly_connected_components(graph)
        if len(c) > 1 and set(c) not in ALLOWED_CYCLES
    ]
    assert not cycles, cycles


def test_a_cycle_is_found_when_there_is_one():
    # The checker itself: a pair of modules importing each other is one component.
    g = nx.DiGraph([("a", "b"), ("b", "a"), ("b", "c")])
    assert [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1] == [["a", "b"]]


def test_no_service_or_report_module_imports_the_web_layer_and_none_imports_a_view(graph):
    wrong = []
    for source, target in graph.edges:
        if target.endswith(".views") and source != "program":
            wrong.append((source, target))
        if target == "program.web" and not (source.endswith(SURFACE) or source in TOP):
            wrong.append((source, target))
        if source.startswith("reports") and target.startswith("program") and floor(target) > 1:
            wrong.append((source, target))  # reports read records; they never call a service
    assert not wrong, "\n".join(map(str, sorted(wrong)))


def test_imports_sit_at_the_top_of_a_module_but_where_the_app_is_put_together(graph):
    wrong = [
        (name, target, line)
        for name, data in graph.nodes(data=True)
        if name not in ASSEMBLERS
        for target, line in data.get("inner", [])
        if (name, target) not in INNER_IMPORT_ALLOWED
    ]
    assert not wrong, "\n".join(map(str, sorted(wrong)))


def floor(name: str) -> float:
    """A module's floor (see the README's drawing): the ground 0; records (a domain's models
    and its pure helpers) 1; what reads records across domains (pairings, permissions, the
    report builders) 1.5; a domain's services 2 + its place in DOMAINS; the web layer's helpers
    50; the app's assembly (factory, CLI, worker, wiring) 100. Views, forms and commands are
    the surface of their domain and may use any floor but a view."""
    if name in TOP:
        return 100
    if name in GROUND or name.startswith("program.matching"):
        return 0
    parts = name.split(".")
    if len(parts) > 2 and parts[2] in RECORDS:
        return 1
    if name in ACROSS or name.startswith("reports"):
        return 1.5
    if name == "program.web":
        return 50
    domain = parts[1] if len(parts) > 1 else ""
    if domain in DOMAINS:
        return 2 + DOMAINS.index(domain)
    raise AssertionError(f"{name} is on no floor: place it in {__file__}")


def test_every_module_imports_its_own_floor_or_below(graph):
    upward = [
        (source, target)
        for source, target in graph.edges
        if floor(target) > floor(source)
        and not source.endswith((".views", ".forms", ".cli"))
        and (set((source, target)),) not in [(c,) for c in ALLOWED_CYCLES]
    ]
    assert not upward, "\n".join(map(str, sorted(upward)))
