"""The child accounts screen with Pilot: the list with usage, a new child with its first
member's invitation, a child's usage, and a license reassigned to a child from the licenses
screen; the screen is not offered to those who cannot manage children."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from seattui.portal.store.tables import invitations, organizations
from seattui.tui.screens.children import ChildForm, ChildInviteForm, ChildrenScreen, ChildUsageScreen
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.licenses import LicensesScreen
from seattui.tui.screens.seat_pick import SeatPickScreen

from harness import PortalHarness
from license_setup import a_license
from tui_support import make_app, screen_text, toasts, type_text, until, until_screen, until_text

SIZE = (100, 32)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The app's tests run on SQLite; the portal's own tests cover PostgreSQL."""
    return sqlite_url


async def on_dashboard(pilot: Any) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.ready,
                what="the dashboard taking keys")


async def test_a_new_child_with_its_first_members_invitation_then_its_usage(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    await owner.create_child("Fabrikam")
    app = make_app(harness, token=owner.token)
    messages: list[Any] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await on_dashboard(pilot)
        await pilot.press("g", "r")
        screen: ChildrenScreen = await until_screen(pilot, ChildrenScreen)
        await until_text(pilot, "1 child account")
        await pilot.press("n")
        await until_screen(pilot, ChildForm)
        await type_text(pilot, "Contoso")
        await pilot.press("tab")
        await type_text(pilot, "it@contoso.example")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: [child.name for child in screen.table.rows] == ["Contoso", "Fabrikam"],
                    what="the new child listed")
        await until_text(pilot, "2 child accounts")
        await pilot.press("home")  # the cursor stayed on Fabrikam's row: up to Contoso
        await until(pilot, lambda: screen.current is not None and screen.current.name == "Contoso", what="Contoso")
        await pilot.press("enter")
        await until_screen(pilot, ChildUsageScreen)
        await until_text(pilot, "Seats assigned")
        assert "paid by you" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="back on the list")
        await pilot.press("m")  # an invitation into the child under the cursor: Contoso
        await until_screen(pilot, ChildInviteForm)
        await type_text(pilot, "ops@contoso.example")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Invited ops@contoso.example to Contoso as owner." in toasts(messages),
                    what="the invitation sent")
    async with harness.portal.store.read() as conn:
        contoso = await conn.scalar(select(organizations.c.id).where(organizations.c.name == "Contoso"))
        mailed = (await conn.execute(select(invitations.c.email, invitations.c.role)
                                     .where(invitations.c.org_id == contoso).order_by(invitations.c.id))).all()
    assert [tuple(row) for row in mailed] == [("it@contoso.example", "owner"), ("ops@contoso.example", "owner")]


async def test_a_license_is_reassigned_to_a_child_from_the_licenses_screen(harness: PortalHarness) -> None:
    license = await a_license(harness, comment="for contoso")
    owner = await harness.login("acme-owner")
    child = await owner.create_child("Contoso")
    app = make_app(harness, token=owner.token)
    messages: list[Any] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await on_dashboard(pilot)
        await pilot.press("g", "l")
        screen: LicensesScreen = await until_screen(pilot, LicensesScreen)
        await until(pilot, lambda: len(screen.table.rows) == 1, what="the license")
        await pilot.press("r")
        await until_screen(pilot, SeatPickScreen)
        await until_text(pilot, "to which child account?")
        await pilot.press("enter")
        await until_screen(pilot, ConfirmScreen)
        await until_text(pilot, "Reassign license")
        await pilot.press("y")
        await until(pilot, lambda: screen.table.rows == [], what="the license gone from the list")
        await until(pilot, lambda: f"License {license.id} and its key {license.key} are now Contoso's." in
                    toasts(messages), what="the move told")
    assert (await owner.child(child.id)).usage.licenses == 1
    assert (await owner.licenses()).total == 0
    assert license.id not in [item.id for item in (await owner.licenses()).items]


async def test_the_screen_is_not_offered_to_an_operator(harness: PortalHarness) -> None:
    operator = await harness.login("acme-op")
    app = make_app(harness, token=operator.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_dashboard(pilot)
        await pilot.press("g")
        await until_text(pilot, "Go to")
        assert "children" not in screen_text(app).split("Go to", 1)[1]
