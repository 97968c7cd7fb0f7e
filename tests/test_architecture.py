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


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_only_what_design_allows(layer: str) -> None:
    folder = SRC / layer
    assert folder.is_dir(), f"{folder} is missing"
    violations = [
        f"{path.relative_to(SRC.parent)}:{line} imports {module}"
        for path in sorted(folder.rglob("*.py"))
        for line, module in imported_modules(path)
        if any(module == banned or module.startswith(banned + ".") for banned in FORBIDDEN[layer])
    ]
    assert violations == []


def test_the_checker_sees_a_violation() -> None:
    """The rule above is only worth something if it can fail."""
    bad = ast.parse("from seattui.portal.app import create_app\nimport textual.app\n")
    modules = [n.module for n in ast.walk(bad) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(bad) if isinstance(n, ast.Import) for a in n.names]
    assert any(m.startswith("seattui.portal") for m in modules) and "textual.app" in modules


def test_importing_the_client_imports_neither_textual_nor_fastapi() -> None:
    probe = (
        "import sys, seattui.client; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'fastapi', 'starlette', 'sqlalchemy')); "
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


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
