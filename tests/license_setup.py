"""Licenses for tests, made through the portal's own services (as the organization's
administration), so each starts from a known state quickly."""

from __future__ import annotations

from typing import Any

from seattui.domain.licensing import License, LicenseOrder, NewActivationKey, Term
from seattui.portal.services import keys, licenses

from harness import PortalHarness


async def a_license(harness: PortalHarness, org: str = "Acme", *, key: str | None = None, **order: Any) -> License:
    """A license on a new key (or the given one): RemoteDesk Standard, 10 users, permanent,
    unless the order says otherwise."""
    fields: dict[str, Any] = {"product_id": "remotedesk", "edition_id": "standard", "term": Term.PERMANENT,
                              "quantity": 10} | order
    async with harness.as_org(org) as tx:
        if key is None:
            key = (await keys.create(tx, NewActivationKey(name=fields.get("comment", "")))).key
        return await licenses.create(tx, LicenseOrder(key=key, **fields))


async def on_device(harness: PortalHarness, license: License, hostname: str, org: str = "Acme") -> None:
    async with harness.as_org(org) as tx:
        await licenses.bind_device(tx, license.id, f"fp-{hostname}-0001", hostname)
