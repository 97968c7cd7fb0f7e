"""The read commands and the scripting conventions, as a script runs them: `seattui whoami`,
`keys`, `licenses`, `support`, `employees`, `ledger`, `audit` with --json and --jsonl, the
exit codes, JSON errors, SEATTUI_PORTAL/TOKEN/PROFILE, completion and `--version`.

The command runs in this process (on a thread, as a script would run it beside the portal)
against the test portal of each store, through SEATTUI_PORTAL and SEATTUI_TOKEN: no config
file, the portal's fake clock."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from seattui import __version__, cli
from seattui.cli import reads
from seattui.client import PortalClient
from seattui.domain.licensing import Term
from seattui.domain.people import EmployeeFields

from cli_helpers import free_port
from harness import PortalHarness
from license_setup import a_license

PORTAL = "http://portal.test"


class Run:
    """`seattui ARGS` in this process: its exit code, stdout and stderr, and each request it
    sent to the test portal with how many lines it had written by then."""

    def __init__(self, harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
        import seattui.wiring as wiring
        from seattui.wiring import _threaded_transport

        self.requests: list[tuple[str, int]] = []
        self.stdout = io.StringIO()
        loop = asyncio.get_running_loop()
        real = wiring.connector_for
        run = self

        class OnTheTestLoop:
            async def run(self, coroutine: Any) -> Any:
                return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))

        class Counting:
            async def handle_async_request(self, request: Any) -> Any:
                run.requests.append((request.url.path, run.stdout.getvalue().count("\n")))
                return await inner.handle_async_request(request)

        import httpx

        inner = httpx.ASGITransport(app=harness.app, raise_app_exceptions=False)

        class TestPortal:
            description = PORTAL

            async def open(self, token: str | None) -> PortalClient:
                return PortalClient(PORTAL, token=token, transport=_threaded_transport(Counting(), OnTheTestLoop()))

            async def close(self) -> None:
                return None

        monkeypatch.setattr(wiring, "connector_for",
                            lambda profile: TestPortal() if profile.portal == PORTAL else real(profile))

    async def __call__(self, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        stderr = io.StringIO()
        self.stdout.seek(0)
        self.stdout.truncate()
        self.requests.clear()

        def command() -> int:
            saved = sys.stdout, sys.stderr, sys.stdin
            sys.stdout, sys.stderr = self.stdout, stderr
            if stdin is not None:
                sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
            try:
                return cli.main(list(args))
            finally:
                sys.stdout, sys.stderr, sys.stdin = saved

        code = await asyncio.to_thread(command)
        return code, self.stdout.getvalue(), stderr.getvalue()


@pytest.fixture
async def seattui(harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Logged in as Acme's admin through the environment alone."""
    client = await harness.login("acme-admin")
    monkeypatch.setenv("SEATTUI_PORTAL", PORTAL)
    monkeypatch.setenv("SEATTUI_TOKEN", client.token or "")
    return Run(harness, monkeypatch)


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


async def test_whoami_says_who_the_token_is(seattui: Run) -> None:
    code, out, _ = await seattui("whoami", "--json")
    assert code == 0
    me = json.loads(out)
    assert {key: me[key] for key in ("login", "role", "organization", "organization_kind", "portal")} == {
        "login": "acme-admin", "role": "admin", "organization": "Acme", "organization_kind": "reseller",
        "portal": PORTAL}
    assert "purchase" in me["permissions"] and me["profile"] == "default"
    code, out, _ = await seattui("whoami")
    assert (code, out) == (0, f"acme-admin (admin) of Acme, on {PORTAL}; profile 'default'\n")


async def test_keys_as_json_as_lines_and_as_a_table(seattui: Run, harness: PortalHarness) -> None:
    admin = await harness.login("acme-admin")
    for name in ("Contoso", "Fabrikam", "Northwind"):
        await admin.create_key(name)
    code, out, _ = await seattui("keys", "--json")
    assert code == 0
    keys = json.loads(out)
    assert [key["name"] for key in keys] == ["Northwind", "Fabrikam", "Contoso"]  # newest first
    assert set(keys[0]) == {"id", "key", "name", "created_at", "license_count", "subscription_count"}
    assert keys[0]["created_at"] == "2026-03-02T09:30:00Z"
    code, out, _ = await seattui("keys", "--jsonl", "--filter", "fab")
    assert code == 0 and [key["name"] for key in lines(out)] == ["Fabrikam"]
    code, out, _ = await seattui("keys")
    table = out.splitlines()
    assert table[0].split() == ["Key", "Licenses", "Subscriptions", "Created", "Name"]
    assert table[1].startswith(keys[0]["key"]) and table[1].endswith("2026-03-02 09:30  Northwind")
    assert table[0].index("Created") == table[1].index("2026-") == table[3].index("2026-")  # aligned


async def test_jsonl_streams_page_by_page_and_json_is_one_document(
        seattui: Run, harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = await harness.login("acme-admin")
    for n in range(5):
        await admin.create_key(f"key {n}")
    monkeypatch.setattr(reads, "PAGE_SIZE", 2)
    code, out, _ = await seattui("keys", "--jsonl")
    assert code == 0 and [key["name"] for key in lines(out)] == [f"key {n}" for n in (4, 3, 2, 1, 0)]
    # Three pages, each asked for only once the one before was written out.
    assert [written for path, written in seattui.requests if path == "/api/v1/keys"] == [0, 2, 4]
    code, out, _ = await seattui("keys", "--json")
    assert code == 0 and [key["name"] for key in json.loads(out)] == [f"key {n}" for n in (4, 3, 2, 1, 0)]
    code, out, _ = await seattui("keys")  # the table too: one header, every row
    assert code == 0 and len(out.splitlines()) == 6


async def test_licenses_filter_by_text_product_and_ended_terms(seattui: Run, harness: PortalHarness) -> None:
    permanent = await a_license(harness, comment="PO 4471", customer_email="it@contoso.example")
    mail = await a_license(harness, product_id="mailguard", edition_id="basic", quantity=25)
    ended = await a_license(harness, term=Term.TRIAL, trial_days=5, comment="evaluation")
    harness.clock.advance(days=6)
    live = await a_license(harness, term=Term.TRIAL, trial_days=5, comment="second look")
    code, out, _ = await seattui("licenses", "--json")
    assert code == 0
    every = json.loads(out)
    assert sorted(item["id"] for item in every) == sorted(x.id for x in (permanent, mail, ended, live))
    first = next(item for item in every if item["id"] == permanent.id)
    assert {key: first[key] for key in ("key", "product_id", "edition_id", "term", "quantity", "status",
                                        "customer_email", "comment", "paid", "support_ends_on", "device")} == {
        "key": permanent.key, "product_id": "remotedesk", "edition_id": "standard", "term": "permanent",
        "quantity": 10, "status": "assigned", "customer_email": "it@contoso.example", "comment": "PO 4471",
        "paid": f"{permanent.paid:.2f}", "support_ends_on": str(permanent.support_ends_on), "device": None}

    async def ids(*args: str) -> list[int]:
        code, out, err = await seattui("licenses", "--jsonl", *args)
        assert code == 0, err
        return [item["id"] for item in lines(out)]

    assert await ids("--expired") == [ended.id]
    assert await ids("--product", "mailguard") == [mail.id]
    assert await ids("--filter", "contoso") == [permanent.id]
    assert await ids("--expired", "--product", "mailguard") == []
    code, out, err = await seattui("licenses", "--expired")
    assert code == 0 and "trial ended" in out.splitlines()[1] and out.count("\n") == 2
    code, out, err = await seattui("licenses", "--product", "nothing-like-it")
    assert (code, out, err) == (0, "", "No licenses match.\n")


async def test_support_ending_within_days_counts_from_the_portals_today(
        seattui: Run, harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    soon = await a_license(harness)
    harness.clock.advance(days=60)
    later = await a_license(harness)
    await a_license(harness, term=Term.TRIAL, trial_days=30)  # no support: never listed
    harness.clock.advance(days=300)  # `soon`'s support ends in about 5 days, `later`'s in about 65
    assert (await seattui("support"))[0] == 3  # the session of 300 days ago has expired
    monkeypatch.setenv("SEATTUI_TOKEN", (await harness.login("acme-admin")).token or "")
    assert soon.support_ends_on and later.support_ends_on
    code, out, _ = await seattui("support", "--json")
    assert code == 0 and [item["id"] for item in json.loads(out)] == [soon.id, later.id]  # earliest end first
    code, out, _ = await seattui("support", "--ending", "30", "--json")
    assert [item["id"] for item in json.loads(out)] == [soon.id]
    days_left = (later.support_ends_on - harness.clock.now.date()).days
    code, out, _ = await seattui("support", "--ending", str(days_left), "--jsonl")
    assert [item["id"] for item in lines(out)] == [soon.id, later.id]
    code, out, _ = await seattui("support", "--ending", "30")
    assert out.splitlines()[0].split()[:5] == ["Key", "Product", "Edition", "Qty", "Support"]
    assert str(soon.support_ends_on) in out.splitlines()[1]
    code, _, err = await seattui("support", "--ending", "-3")
    assert code == 2 and "number of days from 0 to 3650" in err


async def test_employees_and_the_ledger(seattui: Run, harness: PortalHarness) -> None:
    admin = await harness.login("acme-admin")
    await admin.add_employee(EmployeeFields(name="Ada Berg", email="ada@acme.example", department="Sales"))
    await admin.add_employee(EmployeeFields(name="Bo Chen", email="bo@acme.example", department="Support"))
    code, out, _ = await seattui("employees", "--json")
    people = json.loads(out)
    assert code == 0 and [person["name"] for person in people] == ["Ada Berg", "Bo Chen"]
    assert {key: people[0][key] for key in ("email", "department", "status", "seats")} == {
        "email": "ada@acme.example", "department": "Sales", "status": "active", "seats": []}
    code, out, _ = await seattui("employees", "--filter", "support")
    assert out.splitlines()[1].split()[:2] == ["Bo", "Chen"] and len(out.splitlines()) == 2

    bought = await a_license(harness)
    code, out, _ = await seattui("ledger", "--json")
    entries = json.loads(out)
    assert code == 0 and entries[0]["reason"] == "license" and entries[0]["object_id"] == bought.id
    assert entries[0]["amount"] == f"-{bought.paid:.2f}" and entries[-1]["reason"] == "grant"
    assert entries[-1]["amount"] == entries[-1]["balance_after"] == "1000.00"
    code, out, _ = await seattui("ledger")
    assert f"{1000 - bought.paid:,.2f}" in out.splitlines()[1] and "license" in out.splitlines()[1]


async def test_audit_since_a_day_and_of_one_batch(seattui: Run, harness: PortalHarness) -> None:
    admin = await harness.login("acme-admin")
    await admin.create_key("before")
    harness.clock.advance(days=2)
    await admin.create_key("after")
    code, out, _ = await seattui("audit", "--json")
    assert code == 0
    named = [entry["details"].get("name") for entry in json.loads(out) if entry["action"] == "key.create"]
    assert named == ["after", "before"]  # newest first
    since = harness.clock.now.date().isoformat()
    code, out, _ = await seattui("audit", "--since", since, "--jsonl")
    recent = lines(out)
    assert code == 0 and recent and all(entry["at"] >= since for entry in recent)
    assert [entry["details"].get("name") for entry in recent if entry["action"] == "key.create"] == ["after"]
    tomorrow = (harness.clock.now.date() + timedelta(days=1)).isoformat()
    assert (await seattui("audit", "--since", tomorrow, "--json"))[:2] == (0, "[]\n")
    code, out, _ = await seattui("audit", "--batch", "no-such-batch")
    assert (code, out) == (0, "")


async def test_audit_batch_lists_the_batch_only(seattui: Run, harness: PortalHarness) -> None:
    from seat_support import move, staff

    ids = await staff(harness, 4, 2)
    admin = await harness.login("acme-admin")
    outcome = await admin.reassign([move(ids[0], ids[2]), move(ids[1], ids[3])])
    code, out, _ = await seattui("audit", "--batch", outcome.batch_id or "", "--json")
    entries = json.loads(out)
    assert code == 0 and entries and {entry["batch_id"] for entry in entries} == {outcome.batch_id}


# -- exit codes and errors ----------------------------------------------------------------


async def test_a_revoked_token_exits_3_and_says_which_token(seattui: Run, harness: PortalHarness,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    client = await harness.login("acme-viewer")
    monkeypatch.setenv("SEATTUI_TOKEN", client.token or "")
    assert (await seattui("credits"))[0] == 0
    await client.logout()
    code, out, err = await seattui("licenses")
    assert (code, out) == (3, "") and "logged out" in err and "SEATTUI_TOKEN" in err
    code, out, err = await seattui("credits", "--json")
    assert (code, out) == (3, "")
    assert json.loads(err) == {"code": "session_expired",
                               "message": "You logged out of this session: log in again. (the token in "
                                          "SEATTUI_TOKEN: make a new one, or unset it)"}
    monkeypatch.setenv("SEATTUI_TOKEN", "stui_never_issued")
    code, _, err = await seattui("whoami", "--json")
    assert code == 3 and json.loads(err)["code"] == "unauthenticated"


async def test_not_logged_in_exits_3(seattui: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEATTUI_TOKEN")
    code, out, err = await seattui("keys", "--jsonl")
    assert (code, out) == (3, "")
    assert json.loads(err) == {"code": "not_logged_in", "message": "Profile 'default' is not logged in: run "
                                                                   "seattui login first (or set SEATTUI_TOKEN)."}
    assert seattui.requests == []  # nothing was sent


async def test_a_portal_that_is_not_there_exits_4(seattui: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEATTUI_PORTAL", f"http://127.0.0.1:{free_port()}")
    code, out, err = await seattui("ledger", "--json")
    assert (code, out) == (4, "")
    error = json.loads(err)
    assert error["code"] == "portal_unavailable" and "Cannot reach the portal at http://127.0.0.1:" in error["message"]
    code, _, err = await seattui("whoami")
    assert code == 4 and err.startswith("seattui: Cannot reach the portal") and "Traceback" not in err


async def test_usage_errors_exit_2_and_are_json_under_json(seattui: Run) -> None:
    code, out, err = await seattui("audit", "--since", "last tuesday", "--json")
    assert (code, out) == (2, "")
    assert json.loads(err) == {"code": "usage", "message": "argument --since: 'last tuesday' is not a date: write "
                                                           "it as YYYY-MM-DD, like 2026-03-02 (seattui audit --help)"}
    code, _, err = await seattui("audit", "--since", "last tuesday")
    assert code == 2 and err.startswith("usage: seattui audit") and "seattui audit: error: argument --since" in err
    code, _, err = await seattui("licenses", "--json", "--filter", "x" * 101)
    assert code == 2 and json.loads(err)["code"] == "usage" and "100" in json.loads(err)["message"]
    code, _, err = await seattui("keys", "--json", "--jsonl")
    assert code == 2 and "not allowed with argument" in json.loads(err)["message"]
    assert seattui.requests == []


async def test_a_refusal_is_exit_1_with_the_portals_code(seattui: Run) -> None:
    code, out, err = await seattui("invoice", "show", "INV-2099-000404", "--profile", "default")
    assert code == 1 and "INV-2099-000404" in err
    code, out, err = await seattui("reassign", "-", "--json", stdin=b"from_email,to_email,product\n"
                                                                     b"nobody@acme.example,none@acme.example,\n")
    assert code == 1 and json.loads(out)["refused"][0]["line"] == 2


# -- environment and profiles -------------------------------------------------------------


def write_profiles(tmp_path: Path, text: str, tokens: str) -> None:
    config = Path(os.environ["SEATTUI_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text)
    (config.parent / "tokens.toml").write_text(tokens)


async def test_the_environment_beats_the_profile(seattui: Run, tmp_path: Path, harness: PortalHarness,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await harness.login("acme-owner")
    stale = await harness.login("acme-op")
    await stale.logout()
    write_profiles(tmp_path, 'default_profile = "home"\n'
                             '[profiles.home]\nportal = "http://127.0.0.1:9"\n'
                             f'[profiles.work]\nportal = "{PORTAL}"\n',
                   f'[tokens]\nhome = "{stale.token}"\nwork = "{owner.token}"\n')
    # SEATTUI_PORTAL and SEATTUI_TOKEN beat the default profile's portal (closed) and token (revoked).
    code, out, _ = await seattui("whoami", "--json")
    assert code == 0 and (json.loads(out)["login"], json.loads(out)["profile"]) == ("acme-admin", "home")
    # SEATTUI_PROFILE picks the profile, whose own token is used when SEATTUI_TOKEN is unset.
    monkeypatch.delenv("SEATTUI_TOKEN")
    monkeypatch.delenv("SEATTUI_PORTAL")
    monkeypatch.setenv("SEATTUI_PROFILE", "work")
    code, out, _ = await seattui("whoami", "--json")
    assert code == 0 and (json.loads(out)["login"], json.loads(out)["profile"]) == ("acme-owner", "work")
    # --profile beats SEATTUI_PROFILE, before or after the command.
    assert (await seattui("credits", "--profile", "home"))[0] == 4
    assert (await seattui("--profile", "home", "credits"))[0] == 4
    code, out, _ = await seattui("--profile", "home", "credits", "--profile", "work", "--json")
    assert code == 0 and json.loads(out)["organization"] == "Acme"
    monkeypatch.setenv("SEATTUI_PORTAL", "portal.example.com")
    code, _, err = await seattui("credits")
    assert code == 2 and "SEATTUI_PORTAL takes 'embedded' or a URL" in err


# -- the command itself -------------------------------------------------------------------


def test_version_and_completion_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"seattui {__version__}\n"
    assert cli.main(["completion", "bash"]) == 0
    bash = capsys.readouterr().out
    assert "complete -o bashdefault -F _shtab_seattui seattui" in bash
    for word in ("licenses", "whoami", "--expired", "--jsonl", "reassign"):
        assert word in bash
    assert cli.main(["completion", "zsh"]) == 0
    zsh = capsys.readouterr().out
    assert zsh.startswith("#compdef seattui") and "--ending" in zsh
    assert cli.main(["completion", "fish"]) == 2


READS: list[tuple[str, ...]] = [("whoami",), ("keys",), ("licenses", "--expired"), ("support", "--ending", "30"),
                                ("employees",), ("ledger",), ("audit", "--since", "2026-03-02")]


@pytest.mark.parametrize("command", READS, ids=lambda command: command[0])
def test_every_read_command_has_help_json_and_jsonl(command: tuple[str, ...], capsys: pytest.CaptureFixture[str],
                                                    ) -> None:
    with pytest.raises(SystemExit):
        cli.main([command[0], "--help"])
    shown = capsys.readouterr().out
    assert f"usage: seattui {command[0]}" in shown and "--jsonl" in shown and "--profile" in shown



async def test_the_portal_refuses_bad_values_of_the_new_filters(harness: PortalHarness) -> None:
    from seattui.domain.errors import ValidationFailed

    admin = await harness.login("acme-admin")
    for path, params in (("/api/v1/licenses", {"support_ending_days": "-1"}),
                         ("/api/v1/licenses", {"support_ending_days": "3651"}),
                         ("/api/v1/licenses", {"expired": "maybe"}),
                         ("/api/v1/audit", {"since": "2026-02-30"})):
        with pytest.raises(ValidationFailed):
            await admin.request("GET", path, params=params)


async def test_stored_control_characters_never_reach_the_terminal(seattui: Run, harness: PortalHarness) -> None:
    from sqlalchemy import update

    from seattui.portal.store.tables import activation_keys

    admin = await harness.login("acme-admin")
    key = await admin.create_key("Contoso")
    async with harness.portal.store.write() as conn:  # stored before the portal refused such text
        await conn.execute(update(activation_keys).where(activation_keys.c.id == key.id)
                           .values(name="Con\x1b[2Jtoso\x07 \u202eevil"))
    for shape in ((), ("--json",), ("--jsonl",)):
        code, out, _ = await seattui("keys", *shape)
        assert code == 0 and "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "Con␛[2Jtoso␇" in (await seattui("keys"))[1]
    assert json.loads((await seattui("keys", "--json"))[1])[0]["name"] == "Con\x1b[2Jtoso\x07 \u202eevil"


def test_the_app_opens_on_seattui_profile_unless_profile_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from seattui.cli import session

    opened: list[str | None] = []
    monkeypatch.setattr(session, "run_terminal_app", lambda profile: opened.append(profile) or 0)
    assert cli.main([]) == 0
    monkeypatch.setenv("SEATTUI_PROFILE", "work")
    assert cli.main([]) == 0 and cli.main(["--profile", "home"]) == 0
    assert opened == [None, "work", "home"]
