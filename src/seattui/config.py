"""Profiles in TOML: which portal, which login; the tokens in a separate file only you can read.

The config file lives under the platform's config dir; SEATTUI_CONFIG names another file
(tests use it so a developer's own profiles never leak in). The tokens file sits beside it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

EMBEDDED = "embedded"
DEFAULT_PROFILE = "default"
APP_NAME = "seattui"


class ConfigError(Exception):
    """The config or tokens file cannot be read; the message says which file and what to do."""


# Plain dataclasses, not pydantic: the config is read before the terminal app draws its first
# frame, and pydantic's model machinery would cost that frame ~150 ms.
@dataclass(frozen=True)
class Profile:
    portal: str = EMBEDDED  # "embedded" or the portal's URL
    login: str | None = None
    # Embedded only: the portal's SQLite file (or a database URL); default under the data dir.
    database: str | None = None
    # A line the login screen shows under the profile (the demo's login and password).
    note: str | None = None

    @property
    def is_embedded(self) -> bool:
        return self.portal == EMBEDDED

    def to_toml(self) -> dict[str, str]:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass
class Config:
    default_profile: str = DEFAULT_PROFILE
    profiles: dict[str, Profile] = field(default_factory=dict)
    # Command id -> keys, e.g. "screen.dashboard" = "g" (`?` in the app lists the commands).
    keymap: dict[str, str] = field(default_factory=dict)

    def profile(self, name: str | None = None) -> Profile:
        return self.profiles.get(name or self.default_profile) or Profile()

    def to_toml(self) -> dict[str, object]:
        data: dict[str, object] = {
            "default_profile": self.default_profile,
            "profiles": {name: profile.to_toml() for name, profile in self.profiles.items()},
        }
        if self.keymap:
            data["keymap"] = dict(self.keymap)
        return data

    @classmethod
    def from_toml(cls, data: dict[str, object], source: Path) -> Config:
        problems: list[str] = []

        def text(value: object, where: str, *, optional: bool = False) -> str | None:
            if value is None and optional:
                return None
            if isinstance(value, str):
                return value
            problems.append(f"{where} should be text, not {value!r}")
            return None

        default = text(data.get("default_profile", DEFAULT_PROFILE), "default_profile") or DEFAULT_PROFILE
        profiles: dict[str, Profile] = {}
        raw_profiles = data.get("profiles", {})
        if not isinstance(raw_profiles, dict):
            problems.append("[profiles] should be a table of profiles")
            raw_profiles = {}
        for name, raw in raw_profiles.items():
            if not isinstance(raw, dict):
                problems.append(f"[profiles.{name}] should be a table")
                continue
            unknown = sorted(set(raw) - {"portal", "login", "database", "note"})
            if unknown:
                problems.append(f"[profiles.{name}] has unknown settings: {', '.join(unknown)}")
            profiles[name] = Profile(
                portal=text(raw.get("portal", EMBEDDED), f"profiles.{name}.portal") or EMBEDDED,
                login=text(raw.get("login"), f"profiles.{name}.login", optional=True),
                database=text(raw.get("database"), f"profiles.{name}.database", optional=True),
                note=text(raw.get("note"), f"profiles.{name}.note", optional=True),
            )
        keymap: dict[str, str] = {}
        raw_keymap = data.get("keymap", {})
        if isinstance(raw_keymap, dict):
            for command, keys in raw_keymap.items():
                if (value := text(keys, f"keymap.{command}")) is not None:
                    keymap[command] = value
        else:
            problems.append("[keymap] should be a table of command ids and keys")
        if problems:
            raise ConfigError(f"{source} has settings seattui does not understand: " + "; ".join(problems)
                              + ". Fix them or move the file away.")
        return cls(default_profile=default, profiles=profiles, keymap=keymap)


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
    return Config.from_toml(_read_toml(path), path)


def save_config(config: Config) -> None:
    _write_toml(config_path(), config.to_toml(), 0o644)


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
