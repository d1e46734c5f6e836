"""The package's layout rules: the import contracts of pyproject.toml hold,
no module imports itself back through others, and no module is too long.

The rules are written down once, in ``[tool.importlinter]`` of
``pyproject.toml`` (summarised in the README's "Layout" section); this
module only runs them.
"""

import tomllib
from pathlib import Path

import pytest

import audit

grimp = pytest.importorskip("grimp")
importlinter_cli = pytest.importorskip("importlinter.cli")

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(audit.__file__).resolve().parent
MAX_LINES = 700


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("audit", cache_dir=None)


def test_the_package_under_test_is_this_tree():
    # the contracts are read from this tree's pyproject.toml: the package
    # they are checked on must be the one beside it
    assert PACKAGE == ROOT / "audit"


def test_import_contracts_hold(capsys):
    code = importlinter_cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"),
                                         no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    assert code == 0, out


def test_the_contracts_name_every_top_level_part():
    # a new top-level package must be placed in the layers, not left out
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    parts = {f"audit.{p.name}" for p in PACKAGE.iterdir()
             if p.is_dir() and (p / "__init__.py").exists()}
    assert parts == placed


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    modules = sorted(graph.modules)
    edges = {m: sorted(set(graph.find_modules_directly_imported_by(m)) & set(modules))
             for m in modules}
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in modules:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        component.append(m)
                        if m == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(edges[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_import_cycles(graph):
    # every import counts, also those inside functions
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    class Toy:
        modules = {"a", "b", "c", "d"}

        @staticmethod
        def find_modules_directly_imported_by(m):
            return {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}[m]

    assert _cycles(Toy()) == [["a", "b", "c"]]


def test_every_module_is_shorter_than_the_limit():
    long = {str(p.relative_to(ROOT)): n for p in sorted(PACKAGE.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) >= MAX_LINES}
    assert long == {}
