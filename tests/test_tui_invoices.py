"""The invoices screen as an administrator uses it: unpaid first with the overdue ones said in
words, the month's draft with what it holds so far, enter for the lines, `p` pays from credits
after a review with the balance after (and the header's balance follows), `w` writes the PDF
where typed, `m` emails it."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from textual.message import Message
from textual.widgets import Input

from seattui.domain.billing import InvoiceStatus
from seattui.portal.store.tables import outbox_mails
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.invoice_dialogs import InvoiceDetailScreen, InvoiceEmailScreen, InvoicePdfScreen
from seattui.tui.screens.invoices import InvoicesScreen

from harness import PortalHarness
from test_api_billing import a_key, bill, monthly, permanent, set_terms
from tui_support import make_app, shows, type_text, until, until_screen, until_text

SIZE = (120, 40)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


async def billed_month(harness: PortalHarness) -> str:
    """Acme on monthly terms (due in 14 days): March billed on April 1st as INV-2026-000001
    (588.00), and April's draft holding one order so far (49.00)."""
    await set_terms(harness, "Acme", monthly("5000.00", due_days=14))
    owner = await harness.login("acme-owner")
    await owner.create_license(permanent(await a_key(harness), reference_name="Front desk"))
    await owner.create_license(permanent(await a_key(harness), quantity=2))
    harness.clock.advance(days=30)  # April 1st
    [number] = await bill(harness, date(2026, 4, 1))
    owner = await harness.login("acme-owner")
    await owner.create_license(permanent(await a_key(harness), quantity=1))
    return number


async def open_invoices(pilot: Any) -> InvoicesScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.view is not None,
                what="the dashboard")
    await pilot.press("g", "i")
    screen = await until_screen(pilot, InvoicesScreen)
    await until(pilot, lambda: screen.source.loaded, what="the invoices")
    return screen


async def test_unpaid_first_the_draft_marked_and_enter_shows_the_lines(harness: PortalHarness) -> None:
    number = await billed_month(harness)
    app = make_app(harness, token=(await harness.login("acme-viewer")).token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_invoices(pilot)
        statuses = [(invoice.status, invoice.number) for invoice in screen.table.rows]
        assert statuses[:2] == [(InvoiceStatus.OPEN, number), (InvoiceStatus.DRAFT, None)]
        assert shows(app, "(draft) April 2026 draft 49.00")
        assert shows(app, "1 unpaid invoice, 588.00 due") and shows(app, "April draft so far 49.00")
        assert not shows(app, "overdue")
        await pilot.press("enter")
        detail = await until_screen(pilot, InvoiceDetailScreen)
        await until_text(pilot, "Front desk: RemoteDesk Standard")
        assert shows(app, f"Summary invoice {number}") and shows(app, "due 2026-04-15")
        await pilot.press("escape")
        await until_screen(pilot, InvoicesScreen)
        await pilot.press("down", "enter")
        await until_text(pilot, "Draft of April 2026: what it holds so far")
        assert shows(app, "Total so far") and detail is not app.screen


async def test_an_invoice_past_its_due_date_says_overdue(harness: PortalHarness) -> None:
    number = await billed_month(harness)
    harness.clock.advance(days=20)  # April 21st: past the 15th
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_invoices(pilot)
        assert screen.table.rows[0].number == number and screen.table.rows[0].overdue
        await until_text(pilot, f"{number} March 2026 overdue 588.00 2026-04-15")
        assert shows(app, "(1 overdue)")


async def test_p_pays_after_a_review_with_the_balance_after_and_the_header_follows(harness: PortalHarness) -> None:
    number = await billed_month(harness)
    messages: list[Message] = []
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await open_invoices(pilot)
        await until(pilot, lambda: app.balance is not None, what="the balance")
        assert app.balance == 1000
        await pilot.press("p")
        await until_screen(pilot, ConfirmScreen)
        assert shows(app, f"Pay invoice {number}?") and shows(app, "Balance after 412.00")
        assert shows(app, "Paid now from your credits, in full.") and shows(app, "Not refundable")
        await pilot.press("y")
        await until(pilot, lambda: app.balance == 412, what="the header's balance after paying")
        screen = await until_screen(pilot, InvoicesScreen)
        await until(pilot, lambda: screen.table.rows[0].status is InvoiceStatus.DRAFT, what="the paid one after")
        assert shows(app, "Nothing to pay")
    owner = await harness.login("acme-owner")
    assert (await owner.invoice(number)).status is InvoiceStatus.PAID
    assert (await owner.balance()).balance == 412


async def test_declining_the_review_pays_nothing(harness: PortalHarness) -> None:
    number = await billed_month(harness)
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = await open_invoices(pilot)
        await pilot.press("p")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("n")
        await until_screen(pilot, InvoicesScreen)
        await until(pilot, lambda: "pay" not in screen.writes_running, what="the review to end")
    owner = await harness.login("acme-owner")
    assert (await owner.invoice(number)).status is InvoiceStatus.OPEN


async def test_w_writes_the_pdf_to_the_path_typed(harness: PortalHarness, tmp_path: Path) -> None:
    number = await billed_month(harness)
    app = make_app(harness, token=(await harness.login("acme-viewer")).token)
    async with app.run_test(size=SIZE) as pilot:
        await open_invoices(pilot)
        await pilot.press("w")
        form = await until_screen(pilot, InvoicePdfScreen)
        assert form.query_one("#pdf-path", Input).value == f"{number}.pdf"  # here, by default
        form.query_one("#pdf-path", Input).value = ""
        target = tmp_path / "march.pdf"
        await type_text(pilot, str(target))
        await pilot.press("ctrl+s")
        await until_screen(pilot, InvoicesScreen)
        await until(pilot, lambda: any(f"to {target}" in note.message for note in app._notifications),
                    what="the toast naming the file")
        reader = PdfReader(io.BytesIO(target.read_bytes()))
        assert number in reader.pages[0].extract_text()
        # Again to the same file: replaced only after a second ctrl+s.
        target.write_bytes(b"last month's copy")
        await pilot.press("w")
        form = await until_screen(pilot, InvoicePdfScreen)
        form.query_one("#pdf-path", Input).value = str(target)
        await pilot.press("ctrl+s")
        await until_text(pilot, "exists already: ctrl+s again replaces it")
        assert target.read_bytes() == b"last month's copy"
        await pilot.press("ctrl+s")
        await until_screen(pilot, InvoicesScreen)
        await until(pilot, lambda: target.read_bytes().startswith(b"%PDF-"), what="the file replaced")


async def test_m_emails_to_the_billing_address_and_a_draft_has_nothing_to_send(harness: PortalHarness) -> None:
    number = await billed_month(harness)
    owner = await harness.login("acme-owner")
    await owner.set_billing_contact("accounts@acme.example")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_invoices(pilot)
        await until(pilot, lambda: screen.billing_email == "accounts@acme.example", what="the billing address")
        await pilot.press("m")
        form = await until_screen(pilot, InvoiceEmailScreen)
        assert form.query_one("#email-to", Input).value == "accounts@acme.example"
        await pilot.press("ctrl+s")
        await until_screen(pilot, InvoicesScreen)
        await until(pilot, lambda: any("on its way to accounts@acme.example" in note.message
                                       for note in app._notifications), what="the toast")
        await pilot.press("down", "m")
        await until_text(pilot, "still a draft")
        assert isinstance(app.screen, InvoicesScreen)
    async with harness.portal.store.read() as conn:
        assert await conn.scalar(select(func.count()).select_from(outbox_mails)) == 1
        to, subject = (await conn.execute(select(outbox_mails.c.to_address, outbox_mails.c.subject))).one()
    assert (to, subject) == ("accounts@acme.example", f"Invoice {number}")


async def test_a_viewer_has_no_pay_or_email_key(harness: PortalHarness) -> None:
    await billed_month(harness)
    app = make_app(harness, token=(await harness.login("acme-viewer")).token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_invoices(pilot)
        assert screen.check_action("pay", ()) is False and screen.check_action("email", ()) is False
        assert screen.check_action("write_file", ()) is True


async def test_slash_filters_by_number_as_typed_and_escape_shows_all_again(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    for quantity in (1, 2, 3):  # prepaid: INV-2026-000001 to 3, each paid at once
        await owner.create_license(permanent(await a_key(harness), quantity=quantity))
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_invoices(pilot)
        assert [invoice.number for invoice in screen.table.rows] == [
            "INV-2026-000003", "INV-2026-000002", "INV-2026-000001"]
        await pilot.press("/", *"0002")
        await until(pilot, lambda: [invoice.number for invoice in screen.table.rows] == ["INV-2026-000002"],
                    what="the filtered list")
        await pilot.press("escape", "o")  # out of the box, then sort by number
        await until(pilot, lambda: screen.table.sort_column == "number" and screen.source.loaded, what="the sort")
        await pilot.press("escape")
        await until(pilot, lambda: len(screen.table.rows) == 3 and screen.table.rows[0].number == "INV-2026-000003",
                    what="every invoice, newest first")
