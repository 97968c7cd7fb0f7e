"""License files as the portal writes them: a license's or subscription's signed facts, and
the key that signs them. Leaf module: the license files service and the customer mails (which
attach a file) both sign through it; it reads nothing and calls no service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from seattui.domain.catalog import Catalog
from seattui.domain.license_file import (
    DEFAULT_VALIDITY,
    KIND_LICENSE,
    KIND_RELEASE,
    KIND_SUBSCRIPTION,
    LicenseFacts,
    at_second,
    sign_license_file,
)
from seattui.domain.licensing import License, Subscription, Term


@dataclass(frozen=True)
class Signer:
    kid: str
    private_key: Ed25519PrivateKey = field(repr=False)


@dataclass(frozen=True)
class IssuedFile:
    text: str
    filename: str


# -- the facts of a license or a subscription -------------------------------------------------------

def _end_of(day: date | None) -> datetime | None:
    """A license that ends on a day runs through it (licenses.status_of)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) if day else None


def _valid_until(issued: datetime, ends: datetime | None, *, machine: str | None) -> datetime | None:
    """30 days, or the license's end if sooner; a machine file (a machine that cannot reach the
    portal) runs to the license's end, and a permanent license's does not expire."""
    if machine is not None:
        return ends
    return min(issued + DEFAULT_VALIDITY, ends) if ends else issued + DEFAULT_VALIDITY


def license_facts(license: License, catalog: Catalog, now: datetime, *, machine: str | None = None,
                  hostname: str = "", kind: str = KIND_LICENSE) -> LicenseFacts:
    product = catalog.find(license.product_id)
    issued = at_second(now)
    ends = _end_of(license.trial_ends_on if license.term is Term.TRIAL else license.term_ends_on)
    return LicenseFacts(
        kind=kind, object_id=license.id, key=license.key, product_id=license.product_id,
        product_name=product.name if product else license.product_id, edition_id=license.edition_id,
        addons=tuple(sorted(license.addons)), quantity=license.quantity,
        unit=product.unit.label(license.quantity) if product else "units", term=license.term.value,
        trial_ends_on=license.trial_ends_on, support_ends_on=license.support_ends_on,
        term_ends_on=license.term_ends_on, customer=license.customer_email, issued_at=issued,
        valid_until=None if kind == KIND_RELEASE else _valid_until(issued, ends, machine=machine),
        machine=machine, hostname=hostname if machine else "",
    )


def subscription_facts(subscription: Subscription, catalog: Catalog, now: datetime) -> LicenseFacts:
    product = catalog.find(subscription.product_id)
    issued = at_second(now)
    return LicenseFacts(
        kind=KIND_SUBSCRIPTION, object_id=subscription.id, key=subscription.key, product_id=subscription.product_id,
        product_name=product.name if product else subscription.product_id, edition_id=None, addons=(),
        quantity=subscription.channels,
        unit=product.unit.label(subscription.channels) if product else "channels", term="monthly",
        trial_ends_on=None, support_ends_on=None, term_ends_on=subscription.period_ends_on,
        customer=subscription.customer_email, issued_at=issued,
        valid_until=_valid_until(issued, _end_of(subscription.period_ends_on), machine=None),
    )


def _filename(facts: LicenseFacts) -> str:
    machine = f"-{facts.machine[:16].replace(':', '')}" if facts.machine else ""
    suffix = "release" if facts.kind == KIND_RELEASE else "license"
    return f"{facts.key}-{facts.product_id}{machine}.{suffix}"


def issued_file(facts: LicenseFacts, signing: Signer) -> IssuedFile:
    return IssuedFile(text=sign_license_file(facts, signing.private_key, signing.kid), filename=_filename(facts))
