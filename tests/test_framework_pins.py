"""The private parts of Textual the app relies on, each for a measured need (see the comments
where they are used). Textual is pinned exactly; these fail on an upgrade that drops or
renames one, instead of the app silently losing what it bought with it."""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path

import textual.screen
from packaging.requirements import Requirement
from textual.app import App
from textual.binding import BindingsMap
from textual.widget import Widget

ROOT = Path(__file__).resolve().parents[1]


def test_textual_is_pinned_exactly() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    textual_requirement = next(Requirement(text) for text in project["dependencies"]
                               if Requirement(text).name == "textual")
    assert [spec.operator for spec in textual_requirement.specifier] == ["=="]


def test_a_screen_still_reads_the_style_update_count_it_is_given() -> None:
    # PortalScreen copies the app's count so a new mode's screen does not re-parse every
    # stylesheet as it opens; that only works while Screen compares the two.
    assert isinstance(App()._css_update_count, int)
    assert "_css_update_count" in inspect.getsource(textual.screen.Screen)


async def test_the_bindings_and_keymap_that_typed_ahead_reads_are_there() -> None:
    # typed_ahead builds a node's bindings as Screen._binding_chain does, from these two.
    app = App()
    async with app.run_test():
        widget = Widget()
        await app.screen.mount(widget)
        assert isinstance(widget._bindings, BindingsMap)
        assert isinstance(app._keymap, dict)
    chain = inspect.getsource(textual.screen.Screen._binding_chain.fget)  # type: ignore[attr-defined]
    assert "_bindings" in chain and "_keymap" in chain
