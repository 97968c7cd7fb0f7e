"""The portal's tables, in SQLAlchemy Core. Amounts are integer hundredths of a credit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    literal_column,
    true,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps go in as UTC and come out time-zone aware on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be time-zone aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BIGINT on PostgreSQL, INTEGER on SQLite, where only INTEGER PRIMARY KEY is the rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _org() -> Column[int]:
    return Column("org_id", Id, ForeignKey("organizations.id"), nullable=False)


organizations = Table(
    "organizations",
    metadata,
    _id(),
    Column("name", String(120), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    # A reseller's vendor; a child account's reseller (one level: a child has no children).
    Column("parent_id", Id, ForeignKey("organizations.id")),
    Column("created_at", UTCDateTime, nullable=False),
    # Where invoices are emailed unless another address is typed; set by an owner or admin.
    Column("billing_email", String(320)),
    # Whether a customer is mailed their key when a license or subscription is assigned to
    # them, and whether the signed license file goes with it; set by an owner or admin.
    Column("customer_mail", Boolean, nullable=False, server_default=true()),
    Column("customer_mail_attach_file", Boolean, nullable=False, server_default=false()),
    # A parent's children, listed by name.
    Index("ix_organizations_parent_id_name", "parent_id", "name"),
)

users = Table(
    "users",
    metadata,
    _id(),
    _org(),
    Column("login", String(64), nullable=False, unique=True),  # stored lower-case
    Column("display_name", String(120), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
    # A removed member keeps their row (the ledger and the audit trail name them) and their
    # login, but cannot log in; their sessions and API tokens were revoked with the removal.
    Column("removed_at", UTCDateTime),
    # A customer's own login (role customer) is the login of this customer row; one per customer.
    Column("customer_id", Id, ForeignKey("customers.id")),
    # A customer's login the organization disabled: it cannot log in, and its tokens act no more,
    # until the organization enables it again.
    Column("disabled_at", UTCDateTime),
    Index("uq_users_customer_id", "customer_id", unique=True),
)

# An invitation is a single-use token mailed to someone: accepting it creates their login in
# the organization with the role chosen. Only the token's hash is kept; resending makes a new one.
invitations = Table(
    "invitations",
    metadata,
    _id(),
    _org(),
    Column("email", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("invited_by", Id, ForeignKey("users.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("accepted_at", UTCDateTime),
    Column("user_id", Id, ForeignKey("users.id")),  # the member who accepted it
    Column("revoked_at", UTCDateTime),
    # An invitation into a customer's own account (role customer) names the customer.
    Column("customer_id", Id, ForeignKey("customers.id")),
    Index("ix_invitations_org_id_id", "org_id", "id"),
    Index("ix_invitations_customer_id", "customer_id"),
)

# API tokens for automation, apart from password sessions (api_tokens): named, with a role no
# higher than their member's, and an expiry that only owners may leave out. Stored hashed.
automation_tokens = Table(
    "automation_tokens",
    metadata,
    _id(),
    _org(),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Index("ix_automation_tokens_user_id", "user_id"),
    # `seattui token revoke NAME` names one live token of the organization.
    Index("uq_automation_tokens_live_name", "org_id", "name", unique=True,
          sqlite_where=literal_column("revoked_at IS NULL"), postgresql_where=literal_column("revoked_at IS NULL")),
)

# Failed logins are counted per login name, known or not, so probing for logins is throttled too.
login_failures = Table(
    "login_failures",
    metadata,
    Column("login", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", UTCDateTime, nullable=False),
    Column("blocked_until", UTCDateTime),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    _id(),
    _org(),
    # 1, 2, 3 ... per organization: the entry a posting read as the last one decides this
    # number, so two postings from the same balance collide here instead of both spending it.
    Column("sequence", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("reason", String(24), nullable=False),
    Column("object_type", String(32)),
    Column("object_id", Id),
    Column("memo", String(500), nullable=False, server_default=""),
    Column("actor_id", Id, ForeignKey("users.id")),
    Column("batch_id", String(36)),
    # The last line of defence: whatever the code does, the store refuses a negative balance.
    CheckConstraint("balance_after >= 0", name="balance_not_negative"),
    UniqueConstraint("org_id", "sequence"),
    Index("ix_ledger_entries_org_id_id", "org_id", "id"),
    # The ledger screen: newest first within a range of days, of one reason or all.
    Index("ix_ledger_entries_org_id_at", "org_id", "at", "id"),
    Index("ix_ledger_entries_org_id_reason_at", "org_id", "reason", "at", "id"),
)

activation_keys = Table(
    "activation_keys",
    metadata,
    _id(),
    _org(),
    Column("key", String(19), nullable=False, unique=True),
    Column("name", String(120), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_activation_keys_org_id_id", "org_id", "id"),
    # The keys list sorts by name or by creation, a page at a time (keyset on (sort, id)).
    Index("ix_activation_keys_org_id_name", "org_id", "name", "id"),
    Index("ix_activation_keys_org_id_created_at", "org_id", "created_at", "id"),
)

# The organization's customers, by email (stored lower-cased, unique in the organization).
# Licenses and subscriptions assigned to an email point at the customer row.
customers = Table(
    "customers",
    metadata,
    _id(),
    _org(),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("company", String(200), nullable=False, server_default=""),
    Column("address", String(500), nullable=False, server_default=""),
    Column("notes", String(2000), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "email", name="uq_customers_org_id_email"),
    Index("ix_customers_org_id_id", "org_id", "id"),
    Index("ix_customers_org_id_name", "org_id", "name", "id"),
    Index("ix_customers_org_id_company", "org_id", "company", "id"),
    Index("ix_customers_org_id_email_id", "org_id", "email", "id"),
)

licenses = Table(
    "licenses",
    metadata,
    _id(),
    _org(),
    Column("key_id", Id, ForeignKey("activation_keys.id"), nullable=False, index=True),
    # The key's text, copied (a license never changes key) so lists filter and sort by it
    # on one table's indexes.
    Column("key", String(19), nullable=False),
    Column("product_id", String(64), nullable=False),
    Column("edition_id", String(64)),
    Column("addons", String(400), nullable=False, server_default=""),  # sorted ids, comma-separated
    Column("term", String(16), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("trial_ends_on", Date),
    Column("support_ends_on", Date),
    Column("term_ends_on", Date),
    # Flexible plans: the purchase cap (quantity says the same). Annual: the contract maximum.
    Column("seat_cap", Integer),
    Column("renewal", String(16)),  # annual contracts: same, assigned or end (seat_plans.Renewal)
    Column("customer_email", String(254)),
    Column("customer_id", Id, ForeignKey("customers.id")),
    Column("comment", String(1000), nullable=False, server_default=""),
    Column("paid", BigInteger, nullable=False, server_default="0"),
    Column("device_fingerprint", String(128)),
    Column("device_hostname", String(255)),
    Column("activated_at", UTCDateTime),
    # The first activation ever (activated_at is cleared on deactivation): it ends the refund
    # window of a policy that is void once activated.
    Column("first_activated_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    Index("ix_licenses_org_id_id", "org_id", "id"),
    Index("ix_licenses_org_id_product_id", "org_id", "product_id", "id"),
    Index("ix_licenses_org_id_support_ends_on", "org_id", "support_ends_on", "id"),
    Index("ix_licenses_org_id_trial_ends_on", "org_id", "trial_ends_on", "id"),
    Index("ix_licenses_org_id_key", "org_id", "key", "id"),
    Index("ix_licenses_org_id_term", "org_id", "term", "id"),
    Index("ix_licenses_org_id_quantity", "org_id", "quantity", "id"),
    Index("ix_licenses_org_id_device_fingerprint", "org_id", "device_fingerprint"),
    Index("ix_licenses_org_id_customer_id", "org_id", "customer_id", "id"),
    Index("ix_licenses_term_term_ends_on", "term", "term_ends_on"),  # the annual renewals due, across organizations
)


def _never_null(column: Column[Any], sentinel: str) -> ColumnElement[Any]:
    # A literal, not a bound parameter: SQLite and PostgreSQL use an index on an expression
    # only for a query that spells the expression the same way.
    return func.coalesce(column, literal_column(sentinel))


# The sort keys of license lists that are expressions: nullable columns, made never NULL for
# keyset pagination. Queries sort and filter by these very expressions so the indexes serve them.
LICENSE_EDITION = _never_null(licenses.c.edition_id, "''")
LICENSE_CUSTOMER = _never_null(licenses.c.customer_email, "''")
LICENSE_DEVICE = _never_null(licenses.c.device_hostname, "''")
LICENSE_SUPPORT_END = _never_null(licenses.c.support_ends_on, "'9999-12-31'")  # no support: last
for _name, _expression in (("edition", LICENSE_EDITION), ("customer", LICENSE_CUSTOMER),
                           ("device", LICENSE_DEVICE), ("support_end", LICENSE_SUPPORT_END)):
    Index(f"ix_licenses_org_id_{_name}", licenses.c.org_id, _expression, licenses.c.id)

# What the license lists' `/` filter searches: the key, customer email and comment, lower-cased.
# A substring cannot use a b-tree index, so it is scanned; this narrow table, clustered by
# organization, scans several times faster than the licenses rows themselves. No foreign key
# on license_id: checking it would need a second index; services/licenses.py keeps both in step.
# How many licenses each organization holds, kept in the transactions that create and delete
# them: the unfiltered list's total without counting 100,000 rows (12 ms on SQLite) per first
# page. tests/test_api_licenses.py holds it equal to a recount.
license_counts = Table(
    "license_counts",
    metadata,
    Column("org_id", Id, ForeignKey("organizations.id"), primary_key=True),
    Column("licenses", Id, nullable=False),
)

# The licenses of each organization counted by what the dashboard shows of them: product,
# term, activated or not, the day the term's clock runs out (a trial's end, a permanent
# license's support end, an annual contract's term end; NO_END_DAY when there is none) and
# whether an annual contract renews. Database triggers on `licenses` (their migration is
# license_tally's) keep it in the statement that changes a license, so no writer can miss it;
# a group that reaches no license is deleted. Time-based figures ("support ends within 30
# days") are sums over a range of days: a few thousand rows, whatever the number of licenses.
# tests/test_license_tally.py holds it equal to a recount.
license_tally = Table(
    "license_tally",
    metadata,
    Column("org_id", Id, ForeignKey("organizations.id"), primary_key=True),
    Column("product_id", String(64), primary_key=True),
    Column("term", String(16), primary_key=True),
    Column("activated", Boolean, primary_key=True),
    Column("ends_on", Date, primary_key=True),
    Column("renews", Boolean, primary_key=True),
    Column("licenses", Id, nullable=False),
)

# How many activation keys each organization holds, kept by triggers on activation_keys
# (the same migration as license_tally): counting 500,000 keys took 100 ms of the dashboard.
key_counts = Table(
    "key_counts",
    metadata,
    Column("org_id", Id, ForeignKey("organizations.id"), primary_key=True),
    Column("keys", Id, nullable=False),
)

# The `/` filters' trigram indexes, outside the declared tables (their migrations are
# license_tally's and customer_trigrams'): SQLite's FTS5 tables license_trigrams and
# customer_trigrams (and the shadow tables FTS5 makes for each), PostgreSQL's pg_trgm indexes
# on license_search.text and on the customers' email, name and company. tests/test_store.py
# leaves these names out of its comparison with the migrations.
TRIGRAM_INDEX_NAMES = frozenset({
    *(f"{index}{shadow}" for index in ("license_trigrams", "customer_trigrams")
      for shadow in ("", "_data", "_idx", "_config", "_docsize", "_content")),
    "ix_license_search_text_trigrams", "ix_customers_email_trigrams", "ix_customers_name_trigrams",
    "ix_customers_company_trigrams",
})

# Each organization's version of its licenses on SQLite, outside the declared tables (its
# migration is 0027's, which creates it on SQLite alone): triggers on licenses, their count and
# activation_keys add one in the statement that changes any of them, so a page of licenses
# written once is answered again while the version holds (services/licenses.py). On
# PostgreSQL a row that every writer of an organization's licenses updated would make them
# wait for each other, and could deadlock with the audit chain's row; there each row
# version's own xmin tells the same.
license_versions = Table(
    "license_versions",
    MetaData(),
    Column("org_id", Id, primary_key=True),
    Column("version", Id, nullable=False),
)
UNDECLARED_NAMES = TRIGRAM_INDEX_NAMES | {license_versions.name}

license_search = Table(
    "license_search",
    metadata,
    Column("org_id", Id, ForeignKey("organizations.id"), primary_key=True),
    Column("license_id", Id, primary_key=True),
    Column("text", String(1300), nullable=False),
    sqlite_with_rowid=False,
)

subscriptions = Table(
    "subscriptions",
    metadata,
    _id(),
    _org(),
    Column("key_id", Id, ForeignKey("activation_keys.id"), nullable=False, index=True),
    Column("product_id", String(64), nullable=False),
    Column("channels", Integer, nullable=False),
    Column("started_on", Date, nullable=False),
    Column("period_ends_on", Date, nullable=False),
    Column("customer_email", String(254)),
    Column("customer_id", Id, ForeignKey("customers.id")),
    Column("comment", String(1000), nullable=False, server_default=""),
    Column("paid", BigInteger, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    # active, ending (cancelled at the end of the paid month), suspended or ended (seat_plans.SubscriptionStatus)
    Column("status", String(16), nullable=False, server_default="active"),
    # The day a renewal could not be paid (a prepaid organization short of credits); the
    # subscription is suspended once the organization's grace days have passed since.
    Column("unpaid_since", Date),
    Column("ended_on", Date),
    CheckConstraint("channels > 0", name="channels_positive"),
    Index("ix_subscriptions_org_id_id", "org_id", "id"),
    Index("ix_subscriptions_org_id_customer_id", "org_id", "customer_id", "id"),
)

employees = Table(
    "employees",
    metadata,
    _id(),
    _org(),
    Column("name", String(120), nullable=False),
    Column("email", String(254), nullable=False),  # stored lower-case
    Column("department", String(80), nullable=False, server_default=""),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "email", name="uq_employees_org_id_email"),
    Index("ix_employees_org_id_department", "org_id", "department", "id"),
    Index("ix_employees_org_id_id", "org_id", "id"),
    # The employees screen lists by name: covering the filtered columns, a filter typed over
    # 100,000 employees walks the index alone and reads only the rows that match.
    Index("ix_employees_org_id_name", "org_id", "name", "id", "email", "department", "status"),
    Index("ix_employees_org_id_status", "org_id", "status", "id"),
)

seats = Table(
    "seats",
    metadata,
    _id(),
    _org(),
    Column("license_id", Id, ForeignKey("licenses.id"), nullable=False, index=True),
    Column("product_id", String(64), nullable=False),
    Column("employee_id", Id, ForeignKey("employees.id"), nullable=False, index=True),
    Column("assigned_at", UTCDateTime, nullable=False),
    # The batch that moved the seat last: undoing a batch checks that its seats are still
    # where it left them (a seat moved away and back belongs to a later batch).
    Column("last_batch", String(36)),
    # An employee holds at most one seat of a product.
    UniqueConstraint("org_id", "product_id", "employee_id", name="uq_seats_employee_product"),
    Index("ix_seats_org_id_last_batch", "org_id", "last_batch"),
)

# How long each seat was held, for the billing run's seat-days (a seat row is deleted when it
# is taken back; its interval stays). A reassignment moves the seat row and keeps its interval.
seat_intervals = Table(
    "seat_intervals",
    metadata,
    _id(),
    _org(),
    Column("license_id", Id, nullable=False),
    Column("seat_id", Id, nullable=False),
    Column("started_on", Date, nullable=False),
    Column("ended_on", Date),  # None while the seat is held
    Index("ix_seat_intervals_license_id_ended_on", "license_id", "ended_on"),
    Index("ix_seat_intervals_seat_id", "seat_id"),
)

# A batch of seat moves, applied whole; `moves` keeps [product, from, to] for each, which
# is what undoing it needs.
seat_batches = Table(
    "seat_batches",
    metadata,
    _id(),
    _org(),
    Column("batch_id", String(36), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", Id, ForeignKey("users.id")),
    Column("actor", String(64), nullable=False),
    Column("move_count", Integer, nullable=False),
    Column("products", JSON, nullable=False),
    Column("moves", JSON, nullable=False),
    Column("undoes", String(36)),
    Column("undone_by", String(36)),
    Index("ix_seat_batches_org_id_id", "org_id", "id"),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    _id(),
    _org(),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", Id, ForeignKey("users.id")),
    Column("actor", String(64), nullable=False),
    Column("action", String(48), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", Id),
    Column("summary", String(500), nullable=False, server_default=""),
    Column("details", JSON, nullable=False),
    Column("batch_id", String(36)),
    Column("token_name", String(64)),  # the API token the change was made with, if any
    # The hash chain (store/audit_chain.py): the entry's place in its organization's chain,
    # the hash of the entry before it, and its own.
    Column("chain_seq", BigInteger, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Index("ix_audit_entries_org_id_id", "org_id", "id"),
    Index("ix_audit_entries_org_id_batch_id", "org_id", "batch_id"),
    Index("uq_audit_entries_org_id_chain_seq", "org_id", "chain_seq", unique=True),
    # `seattui audit --since DATE` and the audit screen: newest first, over any range of dates;
    # filtered by who, what or which object through the indexes below.
    Index("ix_audit_entries_org_id_at", "org_id", "at", "id"),
    Index("ix_audit_entries_org_id_actor_at_id", "org_id", "actor", "at", "id"),
    Index("ix_audit_entries_org_id_action_at_id", "org_id", "action", "at", "id"),
    Index("ix_audit_entries_org_id_object_at_id", "org_id", "object_type", "object_id", "at", "id"),
)

# The end of each organization's audit chain: a writer claims places in the chain by updating
# this row, which makes concurrent writers of one organization (on any portal instance) take
# their turns, and tells `audit verify` that entries at the end were deleted.
audit_chains = Table(
    "audit_chains",
    metadata,
    Column("org_id", Id, ForeignKey("organizations.id"), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# The portal's Ed25519 keys that sign license files. No route reads this table but for the
# public half (services/license_files.py): the private key never leaves the portal. A retired
# key still verifies what it signed before `retired_at`.
signing_keys = Table(
    "signing_keys",
    metadata,
    _id(),
    Column("kid", String(16), nullable=False, unique=True),
    Column("algorithm", String(16), nullable=False),
    Column("public_key", String(64), nullable=False),  # raw, base64
    Column("private_key", String(64), nullable=False),  # raw, base64
    Column("created_at", UTCDateTime, nullable=False),
    Column("retired_at", UTCDateTime),
)

# Fixed-window counters in the database, so a limit holds across stateless portal instances.
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("bucket", String(200), primary_key=True),  # "activation:key:...", "activation:address:..."
    Column("window_start", UTCDateTime, primary_key=True),
    Column("hits", Integer, nullable=False),
    Index("ix_rate_counters_window_start", "window_start"),
)

idempotency_records = Table(
    "idempotency_records",
    metadata,
    _id(),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(128), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "key", name="uq_idempotency_records_user_key"),
)


# Which customer was mailed the key of which license or subscription: one row per pair, so a
# retried write, an edit that keeps the customer or a move back to an earlier customer mails
# nobody twice.
customer_mailings = Table(
    "customer_mailings",
    metadata,
    _id(),
    _org(),
    Column("object_type", String(16), nullable=False),  # license, subscription
    Column("object_id", Id, nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("mailed_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "object_type", "object_id", "customer_id", name="uq_customer_mailings_object_customer"),
)

# Mail waits here, written in the transaction of what causes it, until the portal's delivery
# task has handed it to the SMTP server. `message_id` is fixed when the mail is written, so a
# mail sent again after a crash between sending and marking carries the same Message-ID.
outbox_mails = Table(
    "outbox_mails",
    metadata,
    _id(),
    Column("org_id", Id, ForeignKey("organizations.id")),
    Column("message_id", String(255), nullable=False, unique=True),
    Column("to_address", String(320), nullable=False),
    Column("subject", String(998), nullable=False),
    Column("body", Text, nullable=False),
    Column("cause", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # waiting, sent, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    # When the mail may be tried next; a claim moves it past the sending, so a delivery that
    # died half-way is taken up again once that time has passed.
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index("ix_outbox_mails_status_next_attempt_at", "status", "next_attempt_at"),
)

outbox_attachments = Table(
    "outbox_attachments",
    metadata,
    _id(),
    Column("mail_id", Id, ForeignKey("outbox_mails.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(127), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

# -- billing: payment terms, orders and invoices ---------------------------------------------

# How an organization pays; an organization without a row is prepaid.
billing_terms = Table(
    "billing_terms",
    metadata,
    Column("org_id", Id, ForeignKey("organizations.id"), primary_key=True),
    Column("terms", String(16), nullable=False),
    Column("credit_limit", BigInteger, nullable=False, server_default="0"),
    Column("due_days", Integer, nullable=False, server_default="30"),
    # Days a prepaid subscription whose renewal is unpaid runs on before it is suspended.
    Column("grace_days", Integer, nullable=False, server_default="7"),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("credit_limit >= 0", name="credit_limit_not_negative"),
)

invoices = Table(
    "invoices",
    metadata,
    _id(),
    _org(),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    # '2026-12' on the month's summary invoice: one per organization and month.
    Column("period_key", String(7)),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("number", String(20), unique=True),  # given when finalized
    Column("issued_on", Date),
    Column("due_on", Date),
    Column("total", BigInteger, nullable=False, server_default="0"),
    Column("paid", BigInteger, nullable=False, server_default="0"),
    Column("paid_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "period_key", name="uq_invoices_org_id_period_key"),
    Index("ix_invoices_org_id_id", "org_id", "id"),
    # The invoices list sorts by number or by total, a page at a time.
    Index("ix_invoices_org_id_number_id", "org_id", "number", "id"),
    Index("ix_invoices_org_id_total_id", "org_id", "total", "id"),
    # The billing run finds the drafts of months that have ended.
    Index("ix_invoices_status_period_start", "status", "period_start"),
)

# The portal's one series of invoice numbers: finalizing increments the row in its own
# transaction, so a rolled-back finalization leaves no gap and two instances no duplicate.
invoice_series = Table(
    "invoice_series",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("last_number", BigInteger, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    _id(),
    _org(),
    Column("kind", String(16), nullable=False),
    Column("placed_at", UTCDateTime, nullable=False),
    Column("placed_by_id", Id, ForeignKey("users.id")),
    Column("placed_by", String(64), nullable=False),
    Column("reference_name", String(120)),
    Column("po_number", String(80)),
    Column("paid_with", String(16), nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("invoice_id", Id, ForeignKey("invoices.id"), nullable=False, index=True),
    # The child account the order paid for: its parent (org_id) pays; the child's spend.
    Column("for_org_id", Id, ForeignKey("organizations.id")),
    Index("ix_orders_org_id_id", "org_id", "id"),
    Index("ix_orders_for_org_id_placed_at", "for_org_id", "placed_at"),
    # The orders list: newest first within a range of days, of one kind or all.
    Index("ix_orders_org_id_placed_at", "org_id", "placed_at", "id"),
    Index("ix_orders_org_id_kind_placed_at", "org_id", "kind", "placed_at", "id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    _id(),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("description", String(500), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("discount", BigInteger, nullable=False, server_default="0"),
    Column("amount", BigInteger, nullable=False),
    Column("service_start", Date),
    Column("service_end", Date),
    Column("object_type", String(32)),
    Column("object_id", Id),
    # What was paid for one object (a customer's spend, a license's refund).
    Index("ix_order_lines_object_type_object_id", "object_type", "object_id"),
)

# Work the billing run did once for an object and a period (a flexible plan's month, an
# annual contract's or a subscription's renewal), claimed in the transaction that bills it.
billing_claims = Table(
    "billing_claims",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("object_id", Id, primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("org_id", Id, ForeignKey("organizations.id"), nullable=False),
    Column("order_id", Id),
    Column("done_at", UTCDateTime, nullable=False),
)

# A month the billing run has closed: written last, so a run killed half-way runs again.
billing_periods = Table(
    "billing_periods",
    metadata,
    Column("period_key", String(7), primary_key=True),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("finalized", Integer, nullable=False),
)

# -- discounts and coupons -------------------------------------------------------------------

# The portal operator's percentage off an organization's orders; product_id "" is every product.
reseller_discounts = Table(
    "reseller_discounts",
    metadata,
    Column("org_id", Id, ForeignKey("organizations.id"), primary_key=True),
    Column("product_id", String(64), primary_key=True),
    Column("percent", Integer, nullable=False),  # hundredths of a percent: 1250 is 12.5%
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("percent > 0 AND percent <= 10000", name="percent_in_range"),
)

coupons = Table(
    "coupons",
    metadata,
    _id(),
    Column("code", String(40), nullable=False, unique=True),
    Column("percent", Integer),  # hundredths of a percent; or else `amount`
    Column("amount", BigInteger),  # hundredths of a credit
    Column("product_ids", String(1000), nullable=False, server_default=""),  # comma-separated; "" every product
    Column("valid_from", Date),
    Column("valid_until", Date),
    Column("max_redemptions", Integer),
    # Counted in the order's transaction by a conditional UPDATE: never past max_redemptions.
    Column("redeemed", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    # Off the renewals of the subscription it was redeemed on, for this many months from the
    # redemption; NULL: once, at the order.
    Column("months", Integer),
    Column("once_per", String(16), nullable=False, server_default="organization"),  # or "customer"
    CheckConstraint("(percent IS NULL) <> (amount IS NULL)", name="percent_or_amount"),
    CheckConstraint("max_redemptions IS NULL OR redeemed <= max_redemptions", name="redeemed_within_max"),
    CheckConstraint("months IS NULL OR months BETWEEN 1 AND 36", name="months_in_range"),
)

# One use per organization, or per customer of the organization (customer_id 0: the
# organization as a whole): the primary key refuses a second one even from another instance.
coupon_redemptions = Table(
    "coupon_redemptions",
    metadata,
    Column("coupon_id", Id, ForeignKey("coupons.id"), primary_key=True),
    Column("org_id", Id, ForeignKey("organizations.id"), primary_key=True),
    Column("customer_id", Id, primary_key=True, server_default="0"),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("redeemed_at", UTCDateTime, nullable=False),
    # What the order paid for first: a subscription's or seat plan's renewals find it here.
    Column("object_type", String(16)),
    Column("object_id", Id),
    Index("ix_coupon_redemptions_object_type_object_id", "object_type", "object_id"),
)
