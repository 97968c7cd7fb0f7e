"""Organizations' kinds, users' roles and what each role may do. Plain enums: the app's
keys and menus read them before anything heavier is imported."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    VENDOR = "vendor"
    RESELLER = "reseller"
    # A reseller's own customer organization, one level under it: it manages its own people
    # and seats; its parent pays for its orders (README "Child accounts").
    CHILD = "child"


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"
    # A customer's own login: their licenses, subscriptions, files and devices, nothing of the
    # organization's (portal/customer_access.py says which operations, the services scope them).
    CUSTOMER = "customer"


class Permission(StrEnum):
    READ = "read"  # the organization's: every member reads it all
    OWN_LICENSES = "own_licenses"  # a customer's own login: their licenses, files and devices alone
    MANAGE_KEYS = "manage_keys"
    ASSIGN = "assign"  # free changes: trials, edits, seat assignments and reassignments
    PURCHASE = "purchase"  # anything that spends credits or refunds them
    MANAGE_EMPLOYEES = "manage_employees"
    MANAGE_USERS = "manage_users"
    MANAGE_MEMBERS = "manage_members"  # invite, change roles, remove; admins never make owners
    RELEASE_DEVICES = "release_devices"  # force a license's deactivation from its device
    GRANT_CREDITS = "grant_credits"  # the vendor's, to its resellers
    MANAGE_BILLING = "manage_billing"  # the billing address, and emailing invoices
    MANAGE_CHILDREN = "manage_children"  # a reseller's child accounts: create, invite, move licenses in


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Reading and releasing, of their own licenses alone.
    Role.CUSTOMER: frozenset({Permission.OWN_LICENSES, Permission.RELEASE_DEVICES}),
    Role.VIEWER: frozenset({Permission.READ}),
    Role.OPERATOR: frozenset(
        {Permission.READ, Permission.MANAGE_KEYS, Permission.ASSIGN, Permission.MANAGE_EMPLOYEES}
    ),
    Role.ADMIN: frozenset(
        {
            Permission.READ,
            Permission.MANAGE_KEYS,
            Permission.ASSIGN,
            Permission.MANAGE_EMPLOYEES,
            Permission.PURCHASE,
            Permission.RELEASE_DEVICES,
            Permission.MANAGE_BILLING,
            Permission.MANAGE_MEMBERS,
        }
    ),
    Role.OWNER: frozenset(
        {
            Permission.READ,
            Permission.MANAGE_KEYS,
            Permission.ASSIGN,
            Permission.MANAGE_EMPLOYEES,
            Permission.PURCHASE,
            Permission.MANAGE_USERS,
            Permission.MANAGE_MEMBERS,
            Permission.RELEASE_DEVICES,
            Permission.MANAGE_BILLING,
        }
    ),
}


def permissions_for(role: Role, org_kind: OrgKind) -> frozenset[Permission]:
    granted = ROLE_PERMISSIONS[role]
    if org_kind is OrgKind.VENDOR and role in (Role.OWNER, Role.ADMIN):
        granted = granted | {Permission.GRANT_CREDITS}
    if org_kind is OrgKind.RESELLER and role in (Role.OWNER, Role.ADMIN):
        granted = granted | {Permission.MANAGE_CHILDREN}
    return granted
