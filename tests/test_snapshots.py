"""Layout snapshots of the app, deterministic: fixed terminal sizes, a frozen clock, the
textual-dark theme, demo data seeded from a fixed seed, no blinking cursor, and every
worker done before the picture is taken. SVGs live in snapshots/test_snapshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from seattui.domain.accounts import Credentials
from seattui.portal.runtime import Portal
from seattui.portal.billing_run import run_billing
from seattui.portal.seed import DEMO_LOGIN, DEMO_PASSWORD, seed_demo
from seattui.portal.services import auth
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.login import LoginScreen
from seattui.tui.screens.setup import SetupScreen
from seattui.wiring import EmbeddedConnector, portal_settings

from conftest import run_apart
from harness import FakeClock
from tui_support import make_app, until, until_screen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
FAST_HASHES = {"argon2_time_cost": 1, "argon2_memory_kib": 64}


class SnapshotConnector(EmbeddedConnector):
    @property
    def description(self) -> str:
        return f"embedded ({Path(self.database).name})"  # not the test's temporary folder


def connector(database: Path) -> EmbeddedConnector:
    return SnapshotConnector(database, clock=FakeClock(), **FAST_HASHES)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A demo database seeded at the frozen time, and a session token on it."""
    database = tmp_path_factory.mktemp("demo") / "demo.db"

    async def prepare() -> str:
        portal = Portal(portal_settings(database, clock=FakeClock(), **FAST_HASHES))
        await portal.start()
        try:
            await seed_demo(portal)
            # Billed here, not by the app's background run racing the first screen: the demo's
            # flexible plan has seat-days of the month before the frozen time.
            await run_billing(portal.store, portal.now().date(), portal.now, catalog=portal.catalog)
            session = await auth.login(portal, Credentials(login=DEMO_LOGIN, password=DEMO_PASSWORD))
        finally:
            await portal.close()
        return session.token

    return database, run_apart(prepare())


def settled(screen_type: type, ready: Callable[[Any], bool] = lambda screen: True) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        await until_screen(pilot, screen_type)
        await until(pilot, lambda: ready(pilot.app.screen), what=f"{screen_type.__name__} ready")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


class TestLogin:
    @pytest.mark.parametrize("size", SIZES)
    def test_login(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        app = make_app(connector=connector(demo[0]), login=DEMO_LOGIN)
        assert snap_compare(app, terminal_size=size, run_before=settled(LoginScreen))

    @pytest.mark.parametrize("size", SIZES)
    def test_wrong_password(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        async def run_before(pilot: Any) -> None:
            await settled(LoginScreen)(pilot)
            await pilot.press(*"wrong password")  # the remembered login is filled in: the password has the cursor
            await pilot.press("enter")
            await until(pilot, lambda: "Wrong" in str(pilot.app.screen.query_one("#login-problem").render()))

        app = make_app(connector=connector(demo[0]), login=DEMO_LOGIN)
        assert snap_compare(app, terminal_size=size, run_before=run_before)


class TestFirstRun:
    @pytest.mark.parametrize("size", SIZES)
    def test_first_run(self, snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
        app = make_app(connector=connector(tmp_path / "empty.db"))
        assert snap_compare(app, terminal_size=size, run_before=settled(SetupScreen))


class TestDashboard:
    @pytest.mark.parametrize("size", SIZES)
    def test_dashboard(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        database, token = demo
        app = make_app(connector=connector(database), token=token, login=DEMO_LOGIN)
        loaded = settled(DashboardScreen, lambda screen: screen.view is not None)
        assert snap_compare(app, terminal_size=size, run_before=loaded)

    @pytest.mark.parametrize("size", SIZES)
    def test_help(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        database, token = demo

        async def run_before(pilot: Any) -> None:
            await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
            await pilot.press("question_mark")
            await pilot.pause()

        app = make_app(connector=connector(database), token=token, login=DEMO_LOGIN)
        assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- the keys screen and every step of the assignment wizard --------------------------


def signed_in(demo: tuple[Path, str]) -> Any:
    database, token = demo
    return make_app(connector=connector(database), token=token, login=DEMO_LOGIN)


def on_keys(then: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        from seattui.tui.screens.keys import KeysScreen

        await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
        await pilot.press("g", "k")
        await settled(KeysScreen, lambda screen: screen.key_list.table.total is not None)(pilot)
        if then is not None:
            await then(pilot)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    return run_before


def list_ready(screen: Any) -> bool:
    return bool(screen.loaded and screen.text.catalog is not None)


def opened(key: str, screen_type: type, *presses: str) -> Callable[[Any], Any]:
    """From the dashboard, a list screen opened with `key`, loaded, after `presses`."""
    async def run_before(pilot: Any) -> None:
        await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
        await pilot.press("g", key)
        await settled(screen_type, list_ready)(pilot)
        if presses:
            await pilot.press(*presses)
            await settled(screen_type, list_ready)(pilot)

    return run_before


def at_step(step: str, **answers: str) -> Callable[[Any], Any]:
    """The wizard showing one step with these answers already given (the Pilot tests walk
    the steps by keyboard; a snapshot shows each step as it looks)."""

    async def run_before(pilot: Any) -> None:
        from seattui.domain.licensing import Term
        from seattui.tui.assignment import Draft, Step
        from seattui.tui.screens.assign import AssignScreen

        await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
        await pilot.press("g", "a")
        wizard = await until_screen(pilot, AssignScreen)
        await until(pilot, lambda: wizard.catalog is not None and wizard.query_one("#assign-keys-table").rows)
        draft = Draft()
        if answers:
            key = wizard.query_one("#assign-keys-table").rows[0]
            term = Term(answers.pop("term")) if "term" in answers else None
            draft = Draft(key=key.key, key_name=key.name, term=term, **answers)
        wizard.resume(draft, Step(step))
        if step == "review":
            await until(pilot, lambda: wizard.quote is not None, what="the quote")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


class TestKeys:
    @pytest.mark.parametrize("size", SIZES)
    def test_keys(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        assert snap_compare(signed_in(demo), terminal_size=size, run_before=on_keys())

    @pytest.mark.parametrize("size", SIZES)
    def test_new_key(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        async def custom_key(pilot: Any) -> None:
            await pilot.press("n")
            await pilot.pause()
            await pilot.press(*"Initech", "tab", "down", "enter", "tab", *"abcd-efgh")

        assert snap_compare(signed_in(demo), terminal_size=size, run_before=on_keys(custom_key))


PERMANENT = {"product_id": "remotedesk", "edition_id": "professional", "term": "permanent", "quantity": "10",
             "customer_email": "it@contoso.example", "comment": "help desk"}


class TestAssignWizard:
    @pytest.mark.parametrize("size", SIZES)
    @pytest.mark.parametrize(
        ("step", "answers"),
        [
            pytest.param("key", {}, id="1-key"),
            pytest.param("product", {"product_id": "remotedesk"}, id="2-product"),
            pytest.param("edition", {"product_id": "mailguard", "edition_id": "advanced", "addons": ("archiving",)},
                         id="3-edition"),
            pytest.param("term", {"product_id": "remotedesk", "edition_id": "standard", "term": "trial"}, id="4-term"),
            pytest.param("quantity", {"product_id": "mailguard", "edition_id": "basic", "term": "permanent",
                                      "quantity": "25"}, id="5-quantity"),
            pytest.param("customer", PERMANENT, id="6-customer"),
            pytest.param("review", PERMANENT, id="7-review"),
            pytest.param("review", PERMANENT | {"edition_id": "enterprise", "quantity": "100"}, id="7-review-short"),
        ],
    )
    def test_step(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int], step: str,
                  answers: dict[str, Any]) -> None:
        assert snap_compare(signed_in(demo), terminal_size=size, run_before=at_step(step, **answers))
class TestLicenses:
    @pytest.mark.parametrize("size", SIZES)
    def test_licenses(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        from seattui.tui.screens.licenses import LicensesScreen

        database, token = demo
        app = make_app(connector=connector(database), token=token, login=DEMO_LOGIN)
        # The cursor on an activated license, so the detail panel shows its device.
        assert snap_compare(app, terminal_size=size, run_before=opened("l", LicensesScreen, "down", "down", "down"))


class TestLicenseFiles:
    @pytest.mark.parametrize("size", SIZES)
    def test_write_dialog(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        from seattui.tui.screens.license_file_form import LicenseFileScreen
        from seattui.tui.screens.licenses import LicensesScreen

        database, token = demo
        app = make_app(connector=connector(database), token=token, login=DEMO_LOGIN)

        async def run_before(pilot: Any) -> None:
            # An activated license: the dialog offers its machine's fingerprint for a machine file.
            await opened("l", LicensesScreen, "down", "down", "down")(pilot)
            await pilot.press("w")
            await settled(LicenseFileScreen)(pilot)

        assert snap_compare(app, terminal_size=size, run_before=run_before)


class TestSupport:
    @pytest.mark.parametrize("size", SIZES)
    def test_support(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        from seattui.tui.screens.support import SupportScreen

        database, token = demo
        app = make_app(connector=connector(database), token=token, login=DEMO_LOGIN)
        assert snap_compare(app, terminal_size=size, run_before=opened("s", SupportScreen, "space", "space"))


class TestLedger:
    @staticmethod
    def _ready(screen: Any) -> bool:
        return bool(screen.source.loaded)

    @pytest.mark.parametrize("size", SIZES)
    def test_ledger(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        from seattui.tui.screens.ledger import LedgerScreen

        async def run_before(pilot: Any) -> None:
            await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
            await pilot.press("g", "o")
            await settled(LedgerScreen, self._ready)(pilot)

        assert snap_compare(signed_in(demo), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_an_order_with_its_lines(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        from seattui.tui.screens.ledger import LedgerScreen
        from seattui.tui.screens.ledger_forms import OrderScreen

        async def run_before(pilot: Any) -> None:
            await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
            await pilot.press("g", "o")
            await settled(LedgerScreen, self._ready)(pilot)
            await pilot.press("2")
            await settled(LedgerScreen, self._ready)(pilot)
            await pilot.press("down", "enter")
            await settled(OrderScreen)(pilot)

        assert snap_compare(signed_in(demo), terminal_size=size, run_before=run_before)


# -- employees and seats ----------------------------------------------------------------

DEPARTED_THEN_RECEIVERS = ("t", "t")  # the departed employees, who all hold seats in the demo
RECEIVERS = ("down", "down", "down", "space", "down", "space", "space", "space", "space", "down", "down", "space")


async def _employees_ready(pilot: Any) -> Any:
    from seattui.tui.screens.employees import EmployeesScreen

    await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
    await pilot.press("g", "e")
    screen = await until_screen(pilot, EmployeesScreen)
    await until(pilot, lambda: screen.employees.table.rows and screen.departments, what="the employees")
    return screen


async def _to_preview(pilot: Any) -> Any:
    from seattui.tui.screens.reassign import ReassignScreen
    from seattui.tui.screens.reassign_preview import PreviewScreen

    screen = await _employees_ready(pilot)
    await pilot.press(*DEPARTED_THEN_RECEIVERS)
    await until(pilot, lambda: len(screen.employees.table.rows) == 6, what="the departed")
    await pilot.press("ctrl+a")
    await until(pilot, lambda: len(screen.employees.table.marked) == 6)
    await pilot.press("r")
    reassign = await until_screen(pilot, ReassignScreen)
    await until(pilot, lambda: len(reassign.receivers.table.rows) > 12, what="the receivers")
    await pilot.press(*RECEIVERS)
    await pilot.press("p")
    preview = await until_screen(pilot, PreviewScreen)
    await until(pilot, lambda: preview.plan is not None, what="the dry run")
    return preview


def _ready(wait: Callable[[Any], Any]) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        await wait(pilot)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


class TestEmployees:
    @pytest.mark.parametrize("size", SIZES)
    def test_employees(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        database, token = demo
        app = make_app(connector=connector(database), token=token, login=DEMO_LOGIN)
        assert snap_compare(app, terminal_size=size, run_before=_ready(_employees_ready))

    @pytest.mark.parametrize("size", SIZES)
    def test_preview_with_a_conflict(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        database, token = demo
        app = make_app(connector=connector(database), token=token, login=DEMO_LOGIN)
        assert snap_compare(app, terminal_size=size, run_before=_ready(_to_preview))

    @pytest.mark.parametrize("size", SIZES)
    def test_result(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int], tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> None:
        import itertools
        import types
        import uuid

        numbers = itertools.count(1)  # batch ids the picture can keep
        monkeypatch.setattr("seattui.portal.routes.seats.uuid",
                            types.SimpleNamespace(uuid4=lambda: uuid.UUID(int=next(numbers))))
        copy = tmp_path / "demo.db"  # the batch changes seats: not in the shared demo
        copy.write_bytes(demo[0].read_bytes())

        async def applied(pilot: Any) -> None:
            preview = await _to_preview(pilot)
            await pilot.press("delete")
            await until(pilot, lambda: preview.plan is not None and not preview.conflicts, what="no conflicts")
            await pilot.press("enter")
            await until(pilot, lambda: preview.applied is not None, what="the batch")

        app = make_app(connector=connector(copy), token=demo[1], login=DEMO_LOGIN)
        assert snap_compare(app, terminal_size=size, run_before=_ready(applied))


async def _customers_ready(pilot: Any) -> Any:
    from seattui.tui.screens.customers import CustomersScreen

    await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
    await pilot.press("g", "c")
    return await settled(CustomersScreen, lambda screen: screen.table.total is not None)(pilot)


async def _customer_detail(pilot: Any) -> None:
    from seattui.tui.screens.customer_forms import CustomerDetailScreen

    await _customers_ready(pilot)
    await pilot.press("down", "down", "down", "down", "down", "down", "down", "down", "enter")  # Contoso HQ
    await settled(CustomerDetailScreen, lambda screen: "reading" not in str(
        screen.query_one("#customer-body").render()))(pilot)


class TestCustomers:
    @pytest.mark.parametrize("size", SIZES)
    def test_customers(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        assert snap_compare(signed_in(demo), terminal_size=size, run_before=_ready(_customers_ready))

    @pytest.mark.parametrize("size", SIZES)
    def test_customer_detail(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        assert snap_compare(signed_in(demo), terminal_size=size, run_before=_ready(_customer_detail))


# -- invoices -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def billed_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo on monthly terms since January: January's invoice overdue, February's open
    (billed on March 1st), March's draft holding one order, and the demo's prepaid ones paid."""
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from seattui.domain.billing import BillingTerms, PaymentTerms
    from seattui.domain.licensing import LicenseOrder, NewActivationKey, Term
    from seattui.portal.billing_run import run_billing
    from seattui.portal.context import Tx
    from seattui.portal.seed import DEMO_ORGANIZATION
    from seattui.portal.services import accounts, billing, keys, licenses

    database = tmp_path_factory.mktemp("billed") / "demo.db"
    clock = FakeClock(datetime(2026, 1, 12, 9, 30, tzinfo=UTC))

    async def prepare() -> str:
        portal = Portal(portal_settings(database, clock=clock, **FAST_HASHES))
        await portal.start()

        async def buy(quantity: int, reference: str | None = None) -> None:
            async with portal.store.write() as conn:
                org = await accounts.organization_by_name(conn, DEMO_ORGANIZATION)
                tx = Tx(conn=conn, actor=org, catalog=portal.catalog, now=clock.now)
                key = (await keys.create(tx, NewActivationKey(name="billing"))).key
                await licenses.create(tx, LicenseOrder(key=key, product_id="remotedesk", edition_id="standard",
                                                       term=Term.PERMANENT, quantity=quantity,
                                                       reference_name=reference))

        try:
            await seed_demo(portal)
            async with portal.store.write() as conn:
                org = await accounts.organization_by_name(conn, DEMO_ORGANIZATION)
                await billing.set_terms(Tx(conn=conn, actor=org, catalog=portal.catalog, now=clock.now),
                                        BillingTerms(terms=PaymentTerms.MONTHLY, credit_limit=Decimal("5000"),
                                                     due_days=14))
            await buy(10, "Front desk")
            await buy(2)
            clock.now = datetime(2026, 2, 9, 9, 30, tzinfo=UTC)
            await run_billing(portal.store, date(2026, 2, 1), clock)
            await buy(5, "Warehouse")
            clock.now = FakeClock().now  # the snapshots' day, March 2nd
            await run_billing(portal.store, clock.now.date(), clock)
            await buy(1)
            session = await auth.login(portal, Credentials(login=DEMO_LOGIN, password=DEMO_PASSWORD))
        finally:
            await portal.close()
        return session.token

    return database, run_apart(prepare())


def invoices_ready(screen: Any) -> bool:
    return bool(screen.source.loaded)


class TestInvoices:
    @pytest.mark.parametrize("size", SIZES)
    def test_invoices(self, snap_compare: Any, billed_demo: tuple[Path, str], size: tuple[int, int]) -> None:
        from seattui.tui.screens.invoices import InvoicesScreen

        async def run_before(pilot: Any) -> None:
            await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
            await pilot.press("g", "i")
            await settled(InvoicesScreen, invoices_ready)(pilot)

        assert snap_compare(signed_in(billed_demo), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_lines(self, snap_compare: Any, billed_demo: tuple[Path, str], size: tuple[int, int]) -> None:
        from seattui.tui.screens.invoice_dialogs import InvoiceDetailScreen
        from seattui.tui.screens.invoices import InvoicesScreen

        async def run_before(pilot: Any) -> None:
            await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
            await pilot.press("g", "i")
            await settled(InvoicesScreen, invoices_ready)(pilot)
            await pilot.press("enter")
            await settled(InvoiceDetailScreen, lambda screen: screen.invoice.lines)(pilot)

        assert snap_compare(signed_in(billed_demo), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_pay_review(self, snap_compare: Any, billed_demo: tuple[Path, str], size: tuple[int, int]) -> None:
        from seattui.tui.screens.confirm import ConfirmScreen
        from seattui.tui.screens.invoices import InvoicesScreen

        async def run_before(pilot: Any) -> None:
            await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
            await pilot.press("g", "i")
            await settled(InvoicesScreen, invoices_ready)(pilot)
            await pilot.press("p")
            await until_screen(pilot, ConfirmScreen)
            await pilot.pause()

        assert snap_compare(signed_in(billed_demo), terminal_size=size, run_before=run_before)


def subscriptions_ready(screen: Any) -> bool:
    return bool(screen.source.loaded and screen.table.rows)


async def _on_subscriptions(pilot: Any) -> None:
    from seattui.tui.screens.subscriptions import SubscriptionsScreen

    await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
    await pilot.press("g", "u")
    await settled(SubscriptionsScreen, subscriptions_ready)(pilot)


class TestSubscriptions:
    @pytest.mark.parametrize("size", SIZES)
    def test_subscriptions(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        assert snap_compare(signed_in(demo), terminal_size=size, run_before=_on_subscriptions)

    @pytest.mark.parametrize("size", SIZES)
    def test_cancel_review(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        """A channel subscription's cancellation: what it costs, how it is paid, no refund."""
        from seattui.tui.screens.subscription_change import SubscriptionChangeScreen

        async def run_before(pilot: Any) -> None:
            await _on_subscriptions(pilot)
            await pilot.press("end", "delete")
            await settled(SubscriptionChangeScreen, lambda screen: screen.quote is not None)(pilot)

        assert snap_compare(signed_in(demo), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_renewal_review(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        """An annual contract's renewal setting: the three choices and the quote fit 80x24."""
        from seattui.tui.screens.subscription_change import SubscriptionChangeScreen

        async def run_before(pilot: Any) -> None:
            await _on_subscriptions(pilot)
            await pilot.press("e")
            await settled(SubscriptionChangeScreen, lambda screen: screen.quote is not None)(pilot)

        assert snap_compare(signed_in(demo), terminal_size=size, run_before=run_before)


    @pytest.mark.parametrize("size", SIZES)
    def test_seats_review_with_a_coupon(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        """Seats added to an annual contract, with a coupon code the portal says does not apply."""
        from seattui.tui.screens.subscription_change import SubscriptionChangeScreen

        async def run_before(pilot: Any) -> None:
            await _on_subscriptions(pilot)
            await pilot.press("u")
            await settled(SubscriptionChangeScreen)(pilot)
            await pilot.press("2")
            await settled(SubscriptionChangeScreen, lambda screen: screen.quote is not None)(pilot)
            pilot.app.screen.set_focus(pilot.app.screen.query_one("#coupon"))
            await pilot.press("n", "o", "p", "e", "enter")  # enter: checked at once, not after the pause
            await settled(SubscriptionChangeScreen, lambda screen: screen.quote is not None
                          and bool(screen.quote.coupon_refusal))(pilot)

        assert snap_compare(signed_in(demo), terminal_size=size, run_before=run_before)


def on_members(then: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        from seattui.tui.screens.members import MembersScreen

        await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
        await pilot.press("g", "m")
        await settled(MembersScreen, lambda screen: screen.members_table.total is not None
                      and screen.invitations_table.total is not None)(pilot)
        if then is not None:
            await then(pilot)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    return run_before


class TestMembers:
    @pytest.mark.parametrize("size", SIZES)
    def test_members(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        assert snap_compare(signed_in(demo), terminal_size=size, run_before=on_members())

    @pytest.mark.parametrize("size", SIZES)
    def test_invite(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        async def typed(pilot: Any) -> None:
            await pilot.press("n")
            await pilot.pause()
            await pilot.press(*"zoe@northwind.example")

        assert snap_compare(signed_in(demo), terminal_size=size, run_before=on_members(typed))


# -- child accounts -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def children_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo with two child accounts: one holding a license moved in from the demo
    organization and one it bought itself (paid by the demo organization), the other empty."""
    from seattui.domain.children import LicenseMove, NewChild
    from seattui.domain.licensing import LicenseOrder, NewActivationKey, Term
    from seattui.portal.context import Tx
    from seattui.portal.seed import DEMO_ORGANIZATION
    from seattui.portal.services import accounts, children, keys, licenses

    database = tmp_path_factory.mktemp("children") / "demo.db"

    async def prepare() -> str:
        from dataclasses import replace

        from seattui.domain.roles import OrgKind

        portal = Portal(portal_settings(database, clock=FakeClock(), **FAST_HASHES))
        await portal.start()
        try:
            await seed_demo(portal)
            async with portal.store.write() as conn:
                org = await accounts.organization_by_name(conn, DEMO_ORGANIZATION)
                tx = Tx(conn=conn, actor=org, catalog=portal.catalog, now=portal.now())
                contoso = await children.create(tx, NewChild(name="Contoso Ltd"))
                await children.create(tx, NewChild(name="Fabrikam Inc"))
                key = (await keys.create(tx, NewActivationKey(name="for Contoso"))).key
                given = await licenses.create(tx, LicenseOrder(key=key, product_id="sitewatch", edition_id="standard",
                                                               term=Term.PERMANENT, quantity=3))
                await children.move_license(tx, contoso.id, LicenseMove(license_id=given.id))
                inside = replace(tx, actor=replace(org, org_id=contoso.id, org_name=contoso.name,
                                                   org_kind=OrgKind.CHILD), payer=None)
                own = (await keys.create(inside, NewActivationKey(name="Contoso front desk"))).key
                await licenses.create(inside, LicenseOrder(key=own, product_id="remotedesk", edition_id="standard",
                                                           term=Term.PERMANENT, quantity=2))
            # Billed here, as in `demo`, not by the app's background run racing the first screen.
            await run_billing(portal.store, portal.now().date(), portal.now, catalog=portal.catalog)
            session = await auth.login(portal, Credentials(login=DEMO_LOGIN, password=DEMO_PASSWORD))
        finally:
            await portal.close()
        return session.token

    return database, run_apart(prepare())


def on_children(then: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        from seattui.tui.screens.children import ChildrenScreen

        await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
        await pilot.press("g", "r")
        await settled(ChildrenScreen, lambda screen: screen.source.loaded)(pilot)
        if then is not None:
            await then(pilot)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    return run_before


class TestChildren:
    @pytest.mark.parametrize("size", SIZES)
    def test_children(self, snap_compare: Any, children_demo: tuple[Path, str], size: tuple[int, int]) -> None:
        assert snap_compare(signed_in(children_demo), terminal_size=size, run_before=on_children())

    @pytest.mark.parametrize("size", SIZES)
    def test_child_usage(self, snap_compare: Any, children_demo: tuple[Path, str], size: tuple[int, int]) -> None:
        async def opened(pilot: Any) -> None:
            from seattui.tui.screens.children import ChildUsageScreen

            await pilot.press("enter")
            await until_screen(pilot, ChildUsageScreen)

        assert snap_compare(signed_in(children_demo), terminal_size=size, run_before=on_children(opened))


# -- the audit log --------------------------------------------------------------------------


class TestAudit:
    @pytest.mark.parametrize("size", SIZES)
    def test_audit_log_filtered(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int]) -> None:
        from seattui.tui.screens.audit import AuditScreen

        database, token = demo
        app = make_app(connector=connector(database), token=token, login=DEMO_LOGIN)

        async def run_before(pilot: Any) -> None:
            await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
            await pilot.press("g", "h")
            await settled(AuditScreen, lambda screen: bool(screen.table.rows))(pilot)
            # The licenses' entries: other tests of this module log in on the same demo
            # database, which adds entries the picture must not depend on.
            await pilot.press("slash", *"kind:license", "enter")
            await until(pilot, lambda: all(entry.action.startswith("license") for entry in pilot.app.screen.table.rows)
                        and bool(pilot.app.screen.table.rows), what="the licenses' entries")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

        assert snap_compare(app, terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_a_seat_batch(self, snap_compare: Any, demo: tuple[Path, str], size: tuple[int, int],
                          tmp_path: Path) -> None:
        from sqlalchemy import select

        from seattui.domain.seating import MoveRequest
        from seattui.portal.services import accounts, seats
        from seattui.portal.store.tables import employees
        from seattui.tui.screens.audit import AuditBatchScreen, AuditScreen

        copy = tmp_path / "demo.db"  # the batch moves seats: not in the shared demo
        copy.write_bytes(demo[0].read_bytes())

        async def reassign() -> None:
            portal = Portal(portal_settings(copy, clock=FakeClock(), **FAST_HASHES))
            await portal.start()
            try:
                async with portal.store.read() as conn:
                    org = await accounts.organization_by_name(conn, "Northwind IT Services")
                    holders = (await conn.execute(select(employees.c.id).where(
                        employees.c.org_id == org.org_id, employees.c.status == "active").order_by(employees.c.id)
                        .limit(3))).scalars().all()
                    takers = (await conn.execute(select(employees.c.id).where(
                        employees.c.org_id == org.org_id, employees.c.status == "active")
                        .order_by(employees.c.id.desc()).limit(3))).scalars().all()
                async with portal.writing(org, batch_id="00000000-0000-4000-8000-000000000001") as tx:
                    await seats.reassign(tx, [MoveRequest(from_id=giver, to_id=taker, product_id="workspace")
                                              for giver, taker in zip(holders, takers)], dry_run=False)
            finally:
                await portal.close()

        run_apart(reassign())
        app = make_app(connector=connector(copy), token=demo[1], login=DEMO_LOGIN)

        async def run_before(pilot: Any) -> None:
            await settled(DashboardScreen, lambda screen: screen.view is not None)(pilot)
            await pilot.press("g", "h")
            await settled(AuditScreen, lambda screen: bool(screen.table.rows)
                          and screen.table.rows[0].action == "seat.reassign")(pilot)
            await pilot.press("enter")
            await settled(AuditBatchScreen, lambda screen: bool(screen.query_one("#batch-moves").rows))(pilot)

        assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- a customer's own login ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def customer_demo(demo: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo with a login of its first customer's own, and a session of it."""
    import shutil

    from seattui.domain.roles import Role
    from seattui.portal.context import Tx
    from seattui.portal.queries.customers import customer_for
    from seattui.portal.services import accounts

    copy = tmp_path_factory.mktemp("customer") / "demo.db"
    shutil.copyfile(demo[0], copy)

    async def prepare() -> str:
        portal = Portal(portal_settings(copy, clock=FakeClock(), **FAST_HASHES))
        await portal.start()
        try:
            async with portal.store.write() as conn:
                org = await accounts.organization_by_name(conn, "Northwind IT Services")
                tx = Tx(conn=conn, actor=org, catalog=portal.catalog, now=portal.now())
                customer_id = await customer_for(tx, "it@contosohq.example")
                await accounts.add_user(tx, portal.hasher, login="contoso", password=DEMO_PASSWORD,
                                        role=Role.CUSTOMER, customer_id=customer_id)
            session = await auth.login(portal, Credentials(login="contoso", password=DEMO_PASSWORD))
        finally:
            await portal.close()
        return session.token

    return copy, run_apart(prepare())


class TestOwnLicenses:
    @pytest.mark.parametrize("size", SIZES)
    def test_own_licenses(self, snap_compare: Any, customer_demo: tuple[Path, str], size: tuple[int, int]) -> None:
        from seattui.tui.screens.own_licenses import OwnLicensesScreen

        database, token = customer_demo
        app = make_app(connector=connector(database), token=token, login="contoso")
        assert snap_compare(app, terminal_size=size, run_before=settled(OwnLicensesScreen, list_ready))

    @pytest.mark.parametrize("size", SIZES)
    def test_own_subscriptions(self, snap_compare: Any, customer_demo: tuple[Path, str],
                               size: tuple[int, int]) -> None:
        """`g t`: the customer's own seat plan (Contoso's annual contract), without its cost."""
        from seattui.tui.screens.own_licenses import OwnLicensesScreen
        from seattui.tui.screens.own_subscriptions import OwnSubscriptionsScreen

        async def run_before(pilot: Any) -> None:
            await settled(OwnLicensesScreen, list_ready)(pilot)
            await pilot.press("g", "t")
            await settled(OwnSubscriptionsScreen, lambda screen: bool(screen.source.loaded))(pilot)

        database, token = customer_demo
        app = make_app(connector=connector(database), token=token, login="contoso")
        assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.fixture(scope="module")
def disabled_customer_demo(customer_demo: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
                           ) -> tuple[Path, str]:
    """The customer demo with Contoso's own login disabled, and the administrator's session."""
    import shutil

    from seattui.portal.context import Tx
    from seattui.portal.queries.customers import customer_for
    from seattui.portal.services import accounts, customer_logins

    copy = tmp_path_factory.mktemp("disabled") / "demo.db"
    shutil.copyfile(customer_demo[0], copy)

    async def prepare() -> str:
        portal = Portal(portal_settings(copy, clock=FakeClock(), **FAST_HASHES))
        await portal.start()
        try:
            async with portal.store.write() as conn:
                org = await accounts.organization_by_name(conn, "Northwind IT Services")
                tx = Tx(conn=conn, actor=org, catalog=portal.catalog, now=portal.now())
                await customer_logins.set_enabled(tx, await customer_for(tx, "it@contosohq.example"), False)
            session = await auth.login(portal, Credentials(login=DEMO_LOGIN, password=DEMO_PASSWORD))
        finally:
            await portal.close()
        return session.token

    return copy, run_apart(prepare())


class TestCustomerLogins:
    @pytest.mark.parametrize("size", SIZES)
    def test_customer_detail_with_a_disabled_login(self, snap_compare: Any, disabled_customer_demo: tuple[Path, str],
                                                   size: tuple[int, int]) -> None:
        """Contoso's detail says since when their login is disabled, and L enables it."""
        assert snap_compare(signed_in(disabled_customer_demo), terminal_size=size,
                            run_before=_ready(_customer_detail))
