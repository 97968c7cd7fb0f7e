"""What the app keeps of the portal's answers to draw its frame: who is logged in, and what the
dashboard shows. Plain data, built from the domain's models and written as the last-seen
record, so the next start draws them before pydantic and the portal are imported (about
150 ms of a start that shows the dashboard in half a second)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from seattui.domain.roles import Permission, Role
from seattui.tui.formatting import plural

if TYPE_CHECKING:
    from seattui.domain.accounts import Me
    from seattui.domain.dashboard import Dashboard


@dataclass(frozen=True)
class Who:
    login: str
    role: Role
    organization: str
    permissions: frozenset[Permission]

    @classmethod
    def of(cls, me: Me) -> Who:
        return cls(me.user.login, me.user.role, me.organization.name, frozenset(me.permissions))

    def record(self) -> dict[str, Any]:
        return {"login": self.login, "role": self.role.value, "organization": self.organization,
                "permissions": sorted(permission.value for permission in self.permissions)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Who:
        return cls(str(record["login"]), Role(record["role"]), str(record["organization"]),
                   frozenset(Permission(value) for value in record["permissions"]))


@dataclass(frozen=True)
class LedgerLine:
    day: date
    amount: Decimal  # positive adds credits
    memo: str


@dataclass(frozen=True)
class ProductLine:
    name: str
    permanent: int
    trials: int
    seat_plans: int
    activated: int


@dataclass(frozen=True)
class Figure:
    """A count on the dashboard, and the list behind it."""

    count: int
    text: str
    target: str | None = None  # the screen with the list behind the figure
    preset: str | None = None  # how that screen filters it


@dataclass(frozen=True)
class DashboardView:
    today: date
    balance: Decimal
    unit: str
    ledger: tuple[LedgerLine, ...]
    products: tuple[ProductLine, ...]
    figures: tuple[Figure, ...]

    @classmethod
    def of(cls, summary: Dashboard) -> DashboardView:
        from seattui.domain.dashboard import RENEWING_DAYS, SUPPORT_ENDING_DAYS, TRIALS_ENDING_DAYS

        channels = sum(s.channels for s in summary.subscriptions)
        subscriptions = sum(s.subscriptions for s in summary.subscriptions)
        return cls(
            today=summary.today,
            balance=summary.balance.balance,
            unit=summary.balance.unit,
            ledger=tuple(LedgerLine(entry.at.date(), entry.amount, entry.memo or entry.reason.value)
                         for entry in summary.recent_ledger),
            products=tuple(ProductLine(p.product_name, p.permanent, p.trials, p.seat_plans, p.activated)
                           for p in summary.by_product),
            figures=(
                Figure(summary.trials_ending, f"trials end within {TRIALS_ENDING_DAYS} days", "licenses",
                       "trials_ending"),
                Figure(summary.trials_ended, "trials have ended", "licenses", "trials_ended"),
                Figure(summary.support_ended, "support ended", "support", "expired"),
                Figure(summary.support_ending, f"support ends within {SUPPORT_ENDING_DAYS} days", "support",
                       "ending"),
                Figure(summary.renewing, f"renewals within {RENEWING_DAYS} days", "subscriptions",
                       "renews_soon"),
                Figure(summary.suspended, "subscriptions suspended", "subscriptions", "suspended"),
                Figure(subscriptions, f"subscriptions, {plural(channels, 'channel')}", "keys", "subscriptions"),
                Figure(summary.keys, "activation keys", "keys", "all"),
                Figure(summary.licenses, "licenses", "licenses"),
                Figure(summary.employees, "employees", "employees"),
            ),
        )

    def record(self) -> dict[str, Any]:
        # Decimals and dates become strings (json's default=str); from_record reads them back.
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> DashboardView:
        return cls(
            today=date.fromisoformat(record["today"]),
            balance=Decimal(record["balance"]),
            unit=str(record["unit"]),
            ledger=tuple(LedgerLine(date.fromisoformat(line["day"]), Decimal(line["amount"]), str(line["memo"]))
                         for line in record["ledger"]),
            products=tuple(ProductLine(**line) for line in record["products"]),
            figures=tuple(Figure(**figure) for figure in record["figures"]),
        )
