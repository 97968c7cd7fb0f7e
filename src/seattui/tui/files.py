"""Where a screen writes a file the user asked for: the path typed, or a folder with the
default name in it; refused in words when its folder does not exist. No Textual here."""

from __future__ import annotations

from pathlib import Path


def target_path(typed: str, default_name: str) -> tuple[Path | None, str]:
    """The absolute path to write, or None and what to do instead."""
    typed = typed.strip()
    if not typed:
        return None, "type the path of the file to write."
    path = Path(typed).expanduser()
    if path.is_dir():
        path = path / default_name
    if not path.parent.is_dir():
        return None, f"there is no folder {path.parent}; type a path in a folder that exists."
    return path.absolute(), ""
