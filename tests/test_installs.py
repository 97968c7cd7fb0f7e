"""Reproducible installs: every runtime dependency stops below its next major version, and
constraints.txt pins each one (and what they pull in) to a version inside those bounds, which
is what CI installs with."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["dependencies"]]


def pinned() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_every_runtime_dependency_has_an_upper_bound_at_its_next_major_version() -> None:
    pins = pinned()
    for requirement in runtime_requirements():
        uppers = [spec for spec in requirement.specifier if spec.operator in ("<", "<=", "==", "~=")]
        assert uppers, f"{requirement} has no upper bound"
        tested = pins[canonicalize_name(requirement.name)]
        for spec in uppers:
            if spec.operator == "<":
                # At most the major after the tested one (0.x stops at 1, or nearer, for a
                # known bad release; argon2-cffi's majors are years).
                assert Version(spec.version).major <= tested.major + 1, f"{requirement} allows more than the next major"


def test_constraints_pin_every_runtime_dependency_within_its_bounds() -> None:
    pins = pinned()
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"constraints.txt does not pin {requirement.name}"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement}"


def test_ci_installs_with_the_constraints_and_the_readme_command_stays_unpinned() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'PIP_CONSTRAINT="$PWD/constraints.txt"' in ci
    readme = (ROOT / "README.md").read_text()
    assert "python3.11 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest" in readme
