"""Subscriptions and seat plans from the command line: the list, a flexible cap, annual seats
and renewal, a cancellation; each change prints its quote, and --dry-run changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from seattui.domain.licensing import LicenseOrder, NewActivationKey, SubscriptionOrder, Term
from seattui.portal.context import Tx
from seattui.portal.runtime import Portal
from seattui.portal.services import accounts, keys, licenses, subscriptions
from seattui.portal.settings import PortalSettings

from cli_helpers import seattui
from test_cli_billing import OWNER_PASSWORD, init


def plans(database: Path) -> tuple[int, int, int]:
    """A flexible plan (cap 5), an annual contract (10 seats) and a channel subscription."""

    async def make() -> tuple[int, int, int]:
        portal = Portal(PortalSettings(database_url=f"sqlite:///{database}"))
        try:
            async with portal.store.write() as conn:
                actor = await accounts.organization_by_name(conn, "Initech")
                tx = Tx(conn=conn, actor=actor, catalog=portal.catalog, now=portal.now())
                key = (await keys.create(tx, NewActivationKey(name="cli"))).key
                flexible = await licenses.create(tx, LicenseOrder(key=key, product_id="workspace",
                                                                  term=Term.FLEXIBLE, quantity=5))
                annual = await licenses.create(tx, LicenseOrder(key=key, product_id="workspace", term=Term.ANNUAL,
                                                                quantity=10, seat_cap=12))
                channels = await subscriptions.create(tx, SubscriptionOrder(key=key, product_id="connect", channels=2))
                return flexible.id, annual.id, channels.id
        finally:
            await portal.close()

    return asyncio.run(make())


def test_subscriptions_list_and_change_from_the_command_line(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SEATTUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("SEATTUI_DATA_DIR", str(tmp_path))
    database = tmp_path / "portal.db"
    init(database)
    flexible, annual, channels = plans(database)
    login = seattui("login", "--portal", "embedded", "--db", str(database), "--login", "peter", "--password-stdin",
                    stdin=OWNER_PASSWORD + "\n")
    assert login.returncode == 0, login.stderr

    listed = json.loads(seattui("subscriptions", "--json").stdout)
    assert [(item["kind"], item["id"], item["plan"], item["size"]) for item in listed] == [
        ("seats", flexible, "flexible", 5), ("seats", annual, "annual", 10), ("channels", channels, "monthly", 2)]
    assert listed[1]["contract_max"] == 12 and listed[1]["renewal"] == "same"
    readable = seattui("subscriptions").stdout
    assert "0/5" in readable and "0/10 (max 12)" in readable

    dry = seattui("subscription", "cap", str(flexible), "8", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Cost: 0.00 credits." in dry.stdout and "Not refundable" in dry.stdout
    assert json.loads(seattui("subscriptions", "--json").stdout)[0]["size"] == 5  # a dry run changes nothing
    capped = seattui("subscription", "cap", str(flexible), "8")
    assert capped.returncode == 0 and f"License {flexible}: the cap is 8 seats." in capped.stdout

    bad = seattui("subscription", "seats", str(annual), "2")
    assert bad.returncode == 2 and "+N" in bad.stderr
    quoted = seattui("subscription", "seats", str(annual), "+2", "--dry-run")
    assert quoted.returncode == 0, quoted.stderr
    assert "Paid now from credits" in quoted.stdout and "never refunded" in quoted.stdout
    over = seattui("subscription", "seats", str(annual), "+3")
    assert over.returncode == 1 and "add at most 2" in over.stderr
    added = seattui("subscription", "seats", str(annual), "+2")
    assert added.returncode == 0 and "12 seats" in added.stdout, added.stderr

    renewal = seattui("subscription", "renewal", str(annual), "end")
    assert renewal.returncode == 0 and "renewal end" in renewal.stdout, renewal.stderr
    wrong = seattui("subscription", "cap", str(annual), "4")
    assert wrong.returncode == 1 and "for flexible plans" in wrong.stderr

    cancel = seattui("subscription", "cancel", str(channels), "--now")
    assert cancel.returncode == 0 and "ended today" in cancel.stdout, cancel.stderr
    assert json.loads(seattui("subscriptions", "--json").stdout)[2]["status"] == "ended"


def test_a_seat_trial_is_converted_from_the_command_line(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SEATTUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("SEATTUI_DATA_DIR", str(tmp_path))
    database = tmp_path / "portal.db"
    init(database)

    async def trial() -> int:
        portal = Portal(PortalSettings(database_url=f"sqlite:///{database}"))
        try:
            async with portal.store.write() as conn:
                actor = await accounts.organization_by_name(conn, "Initech")
                tx = Tx(conn=conn, actor=actor, catalog=portal.catalog, now=portal.now())
                key = (await keys.create(tx, NewActivationKey(name="trial"))).key
                return (await licenses.create(tx, LicenseOrder(key=key, product_id="workspace", term=Term.TRIAL,
                                                                quantity=3, trial_days=14))).id
        finally:
            await portal.close()

    trial_id = asyncio.run(trial())
    login = seattui("login", "--portal", "embedded", "--db", str(database), "--login", "peter", "--password-stdin",
                    stdin=OWNER_PASSWORD + "\n")
    assert login.returncode == 0, login.stderr

    quoted = seattui("subscription", "convert", str(trial_id), "annual", "4", "--dry-run")
    assert quoted.returncode == 0, quoted.stderr
    assert "Cost:" in quoted.stdout and "never refunded" in quoted.stdout
    quote = json.loads(seattui("subscription", "convert", str(trial_id), "annual", "4", "--dry-run", "--json").stdout)
    assert float(quote["cost"]) > 0
    [row] = json.loads(seattui("subscriptions", "--json").stdout)
    assert (row["plan"], row["size"]) == ("trial", 3)  # a dry run changes nothing

    assert seattui("subscription", "convert", str(trial_id), "annual", "0").returncode == 2
    converted = seattui("subscription", "convert", str(trial_id), "annual", "4", "--json")
    assert converted.returncode == 0, converted.stderr
    changed = json.loads(converted.stdout)
    assert (changed["id"], changed["term"], changed["quantity"]) == (trial_id, "annual", 4)
    again = seattui("subscription", "convert", str(trial_id), "flexible", "4", "--json")
    assert again.returncode == 1 and json.loads(again.stderr)["message"]
