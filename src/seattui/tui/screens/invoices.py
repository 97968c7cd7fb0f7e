"""The invoices screen (`g i`): the unpaid invoices first (this month's draft with what it holds
so far, then the finalized ones, overdue in the theme's warning colour and in words), then
every paid one, a page at a time; `/` filters by number, `o`/`O` sort. enter shows an
invoice's lines, `p` pays it from credits after a review with the balance after, `w` writes
its PDF to a file, `m` emails it to the billing address or to one typed."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Static

from seattui.domain.billing import Invoice, InvoiceKind, InvoiceMailed, InvoiceSort, InvoiceStatus, Payment, PaymentMethod
from seattui.domain.money import format_credits
from seattui.domain.paging import Page
from seattui.domain.pricing import PriceLine, Quote
from seattui.tui import commands
from seattui.tui.changes import INVOICE_PAYMENT, Area
from seattui.tui.formatting import plural
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.base import PortalScreen
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.invoice_dialogs import InvoiceDetailScreen, InvoiceEmailScreen, InvoicePdfScreen
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_source import PagedSource
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.quote_view import INVOICE, quote_renderable
from seattui.tui.widgets.status_bar import StatusBar

PAGE = 100
NEWEST = "newest"  # no column: the portal's own order (unpaid oldest month first, then paid newest first)
COLUMNS = (
    Column(InvoiceSort.NUMBER.value, "Number", width=16),
    Column("period", "Period", min_width=10, sortable=False),
    Column("status", "Status", width=7, sortable=False),
    Column(InvoiceSort.TOTAL.value, "Total", width=12, justify="right"),
    Column("due_on", "Due date", width=10, sortable=False),
)
def period_words(invoice: Invoice) -> str:
    if invoice.kind is InvoiceKind.SUMMARY:
        return f"{invoice.period_start:%B %Y}"
    return f"order {invoice.period_start}"


class InvoicesScreen(PortalScreen):
    SHOWS = frozenset({Area.INVOICES})
    SCOPE = "invoices"
    CSS_PATH = style("invoices.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.request_keys = RequestKeys()  # one key per invoice paid: a retry pays once
        self.billing_email: str | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Horizontal(classes="invoices-bar"):
            yield Input(placeholder="/ filter by number", id="invoices-filter")
        yield Static("", id="invoices-summary")
        yield Problem(id="invoices-problem")
        table = PagedTable[Invoice](
            COLUMNS, row_key=lambda invoice: invoice.id, cells=self._cells, sort=(NEWEST, False), marks=False,
            empty_text="No invoices yet: every paid change makes one.", id="invoices")
        self.source = PagedSource(table, self._page, first_page=PAGE, page=PAGE)
        yield table
        yield KeyFooter()

    @property
    def table(self) -> PagedTable[Invoice]:
        return self.query_one(PagedTable)

    @property
    def filter_text(self) -> str:
        return self.query_one("#invoices-filter", Input).value.strip()

    def on_mount(self) -> None:
        self.table.focus()
        self.source.reload()
        self.run_worker(self._read_contact(), group="contact", exclusive=True, exit_on_error=False)

    async def _read_contact(self) -> None:
        contact = await self.call_portal(lambda client: client.billing_contact())
        if contact is not None:
            self.billing_email = contact.billing_email

    async def _page(self, cursor: str | None, limit: int) -> Page[Invoice] | None:
        table, text = self.table, self.filter_text
        sort = InvoiceSort(table.sort_column) if table.sort_column != NEWEST else InvoiceSort.NEWEST
        return await self.call_portal(lambda client: client.invoices(
            cursor=cursor, limit=limit, text=text or None, sort=sort, descending=table.sort_descending))

    def _cells(self, invoice: Invoice) -> list[Cell]:
        warning = self.app.current_theme.warning or "yellow"
        if invoice.status is InvoiceStatus.DRAFT:
            number: Cell = Text("(draft)", style="italic")
            status: Cell = Text("draft", style="italic")
        else:
            number = invoice.number or ""
            if invoice.overdue:
                status = Text("overdue", style=Style(color=warning, bold=True))
            elif invoice.status is InvoiceStatus.OPEN:
                status = "unpaid"
            else:
                status = Text("paid", style="dim")
        due_on: Cell = ""
        if invoice.due_on is not None and invoice.status is not InvoiceStatus.PAID:
            due_on = Text(f"{invoice.due_on}", style=Style(color=warning, bold=True)) if invoice.overdue \
                else f"{invoice.due_on}"
        return [number, period_words(invoice), status, format_credits(invoice.total), due_on]

    @on(PagedTable.PageArrived)
    def _arrived(self, message: PagedTable.PageArrived) -> None:
        if message.first:
            self.table.empty_text = "No invoice number holds that." if self.filter_text else \
                "No invoices yet: every paid change makes one."
            self._say_summary()

    def _say_summary(self) -> None:
        unpaid = [invoice for invoice in self.table.rows if invoice.status is not InvoiceStatus.PAID]
        finalized = [invoice for invoice in unpaid if invoice.status is InvoiceStatus.OPEN]
        overdue = [invoice for invoice in finalized if invoice.overdue]
        owed = sum((invoice.due for invoice in finalized), Decimal("0.00"))
        drafts = [invoice for invoice in unpaid if invoice.status is InvoiceStatus.DRAFT]
        parts = [f"{plural(len(finalized), 'unpaid invoice')}, {format_credits(owed)} due"
                 + (f" ({len(overdue)} overdue)" if overdue else "") if finalized else "Nothing to pay"]
        parts += [f"{invoice.period_start:%B} draft so far {format_credits(invoice.total)}" for invoice in drafts]
        self.query_one("#invoices-summary", Static).update(" · ".join(parts))

    # -- keys ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        current = self.table.current if self.is_mounted else None
        if action in ("pay", "write_file", "email") and current is None:
            return False
        return super().check_action(action, parameters)

    def on_paged_table_highlighted(self, _message: PagedTable.Highlighted) -> None:
        self.refresh_bindings()

    def on_paged_table_selected(self, message: PagedTable.Selected) -> None:
        self.app.push_screen(InvoiceDetailScreen(message.row))

    def on_paged_table_sort_changed(self, message: PagedTable.SortChanged) -> None:
        message.stop()
        self.source.reload()

    @on(Input.Changed, "#invoices-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.source.reload()

    @on(Input.Submitted, "#invoices-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_filter(self) -> None:
        self.focus_input(self.query_one("#invoices-filter", Input))

    def action_back(self) -> None:
        box = self.query_one("#invoices-filter", Input)
        table = self.table
        if isinstance(self.focused, Input):
            table.focus()
        elif box.value or table.sort_column != NEWEST or table.sort_descending:
            table.sort_column, table.sort_descending = NEWEST, False
            with box.prevent(Input.Changed):
                box.value = ""
            self.source.reload()
        else:
            self.seattui.action_open_screen("dashboard")

    def action_refresh(self) -> None:
        self.source.reload(keep_place=True)
        self.run_worker(self._read_contact(), group="contact", exclusive=True, exit_on_error=False)

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        self.source.reload(keep_place=True)

    def _finalized(self, what: str) -> Invoice | None:
        """The invoice under the cursor if it has a document; else say why not."""
        invoice = self.table.current
        if invoice is None:
            return None
        if invoice.number is None:
            self.query_one(Problem).say(
                f"The {invoice.period_start:%B %Y} invoice is still a draft: it can be {what} once it is finalized "
                "at the start of the next month.")
            return None
        return invoice

    def action_pay(self) -> None:
        invoice = self._finalized("paid")
        if invoice is None:
            return
        if invoice.status is InvoiceStatus.PAID:
            self.query_one(Problem).say(f"Invoice {invoice.number} is paid already.")
            return
        self.start_write("pay", partial(self._pay, invoice))

    async def _pay(self, invoice: Invoice) -> None:
        balance = await self.call_portal(lambda client: client.balance(), retry_key="p")
        if balance is None:
            return
        line = PriceLine(description=f"Invoice {invoice.number} ({period_words(invoice)})", quantity=1,
                         unit_price=invoice.due, amount=invoice.due)
        built = Quote.build([line], balance.balance)
        quote = built.model_copy(update={"payment": Payment(
            method=PaymentMethod.CREDITS, summary="Paid now from your credits, in full",
            balance_after=built.balance_after)})
        if not quote.affordable:
            self.query_one(Problem).say(
                f"Not enough credits to pay {invoice.number}: {format_credits(quote.shortfall)} short. "
                "Nothing is paid: ask your vendor for credits.")
            return
        if not await self.app.push_screen_wait(ConfirmScreen(
                f"Pay invoice {invoice.number}?", quote_renderable(quote, INVOICE), confirm="Pay")):
            return
        number = invoice.number or ""
        key = self.request_keys.key_for("pay", number)
        paid = await self.call_portal(lambda client: client.pay_invoice(number, idempotency_key=key), retry_key="p")
        if paid is None:
            return
        self.request_keys.succeeded("pay", number)
        self.table.replace_row(paid)
        self.seattui.announce_change(INVOICE_PAYMENT)
        self.notify(f"Paid invoice {number}: {format_credits(invoice.due)} credits; balance "
                    f"{format_credits(quote.balance_after)}.", timeout=6)

    def action_write_file(self) -> None:
        invoice = self._finalized("written as a PDF")
        if invoice is None:
            return

        def written(path: str | None) -> None:
            if path is not None:
                self.notify(f"Wrote invoice {invoice.number} to {path}.", timeout=6)

        self.app.push_screen(InvoicePdfScreen(invoice), written)

    def action_email(self) -> None:
        invoice = self._finalized("emailed")
        if invoice is None:
            return

        def sent(mailed: InvoiceMailed | None) -> None:
            if mailed is not None:
                self.notify(f"Invoice {mailed.invoice} is on its way to {mailed.to}, its PDF attached.", timeout=6)

        self.app.push_screen(InvoiceEmailScreen(invoice, self.billing_email), sent)
