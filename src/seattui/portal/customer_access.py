"""What a customer's own login may call: the one list of operations open to role `customer`.

Every route that needs a caller asks `api.current_actor`, and that refuses a customer on any
operation not listed here, so a route added later is closed to customers until it is listed
(tests/test_customer_accounts.py walks the whole OpenAPI document). The services answer the
listed ones with the customer's own objects alone (queries/licenses.py and
queries/subscriptions.py `visible`; license_files.offline_request for request files);
another customer's object is "not found" there, as another organization's is."""

from __future__ import annotations

from seattui.domain.errors import PermissionDenied
from seattui.domain.roles import Role
from seattui.portal.context import Actor

# (method, route template without the API prefix)
CUSTOMER_OPERATIONS: frozenset[tuple[str, str]] = frozenset({
    ("get", "/auth/me"),
    ("post", "/auth/logout"),
    # The portal's product catalog (names, editions, units), the same for every organization.
    ("get", "/catalog"),
    ("get", "/catalog/products/{product_id}"),
    ("get", "/licenses"),
    ("get", "/licenses/{license_id}"),
    ("get", "/licenses/{license_id}/file"),
    ("post", "/licenses/{license_id}/deactivation"),  # releasing their own device
    # Their own devices that cannot reach the portal, through request files (the licensed
    # software's own calls, activation/*, need no login at all).
    ("post", "/license-files/offline-activation"),
    ("post", "/license-files/offline-deactivation"),
    ("get", "/subscriptions"),  # their own seat plans and subscriptions
    ("get", "/subscriptions/{subscription_id}"),
    ("get", "/subscriptions/{subscription_id}/file"),
})


def check(actor: Actor, method: str, route: str) -> None:
    if actor.role is Role.CUSTOMER and (method.lower(), route) not in CUSTOMER_OPERATIONS:
        raise PermissionDenied(
            "A customer's login sees only their own licenses, subscriptions, license files and devices; this belongs to the "
            f"organization ({actor.org_name}). Ask them for it.",
            {"needs": "member"},
        )
