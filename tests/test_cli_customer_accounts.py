"""A customer's own login on the command line: `seattui login` as the customer, then
`seattui licenses` lists their licenses alone, `seattui license file` writes one of theirs,
and what belongs to the organization (its credits) is refused."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from seattui.domain.roles import Role
from seattui.portal.context import Tx
from seattui.portal.queries.customers import customer_for
from seattui.portal.runtime import Portal
from seattui.portal.services import accounts
from seattui.wiring import portal_settings

from cli_helpers import seattui
from conftest import run_apart

CUSTOMER = "it@contosohq.example"
PASSWORD = "contoso password 1"


def a_customer_login(database: Path) -> None:
    async def add() -> None:
        portal = Portal(portal_settings(database))
        await portal.start()
        try:
            async with portal.store.write() as conn:
                org = await accounts.organization_by_name(conn, "Northwind IT Services")
                tx = Tx(conn=conn, actor=org, catalog=portal.catalog, now=portal.now())
                await accounts.add_user(tx, portal.hasher, login="contoso", password=PASSWORD, role=Role.CUSTOMER,
                                        customer_id=await customer_for(tx, CUSTOMER))
        finally:
            await portal.close()

    run_apart(add())


def test_a_customer_lists_and_fetches_only_their_own_licenses(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    assert seattui("demo", "--seed-only", "--db", str(database)).returncode == 0
    a_customer_login(database)
    with sqlite3.connect(database) as conn:
        theirs = {row[0] for row in conn.execute("SELECT key FROM licenses WHERE customer_email = ?", (CUSTOMER,))}
        (other_key, other_product), = conn.execute(
            "SELECT key, product_id FROM licenses WHERE customer_email <> ? ORDER BY id LIMIT 1", (CUSTOMER,))
        (key, product), = conn.execute(
            "SELECT key, product_id FROM licenses WHERE customer_email = ? AND term = 'permanent' LIMIT 1",
            (CUSTOMER,))
    demo = ("--profile", "demo")
    logged_in = seattui(*demo, "login", "--login", "contoso", "--password-stdin", stdin=PASSWORD + "\n")
    assert logged_in.returncode == 0, logged_in.stderr

    listed = seattui(*demo, "licenses", "--jsonl")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {row["key"] for row in rows} == theirs and rows
    assert all(row["comment"] == "" and row["paid"] == "0.00" for row in rows)

    written = seattui(*demo, "license", "file", key, "--product", product, "-o", str(tmp_path / "mine.license"))
    assert written.returncode == 0, written.stderr
    assert key in (tmp_path / "mine.license").read_text()
    refused = seattui(*demo, "license", "file", other_key, "--product", other_product)
    assert refused.returncode == 1 and "None of your licenses" in refused.stderr

    credits = seattui(*demo, "credits")
    assert credits.returncode == 1 and "customer's login" in credits.stderr


def test_the_organization_disables_enables_and_resets_a_customers_login_and_the_customer_lists_subscriptions(
        tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    assert seattui("demo", "--seed-only", "--db", str(database)).returncode == 0
    a_customer_login(database)
    org, mine = ("--profile", "demo"), ("--profile", "contoso")
    assert seattui(*org, "login", "--login", "admin", "--password-stdin", stdin="seattui-demo\n").returncode == 0
    logged_in = seattui(*mine, "login", "--db", str(database), "--login", "contoso", "--password-stdin",
                        stdin=PASSWORD + "\n")
    assert logged_in.returncode == 0, logged_in.stderr

    # Their own subscriptions and seat plans, without what the organization pays.
    with sqlite3.connect(database) as conn:
        (customer_id,), = conn.execute("SELECT id FROM customers WHERE email = ?", (CUSTOMER,))
        theirs = conn.execute("SELECT count(*) FROM subscriptions WHERE customer_id = ?", (customer_id,)).fetchone()[0]
    listed = seattui(*mine, "subscriptions", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert sum(row["kind"] == "channels" for row in rows) == theirs
    assert all(row["monthly_cost"] == "0.00" for row in rows)
    assert "/month" not in seattui(*mine, "subscriptions").stdout

    shown = seattui(*org, "customer", "show", CUSTOMER)
    assert shown.returncode == 0, shown.stderr
    assert "Own login: contoso." in shown.stdout
    disabled = seattui(*org, "customer", "disable", CUSTOMER, "--yes")
    assert disabled.returncode == 0 and "is disabled since" in disabled.stdout
    refused = seattui(*mine, "licenses")
    assert refused.returncode != 0 and "has disabled your login" in refused.stderr
    assert "disabled since" in seattui(*org, "customer", "show", str(customer_id)).stdout
    assert seattui(*org, "customer", "enable", CUSTOMER).returncode == 0

    sent = seattui(*org, "customer", "password-code", CUSTOMER)
    assert sent.returncode == 0, sent.stderr
    code = sent.stdout.split("(shown only now): ")[1].split()[0]
    # The old password works until the new one is set.
    assert seattui(*mine, "login", "--db", str(database), "--login", "contoso", "--password-stdin",
                   stdin=PASSWORD + "\n").returncode == 0
    reset = seattui(*mine, "login", "--db", str(database), "--invite", code, "--login", "contoso",
                    "--password-stdin", stdin="a brand new password\n")
    assert reset.returncode == 0, reset.stderr
    old = seattui(*mine, "login", "--db", str(database), "--login", "contoso", "--password-stdin",
                  stdin=PASSWORD + "\n")
    assert old.returncode != 0 and "Wrong login or password" in old.stderr
    unknown = seattui(*org, "customer", "disable", "nobody@nowhere.example", "--yes")
    assert unknown.returncode != 0 and "There is no customer" in unknown.stderr
