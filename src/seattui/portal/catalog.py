"""The catalog is data: a TOML file shipped with the portal, replaceable by the operator."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

from pydantic import ValidationError

from seattui.domain.catalog import Catalog


class CatalogError(Exception):
    pass


def load_catalog(path: Path | None = None) -> Catalog:
    """Read the catalog at `path`, or the default one shipped in the package."""
    if path is None:
        text = files("seattui.portal").joinpath("default_catalog.toml").read_text(encoding="utf-8")
        source = "the default catalog"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CatalogError(f"Cannot read the catalog {path}: {error.strerror}.") from None
        source = str(path)
    try:
        return Catalog.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{source} is not valid TOML: {error}.") from None
    except ValidationError as error:
        raise CatalogError(f"{source} is not a valid catalog:\n{error}") from None
