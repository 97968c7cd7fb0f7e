"""Profiles and tokens on disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from seattui.config import (
    ConfigError,
    Profile,
    config_path,
    load_config,
    load_token,
    save_profile,
    save_token,
    tokens_path,
)


def test_profiles_round_trip_and_the_first_becomes_the_default() -> None:
    save_profile("work", Profile(portal="https://portal.example.com", login="alice"))
    save_profile("lab", Profile(portal="embedded", database="/tmp/lab.db", note="the lab portal"))
    config = load_config()
    assert config.default_profile == "work"
    assert config.profile("lab") == Profile(portal="embedded", database="/tmp/lab.db", note="the lab portal")
    assert config.profile().login == "alice"
    assert str(config_path()).startswith(os.environ["SEATTUI_CONFIG"].rsplit("/", 1)[0])


def test_tokens_live_apart_readable_by_their_owner_only() -> None:
    save_token("work", "stui_secret")
    save_token("lab", "stui_other")
    assert load_token("work") == "stui_secret"
    assert stat.S_IMODE(tokens_path().stat().st_mode) == 0o600
    save_profile("work", Profile(login="alice"))
    assert "stui_secret" not in config_path().read_text()
    save_token("work", None)
    assert load_token("work") is None and load_token("lab") == "stui_other"


def test_a_broken_config_file_is_reported_and_left_untouched() -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("default_profile = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config()
    assert path.read_text() == "default_profile = \n"


def test_an_unknown_setting_type_is_reported(tmp_path: Path) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[profiles.x]\nportal = 5\n")
    with pytest.raises(ConfigError, match="does not understand"):
        load_config()
