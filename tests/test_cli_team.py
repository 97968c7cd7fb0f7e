"""`seattui members`, `invite`, `member`, `token` and `login --invite` as a person runs them, on an
embedded portal: each profile is a person."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import seattui

OWNER_PASSWORD = "owner password 123"
ZOE_PASSWORD = "zoe's long password"


def owner_portal(database: Path) -> None:
    done = seattui("init", "--db", str(database), "--org", "Initech", "--login", "peter", "--password-stdin",
                   stdin=OWNER_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    login = seattui("login", "--portal", "embedded", "--db", str(database), "--login", "peter", "--password-stdin",
                    stdin=OWNER_PASSWORD + "\n")
    assert login.returncode == 0, login.stderr


def accept(database: Path, token: str, login: str = "zoe") -> object:
    return seattui("--profile", login, "login", "--portal", "embedded", "--db", str(database), "--invite", token,
                   "--login", login, "--password-stdin", stdin=ZOE_PASSWORD + "\n")


def test_every_team_command_has_help() -> None:
    for command in (("members",), ("invite",), ("member", "role"), ("member", "remove"), ("token", "create"),
                    ("token", "list"), ("token", "revoke")):
        done = seattui(*command, "--help")
        assert done.returncode == 0 and f"usage: seattui {' '.join(command)}" in done.stdout, command


def test_an_invited_colleague_joins_gets_a_role_and_is_removed(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    owner_portal(database)
    invited = seattui("invite", "zoe@initech.example", "--role", "operator")
    assert invited.returncode == 0, invited.stderr
    assert "Invited zoe@initech.example as operator" in invited.stdout
    token = invited.stdout.split("(shown only now): ")[1].split()[0]

    joined = accept(database, token)
    assert joined.returncode == 0, joined.stderr
    assert "Welcome to Initech: you are zoe (operator)" in joined.stdout
    again = accept(database, token, "zoe2")
    assert again.returncode == 1 and "This invitation was used already" in again.stderr

    listed = json.loads(seattui("members", "--json").stdout)
    assert [(m["login"], m["role"], m["status"]) for m in listed] == [
        ("peter", "owner", "active"), ("zoe", "operator", "active")]
    assert listed[1]["last_login_at"] is not None
    table = seattui("members").stdout
    assert "zoe" in table and "operator" in table

    changed = seattui("member", "role", "ZOE", "viewer")
    assert changed.returncode == 0 and "zoe is now viewer (was operator)" in changed.stdout
    last_owner = seattui("member", "role", "peter", "admin")
    assert last_owner.returncode == 1 and "last owner" in last_owner.stderr
    refused = seattui("--profile", "zoe", "members")
    assert refused.returncode == 1 and "may not do this" in refused.stderr

    removed = seattui("member", "remove", "zoe", "--yes")
    assert removed.returncode == 0, removed.stderr
    after = seattui("--profile", "zoe", "credits")
    assert after.returncode == 3 and "removed from this organization" in after.stderr  # 3: not logged in
    unknown = seattui("member", "remove", "nobody")
    assert unknown.returncode == 1 and "There is no member 'nobody'" in unknown.stderr


def test_an_api_token_is_printed_once_works_as_the_profile_would_and_is_revoked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "portal.db"
    owner_portal(database)
    created = seattui("token", "create", "ci", "--role", "viewer", "--expires", "30")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("stuiat_") and "not shown again" in created.stderr

    listed = seattui("token", "list")
    assert "ci" in listed.stdout and "viewer" in listed.stdout and token not in listed.stdout
    [entry] = json.loads(seattui("token", "list", "--json").stdout)
    assert (entry["name"], entry["role"], entry["member"]) == ("ci", "viewer", "peter") and "token" not in entry

    too_long = seattui("token", "create", "x", "--expires", "soon")
    assert too_long.returncode == 2 and "--expires takes days or 'never'" in too_long.stderr
    forever = seattui("token", "create", "forever", "--expires", "never")
    assert forever.returncode == 0 and "never expiring" in forever.stderr

    with monkeypatch.context() as script:  # a script's environment: the token, no session
        script.setenv("SEATTUI_TOKEN", token)
        balance = seattui("credits", "--json")
        assert balance.returncode == 0 and json.loads(balance.stdout)["organization"] == "Initech"
    revoked = seattui("token", "revoke", "ci")
    assert revoked.returncode == 0 and "Revoked the API token ci" in revoked.stdout
    with monkeypatch.context() as script:
        script.setenv("SEATTUI_TOKEN", token)
        refused = seattui("credits")
        assert refused.returncode == 3 and "The API token 'ci' was revoked" in refused.stderr
    assert "ci " not in seattui("token", "list").stdout
    gone = seattui("token", "revoke", "ci")
    assert gone.returncode == 1 and "no live API token named 'ci'" in gone.stderr
