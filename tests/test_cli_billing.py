"""Invoices and billing as a person runs them: the operator sets terms and runs billing on the
database, the organization lists, shows and pays its invoices through its profile."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from seattui.domain.licensing import LicenseOrder, NewActivationKey, Term
from seattui.portal.context import Tx
from seattui.portal.runtime import Portal
from seattui.portal.services import accounts, keys, licenses
from seattui.portal.settings import PortalSettings

from cli_helpers import seattui

OWNER_PASSWORD = "owner password 123"


def init(database: Path) -> None:
    done = seattui("init", "--db", str(database), "--org", "Initech", "--login", "Peter", "--credits", "1000",
                   "--password-stdin", stdin=OWNER_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr


def buy(database: Path, quantity: int, po_number: str) -> None:
    """An order placed on the portal (the terminal app's wizard does this through the API)."""

    async def order() -> None:
        portal = Portal(PortalSettings(database_url=f"sqlite:///{database}"))
        try:
            async with portal.store.write() as conn:
                actor = await accounts.organization_by_name(conn, "Initech")
                tx = Tx(conn=conn, actor=actor, catalog=portal.catalog, now=portal.now())
                key = (await keys.create(tx, NewActivationKey(name="cli"))).key
                await licenses.create(tx, LicenseOrder(key=key, product_id="remotedesk", edition_id="standard",
                                                       term=Term.PERMANENT, quantity=quantity, po_number=po_number))
        finally:
            await portal.close()

    asyncio.run(order())


def test_terms_billing_run_and_paying_an_invoice_from_the_command_line(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    init(database)
    refused = seattui("terms", "set", "monthly", "--org", "Initech", "--db", str(database))
    assert refused.returncode == 2 and "--credit-limit" in refused.stderr
    terms = seattui("terms", "set", "monthly", "--org", "Initech", "--credit-limit", "5000", "--due-days", "14",
                    "--db", str(database))
    assert terms.returncode == 0, terms.stderr
    assert terms.stdout.strip() == "Initech: monthly invoice, credit limit 5,000.00, due in 14 days."
    buy(database, 10, "PO-1")
    buy(database, 2, "PO-2")
    run = seattui("billing", "run", "--as-of", "2099-01-01", "--db", str(database), "--json")
    assert run.returncode == 0, run.stderr
    [number] = json.loads(run.stdout)["finalized"]
    assert number == "INV-2099-000001"
    again = seattui("billing", "run", "--as-of", "2099-01-01", "--db", str(database), "--json")
    assert json.loads(again.stdout)["finalized"] == []

    login = seattui("login", "--portal", "embedded", "--db", str(database), "--login", "peter", "--password-stdin",
                    stdin=OWNER_PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    listed = json.loads(seattui("invoices", "--unpaid", "--json").stdout)
    assert [(invoice["number"], invoice["status"], invoice["total"], invoice["due"]) for invoice in listed] == [
        (number, "open", "588.00", "588.00")]
    shown = json.loads(seattui("invoice", "show", number, "--json").stdout)
    assert [line["amount"] for line in shown["lines"]] == ["490.00", "98.00"]
    unconfirmed = seattui("invoice", "pay", number)
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    paid = seattui("invoice", "pay", number, "--yes")
    assert paid.returncode == 0, paid.stderr
    assert paid.stdout.strip() == f"Paid {number}: 588.00 credits, balance 412.00."
    assert json.loads(seattui("invoices", "--unpaid", "--json").stdout) == []
    missing = seattui("invoice", "show", "INV-2099-000404")
    assert missing.returncode == 1 and "no invoice INV-2099-000404" in missing.stderr


def test_an_invoice_written_as_pdf_and_emailed_from_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "portal.db"
    init(database)
    assert seattui("terms", "set", "monthly", "--org", "Initech", "--credit-limit", "5000",
                   "--db", str(database)).returncode == 0
    buy(database, 10, "PO-1")
    [number] = json.loads(seattui("billing", "run", "--as-of", "2099-01-01", "--db", str(database),
                                  "--json").stdout)["finalized"]
    login = seattui("login", "--portal", "embedded", "--db", str(database), "--login", "peter", "--password-stdin",
                    stdin=OWNER_PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)

    written = seattui("invoice", "pdf", number)
    assert written.returncode == 0, written.stderr
    assert written.stdout.startswith(f"Wrote invoice {number} to {number}.pdf")
    text = " ".join(PdfReader(here / f"{number}.pdf").pages[0].extract_text().split())
    assert number in text and "490.00" in text
    again = seattui("invoice", "pdf", number)
    assert again.returncode == 2 and "--force" in again.stderr and "exists already" in again.stderr
    chosen = seattui("invoice", "pdf", number, "-o", str(tmp_path / "march.pdf"), "--json")
    assert json.loads(chosen.stdout)["file"] == str(tmp_path / "march.pdf")
    assert (tmp_path / "march.pdf").read_bytes().startswith(b"%PDF-")
    assert seattui("invoice", "pdf", number, "--force").returncode == 0

    unaddressed = seattui("invoice", "email", number)
    assert unaddressed.returncode == 1 and "seattui billing-email ADDRESS" in unaddressed.stderr
    assert seattui("billing-email").stdout.strip() == "No billing address: set one with seattui billing-email ADDRESS."
    bad = seattui("billing-email", "accounts at initech")
    assert bad.returncode == 1 and "not an email address" in bad.stderr
    assert json.loads(seattui("billing-email", "accounts@initech.example", "--json").stdout) == {
        "billing_email": "accounts@initech.example"}
    mailed = seattui("invoice", "email", number)
    assert mailed.returncode == 0, mailed.stderr
    assert mailed.stdout.startswith(f"Invoice {number} is on its way to accounts@initech.example")
    typed = json.loads(seattui("invoice", "email", number, "--to", "peter@initech.example", "--json").stdout)
    assert (typed["invoice"], typed["to"]) == (number, "peter@initech.example")
    waiting = json.loads(seattui("outbox", "--json", "--db", str(database)).stdout)
    assert sorted((mail["to"], mail["attachments"][0]) for mail in waiting) == [
        ("accounts@initech.example", f"{number}.pdf"), ("peter@initech.example", f"{number}.pdf")]
    assert seattui("billing-email", "--clear").stdout.strip().startswith("No billing address")
