"""Which app may import which, checked on every run: the import-linter contracts in
pyproject.toml ([tool.importlinter]: learning imports neither exams nor content; exams
and content do not import each other), and no import cycle between the modules of
one app."""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("learning", "exams", "content")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_apps_keep_the_import_contracts():
    """lint-imports, as a developer runs it; its report is the failure message. In a
    process of its own: importlinter's command line configures logging for the whole
    process it runs in."""
    done = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [LINT_IMPORTS, "--no-cache", "--no-logo", "--config", "pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout, done.stdout


def _module_file(module):
    top, *rest = module.split(".")
    base = Path(importlib.util.find_spec(top).submodule_search_locations[0]).joinpath(*rest)
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _deferred_import_lines(path):
    """Line numbers of the imports in `path` that do not run when the module is
    imported: inside a function, or under `if TYPE_CHECKING:`."""
    found = set()

    def visit(node, deferred):
        for child in ast.iter_child_nodes(node):
            inner = deferred or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                inner = True
            if inner and isinstance(child, (ast.Import, ast.ImportFrom)):
                found.add(child.lineno)
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)
    return found


def module_level_imports(graph, app):
    """{importer: {imported: first import line}} between the modules of `app`, counting
    only the imports that run when the importer is imported."""
    modules = {m for m in graph.modules if m == app or m.startswith(app + ".")}
    edges = {}
    for importer in modules:
        deferred = None
        for imported in graph.find_modules_directly_imported_by(importer) & modules:
            if deferred is None:
                deferred = _deferred_import_lines(_module_file(importer))
            lines = [
                detail
                for detail in graph.get_import_details(importer=importer, imported=imported)
                if detail["line_number"] not in deferred
            ]
            if lines:
                line = lines[0]
                edges.setdefault(importer, {})[imported] = (
                    f"{importer}:{line['line_number']}: {line['line_contents']}"
                )
    return modules, edges


def cycles(nodes, edges):
    """The strongly connected components of more than one module (Tarjan's
    algorithm, without recursion), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def enter(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        return node, iter(sorted(edges.get(node, ())))

    for root in sorted(nodes):
        if root in index:
            continue
        work = [enter(root)]
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    work.append(enter(successor))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while not component or component[-1] != node:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_cycles_finds_strongly_connected_components():
    edges = {"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}, "d": {"a": ""}, "e": {"e": ""}}
    assert cycles({"a", "b", "c", "d", "e"}, edges) == [["a", "b", "c"]]


@pytest.mark.parametrize("app", APPS)
def test_no_import_cycles_between_the_modules_of_an_app(app):
    """Imports inside functions (deferred until called) are not counted: each says
    why it is there."""
    graph = grimp.build_graph(*APPS, cache_dir=None)
    modules, edges = module_level_imports(graph, app)
    found = cycles(modules, edges)
    report = [
        "\n".join(
            ["cycle: " + " ↔ ".join(component)]
            + [
                "  " + edges[importer][imported]
                for importer in component
                for imported in sorted(edges.get(importer, {}))
                if imported in component
            ]
        )
        for component in found
    ]
    assert not found, "\n".join(report)
