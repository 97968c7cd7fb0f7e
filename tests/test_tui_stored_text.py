"""Text stored before the portal refused control characters (or by another portal) is drawn
harmlessly: the lists and the detail panels show ESC and BEL as visible stand-ins, and no
escape code of a name or a comment reaches the terminal."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from seattui.domain.licensing import LicenseOrder, Term
from seattui.portal.store.tables import employees, licenses
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.employees import EmployeesScreen
from seattui.tui.screens.licenses import LicensesScreen

from harness import PortalHarness
from seat_support import staff
from tui_support import make_app, screen_text, until, until_screen, until_text

HOSTILE = "M\u001b]0;PWNED\u0007\u001b[2J"
SHOWN = "M␛]0;PWNED␇␛[2J"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


async def test_a_hostile_employee_name_is_drawn_with_visible_stand_ins(harness: PortalHarness) -> None:
    ids = await staff(harness, 3, 1)
    async with harness.portal.store.write() as conn:
        await conn.execute(update(employees).where(employees.c.id == ids[0]).values(name=HOSTILE))
    app = make_app(harness, token=(await harness.login("acme-op")).token)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "view", None) is not None, what="the dashboard")
        await pilot.press("g", "e")
        await until_screen(pilot, EmployeesScreen)
        await until_text(pilot, SHOWN)
        assert "\x1b" not in screen_text(app) and "\x07" not in screen_text(app)


async def test_a_hostile_comment_is_drawn_harmlessly_in_the_list_and_the_detail(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    key = await owner.create_key("Contoso")
    made = await owner.create_license(LicenseOrder(key=key.key, product_id="remotedesk", edition_id="standard",
                                                   term=Term.TRIAL, trial_days=14, quantity=5))
    async with harness.portal.store.write() as conn:
        await conn.execute(update(licenses).where(licenses.c.id == made.id).values(comment=HOSTILE + " \u202eevil"))
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=(200, 40)) as pilot:  # wide enough for the comment column
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None,
                    what="the dashboard")
        await pilot.press("g", "l")
        await until_screen(pilot, LicensesScreen)
        await until_text(pilot, SHOWN + " \\u202eevil")
        shown = screen_text(app)
        assert shown.count(SHOWN) >= 2  # the row and the panel below
        assert not {"\x1b", "\x07", "\u202e"} & set(shown)
