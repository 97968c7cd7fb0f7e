"""The invoices screen's dialogs: one invoice with its lines (enter), where to write its PDF
(`w`), and where to email it (`m`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, Static

from seattui.domain.billing import Invoice, InvoiceKind, InvoiceMailed, InvoiceStatus, invoice_filename
from seattui.domain.errors import ValidationFailed
from seattui.domain.money import format_credits
from seattui.domain.text import printable
from seattui.tui import commands
from seattui.tui.files import target_path
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.base import PortalModal
from seattui.tui.screens.form import FormScreen
from seattui.tui.styles import style
from seattui.tui.widgets.problem import Problem


def invoice_name(invoice: Invoice) -> str:
    """INV-2026-000123, or "the March 2026 draft" before it has a number."""
    return invoice.number or f"the {invoice.period_start:%B %Y} draft"


def _period(invoice: Invoice) -> str:
    if invoice.kind is InvoiceKind.ORDER:
        return f"{invoice.period_start}"
    return f"{invoice.period_start} to {invoice.period_end}"


def invoice_renderable(invoice: Invoice) -> RenderableType:
    """The invoice in full: what it is, each line, and the totals."""
    if invoice.status is InvoiceStatus.DRAFT:
        head = Text(f"Draft of {invoice.period_start:%B %Y}: what it holds so far. It is finalized, numbered "
                    "and due at the start of the next month.", style="bold")
    else:
        kind = "Summary invoice" if invoice.kind is InvoiceKind.SUMMARY else "Order invoice"
        state = ("paid" if invoice.status is InvoiceStatus.PAID
                 else f"due {invoice.due_on}" + (", overdue" if invoice.overdue else ""))
        head = Text(f"{kind} {invoice.number}, {_period(invoice)}, issued {invoice.issued_on}: {state}",
                    style="bold")
    lines = Table(box=None, padding=(0, 1), expand=True, show_header=True, header_style="bold")
    lines.add_column("Line", ratio=1, overflow="fold")
    lines.add_column("Service", no_wrap=True, style="dim")
    lines.add_column("Qty × price", justify="right", no_wrap=True)
    lines.add_column("Amount", justify="right", no_wrap=True)
    for line in invoice.lines:
        words = (f"{line.reference_name}: " if line.reference_name else "") + line.description
        service = f"{line.service_start}" + (f" to {line.service_end}" if line.service_end else "") \
            if line.service_start else ""
        lines.add_row(printable(words), service, f"{line.quantity:,} × {format_credits(line.unit_price)}",
                      format_credits(line.amount))
    if not invoice.lines:
        lines.add_row(Text("No orders on it yet.", style="dim"), "", "", "")
    totals = Table(box=None, padding=(0, 1), show_header=False)
    totals.add_column(no_wrap=True)
    totals.add_column(justify="right", no_wrap=True)
    totals.add_row("Total" + (" so far" if invoice.status is InvoiceStatus.DRAFT else ""),
                   format_credits(invoice.total))
    totals.add_row("Paid", format_credits(invoice.paid))
    totals.add_row(Text("Due", style="bold"), Text(format_credits(invoice.due), style="bold"))
    return Group(head, Text(""), lines, Text(""), totals)


class InvoiceDetailScreen(PortalModal[None]):
    """One invoice with every line; the invoices screen's keys act on it once it is closed."""

    SCOPE = "invoice"
    CSS_PATH = style("invoices.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def __init__(self, invoice: Invoice) -> None:
        super().__init__()
        self.invoice = invoice

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="invoice-detail"):
            yield Static(Text(f"Invoice {invoice_name(self.invoice)}", style="bold"), id="invoice-title")
            yield Problem(id="invoice-problem")
            yield Static("Reading its lines …", id="invoice-lines")
            yield Static("escape: back", id="invoice-hint")

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, group="invoice", exit_on_error=False)
    async def _load(self) -> None:
        reference = self.invoice.number or str(self.invoice.id)
        found = await self.call_portal(lambda client: client.invoice(reference))
        if found is not None:
            self.invoice = found
            self.query_one("#invoice-lines", Static).update(invoice_renderable(found))

    def action_close(self) -> None:
        self.dismiss(None)


def _write_new(path: Path, data: bytes, replace: bool) -> None:
    with open(path, "wb" if replace else "xb") as target:
        target.write(data)


class InvoicePdfScreen(FormScreen):
    """Where to write the invoice's PDF (NUMBER.pdf in the current directory unless typed).
    An existing file is replaced only after a second ctrl+s. Dismissed with the path, or None."""

    TITLE_TEXT = "Write the invoice's PDF"
    HINT = "ctrl+s: write · escape: cancel"

    def __init__(self, invoice: Invoice) -> None:
        super().__init__()
        self.invoice = invoice
        self.number = invoice.number or ""
        self._replace: Path | None = None  # the existing file a second ctrl+s replaces

    def fields(self) -> ComposeResult:
        yield Static(f"{self.number} · total {format_credits(self.invoice.total)}", classes="form-about")
        yield Label("Write to (a file, or a folder for " + invoice_filename(self.number) + ")")
        yield Input(invoice_filename(self.number), id="pdf-path")

    def action_submit(self) -> None:
        path, problem = target_path(self.query_one("#pdf-path", Input).value, invoice_filename(self.number))
        if path is None:
            self.say(f"Write to: {problem}")
            return
        if path.exists() and self._replace != path:
            self._replace = path
            self.say(f"{path} exists already: ctrl+s again replaces it, or type another path.")
            return
        self._write(path, replace=self._replace == path)

    @work(exclusive=True, group="write", exit_on_error=False)
    async def _write(self, path: Path, *, replace: bool) -> None:
        number = self.number
        pdf = await self.call_portal(lambda client: client.invoice_pdf(number))
        if pdf is None:
            return
        try:
            await asyncio.to_thread(_write_new, path, pdf, replace)
        except FileExistsError:
            self._replace = path
            self.say(f"{path} exists already: ctrl+s again replaces it, or type another path.")
            return
        except OSError as error:
            self.say(f"Cannot write {path}: {error.strerror or error}. Choose another path.")
            return
        self.dismiss(str(path))


class InvoiceEmailScreen(FormScreen):
    """Where to email the invoice: the billing address, or one typed. The portal writes the
    mail with the PDF to its outbox; dismissed with what it answered, or None."""

    TITLE_TEXT = "Email the invoice"
    HINT = "ctrl+s: send · escape: cancel"

    def __init__(self, invoice: Invoice, billing_email: str | None) -> None:
        super().__init__()
        self.invoice, self.billing_email = invoice, billing_email
        self.request_keys = RequestKeys()  # a retry after a lost answer writes one mail

    def fields(self) -> ComposeResult:
        about = (f"To the billing address, {self.billing_email}, or another you type." if self.billing_email
                 else "The organization has no billing address yet (seattui billing-email ADDRESS sets one): "
                      "type where to send it.")
        yield Static(f"{self.invoice.number}, its PDF attached. {printable(about)}", classes="form-about")
        yield Label("To")
        yield Input(self.billing_email or "", placeholder="accounts@example.com", id="email-to")

    def action_submit(self) -> None:
        to = self.query_one("#email-to", Input).value.strip()
        if not to:
            self.say("To: type the address to send the invoice to.")
            return
        self._send(to)

    @work(exclusive=True, group="write", exit_on_error=False)
    async def _send(self, to: str) -> None:
        number = self.invoice.number or ""
        key = self.request_keys.key_for(number, to)
        try:
            mailed: InvoiceMailed | None = await self.call_portal(
                lambda client: client.email_invoice(number, to, idempotency_key=key), raising=(ValidationFailed,))
        except ValidationFailed as refused:
            self.say(refused.message)
            return
        if mailed is not None:
            self.request_keys.succeeded(number, to)
            self.dismiss(mailed)
