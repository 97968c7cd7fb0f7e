"""Health, first-run setup, login, tokens and their end, through the real client."""

from __future__ import annotations

import pytest

from seattui.domain.accounts import NewOrganization
from seattui.domain.roles import Permission, Role
from seattui.domain.errors import (
    AccountLocked,
    Conflict,
    InvalidCredentials,
    LoginThrottled,
    SessionExpired,
    Unauthenticated,
    ValidationFailed,
)

from harness import PASSWORD, PortalHarness, running_portal


async def test_health_answers_without_a_session(harness: PortalHarness) -> None:
    health = await harness.client().health()
    assert health["status"] == "ok"
    assert health["database"] in ("sqlite", "postgresql")


async def test_login_gives_a_token_that_says_who_you_are(harness: PortalHarness) -> None:
    client = harness.client()
    session = await client.login("ACME-op", PASSWORD)  # logins are case-insensitive
    assert session.token.startswith("stui_")
    me = await client.me()
    assert (me.user.login, me.user.role, me.organization.name) == ("acme-op", Role.OPERATOR, "Acme")
    assert me.can(Permission.MANAGE_KEYS) and not me.can(Permission.PURCHASE)


async def test_a_wrong_password_is_refused_and_nothing_is_learned_about_logins(harness: PortalHarness) -> None:
    client = harness.client()
    with pytest.raises(InvalidCredentials, match="Wrong login or password") as wrong:
        await client.login("acme-owner", "not the password")
    with pytest.raises(InvalidCredentials) as unknown:
        await client.login("nobody-here", "not the password")
    assert wrong.value.message.split(".")[0] == unknown.value.message.split(".")[0]
    assert client.token is None


async def test_repeated_failures_slow_down_then_lock_for_a_while(harness: PortalHarness) -> None:
    client = harness.client()
    settings = harness.portal.settings
    for attempt in range(1, settings.login_lock_after):
        with pytest.raises(InvalidCredentials):
            await client.login("acme-owner", "bad guess")
        if attempt >= settings.login_throttle_after:
            # Throttled: even the right password waits until the delay has passed.
            with pytest.raises(LoginThrottled) as throttled:
                await client.login("acme-owner", PASSWORD)
            assert throttled.value.retry_after >= 1
            harness.clock.advance(seconds=throttled.value.retry_after)
    with pytest.raises(AccountLocked, match="locked for 15 more minutes") as locked:
        await client.login("acme-owner", "bad guess")
    assert locked.value.retry_after == 15 * 60
    harness.clock.advance(minutes=14)
    with pytest.raises(AccountLocked, match="1 more minute"):
        await client.login("acme-owner", PASSWORD)
    harness.clock.advance(minutes=1, seconds=1)
    await client.login("acme-owner", PASSWORD)
    assert (await client.me()).user.login == "acme-owner"


async def test_a_success_resets_the_failure_count(harness: PortalHarness) -> None:
    client = harness.client()
    for _ in range(harness.portal.settings.login_throttle_after - 1):
        with pytest.raises(InvalidCredentials):
            await client.login("acme-admin", "bad guess")
    await client.login("acme-admin", PASSWORD)
    for _ in range(harness.portal.settings.login_throttle_after - 1):
        with pytest.raises(InvalidCredentials):
            await client.login("acme-admin", "bad guess")
    await client.login("acme-admin", PASSWORD)


async def test_no_token_an_unknown_token_and_a_garbage_header_are_unauthenticated(harness: PortalHarness) -> None:
    with pytest.raises(Unauthenticated, match="Log in first"):
        await harness.client().me()
    with pytest.raises(Unauthenticated, match="not known"):
        await harness.client(token="stui_forged").me()
    garbage = harness.client()
    garbage._http.headers["Authorization"] = "Basic dXNlcjpwYXNz"
    with pytest.raises(Unauthenticated):
        await garbage.me()


async def test_a_token_expires(harness: PortalHarness) -> None:
    client = await harness.login("acme-owner")
    harness.clock.advance(days=30, seconds=1)
    with pytest.raises(SessionExpired, match="expired"):
        await client.balance()


async def test_logout_revokes_the_token(harness: PortalHarness) -> None:
    client = await harness.login("acme-owner")
    token = client.token
    await client.logout()
    assert client.token is None
    with pytest.raises(SessionExpired, match="logged out"):
        await harness.client(token=token).me()


async def test_oversized_and_missing_credentials_name_the_field(harness: PortalHarness) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await harness.client().login("acme-owner", "x" * 300)
    assert "password" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        await harness.client().request("POST", "/api/v1/auth/login", body={"login": "acme-owner"})
    assert refused.value.fields == {"password": "Missing: it is required."}


async def test_first_run_setup_creates_the_organization_once(database_url: str) -> None:
    async with running_portal(database_url, world=False) as empty:
        client = empty.client()
        assert (await client.setup_status()).needs_setup
        with pytest.raises(ValidationFailed) as refused:
            await client.setup(NewOrganization.model_construct(
                organization_name="Initech", owner_login="peter", owner_name="", password="short"))
        assert "password" in refused.value.fields
        session = await client.setup(
            NewOrganization(organization_name="Initech", owner_login="peter", password="a long enough password")
        )
        assert session.me.organization.name == "Initech" and session.me.user.role is Role.OWNER
        assert (await client.balance()).balance == 0
        assert not (await client.setup_status()).needs_setup
        with pytest.raises(Conflict, match="set up already"):
            await empty.client().setup(
                NewOrganization(organization_name="Evil", owner_login="mallory", password="a long enough password")
            )
