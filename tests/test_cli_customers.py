"""`seattui customers` and `seattui customers export` as a person or a script runs them."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

from sqlalchemy import update

from seattui.domain.customers import NewCustomer
from seattui.domain.licensing import LicenseOrder, NewActivationKey, Term
from seattui.portal.context import Tx
from seattui.portal.runtime import Portal
from seattui.portal.services import accounts, customers, keys, licenses
from seattui.portal.settings import PortalSettings
from seattui.portal.store.tables import customers as customer_rows

from cli_helpers import seattui

OWNER_PASSWORD = "owner password 123"


def a_portal_with_customers(database: Path) -> None:
    done = seattui("init", "--db", str(database), "--org", "Initech", "--login", "Peter", "--credits", "1000",
                   "--password-stdin", stdin=OWNER_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr

    async def fill() -> None:
        portal = Portal(PortalSettings(database_url=f"sqlite:///{database}"))
        try:
            async with portal.store.write() as conn:
                actor = await accounts.organization_by_name(conn, "Initech")
                tx = Tx(conn=conn, actor=actor, catalog=portal.catalog, now=portal.now())
                for email in ("Ada@Example.org", "ada@example.org", "bob@example.org"):
                    key = (await keys.create(tx, NewActivationKey(name="cli"))).key
                    await licenses.create(tx, LicenseOrder(key=key, product_id="remotedesk", edition_id="standard",
                                                           term=Term.PERMANENT, quantity=1, customer_email=email))
                await customers.add(tx, NewCustomer(email="eve@example.org", name="=HYPERLINK(\"http://x\")",
                                                    company="Evil Corp"))
                # Stored before the portal refused control characters: shown harmlessly.
                await conn.execute(update(customer_rows).where(customer_rows.c.email == "bob@example.org")
                                   .values(name="Bob\x1b]0;PWNED\x07"))
        finally:
            await portal.close()

    asyncio.run(fill())
    login = seattui("login", "--portal", "embedded", "--db", str(database), "--login", "peter", "--password-stdin",
                    stdin=OWNER_PASSWORD + "\n")
    assert login.returncode == 0, login.stderr


def test_customers_listed_as_json_and_as_a_table_and_exported(tmp_path: Path) -> None:
    a_portal_with_customers(tmp_path / "portal.db")
    listed = seattui("customers", "--json")
    assert listed.returncode == 0, listed.stderr
    shown = [(c["email"], c["licenses"], c["spend_this_year"]) for c in json.loads(listed.stdout)]
    assert shown == [("ada@example.org", 2, "98.00"), ("bob@example.org", 1, "49.00"), ("eve@example.org", 0, "0.00")]

    table = seattui("customers", "--filter", "bob")
    assert table.returncode == 0 and "\x1b" not in table.stdout and "\x07" not in table.stdout
    assert table.stdout.startswith("bob@example.org") and "Bob" in table.stdout and "ada@" not in table.stdout

    target = tmp_path / "customers.csv"
    exported = seattui("customers", "export", "-o", str(target))
    assert exported.returncode == 0 and exported.stdout.strip() == f"Wrote 3 customers to {target}."
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(row["email"], row["licenses"]) for row in rows] == [
        ("ada@example.org", "2"), ("bob@example.org", "1"), ("eve@example.org", "0")]
    # A spreadsheet opening the file must not run a customer's name as a formula.
    assert rows[2]["name"] == "'=HYPERLINK(\"http://x\")"

    unwritable = seattui("customers", "export", "-o", str(tmp_path / "missing" / "x.csv"))
    assert unwritable.returncode == 2 and "Cannot write" in unwritable.stderr


def test_customer_mail_shown_and_set_by_the_owner(tmp_path: Path) -> None:
    done = seattui("init", "--db", str(tmp_path / "portal.db"), "--org", "Initech", "--login", "Peter",
                   "--password-stdin", stdin=OWNER_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    login = seattui("login", "--portal", "embedded", "--db", str(tmp_path / "portal.db"), "--login", "peter",
                    "--password-stdin", stdin=OWNER_PASSWORD + "\n")
    assert login.returncode == 0, login.stderr

    shown = seattui("customer-mail", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"mail": True, "attach_file": False}
    said = seattui("customer-mail")
    assert said.returncode == 0 and "without the license file" in said.stdout

    attached = seattui("customer-mail", "--attach-file", "on")
    assert attached.returncode == 0 and "with the signed license file attached" in attached.stdout
    off = seattui("customer-mail", "off", "--json")
    assert off.returncode == 0 and json.loads(off.stdout) == {"mail": False, "attach_file": True}
    assert "are not mailed" in seattui("customer-mail").stdout

    wrong = seattui("customer-mail", "maybe")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
