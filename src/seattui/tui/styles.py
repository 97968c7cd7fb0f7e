"""Where the .tcss files are: inside the package in a wheel, at the repository's top in a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def styles_dir() -> Path:
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "styles"  # seattui/styles, force-included into the wheel
    if packaged.is_dir():
        return packaged
    return here.parents[3] / "styles"  # src/seattui/tui -> the checkout's styles/


def style(name: str) -> str:
    return str(styles_dir() / name)
