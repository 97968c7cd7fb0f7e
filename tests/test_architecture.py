"""The layers of DESIGN.md, enforced: who may import whom."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "seattui"

# For each layer, the imports it must never make (prefixes of module names).
FORBIDDEN = {
    "domain": ("seattui.portal", "seattui.client", "seattui.tui", "seattui.cli", "seattui.wiring",
               "seattui.config", "textual", "fastapi", "starlette", "sqlalchemy", "httpx"),
    "portal": ("seattui.client", "seattui.tui", "seattui.cli", "seattui.wiring", "textual"),
    "client": ("seattui.portal", "seattui.tui", "seattui.cli", "seattui.wiring", "textual", "fastapi",
               "starlette", "sqlalchemy"),
    "tui": ("seattui.portal", "seattui.wiring", "fastapi", "starlette", "sqlalchemy"),
}


def module_name(path: Path, root: Path = SRC.parent) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str, source: str, *, package: bool = False, typing_only: bool = True) -> list[tuple[int, str]]:
    """Every import of the module, with its line: at the top, in classes and inside functions
    (a function-level import runs as surely, only later). Relative imports are made absolute;
    `from x import y` names both x and x.y, as y may be a module. `typing_only=False` leaves
    out the imports under `if TYPE_CHECKING:`, which never run (they still tie one layer to
    another, but close no import cycle)."""
    here = module.split(".") if package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if not typing_only and isinstance(child, ast.If) and _is_type_checking(child):
                for branch in child.orelse:
                    visit_node(branch)
                continue
            visit_node(child)

    def visit_node(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            origin = ".".join(base + ([node.module] if node.module else []))
            if node.module or not node.level:
                found.append((node.lineno, origin))
            found.extend((node.lineno, f"{origin}.{alias.name}") for alias in node.names if alias.name != "*")
        visit(node)

    visit(ast.parse(source))
    return found


def sources_under(folder: Path) -> dict[str, tuple[str, bool]]:
    """Module name -> (source, whether it is a package's __init__) for every module in the folder."""
    return {module_name(path): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
            for path in sorted(folder.rglob("*.py"))}


def import_graph(sources: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """Which of these modules each one imports (imports of anything else are left out)."""
    graph: dict[str, set[str]] = {}
    for module, (source, package) in sources.items():
        targets = set()
        for _, name in imports_of(module, source, package=package, typing_only=False):
            while name and name not in sources:  # `from a.b import name`: the module a.b
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or round a loop (Tarjan's
    strongly connected components of more than one module), each sorted."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                connect(target)
                lowest[module] = min(lowest[module], lowest[target])
            elif target in on_stack:
                lowest[module] = min(lowest[module], index[target])
        if lowest[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            connect(module)
    return sorted(cycles)


def layer_violations(layer: str, sources: dict[str, tuple[str, bool]]) -> list[str]:
    """Each line that imports what the layer must not, once."""
    found: dict[tuple[str, int], str] = {}
    for module, (source, package) in sources.items():
        for line, name in imports_of(module, source, package=package):
            if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[layer]):
                found.setdefault((module, line), f"{module}:{line} imports {name}")
    return list(found.values())


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_only_what_design_allows(layer: str) -> None:
    folder = SRC / layer
    assert folder.is_dir(), f"{folder} is missing"
    assert layer_violations(layer, sources_under(folder)) == []


def test_the_checker_sees_a_violation() -> None:
    """The rule above is only worth something if it can fail."""
    bad = {
        "seattui.domain.bad": ("from seattui.portal.app import create_app\n"
                               "def later():\n    import textual.app\n", False),
        "seattui.domain.typed": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                 "    from seattui.client import PortalClient\n", False),
        "seattui.domain.relative": ("from ..tui import views\n", False),
        "seattui.domain.fine": ("from decimal import Decimal\nfrom . import money\n", False),
    }
    assert layer_violations("domain", bad) == [
        "seattui.domain.bad:1 imports seattui.portal.app",
        "seattui.domain.bad:3 imports textual.app",  # inside a function: as surely, only later
        "seattui.domain.typed:3 imports seattui.client",  # for type checkers only: still a tie
        "seattui.domain.relative:1 imports seattui.tui",
    ]


def test_no_modules_import_each_other() -> None:
    """No import cycles, counting imports inside functions: a function-level import that
    closes a loop hides the cycle, it does not remove it."""
    assert import_cycles(import_graph(sources_under(SRC))) == []


def test_the_cycle_check_sees_a_loop_closed_inside_a_function() -> None:
    sources = {
        "app.keys": ("from app.shared import plural\nfrom app import licenses\n", False),
        "app.licenses": ("def detail():\n    from app.keys import copy_key\n", False),
        "app.shared": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.keys import Key\n", False),
        "app.screens": ("", True),
        "app.screens.one": ("from . import two\n", False),
        "app.screens.two": ("class Two:\n    def open(self):\n        from .one import One\n", False),
        "app.leaf": ("import app.shared\n", False),
    }
    assert import_cycles(import_graph(sources)) == [
        ["app.keys", "app.licenses"],  # through a function-level import
        ["app.screens.one", "app.screens.two"],  # relative imports, one in a method
    ]  # and none through app.shared: its import of app.keys only runs for type checkers
    del sources["app.licenses"]
    assert import_cycles(import_graph(sources)) == [["app.screens.one", "app.screens.two"]]


# Services that every change uses: its audit entry, its ledger entry, its order and its mail.
SHARED_SERVICES = {"seattui.portal.services.audit", "seattui.portal.services.credits",
                   "seattui.portal.services.billing", "seattui.portal.services.outbox",
                   "seattui.portal.services.customer_mail"}


def test_services_read_other_areas_through_the_query_modules() -> None:
    """A service imports another area's service only for the audit trail and the ledger; it
    reads other areas through portal/queries, whose modules import no service."""
    graph = import_graph(sources_under(SRC))
    services = "seattui.portal.services."
    crossing = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items() if module.startswith(services)
        for target in targets if target.startswith(services) and target not in SHARED_SERVICES
    )
    assert crossing == []
    queries = [module for module in graph if module.startswith("seattui.portal.queries")]
    assert queries, "portal/queries is missing"
    assert sorted(f"{m} imports {t}" for m in queries for t in graph[m] if t.startswith(services)) == []


def test_the_dashboard_views_import_neither_textual_nor_pydantic() -> None:
    """The last-seen dashboard is drawn from these before either is loaded (a third of a start)."""
    probe = (
        "import sys, seattui.tui.views, seattui.tui.formatting; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'pydantic', 'httpx')); "
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_importing_the_client_imports_neither_textual_nor_fastapi() -> None:
    probe = (
        "import sys, seattui.client; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'fastapi', 'starlette', 'sqlalchemy')); "
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("command", [["whoami", "--json"], ["licenses", "--jsonl", "--expired"],
                                     ["support", "--ending", "30"], ["audit", "--since", "2026-03-02"]],
                         ids=lambda command: command[0])
def test_the_read_commands_import_neither_textual_nor_fastapi(command: list[str]) -> None:
    """A script with SEATTUI_PORTAL and SEATTUI_TOKEN, and no config file at all."""
    probe = (
        "import sys\n"
        "from seattui.cli import main\n"
        f"code = main({command!r})\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'fastapi', 'starlette', 'sqlalchemy', 'shtab'))\n"
        "print(bad, code)\n"
        "raise SystemExit(9 if bad else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True,
        env={"SEATTUI_PORTAL": "http://127.0.0.1:9", "SEATTUI_TOKEN": "stui_x", "PATH": "/usr/bin:/bin",
             "SEATTUI_CONFIG": "/nonexistent/seattui/config.toml"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[] 4" in done.stdout  # the portal is not there: exit 4, having loaded nothing heavy


def test_the_credits_command_for_a_remote_profile_imports_neither_textual_nor_fastapi(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('default_profile = "r"\n[profiles.r]\nportal = "http://127.0.0.1:9"\nlogin = "x"\n')
    (tmp_path / "tokens.toml").write_text('[tokens]\nr = "stui_x"\n')
    probe = (
        "import sys\n"
        "from seattui.cli import main\n"
        "code = main(['credits', '--json'])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'fastapi', 'starlette', 'sqlalchemy'))\n"
        "print(bad)\n"
        "raise SystemExit(3 if bad else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True,
        env={"SEATTUI_CONFIG": str(config), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[]" in done.stdout
