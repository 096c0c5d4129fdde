"""Imports point down: the library layers never import a command, and no gan_zoo modules import each other in a loop.

Read from the source with `ast` (nothing is imported), so an import inside a function counts as
much as one at the top: it runs the moment that function does. For loops only imports that run
while a module is being imported count (top level, class bodies, top-level if/try/with), not those
inside functions or under `if TYPE_CHECKING:`; importing `a.b.c` also runs the package `a.b`'s
`__init__`, which is not counted as an edge (a package importing its own submodules is no loop).
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "gan_zoo"

# The layers that everything is built from; they may never import a command.
LIBRARY = (
    "gan_zoo.models",
    "gan_zoo.layers",
    "gan_zoo.losses",
    "gan_zoo.metrics",
    "gan_zoo.features",
    "gan_zoo.data",
    "gan_zoo.official",
    "gan_zoo.training",
    "gan_zoo.checkpoints",
    "gan_zoo.sampling",
)
COMMANDS = ("gan_zoo.generate", "gan_zoo.eval", "gan_zoo.train", "gan_zoo.summary", "gan_zoo.cli", "gan_zoo.import_official", "gan_zoo.data_command")


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under the package directory `root`."""
    files = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _targets(node: ast.AST, module: str, is_package: bool, modules: dict[str, Path], top: str) -> set[str]:
    """The package modules an import statement (or importlib.import_module("literal") call) names."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: from the importing module's package, up level - 1
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
        # `from pkg import sub` imports the submodule pkg.sub; `from pkg import name` imports pkg
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module":
        if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            names = [node.args[0].value]
    found = set()
    for name in names:
        while name and name not in modules:  # `import a.b.c as x` where c is an attribute
            name = name.rpartition(".")[0]
        if name and within(name, (top,)) and name != module:
            found.add(name)
    return found


def _load_time_nodes(tree: ast.Module) -> list[ast.AST]:
    """Nodes that run while the module is imported: not function bodies, not TYPE_CHECKING blocks."""
    nodes, pending = [], list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        nodes.append(node)
        if _is_type_checking(node):
            pending.extend(node.orelse)  # type: ignore[attr-defined]
            continue
        pending.extend(ast.iter_child_nodes(node))
    return nodes


def import_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(every import of each module, wherever it sits; the imports that run when the module is imported)."""
    modules = module_files(root)
    every, load_time = {}, {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        every[module] = {t for node in ast.walk(tree) for t in _targets(node, module, is_package, modules, root.name)}
        load_time[module] = {t for node in _load_time_nodes(tree) for t in _targets(node, module, is_package, modules, root.name)}
    return every, load_time


def upward_imports(every: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} -> {t}" for m, targets in every.items() if within(m, LIBRARY) for t in targets if within(t, COMMANDS))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # recursion depth is bounded by the import chain's length
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    return import_graph(PACKAGE)


def test_library_layers_never_import_a_command(graph) -> None:
    every, _ = graph
    assert upward_imports(every) == [], "library modules importing commands (move the shared code down, or let the command hand it over)"


def test_no_import_loops_among_gan_zoo_modules(graph) -> None:
    _, load_time = graph
    assert cycles(load_time) == []


def test_the_scan_sees_lazy_relative_and_importlib_imports_and_loops(tmp_path) -> None:
    """The checks above pass on an empty graph too; this one shows the scanner finds what they look for."""
    root = tmp_path / "gan_zoo"
    for folder in ("models/fam", "generate", "metrics"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "eval.py").write_text("")
    (root / "generate" / "output.py").write_text("")
    (root / "models" / "fam" / "gen.py").write_text("def run():\n    from gan_zoo.generate.output import x\n")
    (root / "models" / "fam" / "ev.py").write_text("import importlib\nimportlib.import_module('gan_zoo.eval')\n")
    (root / "metrics" / "a.py").write_text("from .b import y\n")
    (root / "metrics" / "b.py").write_text(
        "from gan_zoo.metrics import a\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gan_zoo.metrics import c\n"
    )
    (root / "metrics" / "c.py").write_text("from gan_zoo.metrics.b import y\n")
    every, load_time = import_graph(root)
    assert upward_imports(every) == ["gan_zoo.models.fam.ev -> gan_zoo.eval", "gan_zoo.models.fam.gen -> gan_zoo.generate.output"]
    assert cycles(load_time) == [["gan_zoo.metrics.a", "gan_zoo.metrics.b"]]
