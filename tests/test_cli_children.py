"""`seattui children` and `seattui child ...` as a reseller's owner and a script run them, on an
embedded portal: exit codes, JSON on standard output and errors as JSON on standard error."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from seattui.domain.licensing import LicenseOrder, NewActivationKey, Term
from seattui.portal.context import Tx
from seattui.portal.runtime import Portal
from seattui.portal.services import accounts, keys, licenses
from seattui.portal.settings import PortalSettings

from cli_helpers import seattui

OWNER_PASSWORD = "owner password 123"
CHILD_PASSWORD = "the child owner's password"


def a_reseller_with_licenses(database: Path) -> list[int]:
    done = seattui("init", "--db", str(database), "--org", "Initech", "--login", "peter", "--credits", "1000",
                   "--password-stdin", stdin=OWNER_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr

    async def fill() -> list[int]:
        portal = Portal(PortalSettings(database_url=f"sqlite:///{database}"))
        try:
            async with portal.store.write() as conn:
                actor = await accounts.organization_by_name(conn, "Initech")
                tx = Tx(conn=conn, actor=actor, catalog=portal.catalog, now=portal.now())
                made = []
                for _ in range(2):
                    key = (await keys.create(tx, NewActivationKey(name="cli"))).key
                    made.append((await licenses.create(tx, LicenseOrder(
                        key=key, product_id="remotedesk", edition_id="standard", term=Term.PERMANENT,
                        quantity=1))).id)
                return made
        finally:
            await portal.close()

    made = asyncio.run(fill())
    login = seattui("login", "--portal", "embedded", "--db", str(database), "--login", "peter", "--password-stdin",
                    stdin=OWNER_PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    return made


def test_every_child_command_has_help() -> None:
    for command in (("children",), ("child", "create"), ("child", "invite"), ("child", "move-license"),
                    ("child", "move-seats")):
        done = seattui(*command, "--help")
        assert done.returncode == 0 and f"usage: seattui {' '.join(command)}" in done.stdout, command


def test_a_child_is_created_invited_into_given_a_license_and_listed(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    first, second = a_reseller_with_licenses(database)
    created = seattui("child", "create", "Contoso Ltd", "--json")
    assert created.returncode == 0, created.stderr
    child = json.loads(created.stdout)
    assert child["name"] == "Contoso Ltd" and child["usage"]["licenses"] == 0

    invited = seattui("child", "invite", "contoso ltd", "it@contoso.example", "--role", "owner")
    assert invited.returncode == 0, invited.stderr
    assert "Invited it@contoso.example to Contoso Ltd as owner" in invited.stdout
    token = invited.stdout.split("(shown only now): ")[1].split()[0]

    moved = seattui("child", "move-license", str(first), "--to", str(child["id"]))
    assert moved.returncode == 0, moved.stderr
    assert f"License {first} and its activation key" in moved.stdout and "Contoso Ltd's" in moved.stdout
    again = seattui("child", "move-license", str(first), "--to", "Contoso Ltd", "--json")
    assert again.returncode == 1
    assert json.loads(again.stderr)["message"].startswith(f"There is no license {first}")
    not_seats = seattui("child", "move-seats", str(second), "--to", "Contoso Ltd")
    assert not_seats.returncode == 1 and "is not a seat plan" in not_seats.stderr
    unknown = seattui("child", "move-license", str(second), "--to", "Nobody")
    assert unknown.returncode == 1 and "There is no child account 'Nobody'" in unknown.stderr
    bad_id = seattui("child", "move-license", "x", "--to", "Nobody")
    assert bad_id.returncode == 2

    listed = seattui("children", "--jsonl")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert json.loads(line)["usage"]["licenses"] == 1 and json.loads(line)["usage"]["members"] == 0
    table = seattui("children").stdout
    assert "Contoso Ltd" in table and "LICENSES" in table

    joined = seattui("--profile", "contoso", "login", "--portal", "embedded", "--db", str(database), "--invite",
                     token, "--login", "ada", "--password-stdin", stdin=CHILD_PASSWORD + "\n")
    assert joined.returncode == 0, joined.stderr
    theirs = json.loads(seattui("--profile", "contoso", "licenses", "--json").stdout)
    assert [item["id"] for item in theirs] == [first]
    refused = seattui("--profile", "contoso", "child", "create", "Grandchild", "--json")
    assert refused.returncode == 1 and "has no child accounts of its own" in json.loads(refused.stderr)["message"]
    own = seattui("--profile", "contoso", "children")
    assert own.returncode == 0
    # The child's own user is not told to create one (only the parent has child accounts).
    assert "no child accounts of its own" in own.stderr and "child create" not in own.stderr
