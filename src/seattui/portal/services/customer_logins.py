"""A customer's own login, as the organization controls it: disabled, it neither logs in nor
acts with any token it had (services/auth.py reads `disabled_at` on every request, so every
portal instance refuses it on the next one); enabled again, the customer logs in anew."""

from __future__ import annotations

from sqlalchemy import update

from seattui.domain.customers import CustomerLogin
from seattui.domain.errors import Conflict
from seattui.domain.roles import Permission
from seattui.portal.context import Tx
from seattui.portal.queries.customers import email_of
from seattui.portal.queries.invitations import customer_user, revoke_customer_invitations
from seattui.portal.services import audit
from seattui.portal.store.tables import api_tokens, automation_tokens, users


async def set_enabled(tx: Tx, customer_id: int, enabled: bool) -> CustomerLogin:
    """Disable or enable the customer's login; doing what is already so changes nothing and
    records nothing, so a retried request is harmless."""
    tx.actor.require(Permission.ASSIGN)
    email = await email_of(tx, customer_id)
    user = await customer_user(tx, customer_id, lock=True)
    if user is None:
        raise Conflict(f"{email} has no login yet: there is nothing to {'enable' if enabled else 'disable'}.",
                       {"customer_id": customer_id})
    if enabled == (user.disabled_at is None):
        return CustomerLogin(login=user.login, disabled_at=user.disabled_at)
    disabled_at = None if enabled else tx.now
    await tx.conn.execute(update(users).where(users.c.id == user.id).values(disabled_at=disabled_at))
    if not enabled:
        # The sessions end for good (enabled again, the customer logs in anew), and a code mailed
        # for a new password stops working: the organization meant them out.
        for table in (api_tokens, automation_tokens):
            await tx.conn.execute(update(table).where(table.c.user_id == user.id, table.c.revoked_at.is_(None))
                                  .values(revoked_at=tx.now))
        await revoke_customer_invitations(tx, customer_id)
    await audit.record(tx, "customer.login_enable" if enabled else "customer.login_disable", "customer", customer_id,
                       f"{'Enabled' if enabled else 'Disabled'} the login {user.login} of customer {email}",
                       {"login": user.login, "email": email})
    return CustomerLogin(login=user.login, disabled_at=disabled_at)
