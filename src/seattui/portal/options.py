"""The portal's settings from `seattui serve`'s options, wherever they were given.

`seattui serve` reads each option from its flag, else the environment (`SEATTUI_<OPTION>`),
else the `--config` TOML file (`SEATTUI_PORTAL_CONFIG`); the app factory that uvicorn or
gunicorn call (`seattui.portal.app:create_app`) has no flags and reads the other two the same
way. An option reaches the settings under its name, or under the field OPTION_FIELDS names:
a new serve flag whose name is a PortalSettings field needs nothing more here.
"""

from __future__ import annotations

import os
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from seattui.portal.settings import PortalSettings
from seattui.portal.store import database_url

ENV_PREFIX = "SEATTUI_"
CONFIG_FILE_ENV = "SEATTUI_PORTAL_CONFIG"
OPTION_FIELDS = {"db": "database_url", "catalog": "catalog_path", "smtp": "smtp_url"}
_NOT_SETTINGS = {"clock"}


class OptionsError(ValueError):
    """An option file or value that cannot be used; the message names where it came from."""


def env_name(option: str) -> str:
    return ENV_PREFIX + option.upper().replace("-", "_")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A flat TOML table of options: keys as the flags without `--` (dashes or underscores)."""
    try:
        with open(path, "rb") as handle:
            table = tomllib.load(handle)
    except OSError as error:
        raise OptionsError(f"Cannot read the config file {path}: {error.strerror or error}.") from None
    except tomllib.TOMLDecodeError as error:
        raise OptionsError(f"The config file {path} is not valid TOML: {error}.") from None
    return {str(key).replace("-", "_"): value for key, value in table.items()}


def options_from_environment(environ: Mapping[str, str] | None = None,
                             config_file: str | Path | None = None) -> dict[str, Any]:
    """Every option the environment gives, over those of the config file (the one given, or
    the one SEATTUI_PORTAL_CONFIG names)."""
    environ = os.environ if environ is None else environ
    options: dict[str, Any] = {}
    config_file = config_file or environ.get(CONFIG_FILE_ENV)
    if config_file:
        options.update(read_config_file(config_file))
    options.update({name[len(ENV_PREFIX):].lower(): value for name, value in environ.items()
                    if name.startswith(ENV_PREFIX) and name != CONFIG_FILE_ENV})
    return options


def setting_names() -> set[str]:
    """What a config file or SEATTUI_* variable may set besides serve's flags."""
    return set(PortalSettings.model_fields) - _NOT_SETTINGS - set(OPTION_FIELDS.values())


def _is_list(field: str) -> bool:
    annotation = PortalSettings.model_fields[field].annotation
    return typing.get_origin(annotation) in (list, tuple, set, frozenset)


def settings_from_options(options: Mapping[str, Any], **fixed: Any) -> PortalSettings:
    """PortalSettings from serve options; options that are no setting (host, port...) are skipped."""
    values: dict[str, Any] = {}
    for option, value in options.items():
        field = OPTION_FIELDS.get(option, option)
        if value is None or field not in PortalSettings.model_fields or field in _NOT_SETTINGS:
            continue
        if isinstance(value, str) and _is_list(field):
            value = [part.strip() for part in value.split(",") if part.strip()]
        values[field] = value
    values.update(fixed)
    if not values.get("database_url"):
        raise OptionsError(f"Give the portal's database: --db, {env_name('db')} or db in the config file.")
    values["database_url"] = database_url(values["database_url"])
    try:
        return PortalSettings(**values)
    except ValidationError as error:
        problems = "; ".join(_problem(e) for e in error.errors())
        raise OptionsError(f"Bad portal option: {problems.rstrip('.')}.") from None


def _problem(error: Any) -> str:
    # A rule across options (an SMTP server needs a sender) has no location of its own.
    message = str(error["msg"]).removeprefix("Value error, ")
    where = ".".join(map(str, error["loc"]))
    return f"{where}: {message}" if where else message


# What the embedded portal takes from the environment (and the config file), as serve does:
# it has no flags, and without an SMTP server its mail waits in the outbox.
MAIL_SETTINGS = ("smtp_url", "smtp_starttls", "smtp_password", "smtp_timeout", "mail_from", "mail_poll_seconds")


def mail_settings_from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """SEATTUI_SMTP, SEATTUI_MAIL_FROM, SEATTUI_SMTP_PASSWORD ... as PortalSettings fields."""
    options = options_from_environment(environ)
    values = {OPTION_FIELDS.get(name, name): value for name, value in options.items()}
    return {name: values[name] for name in MAIL_SETTINGS if values.get(name) not in (None, "")}
