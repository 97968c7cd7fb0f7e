"""What a change touched, announced once by the screen that made it, so that every open screen
showing any of it reads that part again, and nothing else.

A screen says which areas it shows (`PortalScreen.SHOWS`) and how to read them again
(`refresh_areas`). The one on top refreshes at once; one under a dialog or in another mode
refreshes when it comes back on top, once, however many changes came meanwhile.
"""

from __future__ import annotations

from enum import StrEnum


class Area(StrEnum):
    """Parts of the portal's data a screen can show."""

    CREDITS = "credits"  # the balance and the ledger
    KEYS = "keys"  # activation keys and what each holds
    LICENSES = "licenses"  # licenses, their support, devices and add-ons
    SUBSCRIPTIONS = "subscriptions"  # channel and seat subscriptions
    EMPLOYEES = "employees"  # employees and the seats they hold
    BATCHES = "batches"  # applied seat batches
    ORDERS = "orders"  # orders and the invoices they go on
    CUSTOMERS = "customers"  # customers, what they hold and spent
    INVOICES = "invoices"  # invoices: the month's draft grows with every order on monthly terms
    TEAM = "team"  # members, invitations and API tokens
    CHILDREN = "children"  # child accounts, their members and usage


# What each kind of change touches, so call sites name the change, not a list to keep in sync.
PURCHASE = frozenset({Area.CREDITS, Area.ORDERS, Area.KEYS, Area.LICENSES, Area.SUBSCRIPTIONS, Area.CUSTOMERS,
                      Area.INVOICES})
INVOICE_PAYMENT = frozenset({Area.CREDITS, Area.ORDERS, Area.INVOICES})
LICENSE_EDIT = frozenset({Area.KEYS, Area.LICENSES, Area.CUSTOMERS})
SEAT_MOVES = frozenset({Area.EMPLOYEES, Area.BATCHES, Area.SUBSCRIPTIONS})
# A license (or seat plan) moved into a child account leaves the parent's lists.
TO_CHILD = frozenset({Area.KEYS, Area.LICENSES, Area.SUBSCRIPTIONS, Area.CUSTOMERS, Area.CHILDREN})
