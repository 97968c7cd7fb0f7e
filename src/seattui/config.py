"""Profiles in TOML: which portal, which login; the tokens in a separate file only you can read.

The config file lives under the platform's config dir; SEATTUI_CONFIG names another file
(tests use it so a developer's own profiles never leak in). The tokens file sits beside it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

EMBEDDED = "embedded"
DEFAULT_PROFILE = "default"
APP_NAME = "seattui"


class ConfigError(Exception):
    """The config or tokens file cannot be read; the message says which file and what to do."""


class Profile(BaseModel):
    portal: str = EMBEDDED  # "embedded" or the portal's URL
    login: str | None = None
    # Embedded only: the portal's SQLite file (or a database URL); default under the data dir.
    database: str | None = None

    @property
    def is_embedded(self) -> bool:
        return self.portal == EMBEDDED


class Config(BaseModel):
    default_profile: str = DEFAULT_PROFILE
    profiles: dict[str, Profile] = Field(default_factory=dict)

    def profile(self, name: str | None = None) -> Profile:
        return self.profiles.get(name or self.default_profile) or Profile()


def config_path() -> Path:
    override = os.environ.get("SEATTUI_CONFIG")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME) / "config.toml"


def tokens_path() -> Path:
    return config_path().with_name("tokens.toml")


def data_dir() -> Path:
    override = os.environ.get("SEATTUI_DATA_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_path

    return user_data_path(APP_NAME)


def default_database() -> Path:
    return data_dir() / "portal.db"


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML ({error}); fix it or move it away.") from None
    except OSError as error:
        raise ConfigError(f"Cannot read {path}: {error.strerror}.") from None


def _write_toml(path: Path, data: dict[str, object], mode: int) -> None:
    """Write atomically with the given mode, so a crash never leaves half a file."""
    import tempfile

    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as file:
            tomli_w.dump(data, file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_config() -> Config:
    path = config_path()
    try:
        return Config.model_validate(_read_toml(path))
    except ValidationError as error:
        raise ConfigError(f"{path} has settings seattui does not understand:\n{error}") from None


def save_config(config: Config) -> None:
    _write_toml(config_path(), config.model_dump(exclude_none=True), 0o644)


def save_profile(name: str, profile: Profile, *, make_default: bool = False) -> Config:
    config = load_config()
    config.profiles[name] = profile
    if make_default or len(config.profiles) == 1:
        config.default_profile = name
    save_config(config)
    return config


def load_token(profile: str) -> str | None:
    tokens = _read_toml(tokens_path()).get("tokens", {})
    token = tokens.get(profile) if isinstance(tokens, dict) else None
    return token if isinstance(token, str) else None


def save_token(profile: str, token: str | None) -> None:
    """Store (or with None, forget) a profile's token; the file is readable by you alone."""
    data = _read_toml(tokens_path())
    tokens = dict(data.get("tokens", {})) if isinstance(data.get("tokens"), dict) else {}
    if token is None:
        tokens.pop(profile, None)
    else:
        tokens[profile] = token
    _write_toml(tokens_path(), {"tokens": tokens}, 0o600)
